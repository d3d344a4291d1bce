#include "tools/backup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/clock.h"

namespace otpd::tools {

namespace fs = std::filesystem;

bool PathExists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

base::Status SyncDirectory(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return base::UnavailableError("cannot open " + dir + ": " + std::strerror(errno));
  const int rc = fsync(fd);
  close(fd);
  if (rc != 0) return base::UnavailableError("cannot fsync " + dir + ": " + std::strerror(errno));
  return base::OkStatus();
}

std::string ParentDirectory(const std::string& path) {
  fs::path parent = fs::absolute(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

// Renames the finished `tmp` to `dest` and makes the rename durable.
base::Status PublishDirectory(const std::string& tmp, const std::string& dest) {
  if (rename(tmp.c_str(), dest.c_str()) != 0) {
    return base::UnavailableError("cannot rename " + tmp + " to " + dest + ": " +
                                  std::strerror(errno));
  }
  return SyncDirectory(ParentDirectory(dest));
}

base::StatusOr<uint64_t> CountTokens(const storage::Store& store) {
  uint64_t tokens = 0;
  OTPD_RETURN_IF_ERROR(
      store.Scan(storage::Namespace::kTokens, "", [&](std::string_view, const storage::Record&) {
        ++tokens;
        return true;
      }));
  return tokens;
}

BackupSource DataDirSource(const DataDir& dir, const std::string& data_dir) {
  return BackupSource{.store = dir.store.get(),
                      .keys = dir.keys.get(),
                      .key_source = dir.key_source,
                      .key_file = dir.key_file,
                      .key_id = dir.key_id,
                      .source = fs::absolute(data_dir).lexically_normal().string(),
                      .schema_version = storage::RocksDbSchemaVersion()};
}

base::StatusOr<BackupManifest> WriteBackup(const DataDir& dir, const std::string& data_dir,
                                           const std::string& dest) {
  return WriteBackup(DataDirSource(dir, data_dir), dest);
}

base::Status WriteBackupDirectory(const std::string& dest,
                                  const std::function<base::Status(const std::string&)>& fill) {
  if (PathExists(dest))
    return base::AlreadyExistsError(dest + " exists; a backup never overwrites");
  const std::string tmp = dest + ".incomplete";
  if (PathExists(tmp)) {
    return base::AlreadyExistsError(tmp +
                                    " exists (left by an interrupted backup?): remove it first");
  }
  std::error_code ec;
  fs::create_directories(ParentDirectory(dest), ec);
  base::Status s = fill(tmp);
  if (s.ok()) s = PublishDirectory(tmp, dest);
  if (!s.ok()) fs::remove_all(tmp, ec);  // never leave half a backup behind
  return s;
}

base::StatusOr<BackupManifest> WriteBackup(const BackupSource& dir, const std::string& dest) {
  BackupManifest m;
  m.created = base::RealClock::Get()->NowUnixSeconds();
  m.source = dir.source;
  m.schema_version = dir.schema_version;
  m.data_key_versions = dir.keys->versions();
  m.current_data_key = dir.keys->current_version();
  m.key_source = dir.key_source;
  m.key_file = dir.key_file;
  m.key_id = dir.key_id;
  OTPD_ASSIGN_OR_RETURN(m.tokens, CountTokens(*dir.store));
  OTPD_RETURN_IF_ERROR(WriteBackupDirectory(dest, [&](const std::string& tmp) {
    OTPD_RETURN_IF_ERROR(dir.store->Backup(tmp));
    return WriteManifest(tmp, m);
  }));
  return m;
}

}  // namespace otpd::tools
