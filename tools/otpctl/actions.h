// The authentication administrator's actions, through the running daemon's admin API (over
// admin.sock as the owner, or --admin URL with an API key) or, with the daemon stopped, on its
// data directory through the same API run in-process, audited with --actor and written with
// their events (delivered to the hooks when the daemon next runs). The output is the same
// either way:
//
//   otpctl user reset-password UPN [--password-file FILE]   a new password (generated and shown
//                                                           once unless given); must be changed
//   otpctl user require-reregister UPN                      deactivate tokens, delete phones and
//                                                           apps; lists what it did
//   otpctl user revoke-mfa-sessions UPN                     every remembered session, at once
//   otpctl app-password list UPN
//   otpctl app-password create UPN NAME                     the password is shown once
//   otpctl app-password delete UPN (--id ID | --all)
//   otpctl tap create UPN [--lifetime MINUTES] [--once]     the pass is shown once
//   otpctl hooks list                                       cursors, backlog, dead letters
//   otpctl hooks dead-letters NAME
//   otpctl hooks enable NAME                                after a receiver answered 410
//   otpctl hooks redeliver NAME                             dead letters again (online only)
//
// Secrets shown once go to stdout only, never to stderr or the audit log. Exit codes: 0 done,
// 1 refused or failed, 2 bad arguments.

#ifndef OTPD_TOOLS_OTPCTL_ACTIONS_H_
#define OTPD_TOOLS_OTPCTL_ACTIONS_H_

#include <CLI/CLI.hpp>

#include <string>

#include "tools/otpctl/admin.h"
#include "tools/otpctl/data_dir.h"

namespace otpd::tools {

struct ActionCommandOptions {
  DataDirFlags dir;
  AdminFlags admin;
  std::string actor = "otpctl";  // offline only: online, the daemon names the caller
  std::string upn;
  std::string name;  // app password display name, hook name
  std::string id;
  bool all = false;
  std::string password_file;
  uint32_t lifetime_minutes = 0;
  bool once = false;
  bool json = false;
};

struct ActionCommands {
  CLI::App* reset_password = nullptr;
  CLI::App* require_reregister = nullptr;
  CLI::App* revoke_sessions = nullptr;
  CLI::App* app_password = nullptr;
  CLI::App* tap = nullptr;
  CLI::App* hooks = nullptr;
  bool parsed() const;
};

// Adds app-password, tap and hooks to `app`, and reset-password, require-reregister and
// revoke-mfa-sessions to the existing `user` command.
ActionCommands AddActionCommands(CLI::App& app, CLI::App* user, ActionCommandOptions& options);
int RunActionCommand(const ActionCommands& commands, const ActionCommandOptions& options);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_ACTIONS_H_
