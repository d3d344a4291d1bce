#include "tools/otpctl/backup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "base/clock.h"
#include "tools/backup.h"
#include "tools/backup_manifest.h"
#include "tools/display.h"
#include "tools/otpctl/online.h"

namespace otpd::tools {
namespace {

namespace fs = std::filesystem;

int Fail(std::string_view what, const base::Status& s) {
  std::cerr << "otpctl " << what << ": " << s.message() << "\n";
  return 1;
}

std::string Versions(const std::vector<uint32_t>& versions) {
  std::string out;
  for (uint32_t v : versions) out += (out.empty() ? "" : ",") + std::to_string(v);
  return out;
}

base::Status CopyFileSynced(const std::string& from, const std::string& to) {
  int in = open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return base::UnavailableError("cannot read " + from + ": " + std::strerror(errno));
  int out = open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) {
    close(in);
    return base::UnavailableError("cannot create " + to + ": " + std::strerror(errno));
  }
  char buf[1 << 16];
  bool ok = true;
  while (ok) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = n == 0;
      break;
    }
    for (ssize_t done = 0; ok && done < n;) {
      ssize_t w = write(out, buf + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      ok = w > 0;
      done += w > 0 ? w : 0;
    }
  }
  ok = ok && fsync(out) == 0;
  close(in);
  close(out);
  if (!ok) return base::UnavailableError("cannot copy " + from + " to " + to);
  return base::OkStatus();
}

// Every file of the checkpoint in `backup` but the manifest, copied into the new directory `to`.
base::Status CopyCheckpoint(const std::string& backup, const std::string& to) {
  std::error_code ec;
  if (!fs::create_directory(to, ec) || ec) {
    return base::UnavailableError("cannot create " + to + ": " + ec.message());
  }
  chmod(to.c_str(), 0700);
  for (const fs::directory_entry& e : fs::directory_iterator(backup, ec)) {
    const std::string name = e.path().filename().string();
    if (name == kManifestFile) continue;
    if (!e.is_regular_file()) {
      return base::FailedPreconditionError(backup + " holds " + name +
                                           ", which is not a regular file: not a checkpoint");
    }
    OTPD_RETURN_IF_ERROR(CopyFileSynced(e.path().string(), to + "/" + name));
  }
  if (ec) return base::UnavailableError("cannot list " + backup + ": " + ec.message());
  return SyncDirectory(to);
}

// The backup through the admin API (POST /v1.0/admin/backup): the running daemon's, which writes
// DEST on its own machine, or with the daemon stopped the same API run in-process on the data
// directory. DEST is made absolute here; both ways print the same.
int Backup(const BackupCommandOptions& o) {
  if (int rc = CheckAdminFlags(o.admin, o.dir, "backup"); rc != 0) return rc;
  std::error_code ec;
  const std::string dest = fs::absolute(o.dest, ec).lexically_normal().string();
  if (ec) return Fail("backup", base::InvalidArgumentError("DEST: " + ec.message()));
  auto admin = OpenAdmin(o.admin, o.dir, o.actor, /*read_only=*/false);
  if (!admin.ok()) return Fail("backup", admin.status());
  auto written = (*admin)->Post("/v1.0/admin/backup", boost::json::object{{"path", dest}});
  if (!written.ok()) return Fail("backup", written.status());
  if (o.json) {
    std::cout << boost::json::serialize(*written) << "\n";
    return 0;
  }
  boost::json::value manifest = written->is_object() && written->as_object().contains("manifest")
                                    ? written->as_object().at("manifest")
                                    : boost::json::value();
  boost::json::value key = manifest.is_object() && manifest.as_object().contains("master_key")
                               ? manifest.as_object().at("master_key")
                               : boost::json::value();
  std::cout << "backup written to " << PrintablePath(dest) << ": " << Text(manifest, "tokens")
            << " tokens, data keys " << Text(manifest, "data_key_versions") << ", taken "
            << Text(manifest, "created") << "\n"
            << "It opens only with the master key of " << PrintablePath(Text(key, "source"))
            << " (key id " << Text(key, "key_id")
            << "): keep a copy of that key apart from the backup. Restore with: otpctl restore "
            << PrintablePath(dest) << " --data-dir NEW --key-file KEY\n";
  return 0;
}

