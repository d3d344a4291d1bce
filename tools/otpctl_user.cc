#include "tools/otpctl_user.h"

#include <boost/json.hpp>
#include <iostream>

#include "base/clock.h"
#include "service/user_admin.h"
#include "tokenio/upn.h"
#include "tools/display.h"

namespace otpd::tools {

CLI::App* AddUserCommands(CLI::App& app, UserCommandOptions& o) {
  CLI::App* user = app.add_subcommand("user", "Users' sign-in state");
  user->require_subcommand(1);
  AddDataDirFlags(user, o.dir);
  user->add_option("--actor", o.actor, "Name recorded in the audit log (default otpctl)");
  CLI::App* unlock = user->add_subcommand(
      "unlock", "Clear a user's lockout: consecutive failed sign-ins and any lock they caused");
  unlock->add_option("UPN", o.upn, "The user (e-mail address)")->required();
  unlock->add_flag("--json", o.json, "Print the result as JSON");
  unlock->fallthrough();
  unlock->footer("The data directory options are given to `otpctl user` (see otpctl user --help).");
  return user;
}

int RunUserCommand(CLI::App* /*user*/, const UserCommandOptions& o) {
  auto upn = tokenio::NormaliseUpn(o.upn);
  if (!upn.ok()) {
    std::cerr << "otpctl user unlock: UPN: " << upn.status().message() << "\n";
    return 2;
  }
  auto dir = OpenDataDir(o.dir, DataDirAccess::kReadWrite);
  if (!dir.ok()) {
    std::cerr << "otpctl user: " << dir.status().message() << "\n";
    return 1;
  }
  auto cleared =
      service::UnlockUser(service::Directory(*dir->store, *dir->keys), *base::RealClock::Get(),
                          *upn, service::Principal::Owner(o.actor), nullptr);
  if (!cleared.ok()) {
    std::cerr << "otpctl user unlock: " << cleared.status().message() << "\n";
    return 1;
  }
  if (o.json) {
    boost::json::object out;
    out["user"] = *upn;
    out["cleared"] = cleared->has_value();
    out["failures"] = cleared->has_value() ? (*cleared)->failures : 0;
    out["locked_until"] = cleared->has_value() ? IsoTime((*cleared)->locked_until) : "-";
    std::cout << boost::json::serialize(out) << "\n";
    return 0;
  }
  if (!cleared->has_value()) {
    std::cout << "user " << Printable(*upn, 254) << " has no failed sign-ins to clear\n";
    return 0;
  }
  std::cout << "user " << Printable(*upn, 254) << " unlocked: cleared " << (*cleared)->failures
            << " consecutive failed sign-ins"
            << ((*cleared)->locked_until > 0 ? ", locked until " + IsoTime((*cleared)->locked_until)
                                             : "")
            << "\n";
  return 0;
}

}  // namespace otpd::tools
