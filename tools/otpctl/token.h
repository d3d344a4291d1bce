// `otpctl token ...` and `otpctl batch list`: the hardware-token inventory. token commands go
// through the admin API, the running daemon's or, when it is stopped, one run in-process on the
// data directory (tools/otpctl/admin.h), and print the same either way
// (tools/otpctl/token_online.h). batch list reads the data directory read-only, so it works
// beside a running daemon, and lists the batches oldest first. Tables have a header row and ISO
// 8601 UTC times, --json prints JSON. assign checks the UPN as import does; activate takes the
// code (6 to 9 digits) as CODE or, with '-' or none, from one line of standard input; both checks
// come before anything is opened. Exit codes: 0 done, 1 refused or failed (the reason on stderr),
// 2 usage (a malformed UPN or code: nothing changed).

#ifndef OTPD_TOOLS_OTPCTL_TOKEN_H_
#define OTPD_TOOLS_OTPCTL_TOKEN_H_

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "tools/otpctl/admin.h"
#include "tools/otpctl/data_dir.h"

namespace otpd::tools {

struct TokenCommandOptions {
  DataDirFlags dir;
  AdminFlags admin;  // token: online through the daemon when it runs (tools/otpctl/admin.h)
  std::string actor = "otpctl";
  // list filters
  std::string status;
  std::string user;
  std::string batch;
  bool json = false;
  // arguments
  std::string serial;
  std::string upn;
  std::string code;
  // token update: the fields given (unset: unchanged)
  std::optional<std::string> display_name, manufacturer, model;
};

// Adds `token` (with list, show, update, assign, activate, deactivate, unassign, delete) and
// `batch` (with list and discard). Returns the two parent commands.
std::pair<CLI::App*, CLI::App*> AddTokenCommands(CLI::App& app, TokenCommandOptions& options);
int RunTokenCommand(CLI::App* token, CLI::App* batch, const TokenCommandOptions& options);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_TOKEN_H_
