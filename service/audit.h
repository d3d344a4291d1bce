// The audit log: every administrative change, allowed or refused, is recorded with who did it,
// what, to what, the result and when, in the same atomic batch as the change itself (a refusal
// alone, relaxed). Audit records never hold a secret. They are write-once records under
// time-ordered keys (audit/<micros><random>), so the log reads in time order.
//
// Thread-safety: plain functions.

#ifndef OTPD_SERVICE_AUDIT_H_
#define OTPD_SERVICE_AUDIT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/statusor.h"
#include "service/records.h"
#include "service/roles.h"
#include "storage/store.h"

namespace otpd::service {

// A record of `action` on `target` by `principal`, now, result "ok".
AuditRecord MakeAudit(const base::Clock& clock, const Principal& principal, std::string_view action,
                      std::string_view target);

// Adds `audit` to `batch` (a write-once insert).
void AddAudit(storage::WriteBatch& batch, const AuditRecord& audit);

// Records a refusal (audit.result = why's message) on its own, relaxed; returns `why`.
base::Status RecordRefusal(storage::Store& store, AuditRecord audit, base::Status why);

struct AuditFilter {
  std::string target;  // exact; empty = any
  std::string actor;   // exact; empty = any
  std::string action;  // exact; empty = any
  int64_t since_micros = 0;
};

// Calls fn for each record matching `filter`, oldest first, starting after the record whose
// key is `after` (empty: from the start), until fn returns false. fn gets the record's key (for
// paging) and the record.
base::Status ListAudit(const storage::Store& store, const AuditFilter& filter,
                       std::string_view after,
                       const std::function<bool(std::string_view key, const AuditRecord&)>& fn);

}  // namespace otpd::service

#endif  // OTPD_SERVICE_AUDIT_H_
