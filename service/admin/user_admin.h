// Administrative actions on users that are not about one token: reading and listing them,
// creating, renaming and deleting them, their roles, and clearing a lockout. Each change is one
// durable batch with its audit record, under the user's fence (service/model/directory.h), so a
// sign-in decided before the change cannot undo it afterwards.
//
// Thread-safety: plain functions and a stateless class; the Store serialises the commits.

#ifndef OTPD_SERVICE_ADMIN_USER_ADMIN_H_
#define OTPD_SERVICE_ADMIN_USER_ADMIN_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/statusor.h"
#include "engine/lockout.h"
#include "service/admin/inventory.h"
#include "service/admin/roles.h"
#include "service/model/directory.h"

namespace otpd::service {

// Clears `upn`'s lockout state (consecutive failures and any lock), with an audit record (action
// "user.unlock", target "user/<upn>", `by`) in the same durable batch; the right to manage the
// user's methods is needed (PermissionDenied, audited, otherwise). Returns the state that was
// cleared, or nullopt when the user had none (nothing is written then). `upn` is normalised
// here. Errors: InvalidArgument for a malformed UPN; NotFound when no such user exists; Aborted
// when the user changed meanwhile; storage errors. `invalidator` (may be null) is told after the
// commit.
base::StatusOr<std::optional<engine::LockoutState>> UnlockUser(const Directory& directory,
                                                               const base::Clock& clock,
                                                               std::string_view upn,
                                                               const Principal& by,
                                                               CacheInvalidator* invalidator);

// What the directory shows of a user.
struct UserSummary {
  UserRecord user;
  size_t methods = 0;            // every method, lapsed enrolments included
  engine::LockoutState lockout;  // failures and locked_until as stored
};

// When each of a user's methods last signed them in, and the failures since their last success:
// what lets a user spot sign-ins that were not theirs. Read from the sign-in state the verifier
// keeps for every accepted code (a token's or app's watermark record, the lockout record), so
// recording it costs the sign-in path nothing more.
struct MethodLastUse {
  std::string method_id;
  MethodKind kind = MethodKind::kHardwareOath;
  std::string label;      // a hardware token's serial number, an app's display name
  int64_t last_used = 0;  // Unix seconds; 0: never used to sign in
};
struct SignInActivity {
  std::vector<MethodLastUse> methods;  // hardware tokens and confirmed apps, most recent first
  engine::LockoutState lockout;        // failures since the last success, the last one's time
};
base::StatusOr<SignInActivity> ReadSignInActivity(const Directory& directory, std::string_view upn);

class UserAdmin {
 public:
  // `directory` and `clock` must outlive this; `invalidator` may be null.
  UserAdmin(const Directory& directory, const base::Clock& clock, CacheInvalidator* invalidator)
      : directory_(directory), clock_(clock), invalidator_(invalidator) {}

  // NotFound when there is no such user.
  base::StatusOr<UserSummary> Get(const Principal& by, std::string_view upn) const;
  // Users whose UPN starts with `prefix`, in UPN order, from the first after `after` (empty:
  // from the start), until fn returns false.
  base::Status List(const Principal& by, std::string_view prefix, std::string_view after,
                    const std::function<bool(const UserSummary&)>& fn) const;
  // Creates the user, or sets the display name of an existing one. `created` tells which.
  base::StatusOr<UserRecord> Put(const Principal& by, std::string_view upn,
                                 std::string_view display_name, bool* created);
  // Changes the display name and/or the roles (roles need the owner). InvalidArgument for an
  // unknown role.
  base::StatusOr<UserRecord> Patch(const Principal& by, std::string_view upn,
                                   std::optional<std::string> display_name,
                                   std::optional<std::vector<std::string>> roles);
  // Deletes the user and its methods and state. FailedPrecondition while a hardware token is
  // assigned to it (unassign it first: the token outlives the user).
  base::Status Delete(const Principal& by, std::string_view upn);

  const Directory* directory() const { return &directory_; }

 private:
  const Directory& directory_;
  const base::Clock& clock_;
  CacheInvalidator* const invalidator_;
};

}  // namespace otpd::service

#endif  // OTPD_SERVICE_ADMIN_USER_ADMIN_H_
