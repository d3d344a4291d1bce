// `otpctl user ...`: users through the admin API (docs/admin-api.md), online when the daemon runs
// and offline on its data directory otherwise (tools/otpctl/admin.h):
//   list, show UPN, add UPN [--display-name NAME], rename UPN NAME, delete UPN, unlock UPN,
//   roles UPN [ROLE...] (no ROLE: show them; --none: remove them all).
// Exit codes: 0 done, 1 refused or failed (the reason on stderr), 2 usage (nothing changed).

#ifndef OTPD_TOOLS_OTPCTL_USER_H_
#define OTPD_TOOLS_OTPCTL_USER_H_

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "tools/otpctl/online.h"

namespace otpd::tools {

struct UserCommandOptions : AdminCommandOptions {
  std::string upn;
  std::string display_name;
  std::vector<std::string> roles;
  bool no_roles = false;
  std::string filter;  // list: a UPN prefix
};

// Adds `user` with its commands; returns `user`.
CLI::App* AddUserCommands(CLI::App& app, UserCommandOptions& options);
int RunUserCommand(CLI::App* user, const UserCommandOptions& options);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_USER_H_
