// otpctl: the administrator's command line. Exit codes: 0 done, 1 refused or failed (with the
// reason on stderr), 2 usage.

#include <CLI/CLI.hpp>

#include <iostream>

#include "tools/otpctl_backup.h"
#include "tools/otpctl_code.h"
#include "tools/otpctl_export.h"
#include "tools/otpctl_import.h"
#include "tools/otpctl_init.h"
#include "tools/otpctl_keys.h"
#include "tools/otpctl_seed.h"
#include "tools/otpctl_token.h"
#include "tools/otpctl_verify.h"

int main(int argc, char** argv) {
  CLI::App app{"otpd administration"};
  app.require_subcommand(1);
  otpd::tools::InitCommandOptions init;
  CLI::App* init_cmd = otpd::tools::AddInitCommand(app, init);
  otpd::tools::CodeOptions code;
  otpd::tools::AddCodeCommand(app, code);
  otpd::tools::ImportCommandOptions import;
  CLI::App* import_cmd = otpd::tools::AddImportCommand(app, import);
  otpd::tools::TokenCommandOptions token;
  auto [token_cmd, batch_cmd] = otpd::tools::AddTokenCommands(app, token);
  otpd::tools::VerifyCommandOptions verify;
  CLI::App* verify_cmd = otpd::tools::AddVerifyCommand(app, verify);
  otpd::tools::SeedCommandOptions seed;
  CLI::App* seed_cmd = otpd::tools::AddSeedCommand(app, seed);
  otpd::tools::ExportCommandOptions export_options;
  CLI::App* export_cmd = otpd::tools::AddExportCommand(app, export_options);
  otpd::tools::BackupCommandOptions backup;
  otpd::tools::BackupCommands backup_cmds = otpd::tools::AddBackupCommands(app, backup);
  otpd::tools::KeysCommandOptions keys;
  CLI::App* key_cmd = otpd::tools::AddKeysCommands(app, keys);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    if (init_cmd->parsed()) return otpd::tools::RunInitCommand(init);
    if (app.got_subcommand("code")) return otpd::tools::RunCodeCommand(code);
    if (import_cmd->parsed()) return otpd::tools::RunImportCommand(import);
    if (verify_cmd->parsed()) return otpd::tools::RunVerifyCommand(verify);
    if (seed_cmd->parsed()) return otpd::tools::RunSeedCommand(seed);
    if (export_cmd->parsed()) return otpd::tools::RunExportCommand(export_options);
    if (backup_cmds.backup->parsed() || backup_cmds.restore->parsed()) {
      return otpd::tools::RunBackupCommand(backup_cmds, backup);
    }
    if (key_cmd->parsed()) return otpd::tools::RunKeysCommand(key_cmd, keys);
    if (token_cmd->parsed() || batch_cmd->parsed()) {
      return otpd::tools::RunTokenCommand(token_cmd, batch_cmd, token);
    }
  } catch (const std::exception& e) {
    // Third-party code (Boost, the standard library) may throw; report and fail cleanly.
    std::cerr << "otpctl: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
