#include "tools/open_store.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

#include "base/clock.h"
#include "service/model/record_upgrade.h"
#include "tools/data_dir.h"
#ifdef OTPD_HAVE_ETCD
#include "storage/etcd/etcd_store.h"
#endif

namespace otpd::tools {
namespace {

base::StatusOr<DaemonStore> OpenRocksDb(const server::ServerConfig& config) {
  // Only --init makes a new database: without it a mistyped data_dir is refused instead of
  // becoming an empty database on which every sign-in answers unknown_user.
  OTPD_ASSIGN_OR_RETURN(
      DataDir dir,
      OpenDataDir(DataDirOptions{.data_dir = config.data_dir,
                                 .key_file = config.key_file,
                                 .access = config.create_data_dir ? DataDirAccess::kOpenOrCreate
                                                                  : DataDirAccess::kReadWrite,
                                 .allow_key_in_data_dir = config.insecure_key_in_data_dir}));
  if (dir.created) {
    spdlog::info("created the data directory {} (--init){}", config.data_dir,
                 dir.created_key_file ? " and its master key file " + dir.key_file : "");
  }
  DaemonStore opened;
  opened.backup = [source = BackupSource{.store = dir.store.get(),
                                         .keys = dir.keys.get(),
                                         .key_source = dir.key_source,
                                         .key_file = dir.key_file,
                                         .key_id = dir.key_id},
                   data_dir = config.data_dir](const std::string& dest) {
    return WriteBackup(source, data_dir, dest);
  };
  opened.store = std::move(dir.store);
  opened.keys = std::move(dir.keys);
  opened.description = "data_dir=" + config.data_dir;
  return opened;
}

#ifdef OTPD_HAVE_ETCD
// An online backup of an etcd store into `dest` (DaemonStore::backup); `manifest` is filled but
// for the time and the token count.
base::StatusOr<BackupManifest> WriteEtcdBackup(const storage::EtcdStore& store,
                                               BackupManifest manifest, const std::string& dest) {
  manifest.created = base::RealClock::Get()->NowUnixSeconds();
  OTPD_ASSIGN_OR_RETURN(manifest.tokens, CountTokens(store));
  OTPD_RETURN_IF_ERROR(WriteBackupDirectory(dest, [&](const std::string& tmp) {
    if (mkdir(tmp.c_str(), 0700) != 0) {
      return base::UnavailableError("cannot create " + tmp + ": " + std::strerror(errno));
    }
    OTPD_RETURN_IF_ERROR(store.Backup(tmp + "/" + kEtcdSnapshotFile, tmp + "/" + kEtcdKeysFile));
    return WriteManifest(tmp, manifest);
  }));
  return manifest;
}

base::StatusOr<DaemonStore> OpenEtcd(const server::ServerConfig& config) {
  storage::MasterKeyOptions key_options;
  key_options.key_file = config.key_file;
  key_options.create_key_file = false;
  auto master = storage::LoadMasterKey(key_options);
  if (!master.ok()) {
    if (base::IsNotFound(master.status())) {
      return base::NotFoundError(
          std::string(master.status().message()) +
          ": with store = \"etcd\" every node needs the same master key, made once (e.g. "
          "openssl rand -hex 32 >FILE; chmod 600 FILE) and given with key_file or " +
          storage::kMasterKeyEnvVar);
    }
    return master.status();
  }
  const std::string key_id = MasterKeyId(*master);
  storage::EtcdOptions options;
  options.connection.endpoints = config.etcd_endpoints;
  options.connection.ca_file = config.etcd_ca_file;
  options.connection.cert_file = config.etcd_cert_file;
  options.connection.key_file = config.etcd_key_file;
  options.connection.user = config.etcd_user;
  options.connection.timeout = std::chrono::milliseconds(config.etcd_timeout_ms);
  if (!config.etcd_password_file.empty()) {
    OTPD_ASSIGN_OR_RETURN(options.connection.password, ReadPasswordFile(config.etcd_password_file));
  }
  options.prefix = config.etcd_prefix;
  options.max_txn_ops = config.etcd_max_txn_ops;
  if (!config.data_dir.empty()) {
    // Only the Unix socket lives there with etcd.
    std::error_code ec;
    std::filesystem::create_directories(config.data_dir, ec);
    if (ec) return base::UnavailableError("cannot create " + config.data_dir + ": " + ec.message());
  }
  OTPD_ASSIGN_OR_RETURN(std::unique_ptr<storage::EtcdStore> store,
                        storage::EtcdStore::Open(options));
  auto keys = storage::KeyRing::Open(*store, std::move(*master));
  if (!keys.ok()) {
    return base::Status(keys.status().code(),
                        "etcd prefix " + config.etcd_prefix + ": " +
                            std::string(keys.status().message()) + "; the key used: " +
                            (config.key_file.empty() ? std::string(storage::kMasterKeyEnvVar)
                                                     : "key file " + config.key_file));
  }
  OTPD_RETURN_IF_ERROR(service::UpgradeRecords(*store, **keys));
  DaemonStore opened;
  opened.description = "etcd=";
  for (size_t i = 0; i < config.etcd_endpoints.size(); ++i) {
    opened.description += (i ? "," : "") + config.etcd_endpoints[i];
  }
  opened.description += " prefix=" + store->prefix();
  BackupManifest manifest;
  manifest.source = opened.description;
  manifest.data_key_versions = (*keys)->versions();
  manifest.current_data_key = (*keys)->current_version();
  const bool from_env = [] {
    const char* v = std::getenv(storage::kMasterKeyEnvVar);
    return v != nullptr && *v != '\0';
  }();
  manifest.key_file = from_env ? "" : std::filesystem::absolute(config.key_file).string();
  manifest.key_source = from_env ? std::string("environment variable ") + storage::kMasterKeyEnvVar
                                 : "key file " + manifest.key_file;
  manifest.key_id = key_id;
  opened.backup = [etcd = store.get(), manifest](const std::string& dest) {
    return WriteEtcdBackup(*etcd, manifest, dest);
  };
  opened.store = std::move(store);
  opened.keys = std::move(*keys);
  return opened;
}
#endif

}  // namespace

bool HaveEtcdStore() {
#ifdef OTPD_HAVE_ETCD
  return true;
#else
  return false;
#endif
}

base::StatusOr<DaemonStore> OpenDaemonStore(const server::ServerConfig& config) {
  if (config.store == server::StoreKind::kRocksDb) return OpenRocksDb(config);
#ifdef OTPD_HAVE_ETCD
  return OpenEtcd(config);
#else
  return base::UnimplementedError(
      "store = \"etcd\": this otpd was built without the etcd store (gRPC and protobuf were "
      "missing when it was built)");
#endif
}

base::Status DaemonStore::WatchForChanges(service::CacheInvalidator* invalidator,
                                          std::function<void(std::string_view)> on_lost) {
  auto* watchable = dynamic_cast<storage::WatchableStore*>(store.get());
  if (watchable == nullptr) return base::OkStatus();  // this process is the only writer
  // A user's fence moves with every change to the user, its methods or tokens; a token's owner
  // is cached apart from the users (serial -> upn).
  OTPD_ASSIGN_OR_RETURN(
      auto users,
      watchable->WatchNamespace(
          storage::Namespace::kUsers,
          {.changed = [invalidator](std::string_view upn) { invalidator->InvalidateUser(upn); },
           .lost =
               [on_lost] {
                 if (on_lost) {
                   on_lost(
                       "changes to users may have been missed (etcd compacted its history "
                       "while the watch was cut off): cached users are used until their next "
                       "commit fails its fence");
                 }
               }}));
  OTPD_ASSIGN_OR_RETURN(auto tokens,
                        watchable->WatchNamespace(storage::Namespace::kTokens,
                                                  {.changed =
                                                       [invalidator](std::string_view serial) {
                                                         invalidator->InvalidateSerial(serial);
                                                       },
                                                   .lost = nullptr}));
  watches.push_back(std::move(users));
  watches.push_back(std::move(tokens));
  return base::OkStatus();
}

}  // namespace otpd::tools
