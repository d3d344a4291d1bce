// The daemon's store, as its configuration says: the RocksDB data directory (tools/data_dir.h)
// or an etcd cluster that several otpd nodes share (storage/etcd/, docs/scale-out.md), with the key
// ring that unseals its secrets. otpd calls OpenDaemonStore once at start. This is the one place
// that maps a configured store kind (server::StoreKind) to a backend: one opener per kind, in a
// table; a kind without one is refused.
//
// With etcd the master key comes from key_file (or OTPD_MASTER_KEY) exactly as with RocksDB, but
// is never created: every node must use the same key, so it is made once by the operator. The
// first node to start on an empty prefix creates the data key (the others load it), and records
// are brought up to date once, whoever gets there first.

#ifndef OTPD_TOOLS_OPEN_STORE_H_
#define OTPD_TOOLS_OPEN_STORE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/statusor.h"
#include "server/config.h"
#include "service/admin/inventory.h"
#include "storage/keyring.h"
#include "storage/pipelined_store.h"
#include "tools/backup.h"

namespace otpd::tools {

struct DaemonStore {
  std::unique_ptr<storage::PipelinedStore> store;
  std::unique_ptr<storage::KeyRing> keys;
  // What was opened, for the start-up log: "data_dir=/var/lib/otpd" or "etcd=a:2379,b:2379
  // prefix=/otpd/".
  std::string description;
  // Writes an online backup into the directory `dest`, which must not exist, and returns its
  // manifest (otpd-backup.json in it): tools/backup.h WriteBackup of this store, whose own files
  // come from storage::Store::Backup. RocksDB: a checkpoint of the data directory, which `otpctl
  // restore` puts back. etcd: the cluster's snapshot (etcd-snapshot.db, what `etcdctl snapshot
  // save` writes; `etcdctl snapshot restore` puts it back) and the list of this installation's
  // keys with their versions (etcd-keys.tsv). Either way the directory appears only once complete.
  std::function<base::StatusOr<BackupManifest>(const std::string& dest)> backup;
  // Declared after `store`: stopped before it closes.
  std::vector<std::unique_ptr<storage::StoreWatch>> watches;

  // When other nodes write the same store (etcd): tells `invalidator` about every user and token
  // that changes, so that the next sign-in loads them afresh. `on_lost` is called (with a
  // message for the log) when changes may have been missed. Nothing to do for a store without
  // change notifications (storage::Store::WatchNamespace answers Unimplemented: RocksDB).
  base::Status WatchForChanges(service::CacheInvalidator* invalidator,
                               std::function<void(std::string_view)> on_lost);
  // Stops the watches: no invalidation reaches the verifier after this returns.
  void StopWatching() { watches.clear(); }
};

// Opens the store of `config` (store, data_dir, key_file, etcd_*). InvalidArgument for a store
// kind otpd has no opener for; Unimplemented for etcd in a build without it. A data directory that
// holds no database is refused (naming the path, otpctl init and --init) unless
// config.create_data_dir
// (--init) asks to create it, with its key file when that does not exist; an existing database
// never gets a new key file. Errors name what is wrong and never hold a key or a password.
base::StatusOr<DaemonStore> OpenDaemonStore(const server::ServerConfig& config);

// True when this build has the etcd store.
bool HaveEtcdStore();

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OPEN_STORE_H_
