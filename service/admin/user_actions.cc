#include "service/admin/user_actions.h"

#include <algorithm>
#include <utility>

#include "service/admin/audit.h"
#include "service/admin/method_admin.h"
#include "service/hooks/outbox.h"
#include "service/internal/staged_change.h"
#include "service/model/method_kind.h"

namespace otpd::service {

using internal::BeginChange;
using internal::CommitChange;
using internal::StagedChange;
using storage::Namespace;

base::StatusOr<PasswordResetResult> UserActions::ResetPassword(
    const Principal& by, std::string_view upn_in, std::optional<std::string_view> new_password) {
  OTPD_ASSIGN_OR_RETURN(const std::string upn, CheckUpn(upn_in));
  if (new_password) OTPD_RETURN_IF_ERROR(CheckPasswordPolicy(*new_password, upn));
  OTPD_ASSIGN_OR_RETURN(
      StagedChange c,
      BeginChange(directory_, clock_, by, Permission::kResetPassword, upn, "password.reset"));
  PasswordResetResult result;
  base::SecretBytes password;
  if (new_password) {
    password = base::SecretBytes::FromString(*new_password);
  } else {
    OTPD_ASSIGN_OR_RETURN(password, GeneratePassword());
  }
  // On the hashing pool, with no lock held; the change stays conditional on the fence read above.
  OTPD_ASSIGN_OR_RETURN(base::PasswordHash hash, hasher_.Hash(password.view()));
  OTPD_ASSIGN_OR_RETURN(auto methods, directory_.ReadMethods(upn));
  MethodRecord method{.id = std::string(kPasswordMethodId), .created = c.now, .payload = {}};
  for (const auto& m : methods) {
    if (m.ok() && m->id == kPasswordMethodId) method.created = m->created;
  }
  method.payload =
      PasswordPayload{.hash = std::move(hash), .must_change = true, .last_changed = c.now};
  OTPD_RETURN_IF_ERROR(directory_.PutMethod(c.batch, upn, method));
  result.operation_id = "op_" + NewId();
  c.audit.detail = "operation " + result.operation_id +
                   (new_password ? ", password given" : ", password generated");
  OTPD_RETURN_IF_ERROR(AddEvent(c.batch, clock_, events::kPasswordReset, upn,
                                EventData()
                                    .Str("operation", result.operation_id)
                                    .Bool("generated", !new_password)
                                    .Bool("must_change", true)
                                    .Str("by", by.actor)));
  OTPD_RETURN_IF_ERROR(CommitChange(directory_, c, invalidator_));
  if (!new_password) result.generated = std::move(password);
  return result;
}

base::StatusOr<UserRecord> UserActions::CreateUser(const Principal& by, const NewUser& user) {
  OTPD_ASSIGN_OR_RETURN(const std::string upn, CheckUpn(user.upn));
  if (user.display_name.size() > 256) {
    return base::InvalidArgumentError("displayName is longer than 256 characters");
  }
  OTPD_RETURN_IF_ERROR(CheckPasswordPolicy(user.password, upn));
  OTPD_ASSIGN_OR_RETURN(StagedChange c,
                        internal::StageChange(directory_, upn, clock_.NowUnixSeconds(),
                                              MakeAudit(clock_, by, "user.create", "user/" + upn),
                                              /*create=*/true));
  for (Permission needed : {Permission::kManageUsers, Permission::kResetPassword}) {
    OTPD_RETURN_IF_ERROR(internal::AuthorizeStaged(directory_, by, needed, c));
  }
  if (c.user.version != 0) return base::AlreadyExistsError("user " + upn + " already exists");
  c.user.user.display_name = user.display_name;
  // On the hashing pool, with no lock held; the commit stays conditional on the user being new.
  OTPD_ASSIGN_OR_RETURN(base::PasswordHash hash, hasher_.Hash(user.password));
  const MethodRecord method{
      .id = std::string(kPasswordMethodId),
      .created = c.now,
      .payload = PasswordPayload{
          .hash = std::move(hash), .must_change = user.must_change, .last_changed = c.now}};
  OTPD_RETURN_IF_ERROR(directory_.PutMethod(c.batch, upn, method));
  c.audit.detail =
      user.must_change ? "with a password to change at the next sign-in" : "with a password";
  OTPD_RETURN_IF_ERROR(CommitChange(directory_, c, invalidator_));
  return c.user.user;
}

base::StatusOr<std::string> UserActions::PasswordResetStatus(const Principal& by,
                                                             std::string_view upn,
                                                             std::string_view operation_id) const {
  OTPD_ASSIGN_OR_RETURN(PasswordResetOperation op, GetPasswordReset(by, upn, operation_id));
  return op.status;
}

base::StatusOr<PasswordResetOperation> UserActions::GetPasswordReset(
    const Principal& by, std::string_view upn_in, std::string_view operation_id) const {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kRead));
  OTPD_ASSIGN_OR_RETURN(const std::string upn, CheckUpn(upn_in));
  std::optional<PasswordResetOperation> found;
  const std::string wanted = "operation " + std::string(operation_id) + ",";
  OTPD_RETURN_IF_ERROR(ListAudit(
      directory_.store(), AuditFilter{.target = "user/" + upn, .action = "password.reset"}, "",
      [&](std::string_view, const AuditRecord& a) {
        if (a.result == "ok" && a.detail.starts_with(wanted)) {
          found = PasswordResetOperation{
              .id = std::string(operation_id), .status = "succeeded", .time_micros = a.time_micros};
          return false;
        }
        return true;
      }));
  if (!found) return base::NotFoundError("no password reset operation with that id");
  return std::move(*found);
}