int Restore(const BackupCommandOptions& o) {
  const std::string& target = o.dir.data_dir;
  auto manifest = ReadManifest(o.backup);
  if (!manifest.ok()) return Fail("restore", manifest.status());
  const BackupManifest& m = *manifest;
  if (PathExists(o.backup + "/" + kEtcdSnapshotFile)) {
    return Fail("restore", base::FailedPreconditionError(
                               o.backup + " is a backup of an etcd store (" + m.source +
                               "): put it back into a cluster with etcdctl snapshot restore " +
                               o.backup + "/" + kEtcdSnapshotFile + " (docs/scale-out.md)"));
  }
  if (m.schema_version > storage::RocksDbSchemaVersion()) {
    return Fail("restore", base::FailedPreconditionError(
                               "the backup has schema version " + std::to_string(m.schema_version) +
                               ", newer than this otpd supports (" +
                               std::to_string(storage::RocksDbSchemaVersion()) + ")"));
  }
  std::error_code ec;
  if (PathExists(target) && !(fs::is_directory(target, ec) && fs::is_empty(target, ec))) {
    return Fail("restore",
                base::AlreadyExistsError(target + " exists and is not an empty directory; restore "
                                                  "into a new directory (nothing was written)"));
  }
  const std::string tmp = target + ".incomplete";
  if (PathExists(tmp)) {
    return Fail("restore", base::AlreadyExistsError(
                               tmp + " exists (left by an interrupted restore?): remove it first"));
  }
  if (!o.dir.key_file.empty() && !o.dir.insecure_key_in_data_dir &&
      IsInsideDirectory(o.dir.key_file, target)) {
    return Fail("restore", base::FailedPreconditionError("key file " + o.dir.key_file +
                                                         " is inside the data directory " + target +
                                                         ": keep the key elsewhere, or pass "
                                                         "--insecure-key-in-data-dir"));
  }

  // The key and the backup's contents, checked before anything is written.
  DataDirOptions read;
  read.data_dir = o.backup;
  read.key_file = o.dir.key_file;
  read.access = DataDirAccess::kReadOnly;
  read.allow_key_in_data_dir = o.dir.insecure_key_in_data_dir;
  auto backup = OpenDataDir(read);
  if (!backup.ok()) {
    base::Status s = backup.status();
    if (s.message().find("master key does not match") != std::string::npos) {
      s = base::FailedPreconditionError(std::string(s.message()) +
                                        ". The backup was taken with the master key of " +
                                        m.key_source + " (key id " + m.key_id + ")");
    }
    return Fail("restore", s);
  }
  auto tokens = CountTokens(*backup->store);
  if (!tokens.ok()) return Fail("restore", tokens.status());
  if (backup->keys->versions() != m.data_key_versions || *tokens != m.tokens) {
    return Fail(
        "restore",
        base::DataLossError("the backup does not match its manifest (data keys " +
                            Versions(backup->keys->versions()) + ", " + std::to_string(*tokens) +
                            " tokens; the manifest says " + Versions(m.data_key_versions) + ", " +
                            std::to_string(m.tokens) + "): it was changed after it was taken"));
  }
  backup->keys.reset();
  backup->store.reset();

  fs::create_directories(ParentDirectory(target), ec);
  base::Status s = CopyCheckpoint(o.backup, tmp);
  if (s.ok()) s = PublishDirectory(tmp, target);
  if (!s.ok()) {
    fs::remove_all(tmp, ec);
    return Fail("restore", s);
  }
  // The copy opens with the same key and holds the same tokens.
  DataDirOptions check = read;
  check.data_dir = target;
  auto restored = OpenDataDir(check);
  if (!restored.ok()) return Fail("restore", restored.status().WithContext("checking the copy"));
  auto restored_tokens = CountTokens(*restored->store);
  if (!restored_tokens.ok() || *restored_tokens != m.tokens) {
    return Fail("restore", base::DataLossError("the restored copy in " + target +
                                               " does not hold the backup's tokens"));
  }
  if (o.json) {
    boost::json::object out;
    out["data_dir"] = fs::absolute(target).string();
    out["tokens"] = m.tokens;
    out["key_source"] = restored->key_source;
    out["manifest"] = boost::json::parse(ManifestJson(m));
    std::cout << boost::json::serialize(out) << "\n";
    return 0;
  }
  std::cout << "restored the backup taken " << IsoTime(m.created) << " of "
            << PrintablePath(m.source) << " to " << PrintablePath(target) << ": " << m.tokens
            << " tokens, data keys " << Versions(m.data_key_versions) << "\n"
            << "Start otpd with --data-dir " << PrintablePath(target) << " and the master key of "
            << PrintablePath(restored->key_source)
            << ". Codes accepted after the backup was taken may be accepted once more "
               "(docs/operations.md).\n";
  return 0;
}

}  // namespace

BackupCommands AddBackupCommands(CLI::App& app, BackupCommandOptions& o) {
  CLI::App* backup = app.add_subcommand(
      "backup", "Write a consistent checkpoint of a data directory, with a manifest");
  backup->add_option("DEST", o.dest, "Backup directory to create (must not exist)")->required();
  AddDataDirFlags(backup, o.dir);
  AddAdminFlags(backup, o.admin);
  backup->add_option("--actor", o.actor,
                     "Offline: the name recorded in the audit log (default otpctl); online the "
                     "daemon records the caller");
  backup->add_flag("--json", o.json, "Print the result and the manifest as JSON");

  CLI::App* restore = app.add_subcommand(
      "restore", "Check a backup and its master key, then copy it to a new data directory");
  restore->add_option("BACKUP", o.backup, "Backup directory written by otpctl backup")->required();
  AddDataDirFlags(restore, o.dir);
  restore->get_option("--data-dir")
      ->description(
          "The new data directory to create (must not exist, or be empty); required "
          "unless " +
          std::string(kDataDirEnvVar) + " is set");
  restore->add_flag("--json", o.json, "Print the result and the manifest as JSON");
  return {backup, restore};
}

int RunBackupCommand(const BackupCommands& c, const BackupCommandOptions& o) {
  if (c.backup->parsed()) return Backup(o);
  return Restore(o);
}

}  // namespace otpd::tools
