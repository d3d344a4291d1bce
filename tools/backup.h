// Writing a backup of an open data directory: a consistent RocksDB checkpoint and a manifest
// (tools/backup_manifest.h), published under DEST only once complete (it is built as
// DEST.incomplete and renamed). Shared by `otpctl backup` (on a stopped daemon's directory) and
// the running daemon's online backup (POST /v1.0/admin/backup).

#ifndef OTPD_TOOLS_BACKUP_H_
#define OTPD_TOOLS_BACKUP_H_

#include <functional>
#include <string>

#include "base/statusor.h"
#include "tools/backup_manifest.h"
#include "tools/data_dir.h"

namespace otpd::tools {

// True when something (a file, a directory, a dangling link) is at `path`.
bool PathExists(const std::string& path);
// fsyncs the directory `dir` (so that entries created or renamed in it are durable).
base::Status SyncDirectory(const std::string& dir);
// The absolute parent directory of `path`.
std::string ParentDirectory(const std::string& path);
// Renames the finished `tmp` to `dest` and makes the rename durable.
base::Status PublishDirectory(const std::string& tmp, const std::string& dest);
// Makes the backup directory `dest`, which must not exist: `fill` writes everything into the
// directory named by its argument (DEST.incomplete, which it creates), which is then renamed to
// `dest`. AlreadyExists when `dest` (or a leftover DEST.incomplete) does; nothing is left behind
// on failure.
base::Status WriteBackupDirectory(const std::string& dest,
                                  const std::function<base::Status(const std::string&)>& fill);
// The number of token records in `store`.
base::StatusOr<uint64_t> CountTokens(const storage::Store& store);

// What a backup is made from: an open store (its own files: storage::Store::Backup), its key
// ring, where the master key came from (DataDir's fields of the same names), and what the
// manifest names as the source and its schema version (BackupManifest).
struct BackupSource {
  const storage::Store* store = nullptr;
  const storage::KeyRing* keys = nullptr;
  std::string key_source, key_file, key_id;
  std::string source;
  uint32_t schema_version = 0;
};

// Backs up `source` to `dest`, which must not exist. AlreadyExists when it (or a leftover
// DEST.incomplete) does; nothing is left behind on failure. The manifest's data key versions are
// the key ring's at the time of the backup.
base::StatusOr<BackupManifest> WriteBackup(const BackupSource& source, const std::string& dest);
// The data directory `data_dir`, opened as `dir`, as a backup's source.
BackupSource DataDirSource(const DataDir& dir, const std::string& data_dir);
// A backup of the data directory `data_dir`, opened as `dir`.
base::StatusOr<BackupManifest> WriteBackup(const DataDir& dir, const std::string& data_dir,
                                           const std::string& dest);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_BACKUP_H_