namespace {

// Re-registration: the activated token behind `m` goes back to assigned (nothing when it is not
// activated, or no longer this method's).
base::Status DeactivateToken(const Directory& directory, const MethodRecord& m, StagedChange& c,
                             ReregistrationResult& result) {
  const std::string serial(m.serial());
  OTPD_ASSIGN_OR_RETURN(auto token, directory.GetToken(serial));
  if (!token || token->record.assigned_to != c.upn() || token->record.method_id != m.id ||
      token->record.status != TokenStatus::kActivated) {
    return base::OkStatus();
  }
  TokenRecord t = std::move(token->record);
  t.status = TokenStatus::kAssigned;
  t.updated = c.now;
  c.batch.RequireVersion(Namespace::kTokens, serial, token->version);
  OTPD_RETURN_IF_ERROR(directory.PutToken(c.batch, t));
  result.deactivated_tokens.push_back(serial);
  c.serials.push_back(serial);
  return base::OkStatus();
}

// Re-registration: `m` is deleted with its sign-in state; `deleted` gets the event's account of
// it (an app's pending state, a phone's type).
void DeleteForReregistration(const MethodRecord& m, StagedChange& c, ReregistrationResult& result,
                             std::vector<EventData>& deleted) {
  const MethodKindSpec& kind = DescribeMethodKind(m.kind());
  c.batch.Delete(Namespace::kMethods, MethodKey(c.upn(), m.id));
  if (kind.state_key != nullptr) c.batch.Delete(Namespace::kState, kind.state_key(c.upn(), m.id));
  result.deleted_methods.push_back({m.id, m.kind(), kind.label ? kind.label(m) : std::string()});
  EventData data;
  data.Str("id", m.id).Str("kind", kind.name);
  if (const auto* app = std::get_if<SoftwareOathPayload>(&m.payload)) {
    data.Bool("pending", !app->confirmed);
  } else if (const auto* phone = std::get_if<PhonePayload>(&m.payload)) {
    data.Str("phone_type", PhoneTypeName(phone->type));
  }
  deleted.push_back(std::move(data));
}

}  // namespace

base::StatusOr<ReregistrationResult> UserActions::RequireReregistration(const Principal& by,
                                                                        std::string_view upn_in) {
  OTPD_ASSIGN_OR_RETURN(StagedChange c,
                        BeginChange(directory_, clock_, by, Permission::kManageUserMethods, upn_in,
                                    "user.require_reregistration"));
  const std::string& upn = c.upn();
  ReregistrationResult result;
  OTPD_ASSIGN_OR_RETURN(auto methods, directory_.ReadMethods(upn));
  std::vector<EventData> deleted;
  for (const auto& m : methods) {
    if (!m.ok()) continue;
    switch (DescribeMethodKind(m->kind()).reregistration) {
      case Reregistration::kKeep:
        break;
      case Reregistration::kDeactivateToken:
        OTPD_RETURN_IF_ERROR(DeactivateToken(directory_, *m, c, result));
        break;
      case Reregistration::kDelete:
        DeleteForReregistration(*m, c, result, deleted);
        break;
    }
  }
  // A code already sent to a phone that no longer exists must not sign in either.
  c.batch.Delete(Namespace::kState, ChallengeKey(upn));
  c.user.user.mfa_registration_required = true;
  c.audit.detail = std::to_string(result.deactivated_tokens.size()) + " tokens deactivated, " +
                   std::to_string(result.deleted_methods.size()) + " methods deleted";
  OTPD_RETURN_IF_ERROR(AddEvent(c.batch, clock_, events::kUserReregistrationRequired, upn,
                                EventData()
                                    .Strings("deactivated_tokens", result.deactivated_tokens)
                                    .Objects("deleted_methods", deleted)
                                    .Str("by", by.actor)));
  OTPD_RETURN_IF_ERROR(CommitChange(directory_, c, invalidator_));
  return result;
}

