// otpctl: the administrator's command line. Exit codes: 0 done, 1 refused or failed (with the
// reason on stderr), 2 usage.

#include <CLI/CLI.hpp>

#include <iostream>

#include "tools/otpctl_code.h"

int main(int argc, char** argv) {
  CLI::App app{"otpd administration"};
  app.require_subcommand(1);
  otpd::tools::CodeOptions code;
  otpd::tools::AddCodeCommand(app, code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (app.got_subcommand("code")) return otpd::tools::RunCodeCommand(code);
  return 2;
}
