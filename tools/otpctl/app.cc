#include "tools/otpctl/app.h"

#include <string>

#ifndef OTPD_VERSION
#define OTPD_VERSION "0"
#endif

namespace otpd::tools {

std::unique_ptr<OtpctlApp> BuildOtpctlApp() {
  auto cli = std::make_unique<OtpctlApp>();
  CLI::App& app = cli->app;
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
  cli->init_cmd = AddInitCommand(app, cli->init);
  cli->code_cmd = AddCodeCommand(app, cli->code);
  cli->import_cmd = AddImportCommand(app, cli->import);
  std::tie(cli->token_cmd, cli->batch_cmd) = AddTokenCommands(app, cli->token);
  cli->user_cmd = AddUserCommands(app, cli->user);
  cli->action_cmds = AddActionCommands(app, cli->user_cmd, cli->actions);
  cli->method_cmds = AddMethodCommands(app, cli->method);
  cli->apikey_cmds = AddApiKeyCommands(app, cli->apikey);
  cli->verify_cmd = AddVerifyCommand(app, cli->verify);
  cli->seed_cmd = AddSeedCommand(app, cli->seed);
  cli->export_cmd = AddExportCommand(app, cli->export_options);
  cli->backup_cmds = AddBackupCommands(app, cli->backup);
  cli->key_cmd = AddKeysCommands(app, cli->keys);
  return cli;
}

}  // namespace otpd::tools
