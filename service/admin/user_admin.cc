#include "service/admin/user_admin.h"

#include <string>

#include "service/admin/audit.h"
#include "service/hooks/outbox.h"
#include "service/model/records.h"

namespace otpd::service {

using storage::Namespace;

base::StatusOr<std::optional<engine::LockoutState>> UnlockUser(const Directory& directory,
                                                               const base::Clock& clock,
                                                               std::string_view upn_in,
                                                               const Principal& by,
                                                               CacheInvalidator* invalidator) {
  OTPD_ASSIGN_OR_RETURN(const std::string upn, CheckUpn(upn_in));
  const int64_t now = clock.NowUnixSeconds();
  OTPD_ASSIGN_OR_RETURN(UserChange change, directory.BeginUserChange(upn, now, false));
  AuditRecord audit = MakeAudit(clock, by, "user.unlock", "user/" + upn);
  if (base::Status allowed =
          AuthorizeChange(directory, by, Permission::kManageUserMethods, change.user);
      !allowed.ok()) {
    return RecordRefusal(directory.store(), std::move(audit), allowed);
  }
  const std::string key = LockoutKey(upn);
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> record,
                        directory.store().Get(Namespace::kState, key));
  if (!record) return std::optional<engine::LockoutState>();
  OTPD_ASSIGN_OR_RETURN(engine::LockoutState state, DecodeLockout(record->value));

  audit.detail =
      "cleared " + std::to_string(state.failures) + " consecutive failures" +
      (state.locked_until > 0 ? ", locked until unix " + std::to_string(state.locked_until) : "");
  storage::WriteBatch batch;
  batch.Delete(Namespace::kState, key);
  OTPD_RETURN_IF_ERROR(directory.Fence(batch, change, now));
  AddAudit(batch, audit);
  OTPD_RETURN_IF_ERROR(AddEvent(batch, clock, events::kUserUnlocked, upn,
                                EventData()
                                    .Int("failures", state.failures)
                                    .Int("locked_until", state.locked_until)
                                    .Str("by", by.actor)));
  base::Status s = directory.store().Commit(std::move(batch), storage::Durability::kDurable);
  if (base::IsAborted(s)) {
    return base::AbortedError("user " + upn + " changed while the lockout was being cleared; " +
                              "try again");
  }
  OTPD_RETURN_IF_ERROR(s);
  if (invalidator != nullptr) invalidator->InvalidateUser(upn);
  NotifyOutbox();
  return std::optional<engine::LockoutState>(state);
}

namespace {

base::StatusOr<UserSummary> Summarise(const Directory& directory, UserRecord user) {
  UserSummary s;
  OTPD_ASSIGN_OR_RETURN(auto methods, directory.ReadMethods(user.upn));
  s.methods = methods.size();
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> lockout,
                        directory.store().Get(Namespace::kState, LockoutKey(user.upn)));
  if (lockout) {
    OTPD_ASSIGN_OR_RETURN(s.lockout, DecodeLockout(lockout->value));
  }
  s.user = std::move(user);
  return s;
}

base::Status CommitUserChange(const Directory& directory, storage::WriteBatch batch,
                              const std::string& upn) {
  base::Status s = directory.store().Commit(std::move(batch), storage::Durability::kDurable);
  if (base::IsAborted(s)) {
    return base::AbortedError("user " + upn + " changed while the change was being made; " +
                              "try again");
  }
  return s;
}

}  // namespace

base::StatusOr<UserSummary> UserAdmin::Get(const Principal& by, std::string_view upn_in) const {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kRead));
  OTPD_ASSIGN_OR_RETURN(const std::string upn, CheckUpn(upn_in));
  OTPD_ASSIGN_OR_RETURN(auto user, directory_.GetUser(upn));
  if (!user) return base::NotFoundError("no user " + upn);
  return Summarise(directory_, std::move(user->record));
}

base::Status UserAdmin::List(const Principal& by, std::string_view prefix, std::string_view after,
                             const std::function<bool(const UserSummary&)>& fn) const {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kRead));
  std::string start(after);
  if (!start.empty()) start.push_back('\0');
  const std::string lowered = NormaliseUpn(prefix);
  return directory_.store().ScanFrom(
      Namespace::kUsers, lowered, start,
      [&](std::string_view key, const storage::Record&) -> base::StatusOr<bool> {
        auto user = directory_.GetUser(key);
        if (!user.ok() || !*user) return true;  // a record that fails its check is left out
        OTPD_ASSIGN_OR_RETURN(UserSummary s, Summarise(directory_, std::move((*user)->record)));
        return fn(s);
      });
}

