#include "tools/otpctl/data_dir.h"

namespace otpd::tools {

void AddDataDirFlags(CLI::App* cmd, DataDirFlags& flags, bool read_only) {
  // CLI11 reads the environment and runs option callbacks for every command, also the ones not
  // run. Where two commands share one DataDirFlags (token and batch, backup and restore), the
  // sibling's $OTPD_DATA_DIR would overwrite the directory named on the command line: only the
  // command being run stores its values.
  const auto if_run = [cmd](std::string& into) {
    return [cmd, &into](const std::string& value) {
      if (cmd->parsed()) into = value;
    };
  };
  cmd->add_option_function<std::string>(
         "--data-dir", if_run(flags.data_dir),
         "The otpd data directory (created by otpctl init); required unless " +
             std::string(kDataDirEnvVar) + " is set. " +
             (read_only ? "Opened read-only: the daemon may be running."
                        : "The daemon must be stopped."))
      ->envname(kDataDirEnvVar)
      ->required();
  cmd->add_option_function<std::string>(
         "--key-file", if_run(flags.key_file),
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
