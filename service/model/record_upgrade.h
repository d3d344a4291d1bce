// Brings the records of a data directory written by an earlier otpd to today's layout, once:
// users, methods and tokens written before records were signed get their signature
// (KeyRing::SignRecord), and the index of stored seeds (meta/seed/<fingerprint>) is built. The
// records are trusted as they are at that moment; from then on a record without a valid
// signature is refused. A meta marker records that it is done, so later starts skip it.
//
// Idempotent and restartable: records that already verify are left alone, pages commit atomically
// and conditionally on the records not having changed since they were read.

#ifndef OTPD_SERVICE_MODEL_RECORD_UPGRADE_H_
#define OTPD_SERVICE_MODEL_RECORD_UPGRADE_H_

#include <cstdint>

#include "base/status.h"
#include "base/statusor.h"
#include "storage/keyring.h"
#include "storage/store.h"

namespace otpd::service {

struct UpgradeStats {
  uint64_t signed_records = 0;  // records that were signed
  uint64_t indexed_seeds = 0;   // seed index entries added
};

base::Status UpgradeRecords(storage::Store& store, const storage::KeyRing& keys,
                            UpgradeStats* stats = nullptr);

// True when UpgradeRecords has run on `store` (or it was created by this version).
base::StatusOr<bool> RecordsUpgraded(const storage::Store& store);

}  // namespace otpd::service

#endif  // OTPD_SERVICE_MODEL_RECORD_UPGRADE_H_
