// `otpctl backup DEST` (an online-consistent checkpoint of a data directory) and `otpctl key ...`
// (master key rotation, data key rotation with re-sealing of every seed). See
// docs/operations.md for the procedures.

#ifndef OTPD_TOOLS_OTPCTL_KEYS_H_
#define OTPD_TOOLS_OTPCTL_KEYS_H_

#include <CLI/CLI.hpp>

#include <string>

namespace otpd::tools {

struct KeysCommandOptions {
  std::string data_dir = "data";
  std::string key_file;
  std::string dest;
  std::string new_key_file;
  size_t batch_size = 500;
};

struct KeysCommands {
  CLI::App* backup;
  CLI::App* key;
};

KeysCommands AddKeysCommands(CLI::App& app, KeysCommandOptions& options);
int RunKeysCommand(const KeysCommands& commands, const KeysCommandOptions& options);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_KEYS_H_
