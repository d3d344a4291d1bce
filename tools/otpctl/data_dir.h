// The options every otpctl command that opens a data directory shares: --data-dir (default
// $OTPD_DATA_DIR, else required), --key-file (default $OTPD_KEY_FILE) and
// --insecure-key-in-data-dir. See tools/data_dir.h for what opening checks.

#ifndef OTPD_TOOLS_OTPCTL_DATA_DIR_H_
#define OTPD_TOOLS_OTPCTL_DATA_DIR_H_

#include <CLI/CLI.hpp>

#include <string>

#include "tools/data_dir.h"

namespace otpd::tools {

struct DataDirFlags {
  std::string data_dir;
  std::string key_file;
  bool insecure_key_in_data_dir = false;
};

// Adds the three options to `cmd`; --data-dir's help says that the daemon must be stopped, unless
// `read_only` (the command opens the directory read-only, which works beside the daemon).
void AddDataDirFlags(CLI::App* cmd, DataDirFlags& flags, bool read_only = false);

// OpenDataDir with `flags` and `access`.
base::StatusOr<DataDir> OpenDataDir(const DataDirFlags& flags, DataDirAccess access);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_DATA_DIR_H_
