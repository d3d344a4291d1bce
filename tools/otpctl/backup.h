// `otpctl backup DEST` and `otpctl restore BACKUP`.
//
// backup: asks the admin API for a backup (POST /v1.0/admin/backup) into DEST: the running
// daemon's, on its machine, or with the daemon stopped the same API run in-process on the data
// directory (tools/otpctl/offline_admin.h), which checks the master key, then writes a consistent
// RocksDB checkpoint and a manifest (tools/backup_manifest.h) to DEST. DEST must not exist and
// appears only once complete (it is built as DEST.incomplete and renamed). Both ways print the
// same, and a successful backup prints only its result.
//
// restore: checks the manifest, then opens the backup read-only with the master key given and
// checks that it unwraps the backup's data keys and that the data key versions and the token
// count match the manifest, all before writing anything; then copies the backup to the new data
// directory (which must not exist, or be empty), again through a renamed temporary directory,
// and opens the copy read-only to confirm it. A backup is never written to.
//
// See docs/operations.md for the procedure.

#ifndef OTPD_TOOLS_OTPCTL_BACKUP_H_
#define OTPD_TOOLS_OTPCTL_BACKUP_H_

#include <CLI/CLI.hpp>

#include <string>

#include "tools/otpctl/admin.h"
#include "tools/otpctl/data_dir.h"

namespace otpd::tools {

struct BackupCommandOptions {
  DataDirFlags dir;
  AdminFlags admin;  // backup: through the running daemon when it runs (tools/otpctl/admin.h)
  std::string actor = "otpctl";  // backup offline: the name in the audit log
  std::string dest;              // backup: the backup directory to write
  std::string backup;            // restore: the backup directory to read
  bool json = false;
};

struct BackupCommands {
  CLI::App* backup;
  CLI::App* restore;
};

BackupCommands AddBackupCommands(CLI::App& app, BackupCommandOptions& options);
// Exit codes: 0 done, 1 refused or failed (the reason on stderr; nothing was written).
int RunBackupCommand(const BackupCommands& commands, const BackupCommandOptions& options);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_BACKUP_H_