base::StatusOr<UserRecord> UserAdmin::Put(const Principal& by, std::string_view upn_in,
                                          std::string_view display_name, bool* created) {
  OTPD_ASSIGN_OR_RETURN(const std::string upn, CheckUpn(upn_in));
  if (display_name.size() > 256) {
    return base::InvalidArgumentError("displayName is longer than 256 characters");
  }
  const int64_t now = clock_.NowUnixSeconds();
  OTPD_ASSIGN_OR_RETURN(UserChange change, directory_.BeginUserChange(upn, now, true));
  *created = change.version == 0;
  AuditRecord audit =
      MakeAudit(clock_, by, *created ? "user.create" : "user.update", "user/" + upn);
  if (base::Status allowed = AuthorizeChange(directory_, by, Permission::kManageUsers, change.user);
      !allowed.ok()) {
    return RecordRefusal(directory_.store(), std::move(audit), allowed);
  }
  change.user.display_name = std::string(display_name);
  storage::WriteBatch batch;
  OTPD_RETURN_IF_ERROR(directory_.Fence(batch, change, now));
  AddAudit(batch, audit);
  OTPD_RETURN_IF_ERROR(CommitUserChange(directory_, std::move(batch), upn));
  return change.user;
}

base::StatusOr<UserRecord> UserAdmin::Patch(const Principal& by, std::string_view upn_in,
                                            std::optional<std::string> display_name,
                                            std::optional<std::vector<std::string>> roles) {
  OTPD_ASSIGN_OR_RETURN(const std::string upn, CheckUpn(upn_in));
  if (display_name && display_name->size() > 256) {
    return base::InvalidArgumentError("displayName is longer than 256 characters");
  }
  const int64_t now = clock_.NowUnixSeconds();
  OTPD_ASSIGN_OR_RETURN(UserChange change, directory_.BeginUserChange(upn, now, false));
  AuditRecord audit = MakeAudit(clock_, by, roles ? "user.roles" : "user.update", "user/" + upn);
  base::Status allowed =
      roles ? Authorize(by, Permission::kManageRoles)
            : AuthorizeChange(directory_, by, Permission::kManageUsers, change.user);
  if (!allowed.ok()) return RecordRefusal(directory_.store(), std::move(audit), allowed);
  if (display_name) change.user.display_name = *display_name;
  if (roles) {
    OTPD_ASSIGN_OR_RETURN(RoleSet set, RoleSet::Parse(*roles));
    change.user.roles = set.Names();
    audit.detail = "roles " + [&] {
      std::string s;
      for (const std::string& r : change.user.roles) s += (s.empty() ? "" : ",") + r;
      return s.empty() ? std::string("(none)") : s;
    }();
  }
  storage::WriteBatch batch;
  OTPD_RETURN_IF_ERROR(directory_.Fence(batch, change, now));
  AddAudit(batch, audit);
  OTPD_RETURN_IF_ERROR(CommitUserChange(directory_, std::move(batch), upn));
  if (invalidator_ != nullptr) invalidator_->InvalidateUser(upn);
  return change.user;
}

base::Status UserAdmin::Delete(const Principal& by, std::string_view upn_in) {
  OTPD_ASSIGN_OR_RETURN(const std::string upn, CheckUpn(upn_in));
  const int64_t now = clock_.NowUnixSeconds();
  OTPD_ASSIGN_OR_RETURN(UserChange change, directory_.BeginUserChange(upn, now, false));
  AuditRecord audit = MakeAudit(clock_, by, "user.delete", "user/" + upn);
  if (base::Status allowed = AuthorizeChange(directory_, by, Permission::kManageUsers, change.user);
      !allowed.ok()) {
    return RecordRefusal(directory_.store(), std::move(audit), allowed);
  }
  storage::WriteBatch batch;
  batch.RequireVersion(Namespace::kUsers, upn, change.version);
  OTPD_ASSIGN_OR_RETURN(auto methods, directory_.ReadMethods(upn));
  for (const auto& m : methods) {
    if (m.ok() && m->kind() == MethodKind::kHardwareOath) {
      return RecordRefusal(
          directory_.store(), std::move(audit),
          base::FailedPreconditionError("hardware token " + std::string(m->serial()) +
                                        " is assigned to " + upn + "; unassign it first"));
    }
  }
  OTPD_RETURN_IF_ERROR(directory_.store().Scan(
      Namespace::kMethods, MethodPrefix(upn),
      [&](std::string_view key, const storage::Record&) -> base::StatusOr<bool> {
        batch.Delete(Namespace::kMethods, key);
        batch.Delete(Namespace::kState, "m/" + std::string(key));
        return true;
      }));
  // App passwords and remembered sessions go with the user.
  for (Namespace ns : {Namespace::kAppPasswords, Namespace::kSessions}) {
    OTPD_RETURN_IF_ERROR(directory_.store().Scan(
        ns, MethodPrefix(upn),
        [&](std::string_view key, const storage::Record&) -> base::StatusOr<bool> {
          batch.Delete(ns, key);
          return true;
        }));
  }
  batch.Delete(Namespace::kState, LockoutKey(upn));
  batch.Delete(Namespace::kState, ChallengeKey(upn));
  batch.Delete(Namespace::kState, TapUseKey(upn));
  batch.Delete(Namespace::kUsers, upn);
  AddAudit(batch, audit);
  OTPD_RETURN_IF_ERROR(CommitUserChange(directory_, std::move(batch), upn));
  if (invalidator_ != nullptr) invalidator_->InvalidateUser(upn);
  return base::OkStatus();
}

}  // namespace otpd::service
