#include "tools/otpctl_app.h"

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
      "creates both. See docs/operations.md.");
  cli->init_cmd = AddInitCommand(app, cli->init);
  cli->code_cmd = AddCodeCommand(app, cli->code);
  cli->import_cmd = AddImportCommand(app, cli->import);
  std::tie(cli->token_cmd, cli->batch_cmd) = AddTokenCommands(app, cli->token);
  cli->user_cmd = AddUserCommands(app, cli->user);
  cli->verify_cmd = AddVerifyCommand(app, cli->verify);
  cli->seed_cmd = AddSeedCommand(app, cli->seed);
  cli->export_cmd = AddExportCommand(app, cli->export_options);
  cli->backup_cmds = AddBackupCommands(app, cli->backup);
  cli->key_cmd = AddKeysCommands(app, cli->keys);
  return cli;
}

}  // namespace otpd::tools
