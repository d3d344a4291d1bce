// Who is acting, and what they may do. The boundaries follow Microsoft Entra's roles for
// authentication methods, and are checked here, in service/, so that every front door (the admin
// API, otpctl, the console) enforces the same ones:
//
//   reader                                    reads users, methods (phone numbers masked), the
//                                             token inventory and the audit log
//   authentication_administrator              also manages the methods (tokens, phones, email,
//                                             apps, lockouts) of users who hold no administrative
//                                             role
//   privileged_authentication_administrator   manages the methods of every user
//   authentication_policy_administrator       manages the hardware-token inventory (import,
//                                             create, update, delete), not users' methods
//   owner                                     the daemon's local owner (its own uid or root on
//                                             the admin socket, otpctl on a stopped daemon's
//                                             data directory): everything, including roles,
//                                             API keys and backups
//
// Users carry roles too: they decide whether a user counts as an administrator, whose methods
// only a privileged authentication administrator (or the owner) may change.
//
// Thread-safety: plain values and functions.

#ifndef OTPD_SERVICE_ADMIN_ROLES_H_
#define OTPD_SERVICE_ADMIN_ROLES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "service/model/records.h"

namespace otpd::service {

enum class Role : uint8_t {
  kReader,
  kAuthenticationAdministrator,
  kPrivilegedAuthenticationAdministrator,
  kAuthenticationPolicyAdministrator,
};
inline constexpr Role kAllRoles[] = {Role::kReader, Role::kAuthenticationAdministrator,
                                     Role::kPrivilegedAuthenticationAdministrator,
                                     Role::kAuthenticationPolicyAdministrator};

// "reader", "authentication_administrator", "privileged_authentication_administrator",
// "authentication_policy_administrator".
std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

// A set of roles, as a bit mask.
class RoleSet {
 public:
  RoleSet() = default;
  RoleSet(std::initializer_list<Role> roles) {
    for (Role r : roles) Add(r);
  }
  void Add(Role r) { bits_ |= Bit(r); }
  bool Has(Role r) const { return (bits_ & Bit(r)) != 0; }
  bool empty() const { return bits_ == 0; }
  // Any role but reader.
  bool HasAdminRole() const { return (bits_ & ~Bit(Role::kReader)) != 0; }
  std::vector<Role> list() const;
  // Parses role names; InvalidArgument naming the unknown one.
  static base::StatusOr<RoleSet> Parse(const std::vector<std::string>& names);
  std::vector<std::string> Names() const;
  friend bool operator==(RoleSet, RoleSet) = default;

 private:
  static uint8_t Bit(Role r) { return static_cast<uint8_t>(1u << static_cast<unsigned>(r)); }
  uint8_t bits_ = 0;
};

// Who is acting.
struct Principal {
  // For the audit log: "apikey:NAME", "uid:N", "otpctl".
  std::string actor;
  bool owner = false;
  RoleSet roles;
  // The UPN of the person behind the key, when known: nobody acts on their own password.
  std::string user;
  // The admin API request being served, for the audit log ("" elsewhere).
  std::string request_id;
  // The user `user` acting for themselves at sign-in (through the verify socket's front end,
  // after proving a factor): may register their own methods (Permission::kRegisterOwnMethods)
  // and nothing else.
  bool self_service = false;

  static Principal Owner(std::string actor) {
    Principal p;
    p.actor = std::move(actor);
    p.owner = true;
    return p;
  }
  // `upn` acting for themselves; actor "user:<upn>".
  static Principal SelfService(std::string upn) {
    Principal p;
    p.actor = "user:" + upn;
    p.user = std::move(upn);
    p.self_service = true;
    return p;
  }
};

enum class Permission : uint8_t {
  kRead,                // users, methods, devices, audit
  kManageInventory,     // hardware tokens not yet a user's: import, create, update, delete
  kManageUserMethods,   // a user's tokens, phones, email, apps, app passwords, temporary access
                        // passes, lockout, registration state, remembered sessions
  kResetPassword,       // set a user's password (as kManageUserMethods, and never one's own)
  kRegisterOwnMethods,  // a user registering their own method at sign-in (self_service only)
  kManageUsers,         // create, rename, delete users
  kManageRoles,         // users' roles
  kManageApiKeys,       // create, list, revoke API keys
  kBackup,              // online backups
  kManageHooks,         // enable a disabled hook, redeliver its dead letters
};

// OK when `principal` may do `permission` (to `target`, the user concerned, when there is one);
// PermissionDenied otherwise, with a sentence naming the role it would take.
base::Status Authorize(const Principal& principal, Permission permission,
                       const UserRecord* target = nullptr);

// Permission::kRead for the records of user `upn`: a user acting for themselves reads their own
// and nobody else's; everyone else as Authorize(principal, kRead).
base::Status AuthorizeReadOf(const Principal& principal, std::string_view upn);

// True when `user` holds any role but reader (or one this version does not know), or holds an
// API key with such a role (UserRecord::holds_admin_key).
bool HoldsAdminRole(const UserRecord& user);

// Privileged authentication administrators and the owner see phone numbers whole; everyone else
// sees them masked but for the last two digits.
bool SeesFullPhoneNumbers(const Principal& principal);

}  // namespace otpd::service

#endif  // OTPD_SERVICE_ADMIN_ROLES_H_
