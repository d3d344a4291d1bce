// `otpctl export OUT.pskc`: writes tokens to a PSKC file encrypted with a pre-shared key or a
// password, for migration to another system. HOTP tokens carry their next counter and TOTP tokens
// their learnt drift, so codes already used stay used on the other side.

#ifndef OTPD_TOOLS_OTPCTL_EXPORT_H_
#define OTPD_TOOLS_OTPCTL_EXPORT_H_

#include <CLI/CLI.hpp>

#include <string>

#include "tools/otpctl/data_dir.h"

namespace otpd::tools {

struct ExportCommandOptions {
  std::string out;
  DataDirFlags dir;
  std::string psk_file;
  std::string password_file;
  std::string status;
  std::string user;
  std::string batch;
  uint32_t iterations = 100000;
  bool json = false;
};

CLI::App* AddExportCommand(CLI::App& app, ExportCommandOptions& options);
// Exit codes: 0 written, 1 refused or failed (the reason on stderr). The data directory is opened
// read-only, which works beside a running daemon: the file then holds the tokens and counters as
// they were when the command started.
int RunExportCommand(const ExportCommandOptions& options);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_EXPORT_H_
