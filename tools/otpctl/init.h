// `otpctl init`: creates a new data directory (an empty otpd database and its first data key)
// and, when --key-file names a file that does not exist yet, the master key file (32 random
// bytes, mode 0600). The only command besides the daemon's first start that creates either.
// Refuses a directory that already holds a database, a non-empty directory, and a key file
// inside the data directory (unless --insecure-key-in-data-dir); then nothing is created.

#ifndef OTPD_TOOLS_OTPCTL_INIT_H_
#define OTPD_TOOLS_OTPCTL_INIT_H_

#include <CLI/CLI.hpp>

#include "tools/otpctl/data_dir.h"

namespace otpd::tools {

struct InitCommandOptions {
  DataDirFlags dir;
  bool json = false;
};

CLI::App* AddInitCommand(CLI::App& app, InitCommandOptions& options);
// Exit codes: 0 created, 1 refused (the reason on stderr).
int RunInitCommand(const InitCommandOptions& options);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_INIT_H_
