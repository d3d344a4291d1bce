// `otpctl key ...`: master key rotation, data key rotation with re-sealing of every seed. See
// docs/operations.md for the procedures.

#ifndef OTPD_TOOLS_OTPCTL_KEYS_H_
#define OTPD_TOOLS_OTPCTL_KEYS_H_

#include <CLI/CLI.hpp>

#include <string>

#include "tools/otpctl/data_dir.h"

namespace otpd::tools {

struct KeysCommandOptions {
  DataDirFlags dir;
  std::string new_key_file;
  size_t batch_size = 500;
};

// Adds `key` with rotate-master, rotate-data and reseal; returns `key`.
CLI::App* AddKeysCommands(CLI::App& app, KeysCommandOptions& options);
// Exit codes: 0 done, 1 refused or failed (the reason on stderr).
int RunKeysCommand(CLI::App* key, const KeysCommandOptions& options);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_KEYS_H_
