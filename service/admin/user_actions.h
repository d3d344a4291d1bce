// The authentication administrator's actions on one user, as Microsoft Entra (Graph) has them:
// reset the password, require the user to register MFA again, revoke the user's remembered MFA
// sessions. Each is authorized (service/admin/roles.h: an authentication administrator cannot act
// on a user holding an administrative role; nobody resets their own password this way), made under
// the user's fence with its audit record and its outbox event in one durable batch, and told to
// the sign-in cache, so that once a call returns no sign-in decided on the state before it can
// still succeed.
//
// Errors (the admin API maps them): InvalidArgument (a malformed UPN, a password against the
// policy) -> 400; NotFound (no such user) -> 404; PermissionDenied -> 403; Aborted (the user
// changed meanwhile; try again) -> 409; ResourceExhausted (the password hashing pool is full) ->
// 429; others (storage) -> 500.
//
// Thread-safe. Every call blocks on the Store (and ResetPassword on the hashing pool): call them
// from a worker thread, never from an io thread.

#ifndef OTPD_SERVICE_ADMIN_USER_ACTIONS_H_
#define OTPD_SERVICE_ADMIN_USER_ACTIONS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/secret_bytes.h"
#include "base/statusor.h"
#include "service/admin/inventory.h"
#include "service/admin/roles.h"
#include "service/credentials/passwords.h"
#include "service/model/directory.h"

namespace otpd::service {

struct PasswordResetResult {
  // The generated password when none was given: show it once, then forget it.
  std::optional<base::SecretBytes> generated;
  // For Graph's longRunningOperation: the reset is complete when the call returns, and
  // PasswordResetStatus reports it "succeeded".
  std::string operation_id;
  bool must_change = true;
};

// A password reset as Graph's longRunningOperation reports it.
struct PasswordResetOperation {
  std::string id;
  std::string status;       // "succeeded": a reset is complete when ResetPassword returns
  int64_t time_micros = 0;  // when it was made
};

// A method deleted by RequireReregistration.
struct DeletedMethod {
  std::string id;
  MethodKind kind = MethodKind::kPhone;
  std::string detail;  // "mobile" for a phone, the display name of an app
};

// A user as Graph's create-user makes one: with a password from the start.
struct NewUser {
  std::string upn;
  std::string display_name;
  std::string_view password;  // checked against the password policy
  bool must_change = true;    // Graph's passwordProfile.forceChangePasswordNextSignIn
};

struct ReregistrationResult {
  std::vector<std::string> deactivated_tokens;  // serials: activated before, assigned now
  std::vector<DeletedMethod> deleted_methods;   // phones and authenticator apps
};

class UserActions {
 public:
  // `directory`, `clock` and `hasher` must outlive this; `invalidator` may be null.
  UserActions(const Directory& directory, const base::Clock& clock, PasswordHasher& hasher,
              CacheInvalidator* invalidator)
      : directory_(directory), clock_(clock), hasher_(hasher), invalidator_(invalidator) {}

  // Sets the password of `upn` to `new_password` (checked against the password policy), or to
  // a generated one when it is empty, and marks it to be changed at the next sign-in (Graph's
  // passwordMethods/28c10230-6103-485e-b985-444c60001490/resetPassword). App passwords are not
  // revoked. Event password.reset. Permission::kResetPassword.
  base::StatusOr<PasswordResetResult> ResetPassword(const Principal& by, std::string_view upn,
                                                    std::optional<std::string_view> new_password);
  // Creates `user.upn` with its display name and its password method, in one change audited as
  // user.create: AlreadyExists when the user exists (nothing changes then), InvalidArgument for
  // a password the policy refuses. Needs Permission::kManageUsers and kResetPassword.
  base::StatusOr<UserRecord> CreateUser(const Principal& by, const NewUser& user);
  // "succeeded" when `operation_id` is a reset of `upn`'s password; NotFound otherwise.
  base::StatusOr<std::string> PasswordResetStatus(const Principal& by, std::string_view upn,
                                                  std::string_view operation_id) const;
  // The same, with the time it was made (from its audit record). Permission::kRead.
  base::StatusOr<PasswordResetOperation> GetPasswordReset(const Principal& by, std::string_view upn,
                                                          std::string_view operation_id) const;

  // In one atomic batch: every activated hardware token of the user is deactivated (it stays
  // assigned, status back to assigned), every phone and authenticator app (confirmed or pending)
  // is deleted with its state and any pending phone code, and the user is marked
  // registration_required; returns exactly what was deactivated and deleted. From the moment it
  // returns VERIFY answers registration_required for the user. The password, email, app
  // passwords and a temporary access pass (which is how the user registers again) stay. Event
  // user.reregistration_required. Permission::kManageUserMethods.
  base::StatusOr<ReregistrationResult> RequireReregistration(const Principal& by,
                                                             std::string_view upn);

  // Revokes every remembered MFA session of the user at once: one write moves the user's
  // sessions epoch on, and SESSION answers revoked for every session issued before. Returns the
  // new epoch. Event sessions.revoked. Permission::kManageUserMethods.
  base::StatusOr<uint64_t> RevokeMfaSessions(const Principal& by, std::string_view upn);

  // The second factor `upn` prefers to be asked for (Graph's signInPreferences): "oath", "sms",
  // "voiceMobile", "voiceAlternateMobile", "voiceOffice", or "" for none. InvalidArgument for
  // another name or a method the user does not have. The user sets their own (self service); an
  // administrator needs Permission::kManageUserMethods. Audited as user.sign_in_preference.
  base::Status SetPreferredMethod(const Principal& by, std::string_view upn,
                                  std::string_view method);
  // The preference as it holds now: "" when none is set or the method it names is gone.
  base::StatusOr<std::string> PreferredMethod(const Principal& by, std::string_view upn) const;

 private:
  const Directory& directory_;
  const base::Clock& clock_;
  PasswordHasher& hasher_;
  CacheInvalidator* const invalidator_;
};

}  // namespace otpd::service

#endif  // OTPD_SERVICE_ADMIN_USER_ACTIONS_H_
