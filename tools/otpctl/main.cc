// otpctl: the administrator's command line (its commands: tools/otpctl/app.h). Exit codes: 0
// done, 1 refused or failed (with the reason on stderr), 2 usage.

#include <sys/stat.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "tools/display.h"
#include "tools/otpctl/app.h"

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
  // What otpctl writes (the data directory's files, keys, backups, exports) is for the otpd user
  // alone, whatever umask it was started with: the daemon's service runs with UMask=0077 too, and
  // the members of the otpd group (the verify socket's) may search the data directory.
  umask(077);
  std::unique_ptr<otpd::tools::OtpctlApp> cli = otpd::tools::BuildOtpctlApp();
  CLI::App& app = cli->app;
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
    if (cli->init_cmd->parsed()) return otpd::tools::RunInitCommand(cli->init);
    if (cli->code_cmd->parsed()) return otpd::tools::RunCodeCommand(cli->code);
    if (cli->import_cmd->parsed()) return otpd::tools::RunImportCommand(cli->import);
    if (cli->verify_cmd->parsed()) return otpd::tools::RunVerifyCommand(cli->verify);
    if (cli->seed_cmd->parsed()) return otpd::tools::RunSeedCommand(cli->seed);
    if (cli->export_cmd->parsed()) return otpd::tools::RunExportCommand(cli->export_options);
    if (cli->action_cmds.parsed()) {
      if (cli->user_cmd->parsed()) {  // `otpctl user --data-dir ... reset-password UPN`
        cli->actions.dir = cli->user.dir;
        cli->actions.admin = cli->user.admin;
        cli->actions.actor = cli->user.actor;
      }
      return otpd::tools::RunActionCommand(cli->action_cmds, cli->actions);
    }
    if (cli->user_cmd->parsed()) return otpd::tools::RunUserCommand(cli->user_cmd, cli->user);
    if (int rc = otpd::tools::RunMethodCommand(cli->method_cmds, cli->method); rc >= 0) return rc;
    if (int rc = otpd::tools::RunApiKeyCommand(cli->apikey_cmds, cli->apikey); rc >= 0) return rc;
    if (cli->backup_cmds.backup->parsed() || cli->backup_cmds.restore->parsed()) {
      return otpd::tools::RunBackupCommand(cli->backup_cmds, cli->backup);
    }
    if (cli->key_cmd->parsed()) return otpd::tools::RunKeysCommand(cli->key_cmd, cli->keys);
    if (cli->token_cmd->parsed() || cli->batch_cmd->parsed()) {
      return otpd::tools::RunTokenCommand(cli->token_cmd, cli->batch_cmd, cli->token);
    }
  } catch (const std::exception& e) {
    // Third-party code (Boost, the standard library) may throw; report and fail cleanly.
    std::cerr << "otpctl: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
