#include "tools/open_store.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
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

// DaemonStore::backup: the store's own files (storage::Store::Backup) and the manifest.
std::function<base::StatusOr<BackupManifest>(const std::string&)> WriterOf(BackupSource source) {
  return
      [source = std::move(source)](const std::string& dest) { return WriteBackup(source, dest); };
}

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
  opened.backup = WriterOf(DataDirSource(dir, config.data_dir));
  opened.store = std::move(dir.store);
  opened.keys = std::move(dir.keys);
  opened.description = "data_dir=" + config.data_dir;
  return opened;
}

#ifdef OTPD_HAVE_ETCD
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
  options.groups_in_flight = config.etcd_commits_in_flight;
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
  const bool from_env = [] {
    const char* v = std::getenv(storage::kMasterKeyEnvVar);
    return v != nullptr && *v != '\0';
  }();
  BackupSource source{.store = store.get(), .keys = keys->get(), .key_id = key_id};
  source.source = opened.description;
  source.key_file = from_env ? "" : std::filesystem::absolute(config.key_file).string();
  source.key_source = from_env ? std::string("environment variable ") + storage::kMasterKeyEnvVar
                               : "key file " + source.key_file;
  opened.backup = WriterOf(std::move(source));
  opened.store = std::move(store);
  opened.keys = std::move(*keys);
  return opened;
}
#endif

#ifndef OTPD_HAVE_ETCD
base::StatusOr<DaemonStore> OpenEtcd(const server::ServerConfig&) {
  return base::UnimplementedError(
      "store = \"etcd\": this otpd was built without the etcd store (gRPC and protobuf were "
      "missing when it was built)");
}
#endif

// The store kinds otpd knows, each with how it is opened; server/config.h names them.
struct StoreOpener {
  server::StoreKind kind;
  base::StatusOr<DaemonStore> (*open)(const server::ServerConfig& config);
};
constexpr StoreOpener kStoreOpeners[] = {
    {server::StoreKind::kRocksDb, OpenRocksDb},
    {server::StoreKind::kEtcd, OpenEtcd},
};

}  // namespace

bool HaveEtcdStore() {
#ifdef OTPD_HAVE_ETCD
  return true;
#else
  return false;
#endif
}

base::StatusOr<DaemonStore> OpenDaemonStore(const server::ServerConfig& config) {
  for (const StoreOpener& opener : kStoreOpeners) {
    if (opener.kind == config.store) return opener.open(config);
  }
  return base::InvalidArgumentError("store (--store): kind " +
                                    std::to_string(static_cast<int>(config.store)) +
                                    " is not one this otpd can open (rocksdb, etcd)");
}

base::Status DaemonStore::WatchForChanges(service::CacheInvalidator* invalidator,
                                          std::function<void(std::string_view)> on_lost) {
  // A user's fence moves with every change to the user, its methods or tokens; a token's owner
  // is cached apart from the users (serial -> upn).
  auto users = store->WatchNamespace(
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
           }});
  // This process is the store's only writer: nothing to watch.
  if (base::IsUnimplemented(users.status())) return base::OkStatus();
  if (!users.ok()) return users.status();
  OTPD_ASSIGN_OR_RETURN(auto tokens,
                        store->WatchNamespace(storage::Namespace::kTokens,
                                              {.changed =
                                                   [invalidator](std::string_view serial) {
                                                     invalidator->InvalidateSerial(serial);
                                                   },
                                               .lost = nullptr}));
  watches.push_back(std::move(*users));
  watches.push_back(std::move(tokens));
  return base::OkStatus();
}

}  // namespace otpd::tools