base::StatusOr<uint64_t> UserActions::RevokeMfaSessions(const Principal& by,
                                                        std::string_view upn_in) {
  // A user signs their own remembered sessions out (Security info's "sign out everywhere").
  const Permission permission =
      by.self_service ? Permission::kRegisterOwnMethods : Permission::kManageUserMethods;
  OTPD_ASSIGN_OR_RETURN(StagedChange c, BeginChange(directory_, clock_, by, permission, upn_in,
                                                    "user.revoke_mfa_sessions"));
  const uint64_t epoch = ++c.user.user.sessions_epoch;
  c.audit.detail = "sessions epoch " + std::to_string(epoch);
  OTPD_RETURN_IF_ERROR(
      AddEvent(c.batch, clock_, events::kSessionsRevoked, c.upn(),
               EventData().Int("epoch", static_cast<int64_t>(epoch)).Str("by", by.actor)));
  OTPD_RETURN_IF_ERROR(CommitChange(directory_, c, invalidator_));
  return epoch;
}

namespace {

// Whether `methods` hold the second factor `preferred` names.
bool HasPreferredMethod(const std::vector<MethodRecord>& methods, std::string_view preferred) {
  return std::any_of(methods.begin(), methods.end(), [&](const MethodRecord& m) {
    if (!IsSecondFactor(m)) return false;
    if (preferred == "oath") return IsOathKind(m.kind());
    const auto* phone = std::get_if<PhonePayload>(&m.payload);
    const std::optional<PreferredPhone> wanted = PhoneOfPreference(preferred);
    return phone != nullptr && wanted && phone->type == wanted->type;
  });
}

base::StatusOr<std::vector<MethodRecord>> ReadableMethods(const Directory& directory,
                                                          std::string_view upn) {
  OTPD_ASSIGN_OR_RETURN(auto read, directory.ReadMethods(upn));
  std::vector<MethodRecord> methods;
  for (auto& m : read) {
    if (m.ok()) methods.push_back(std::move(*m));
  }
  return methods;
}

}  // namespace

base::Status UserActions::SetPreferredMethod(const Principal& by, std::string_view upn_in,
                                             std::string_view method) {
  constexpr std::string_view kNames[] = {"oath", "sms", "voiceMobile", "voiceAlternateMobile",
                                         "voiceOffice"};
  if (!method.empty() &&
      std::find(std::begin(kNames), std::end(kNames), method) == std::end(kNames)) {
    return base::InvalidArgumentError(
        "userPreferredMethodForSecondaryAuthentication must be oath, sms, voiceMobile, "
        "voiceAlternateMobile, voiceOffice or none");
  }
  const Permission permission =
      by.self_service ? Permission::kRegisterOwnMethods : Permission::kManageUserMethods;
  OTPD_ASSIGN_OR_RETURN(StagedChange c, BeginChange(directory_, clock_, by, permission, upn_in,
                                                    "user.sign_in_preference"));
  OTPD_ASSIGN_OR_RETURN(std::vector<MethodRecord> methods, ReadableMethods(directory_, c.upn()));
  if (!method.empty() && !HasPreferredMethod(methods, method)) {
    return base::InvalidArgumentError("the user has no " + std::string(method) +
                                      " method to prefer: add it first");
  }
  c.user.user.preferred_method = std::string(method);
  c.audit.detail = method.empty() ? "none" : std::string(method);
  return CommitChange(directory_, c, invalidator_);
}

base::StatusOr<std::string> UserActions::PreferredMethod(const Principal& by,
                                                         std::string_view upn_in) const {
  OTPD_RETURN_IF_ERROR(AuthorizeReadOf(by, upn_in));
  OTPD_ASSIGN_OR_RETURN(const std::string upn, CheckUpn(upn_in));
  OTPD_ASSIGN_OR_RETURN(auto user, directory_.GetUser(upn));
  if (!user) return base::NotFoundError("no user " + upn);
  const std::string& preferred = user->record.preferred_method;
  if (preferred.empty()) return preferred;
  OTPD_ASSIGN_OR_RETURN(std::vector<MethodRecord> methods, ReadableMethods(directory_, upn));
  return HasPreferredMethod(methods, preferred) ? preferred : std::string();
}

}  // namespace otpd::service
