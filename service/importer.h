// Importer takes the tokens a tokenio parser reads from a vendor's file and stores them in the
// inventory: new serials are added (sealed), serials already present with the same seed and
// parameters are left alone (so re-importing a file changes nothing), and a serial present with a
// different seed is a failure row unless `replace` is set. A upn in the file assigns the token to
// that user, creating the user if needed.
//
// Tokens are committed in chunks, each chunk one atomic durable batch: an interrupted import
// leaves whole chunks, never half a token. The import's provenance (file, hash, time, counts) is
// recorded as a batch record, which every imported token references.
//
// Not thread-safe: one Importer per import, fed by one parser.

#ifndef OTPD_SERVICE_IMPORTER_H_
#define OTPD_SERVICE_IMPORTER_H_

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/clock.h"
#include "base/statusor.h"
#include "service/inventory.h"
#include "service/records.h"
#include "storage/keyring.h"
#include "storage/store.h"
#include "tokenio/token_record.h"

namespace otpd::service {

struct ImportOptions {
  // Validate everything and report, but write nothing. Default false.
  bool dry_run = false;
  // Overwrite the seed and parameters of serials that exist with different ones (only while the
  // token is available or assigned to the same user). Default false: such rows fail.
  bool replace = false;
  // Provenance, recorded in the batch record.
  std::string file_name;
  std::string file_sha256;
  std::string format;
  std::string actor = "otpctl";
  // Tokens per atomic commit. Default 1000.
  size_t chunk_size = 1000;
};

struct ImportReport {
  std::string batch_id;
  uint64_t imported = 0;   // new tokens
  uint64_t updated = 0;    // existing serials replaced (--replace)
  uint64_t unchanged = 0;  // already present, identical
  uint64_t failed = 0;     // rows rejected by the parser or here
  std::vector<tokenio::RowError> failures;
  std::vector<tokenio::RowError> warnings;  // accepted rows with a warning (e.g. short seed)
};

class Importer : public tokenio::TokenSink {
 public:
  // `store`, `keys` and `clock` must outlive the importer.
  Importer(storage::Store& store, const storage::KeyRing& keys, const base::Clock& clock,
           const InventoryOptions& inventory, ImportOptions options);

  base::Status OnToken(tokenio::TokenRecord token) override;
  void OnError(tokenio::RowError error) override;

  // Commits what is pending and records the batch as complete. Call once, after the parser
  // returned OK. On error, chunks committed before stay committed.
  base::StatusOr<ImportReport> Finish();

 private:
  base::Status Stage(tokenio::TokenRecord& token);
  base::Status Flush();
  // Creates the user (once per import) and checks the OATH method limit for one more method.
  base::Status ReserveMethod(const std::string& upn, int64_t now, storage::WriteBatch* batch);
  void Fail(const tokenio::TokenRecord& token, std::string reason);

  storage::Store& store_;
  const storage::KeyRing& keys_;
  const base::Clock& clock_;
  const InventoryOptions inventory_;
  const ImportOptions options_;
  ImportReport report_;
  BatchRecord batch_record_;
  storage::WriteBatch pending_;
  size_t pending_tokens_ = 0;
  bool started_ = false;
  std::unordered_set<std::string> known_users_;
  std::unordered_map<std::string, uint32_t> method_counts_;
};

}  // namespace otpd::service

#endif  // OTPD_SERVICE_IMPORTER_H_
