#include "tools/otpctl/user.h"

#include <iostream>

#include "tokenio/upn.h"
#include "tools/display.h"

namespace otpd::tools {
namespace {

namespace json = boost::json;

std::string UserPath(const std::string& upn) { return "/v1.0/users/" + UrlEncode(upn); }

void PrintUser(const json::value& u) {
  PrintFields({{"user", Printable(Text(u, "userPrincipalName"), 254)},
               {"display name", Printable(Text(u, "displayName"), 254)},
               {"roles", Printable(Text(u, "roles"), 254)},
               {"methods", Text(u, "methodCount")},
               {"failed sign-ins", Text(u, "signInFailures")},
               {"locked until", Text(u, "lockedUntilDateTime")},
               {"must register MFA", Text(u, "mfaRegistrationRequired")},
               {"created", Text(u, "createdDateTime")}});
}

base::Status List(AdminClient& admin, const UserCommandOptions& o) {
  std::string target = "/v1.0/users?$top=500";
  if (!o.filter.empty()) {
    target += "&$filter=" + UrlEncode("startswith(userPrincipalName,'" + o.filter + "')");
  }
  OTPD_ASSIGN_OR_RETURN(json::array users, admin.List(target));
  if (o.json) {
    std::cout << json::serialize(users) << "\n";
    return base::OkStatus();
  }
  std::vector<std::vector<std::string>> rows;
  for (const json::value& u : users) {
    rows.push_back({Text(u, "userPrincipalName"), Text(u, "displayName"), Text(u, "roles"),
                    Text(u, "methodCount"), Text(u, "lockedUntilDateTime")});
  }
  PrintTable({"USER", "DISPLAY NAME", "ROLES", "METHODS", "LOCKED UNTIL"}, rows);
  return base::OkStatus();
}

base::Status Unlock(AdminClient& admin, const UserCommandOptions& o) {
  OTPD_ASSIGN_OR_RETURN(json::value r, admin.Post(UserPath(o.upn) + "/unlock", json::object()));
  if (o.json) {
    json::object out = r.is_object() ? r.as_object() : json::object();
    out["user"] = o.upn;
    std::cout << json::serialize(out) << "\n";
    return base::OkStatus();
  }
  const std::string cleared = Text(r, "failuresCleared");
  if (cleared == "0" || cleared == "-") {
    std::cout << "user " << Printable(o.upn, 254) << " has no failed sign-ins to clear\n";
  } else {
    std::cout << "user " << Printable(o.upn, 254) << " unlocked: cleared " << cleared
              << " consecutive failed sign-ins\n";
  }
  return base::OkStatus();
}

base::Status Roles(AdminClient& admin, const UserCommandOptions& o) {
  if (!o.roles.empty() || o.no_roles) {
    json::object body;
    json::array roles;
    for (const std::string& r : o.roles) roles.emplace_back(r);
    body["roles"] = std::move(roles);
    json::value v(std::move(body));
    OTPD_RETURN_IF_ERROR(admin.Call("PATCH", UserPath(o.upn), &v).status());
  }
  OTPD_ASSIGN_OR_RETURN(json::value u, admin.Get(UserPath(o.upn)));
  if (o.json) {
    json::object out;
    out["user"] = o.upn;
    out["roles"] = u.as_object()["roles"];
    std::cout << json::serialize(out) << "\n";
  } else {
    std::cout << "user " << Printable(o.upn, 254) << " roles: " << Printable(Text(u, "roles"), 254)
              << "\n";
  }
  return base::OkStatus();
}

}  // namespace

CLI::App* AddUserCommands(CLI::App& app, UserCommandOptions& o) {
  CLI::App* user = app.add_subcommand("user", "Users: records, roles and sign-in lockouts");
  user->require_subcommand(1);
  const char* kUpn = "The user (e-mail address)";
  CLI::App* list = user->add_subcommand("list", "List users (a header row, then one per line)");
  list->add_option("--prefix", o.filter, "Only users whose UPN starts with this");
  user->add_subcommand("show", "Show one user")->add_option("UPN", o.upn, kUpn)->required();
  CLI::App* add = user->add_subcommand("add", "Create a user");
  add->add_option("UPN", o.upn, kUpn)->required();
  add->add_option("--display-name", o.display_name, "The user's display name");
  CLI::App* rename = user->add_subcommand("rename", "Change a user's display name");
  rename->add_option("UPN", o.upn, kUpn)->required();
  rename->add_option("NAME", o.display_name, "The new display name")->required();
  user->add_subcommand("delete", "Delete a user and every method of theirs")
      ->add_option("UPN", o.upn, kUpn)
      ->required();
  user->add_subcommand(
          "unlock", "Clear a user's lockout: consecutive failed sign-ins and any lock they caused")
      ->add_option("UPN", o.upn, kUpn)
      ->required();
  CLI::App* roles = user->add_subcommand(
      "roles", "Show a user's roles, or set them (reader, authentication_administrator, ...)");
  roles->add_option("UPN", o.upn, kUpn)->required();
  roles->add_option("ROLE", o.roles, "The roles to give (replacing the current ones)");
  roles->add_flag("--none", o.no_roles, "Remove every role");
  AddAdminCommandFlags(user, o);
  return user;
}

int RunUserCommand(CLI::App* user, const UserCommandOptions& given) {
  const std::string verb = user->get_subcommands().front()->get_name();
  const std::string what = "user " + verb;
  UserCommandOptions o = given;
  if (verb != "list") {
    auto upn = tokenio::NormaliseUpn(o.upn);
    if (!upn.ok()) {
      std::cerr << "otpctl " << what << ": UPN: " << upn.status().message() << "\n";
      return 2;
    }
    o.upn = *upn;
  }
  if (verb == "roles" && o.no_roles && !o.roles.empty()) {
    std::cerr << "otpctl user roles: give ROLEs or --none, not both\n";
    return 2;
  }
  const bool read_only =
      verb == "list" || verb == "show" || (verb == "roles" && o.roles.empty() && !o.no_roles);
  return WithAdmin(o, what, read_only, [&](AdminClient& admin) -> base::Status {
    if (verb == "list") return List(admin, o);
    if (verb == "unlock") return Unlock(admin, o);
    if (verb == "roles") return Roles(admin, o);
    if (verb == "show") {
      OTPD_ASSIGN_OR_RETURN(json::value u, admin.Get(UserPath(o.upn)));
      if (o.json) {
        std::cout << json::serialize(u) << "\n";
      } else {
        PrintUser(u);
      }
      return base::OkStatus();
    }
    if (verb == "add" || verb == "rename") {
      if (verb == "add") {
        // PUT would rename an existing user: refuse instead, as "add" promises a new one.
        auto existing = admin.Get(UserPath(o.upn));
        if (existing.ok()) {
          return base::AlreadyExistsError("user " + Printable(o.upn, 254) + " exists already");
        }
        if (!base::IsNotFound(existing.status())) return existing.status();
      } else {
        OTPD_RETURN_IF_ERROR(admin.Get(UserPath(o.upn)).status());
      }
      json::object body;
      body["displayName"] = o.display_name;
      json::value v(std::move(body));
      OTPD_ASSIGN_OR_RETURN(json::value u, admin.Call("PUT", UserPath(o.upn), &v));
      if (o.json) {
        std::cout << json::serialize(u) << "\n";
      } else {
        std::cout << "user " << Printable(o.upn, 254) << (verb == "add" ? " added" : " renamed")
                  << "\n";
      }
      return base::OkStatus();
    }
    // delete
    OTPD_RETURN_IF_ERROR(admin.Call("DELETE", UserPath(o.upn)).status());
    if (o.json) {
      std::cout << "{\"user\":" << json::serialize(json::value(o.upn)) << ",\"deleted\":true}\n";
    } else {
      std::cout << "user " << Printable(o.upn, 254) << " deleted\n";
    }
    return base::OkStatus();
  });
}

}  // namespace otpd::tools
