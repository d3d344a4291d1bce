#include "tools/user_lockout.h"

#include <string>

#include "service/records.h"

namespace otpd::tools {

base::StatusOr<std::optional<engine::LockoutState>> UnlockUser(storage::Store& store,
                                                               const base::Clock& clock,
                                                               std::string_view upn,
                                                               std::string_view actor) {
  using storage::Namespace;
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> user, store.Get(Namespace::kUsers, upn));
  if (!user) return base::NotFoundError("no user " + std::string(upn));
  const std::string key = service::LockoutKey(upn);
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> record, store.Get(Namespace::kState, key));
  if (!record) return std::optional<engine::LockoutState>();
  OTPD_ASSIGN_OR_RETURN(engine::LockoutState state, service::DecodeLockout(record->value));

  service::AuditRecord audit;
  audit.time_micros = clock.NowUnixMicros();
  audit.actor = std::string(actor);
  audit.action = "unlock";
  audit.target = "user/" + std::string(upn);
  audit.result = "ok";
  audit.detail =
      "cleared " + std::to_string(state.failures) + " consecutive failures" +
      (state.locked_until > 0 ? ", locked until unix " + std::to_string(state.locked_until) : "");
  storage::WriteBatch batch;
  batch.RequireVersion(Namespace::kState, key, record->version);
  batch.Delete(Namespace::kState, key);
  batch.Put(Namespace::kAudit, service::AuditKey(audit.time_micros), service::EncodeAudit(audit));
  base::Status s = store.Commit(std::move(batch), storage::Durability::kDurable);
  if (base::IsAborted(s)) {
    return base::AbortedError("the lockout of " + std::string(upn) +
                              " changed while it was being cleared; try again");
  }
  OTPD_RETURN_IF_ERROR(s);
  return std::optional<engine::LockoutState>(state);
}

}  // namespace otpd::tools
