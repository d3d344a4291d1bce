// otpctl: the administrator's command line. Exit codes: 0 done, 1 refused or failed (with the
// reason on stderr), 2 usage.

#include <CLI/CLI.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "tools/display.h"
#include "tools/otpctl_actions.h"
#include "tools/otpctl_apikey.h"
#include "tools/otpctl_backup.h"
#include "tools/otpctl_code.h"
#include "tools/otpctl_export.h"
#include "tools/otpctl_import.h"
#include "tools/otpctl_init.h"
#include "tools/otpctl_keys.h"
#include "tools/otpctl_methods.h"
#include "tools/otpctl_seed.h"
#include "tools/otpctl_token.h"
#include "tools/otpctl_user.h"
#include "tools/otpctl_verify.h"

namespace {

// "otpctl token" for the token command, "otpctl" for the application.
std::string CommandPath(const CLI::App* app) {
  std::string path;
  for (; app != nullptr; app = app->get_parent()) {
    path = (app->get_parent() == nullptr ? "otpctl" : app->get_name()) +
           (path.empty() ? "" : " " + path);
  }
  return path;
}

// The usage error of a command that needs a subcommand and got none, or an unknown one: names
// what was typed and lists the valid commands. Returns false for any other parse error.
bool ExplainMissingCommand(CLI::App& app) {
  CLI::App* at = &app;
  while (!at->get_subcommands().empty()) at = at->get_subcommands().front();
  const std::vector<CLI::App*> commands = at->get_subcommands({});
  if (commands.empty()) return false;
  std::string typed;
  for (const std::string& word : at->remaining()) {
    if (!word.empty() && word[0] != '-') {
      typed = word;
      break;
    }
  }
  std::string names;
  for (const CLI::App* c : commands) names += (names.empty() ? "" : ", ") + c->get_name();
  const std::string path = CommandPath(at);
  std::cerr << path << ": "
            << (typed.empty() ? std::string("a command is required")
                              : "unknown command '" + otpd::tools::Printable(typed) + "'")
            << "; the commands are: " << names << " (" << path << " --help describes them)\n";
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "otpd administration: token files, the token inventory, users and their methods, API keys, "
      "the audit trail, backups and keys"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("otpctl ") + OTPD_VERSION,
                       "Print otpctl's version and exit");
  app.footer(
      "Commands that open a data directory take --data-dir (default $OTPD_DATA_DIR) and the "
      "master key from --key-file (default $OTPD_KEY_FILE) or $OTPD_MASTER_KEY; otpctl init "
      "creates both. Commands that read or change users, methods, tokens, API keys or the audit "
      "trail go through the running daemon's admin API (its admin.sock in the data directory, "
      "or --admin URL with --api-key-file or $OTPD_API_KEY) and work on the data directory "
      "when the daemon is stopped; --online or --offline insist on one. See docs/otpctl.md.");
  otpd::tools::InitCommandOptions init;
  CLI::App* init_cmd = otpd::tools::AddInitCommand(app, init);
  otpd::tools::CodeOptions code;
  otpd::tools::AddCodeCommand(app, code);
  otpd::tools::ImportCommandOptions import;
  CLI::App* import_cmd = otpd::tools::AddImportCommand(app, import);
  otpd::tools::TokenCommandOptions token;
  auto [token_cmd, batch_cmd] = otpd::tools::AddTokenCommands(app, token);
  otpd::tools::UserCommandOptions user;
  CLI::App* user_cmd = otpd::tools::AddUserCommands(app, user);
  otpd::tools::ActionCommandOptions actions;
  otpd::tools::ActionCommands action_cmds = otpd::tools::AddActionCommands(app, user_cmd, actions);
  otpd::tools::MethodCommandOptions method;
  otpd::tools::MethodCommands method_cmds = otpd::tools::AddMethodCommands(app, method);
  otpd::tools::ApiKeyCommandOptions apikey;
  otpd::tools::ApiKeyCommands apikey_cmds = otpd::tools::AddApiKeyCommands(app, apikey);
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
    const bool help = dynamic_cast<const CLI::CallForHelp*>(&e) != nullptr ||
                      dynamic_cast<const CLI::CallForAllHelp*>(&e) != nullptr ||
                      dynamic_cast<const CLI::CallForVersion*>(&e) != nullptr;
    if (!help && ExplainMissingCommand(app)) return 2;
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
    if (action_cmds.parsed()) {
      if (user_cmd->parsed()) {  // `otpctl user --data-dir ... reset-password UPN`
        actions.dir = user.dir;
        actions.actor = user.actor;
      }
      return otpd::tools::RunActionCommand(action_cmds, actions);
    }
    if (user_cmd->parsed()) return otpd::tools::RunUserCommand(user_cmd, user);
    if (int rc = otpd::tools::RunMethodCommand(method_cmds, method); rc >= 0) return rc;
    if (int rc = otpd::tools::RunApiKeyCommand(apikey_cmds, apikey); rc >= 0) return rc;
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
