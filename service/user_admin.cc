#include "service/user_admin.h"

#include <string>

#include "service/records.h"

namespace otpd::service {

using storage::Namespace;

base::StatusOr<std::optional<engine::LockoutState>> UnlockUser(const Directory& directory,
                                                               const base::Clock& clock,
                                                               std::string_view upn_in,
                                                               std::string_view actor,
                                                               CacheInvalidator* invalidator) {
  OTPD_ASSIGN_OR_RETURN(const std::string upn, CheckUpn(upn_in));
  const int64_t now = clock.NowUnixSeconds();
  OTPD_ASSIGN_OR_RETURN(UserChange change, directory.BeginUserChange(upn, now, false));
  const std::string key = LockoutKey(upn);
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> record,
                        directory.store().Get(Namespace::kState, key));
  if (!record) return std::optional<engine::LockoutState>();
  OTPD_ASSIGN_OR_RETURN(engine::LockoutState state, DecodeLockout(record->value));

  AuditRecord audit;
  audit.time_micros = clock.NowUnixMicros();
  audit.actor = std::string(actor);
  audit.action = "unlock";
  audit.target = "user/" + upn;
  audit.result = "ok";
  audit.detail =
      "cleared " + std::to_string(state.failures) + " consecutive failures" +
      (state.locked_until > 0 ? ", locked until unix " + std::to_string(state.locked_until) : "");
  storage::WriteBatch batch;
  batch.Delete(Namespace::kState, key);
  OTPD_RETURN_IF_ERROR(directory.Fence(batch, change, now));
  batch.Insert(Namespace::kAudit, AuditKey(audit.time_micros), EncodeAudit(audit));
  base::Status s = directory.store().Commit(std::move(batch), storage::Durability::kDurable);
  if (base::IsAborted(s)) {
    return base::AbortedError("user " + upn + " changed while the lockout was being cleared; " +
                              "try again");
  }
  OTPD_RETURN_IF_ERROR(s);
  if (invalidator != nullptr) invalidator->InvalidateUser(upn);
  return std::optional<engine::LockoutState>(state);
}

}  // namespace otpd::service
