// `otpctl import FILE`: loads a vendor's token file (Entra CSV, OATH CSV, PSKC) into a stopped
// server's data directory. Prints a summary; --failures writes one CSV row per rejected token
// (position, serial, reason; never a seed).

#ifndef OTPD_TOOLS_OTPCTL_IMPORT_H_
#define OTPD_TOOLS_OTPCTL_IMPORT_H_

#include <CLI/CLI.hpp>

#include <string>

namespace otpd::tools {

struct ImportCommandOptions {
  std::string file;
  std::string data_dir = "data";
  std::string key_file;
  std::string format;  // empty: detect
  bool dry_run = false;
  bool replace = false;
  bool allow_duplicate_seeds = false;
  std::string failures_file;
  std::string psk_file;
  std::string password_file;
};

CLI::App* AddImportCommand(CLI::App& app, ImportCommandOptions& options);
int RunImportCommand(const ImportCommandOptions& options);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_IMPORT_H_
