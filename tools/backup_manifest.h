// The manifest `otpctl backup` writes next to its checkpoint (DIR/otpd-backup.json) and
// `otpctl restore` checks: when the backup was taken, of which data directory, at which schema
// version, the data key versions it holds, and where its master key must come from (the key's
// source and a fingerprint of it, never the key).

#ifndef OTPD_TOOLS_BACKUP_MANIFEST_H_
#define OTPD_TOOLS_BACKUP_MANIFEST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/statusor.h"
#include "storage/etcd/etcd_store.h"

namespace otpd::tools {

inline constexpr char kManifestFile[] = "otpd-backup.json";
// What a backup of an etcd store holds beside its manifest (storage::EtcdStore::Backup): the
// cluster's snapshot and the list of the installation's keys.
using storage::kEtcdKeysFile;
using storage::kEtcdSnapshotFile;
inline constexpr int kManifestVersion = 1;

struct BackupManifest {
  int64_t created = 0;  // Unix seconds
  // The data directory's absolute path; for a backup of an etcd store, "etcd=ENDPOINTS
  // prefix=PREFIX" (and schema_version is 0).
  std::string source;
  uint32_t schema_version = 0;
  std::vector<uint32_t> data_key_versions;
  uint32_t current_data_key = 0;
  std::string key_source;  // "key file /etc/otpd/master.key" or "environment variable ..."
  std::string key_file;    // absolute path; empty when the key came from the environment
  std::string key_id;      // DataDir::key_id
  uint64_t tokens = 0;
};

// The manifest as JSON text (one object, times also as ISO 8601 UTC).
std::string ManifestJson(const BackupManifest& manifest);

// Writes DIR/otpd-backup.json and fsyncs it.
base::Status WriteManifest(const std::string& dir, const BackupManifest& manifest);

// Reads DIR/otpd-backup.json. NotFound when it is missing (not a backup made by otpctl backup);
// DataLoss when it cannot be parsed or lacks a field; FailedPrecondition for a manifest version
// this build does not know.
base::StatusOr<BackupManifest> ReadManifest(const std::string& dir);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_BACKUP_MANIFEST_H_
