// otpctl's command tree: the CLI11 application with every command and option, and the values
// they parse into. otpctl's main() parses the command line with it; the manual page generator
// (tools/man/man_pages.h) walks the same tree, so the page lists exactly the options otpctl takes.

#ifndef OTPD_TOOLS_OTPCTL_APP_H_
#define OTPD_TOOLS_OTPCTL_APP_H_

#include <CLI/CLI.hpp>

#include <memory>

#include "tools/otpctl/actions.h"
#include "tools/otpctl/apikey.h"
#include "tools/otpctl/backup.h"
#include "tools/otpctl/code.h"
#include "tools/otpctl/export.h"
#include "tools/otpctl/import.h"
#include "tools/otpctl/init.h"
#include "tools/otpctl/keys.h"
#include "tools/otpctl/methods.h"
#include "tools/otpctl/seed.h"
#include "tools/otpctl/token.h"
#include "tools/otpctl/user.h"
#include "tools/otpctl/verify.h"

namespace otpd::tools {

// Not movable: CLI11 keeps pointers to the option values below.
struct OtpctlApp {
  CLI::App app{
      "otpd administration: token files, the token inventory, users and their methods, API keys, "
      "the audit trail, backups and keys",
      "otpctl"};
  InitCommandOptions init;
  CodeOptions code;
  ImportCommandOptions import;
  TokenCommandOptions token;
  UserCommandOptions user;
  VerifyCommandOptions verify;
  SeedCommandOptions seed;
  ExportCommandOptions export_options;
  BackupCommandOptions backup;
  KeysCommandOptions keys;
  ActionCommandOptions actions;
  MethodCommandOptions method;
  ApiKeyCommandOptions apikey;

  CLI::App* init_cmd = nullptr;
  CLI::App* code_cmd = nullptr;
  CLI::App* import_cmd = nullptr;
  CLI::App* token_cmd = nullptr;
  CLI::App* batch_cmd = nullptr;
  CLI::App* user_cmd = nullptr;
  CLI::App* verify_cmd = nullptr;
  CLI::App* seed_cmd = nullptr;
  CLI::App* export_cmd = nullptr;
  BackupCommands backup_cmds{};
  CLI::App* key_cmd = nullptr;
  ActionCommands action_cmds{};
  MethodCommands method_cmds{};
  ApiKeyCommands apikey_cmds{};
};

// Builds the whole tree. Never fails.
std::unique_ptr<OtpctlApp> BuildOtpctlApp();

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_APP_H_
