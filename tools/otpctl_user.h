// `otpctl user unlock UPN`: clears a user's sign-in lockout (failure count and lock) in a stopped
// server's data directory, with an audit record (service/user_admin.h).

#ifndef OTPD_TOOLS_OTPCTL_USER_H_
#define OTPD_TOOLS_OTPCTL_USER_H_

#include <CLI/CLI.hpp>

#include <string>

#include "tools/otpctl_data_dir.h"

namespace otpd::tools {

struct UserCommandOptions {
  DataDirFlags dir;
  std::string actor = "otpctl";
  std::string upn;
  bool json = false;
};

// Adds `user` with `unlock`; returns `user`.
CLI::App* AddUserCommands(CLI::App& app, UserCommandOptions& options);
// Exit codes: 0 cleared (or nothing to clear), 1 refused or failed, 2 a malformed UPN.
int RunUserCommand(CLI::App* user, const UserCommandOptions& options);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_USER_H_
