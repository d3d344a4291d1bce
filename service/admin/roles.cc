#include "service/admin/roles.h"

namespace otpd::service {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kReader:
      return "reader";
    case Role::kAuthenticationAdministrator:
      return "authentication_administrator";
    case Role::kPrivilegedAuthenticationAdministrator:
      return "privileged_authentication_administrator";
    case Role::kAuthenticationPolicyAdministrator:
      return "authentication_policy_administrator";
  }
  return "reader";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : kAllRoles) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

std::vector<Role> RoleSet::list() const {
  std::vector<Role> out;
  for (Role r : kAllRoles) {
    if (Has(r)) out.push_back(r);
  }
  return out;
}

std::vector<std::string> RoleSet::Names() const {
  std::vector<std::string> out;
  for (Role r : list()) out.emplace_back(RoleName(r));
  return out;
}

base::StatusOr<RoleSet> RoleSet::Parse(const std::vector<std::string>& names) {
  RoleSet set;
  for (const std::string& n : names) {
    std::optional<Role> r = ParseRole(n);
    if (!r) {
      return base::InvalidArgumentError(
          "unknown role '" + n.substr(0, 64) +
          "' (roles: reader, authentication_administrator, "
          "privileged_authentication_administrator, authentication_policy_administrator)");
    }
    set.Add(*r);
  }
  return set;
}

namespace {

base::Status Denied(std::string_view what, std::string_view needs) {
  return base::PermissionDeniedError(std::string(what) + " needs " + std::string(needs));
}

}  // namespace

base::Status AuthorizeReadOf(const Principal& p, std::string_view upn) {
  if (!p.self_service) return Authorize(p, Permission::kRead);
  if (NormaliseUpn(p.user) == NormaliseUpn(upn)) return base::OkStatus();
  return Denied("reading another user's records", "a role");
}

bool HoldsAdminRole(const UserRecord& user) {
  // The person behind an administrator's API key is an administrator, whatever their record says.
  if (user.holds_admin_key) return true;
  // A role this version does not know counts as administrative: the safe side.
  for (const std::string& name : user.roles) {
    if (name != RoleName(Role::kReader)) return true;
  }
  return false;
}

base::Status Authorize(const Principal& p, Permission permission, const UserRecord* target) {
  // Nobody, the owner included, resets their own password through an administrator's reset:
  // their own change needs the current password.
  if (permission == Permission::kResetPassword && !p.user.empty() && target != nullptr &&
      NormaliseUpn(p.user) == target->upn) {
    return base::PermissionDeniedError(
        "nobody resets their own password as an administrator; change it with the current one");
  }
  if (permission == Permission::kRegisterOwnMethods) {
    if (p.self_service && target != nullptr && NormaliseUpn(p.user) == target->upn) {
      return base::OkStatus();
    }
    return Denied("registering a method for oneself", "the user's own sign-in");
  }
  // A user acting for themselves holds no role, whatever the principal says.
  if (p.self_service) return Denied("this", "an administrator");
  if (p.owner) return base::OkStatus();
  const RoleSet& r = p.roles;
  const bool privileged = r.Has(Role::kPrivilegedAuthenticationAdministrator);
  switch (permission) {
    case Permission::kRead:
      if (!r.empty()) return base::OkStatus();
      return Denied("reading the directory", "a role");
    case Permission::kManageInventory:
      if (r.Has(Role::kAuthenticationPolicyAdministrator)) return base::OkStatus();
      return Denied("managing the hardware token inventory",
                    "the authentication_policy_administrator role");
    case Permission::kManageUserMethods:
    case Permission::kResetPassword:
    case Permission::kManageUsers: {
      if (privileged) return base::OkStatus();
      if (!r.Has(Role::kAuthenticationAdministrator)) {
        return Denied("changing a user's authentication methods",
                      "the authentication_administrator role");
      }
      if (target != nullptr && HoldsAdminRole(*target)) {
        return Denied("changing the methods of a user who holds an administrative role",
                      "the privileged_authentication_administrator role");
      }
      return base::OkStatus();
    }
    case Permission::kManageRoles:
    case Permission::kManageApiKeys:
    case Permission::kBackup:
    case Permission::kManageHooks:
      return Denied("this", "the local owner (the admin socket as the daemon's user or root)");
    case Permission::kRegisterOwnMethods:
      break;  // decided above
  }
  return Denied("this", "the local owner");
}

bool SeesFullPhoneNumbers(const Principal& p) {
  return p.owner || p.roles.Has(Role::kPrivilegedAuthenticationAdministrator);
}

}  // namespace otpd::service
