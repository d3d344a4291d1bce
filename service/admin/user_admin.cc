#include "service/admin/user_admin.h"

#include <algorithm>
#include <string>

#include "service/admin/audit.h"
#include "service/hooks/outbox.h"
#include "service/internal/staged_change.h"
#include "service/model/records.h"

namespace otpd::service {

using internal::AuthorizeStaged;
using internal::BeginChange;
using internal::CommitChange;
using internal::StageChange;
using internal::StagedChange;
using storage::Namespace;

base::StatusOr<std::optional<engine::LockoutState>> UnlockUser(const Directory& directory,
                                                               const base::Clock& clock,
                                                               std::string_view upn_in,
                                                               const Principal& by,
                                                               CacheInvalidator* invalidator) {
  OTPD_ASSIGN_OR_RETURN(
      StagedChange c,
      BeginChange(directory, clock, by, Permission::kManageUserMethods, upn_in, "user.unlock"));
  const std::string& upn = c.upn();
  const std::string key = LockoutKey(upn);
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> record,
                        directory.store().Get(Namespace::kState, key));
  if (!record) return std::optional<engine::LockoutState>();
  OTPD_ASSIGN_OR_RETURN(engine::LockoutState state, DecodeLockout(record->value));

  c.audit.detail =
      "cleared " + std::to_string(state.failures) + " consecutive failures" +
      (state.locked_until > 0 ? ", locked until unix " + std::to_string(state.locked_until) : "");
  c.batch.Delete(Namespace::kState, key);
  OTPD_RETURN_IF_ERROR(AddEvent(c.batch, clock, events::kUserUnlocked, upn,
                                EventData()
                                    .Int("failures", state.failures)
                                    .Int("locked_until", state.locked_until)
                                    .Str("by", by.actor)));
  c.conflict = "user " + upn + " changed while the lockout was being cleared; try again";
  OTPD_RETURN_IF_ERROR(CommitChange(directory, c, invalidator));
  return std::optional<engine::LockoutState>(state);
}

base::StatusOr<SignInActivity> ReadSignInActivity(const Directory& directory,
                                                  std::string_view upn) {
  SignInActivity out;
  OTPD_ASSIGN_OR_RETURN(auto methods, directory.ReadMethods(upn));
  for (const auto& m : methods) {
    if (!m.ok()) continue;  // a record that does not open says nothing about its use
    MethodLastUse use{.method_id = m->id, .kind = m->kind()};
    if (m->kind() == MethodKind::kHardwareOath) {
      use.label = std::get<HardwareOathPayload>(m->payload).serial;
      OTPD_ASSIGN_OR_RETURN(auto token, directory.GetToken(use.label));
      if (!token) continue;
      OTPD_ASSIGN_OR_RETURN(CredentialState state,
                            LoadCredentialState(directory.store(), token->record));
      use.last_used = state.last_used;
    } else if (m->kind() == MethodKind::kSoftwareOath) {
      const auto& app = std::get<SoftwareOathPayload>(m->payload);
      if (!app.confirmed) continue;
      use.label = app.display_name;
      OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> stored,
                            directory.store().Get(Namespace::kState, MethodStateKey(upn, m->id)));
      if (stored) {
        OTPD_ASSIGN_OR_RETURN(CredentialState state, DecodeCredentialState(stored->value));
        use.last_used = state.last_used;
      }
    } else {
      continue;
    }
    out.methods.push_back(std::move(use));
  }
  std::stable_sort(
      out.methods.begin(), out.methods.end(),
      [](const MethodLastUse& a, const MethodLastUse& b) { return a.last_used > b.last_used; });
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> lockout,
                        directory.store().Get(Namespace::kState, LockoutKey(upn)));
  if (lockout) {
    OTPD_ASSIGN_OR_RETURN(out.lockout, DecodeLockout(lockout->value));
  }
  return out;
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
  OTPD_ASSIGN_OR_RETURN(StagedChange c,
                        StageChange(directory_, upn, clock_.NowUnixSeconds(),
                                    MakeAudit(clock_, by, "user.update", "user/" + upn),
                                    /*create=*/true));
  *created = c.user.version == 0;
  if (*created) c.audit.action = "user.create";
  OTPD_RETURN_IF_ERROR(AuthorizeStaged(directory_, by, Permission::kManageUsers, c));
  c.user.user.display_name = std::string(display_name);
  OTPD_RETURN_IF_ERROR(CommitChange(directory_, c, invalidator_));
  return c.user.user;
}

base::StatusOr<UserRecord> UserAdmin::Patch(const Principal& by, std::string_view upn_in,
                                            std::optional<std::string> display_name,
                                            std::optional<std::vector<std::string>> roles) {
  OTPD_ASSIGN_OR_RETURN(const std::string upn, CheckUpn(upn_in));
  if (display_name && display_name->size() > 256) {
    return base::InvalidArgumentError("displayName is longer than 256 characters");
  }
  OTPD_ASSIGN_OR_RETURN(
      StagedChange c, BeginChange(directory_, clock_, by,
                                  roles ? Permission::kManageRoles : Permission::kManageUsers, upn,
                                  roles ? "user.roles" : "user.update"));
  UserRecord& user = c.user.user;
  if (display_name) user.display_name = *display_name;
  if (roles) {
    OTPD_ASSIGN_OR_RETURN(RoleSet set, RoleSet::Parse(*roles));
    user.roles = set.Names();
    c.audit.detail = "roles " + [&] {
      std::string s;
      for (const std::string& r : user.roles) s += (s.empty() ? "" : ",") + r;
      return s.empty() ? std::string("(none)") : s;
    }();
  }
  OTPD_RETURN_IF_ERROR(CommitChange(directory_, c, invalidator_));
  return user;
}

base::Status UserAdmin::Delete(const Principal& by, std::string_view upn_in) {
  OTPD_ASSIGN_OR_RETURN(
      StagedChange c,
      BeginChange(directory_, clock_, by, Permission::kManageUsers, upn_in, "user.delete"));
  const std::string& upn = c.upn();
  storage::WriteBatch& batch = c.batch;
  OTPD_ASSIGN_OR_RETURN(auto methods, directory_.ReadMethods(upn));
  for (const auto& m : methods) {
    if (m.ok() && m->kind() == MethodKind::kHardwareOath) {
      return RecordRefusal(
          directory_.store(), std::move(c.audit),
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
  c.delete_user = true;
  return CommitChange(directory_, c, invalidator_);
}

}  // namespace otpd::service
