// App passwords: long random passwords for clients that cannot do MFA (as Entra's), at most 40
// per user. The password is shown once, when it is created; only its SHA-256 is kept, signed, in
// apppw/<upn>\0<id>. A fast hash is enough here, unlike for passwords people choose: an app
// password is 120 random bits, so no dictionary helps and trying them all stays out of reach at
// any hashing speed; a slow hash would only make every APP_PASSWORD sign-in cost a scrypt.
//
// A password reset does not revoke them (as in Entra); deleting them is explicit, one, all of a
// user's, or for many users at once. Every change is authorized (Permission::kManageUserMethods),
// made under the user's fence with its audit record and outbox event, and told to the sign-in
// cache. Errors as service/admin/user_actions.h, plus ResourceExhausted (409/429: the limit of 40).
//
// Thread-safe; calls block on the Store.

#ifndef OTPD_SERVICE_CREDENTIALS_APP_PASSWORDS_H_
#define OTPD_SERVICE_CREDENTIALS_APP_PASSWORDS_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/secret_bytes.h"
#include "base/statusor.h"
#include "service/admin/inventory.h"
#include "service/admin/roles.h"
#include "service/model/directory.h"
#include "service/model/records.h"

namespace otpd::service {

inline constexpr size_t kMaxAppPasswordsPerUser = 40;

struct CreatedAppPassword {
  AppPasswordRecord record;
  base::SecretBytes password;  // 24 characters; show it once
};

// One user's result of DeleteForUsers.
struct AppPasswordDeletion {
  std::string user;
  base::Status status;  // NotFound for an unknown user, PermissionDenied, ...
  size_t deleted = 0;
};

class AppPasswords {
 public:
  AppPasswords(const Directory& directory, const base::Clock& clock, CacheInvalidator* invalidator)
      : directory_(directory), clock_(clock), invalidator_(invalidator) {}

  // Creates one for an existing user. InvalidArgument for a display name that is empty or
  // longer than 128 bytes; ResourceExhausted at 40. Event app_password.created.
  base::StatusOr<CreatedAppPassword> Create(const Principal& by, std::string_view upn,
                                            std::string_view display_name);
  // Names and dates (no hash), by creation time. Permission::kRead.
  base::StatusOr<std::vector<AppPasswordRecord>> List(const Principal& by,
                                                      std::string_view upn) const;
  // NotFound when the user has no app password `id`. Event app_passwords.deleted.
  base::Status Delete(const Principal& by, std::string_view upn, std::string_view id);
  // Every app password of the user; returns how many (0 writes nothing).
  base::StatusOr<size_t> DeleteAll(const Principal& by, std::string_view upn);
  // DeleteAll for each user, one change each; one failure does not stop the others. A caller who
  // may not manage users' methods at all is refused as a whole (PermissionDenied); a refusal for
  // one user (who holds an administrative role, say) is that user's result.
  base::StatusOr<std::vector<AppPasswordDeletion>> DeleteForUsers(
      const Principal& by, const std::vector<std::string>& upns);

  // The hex SHA-256 an app password is kept as.
  static std::string Digest(std::string_view password);

 private:
  base::StatusOr<size_t> DeleteMatching(const Principal& by, std::string_view upn,
                                        std::string_view only_id);

  const Directory& directory_;
  const base::Clock& clock_;
  CacheInvalidator* const invalidator_;
};

// Every app password of a user, checked (records that fail their integrity check are left out).
base::StatusOr<std::vector<AppPasswordRecord>> ReadAppPasswords(const Directory& directory,
                                                                std::string_view upn);

}  // namespace otpd::service

#endif  // OTPD_SERVICE_CREDENTIALS_APP_PASSWORDS_H_
