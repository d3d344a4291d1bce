#include "tools/otpctl_data_dir.h"

namespace otpd::tools {

void AddDataDirFlags(CLI::App* cmd, DataDirFlags& flags) {
  cmd->add_option("--data-dir", flags.data_dir,
                  "The otpd data directory (created by otpctl init); required unless " +
                      std::string(kDataDirEnvVar) + " is set. The daemon must be stopped.")
      ->envname(kDataDirEnvVar)
      ->required();
  cmd->add_option("--key-file", flags.key_file,
                  "The master key file (mode 0600, outside the data directory); default $" +
                      std::string(kKeyFileEnvVar) + ". $" + storage::kMasterKeyEnvVar +
                      " (hex or base64), when set, is used instead.")
      ->envname(kKeyFileEnvVar);
  cmd->add_flag("--insecure-key-in-data-dir", flags.insecure_key_in_data_dir,
                "Accept a key file inside the data directory (a copy of the directory then "
                "carries the key that opens it)");
}

base::StatusOr<DataDir> OpenDataDir(const DataDirFlags& flags, DataDirAccess access) {
  DataDirOptions options;
  options.data_dir = flags.data_dir;
  options.key_file = flags.key_file;
  options.access = access;
  options.allow_key_in_data_dir = flags.insecure_key_in_data_dir;
  return OpenDataDir(options);
}

}  // namespace otpd::tools
