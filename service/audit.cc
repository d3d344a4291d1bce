#include "service/audit.h"

namespace otpd::service {

using storage::Namespace;

AuditRecord MakeAudit(const base::Clock& clock, const Principal& principal, std::string_view action,
                      std::string_view target) {
  AuditRecord a;
  a.time_micros = clock.NowUnixMicros();
  a.actor = principal.actor;
  a.action = std::string(action);
  a.target = std::string(target);
  a.result = "ok";
  a.request_id = principal.request_id;
  return a;
}

void AddAudit(storage::WriteBatch& batch, const AuditRecord& audit) {
  batch.Insert(Namespace::kAudit, AuditKey(audit.time_micros), EncodeAudit(audit));
}

base::Status RecordRefusal(storage::Store& store, AuditRecord audit, base::Status why) {
  audit.result = std::string(why.message());
  storage::WriteBatch batch;
  AddAudit(batch, audit);
  // The refusal stands whether or not its audit record could be written.
  (void)store.Commit(std::move(batch), storage::Durability::kRelaxed);
  return why;
}

base::Status ListAudit(const storage::Store& store, const AuditFilter& filter,
                       std::string_view after,
                       const std::function<bool(std::string_view, const AuditRecord&)>& fn) {
  std::string start(after);
  if (!start.empty()) start.push_back('\0');  // the first key after it
  return store.ScanFrom(
      Namespace::kAudit, "", start,
      [&](std::string_view key, const storage::Record& record) -> base::StatusOr<bool> {
        OTPD_ASSIGN_OR_RETURN(AuditRecord a, DecodeAudit(record.value));
        if (a.time_micros < filter.since_micros) return true;
        if (!filter.target.empty() && a.target != filter.target) return true;
        if (!filter.actor.empty() && a.actor != filter.actor) return true;
        if (!filter.action.empty() && a.action != filter.action) return true;
        return fn(key, a);
      });
}

}  // namespace otpd::service
