// The etcd v3 Store: several otpd nodes share one etcd cluster (docs/scale-out.md).
//
// Layout: every record is the etcd key <prefix><namespace>/<key> ("/otpd/users/alice@x"); its
// value is an 8-byte big-endian otpd version followed by the record's value, as in RocksDB
// (storage/internal/record_codec.h). otpd's version cannot be etcd's own per-key `version`
// field: one etcd transaction may not touch a key twice, so a batch that puts a key twice could
// not give it +2. etcd's mod_revision is what makes writes safe instead.
//
// Commits: the shared pipeline (storage/commit_pipeline.h) gathers a group and hands it here
// whole (CommitBackend::CommitGroup). The group's batches are checked and numbered against the
// keys' states (version, mod_revision) as last seen, and written as one etcd Txn whose compares
// say "every key whose state was used still has that mod_revision". When another node wrote one
// of them meanwhile, the Txn's failure branch returns their current states and the group is
// checked again: a batch fails (AbortedError) only because of its own conditions, never because
// of another batch or another node. A group that exceeds etcd's limits (max_txn_ops, request
// bytes) is written as several Txns, never splitting a batch; a batch that alone exceeds them
// fails with InvalidArgumentError. Every etcd write is durable (Raft); kRelaxed is durable too.
//
// Logs (WriteBatch::AppendToLog): a Txn that appends compares the log counter's mod_revision to
// the one the numbers were taken from, and writes the new counter and the records under
// LogKey(counter + 1 ..) with the group's other changes. When another node appended meanwhile,
// the compare fails and the group is decided again from the counter etcd's answer returned, so
// numbers follow etcd's commit order across nodes, start at 1 and have no gaps: a reader that
// sees number N at some revision sees every number below N there too.
//
// Conditions: in the users and state namespaces, RequireVersion(v) with v > 0 holds only when
// the key is at version v as this process knows it: returned by a Get or a Scan, or written by
// one of its own commits. Versions count writes per key, so another node's write can give a key
// the very version number a caller predicted from a commit of its own that then failed (the
// sign-in path chains a user's commits that way); such a batch fails with AbortedError instead
// of overwriting the other node's record. A caller that reads the key again may then rely on the
// version it read.
//
// Errors: a cluster that cannot be reached, has no leader or does not answer within the timeout
// gives UnavailableError, never a wrong OK. A Txn whose outcome is unknown is not sent again; its
// batches fail with UnavailableError (they may or may not have been applied, as after a failed
// fsync).
//
// Reads are linearizable (served after the member confirmed it is current with the leader).
// Scans read pages of `scan_page` keys at one revision, so a scan sees one consistent state.
//
// Thread-safety: as for every Store.

#ifndef OTPD_STORAGE_ETCD_ETCD_STORE_H_
#define OTPD_STORAGE_ETCD_ETCD_STORE_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "base/secret_bytes.h"
#include "base/statusor.h"
#include "storage/pipelined_store.h"
#include "storage/store.h"

namespace otpd::storage {

namespace etcd_internal {
class EtcdClient;
class EtcdBackend;
}  // namespace etcd_internal

// The files of a backup directory written by EtcdStore::Backup.
inline constexpr char kEtcdSnapshotFile[] = "etcd-snapshot.db";
inline constexpr char kEtcdKeysFile[] = "etcd-keys.tsv";

// How to reach the cluster.
struct EtcdConnection {
  // Client URLs of the members: "host:port", "http://host:port" or "https://host:port".
  std::vector<std::string> endpoints;
  // TLS: the CA that signed the members' certificates (PEM); with a client certificate and key
  // when the cluster asks for one. An https:// endpoint or a CA file turns TLS on.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // etcd authentication (etcdctl user add): the user and its password.
  std::string user;
  base::SecretBytes password;
  // Deadline of each call to a member. A read that times out is tried on the next member.
  std::chrono::milliseconds timeout{2000};
};

struct EtcdOptions {
  EtcdConnection connection;
  // Every key of this store starts with it; it ends with '/' (added when missing). Several otpd
  // installations may share a cluster under different prefixes. Default "/otpd/".
  std::string prefix = "/otpd/";
  // etcd's limits: the --max-txn-ops and --max-request-bytes the cluster was started with
  // (etcd's defaults: 128 and 1.5 MiB). A Txn never carries more.
  size_t max_txn_ops = 128;
  size_t max_request_bytes = 1536 * 1024;
  // Keys per page of a scan.
  size_t scan_page = 512;
  // Key states (version, mod_revision) remembered so that a commit needs no read first; the
  // table is cleared when full. Default: 1 << 20.
  size_t key_state_entries = 1 << 20;
  // The commit pipeline (see RocksDbOptions).
  size_t max_queue = 4096;
  size_t max_group_bytes = 4 << 20;
  size_t max_group_batches = 0;
  // Transactions this store may have in flight at once, each for a group of batches whose keys
  // no other one in flight touches (PipelineOptions::max_groups_in_flight). More than one makes
  // more, smaller transactions: worth it only where the members have CPU to spare for them
  // (docs/scale-out.md). Default: 1.
  size_t groups_in_flight = 1;
};

class EtcdStore final : public PipelinedStore {
 public:
  // Connects and checks that the cluster answers (a read under the prefix). Unavailable when no
  // member does within the timeout.
  static base::StatusOr<std::unique_ptr<EtcdStore>> Open(const EtcdOptions& options);
  ~EtcdStore() override;

  base::StatusOr<std::unique_ptr<StoreWatch>> WatchNamespace(Namespace ns,
                                                             WatchCallbacks callbacks) override;

  // Creates `dir` (0700) and writes both files of Backup below into it, as kEtcdSnapshotFile and
  // kEtcdKeysFile.
  base::Status Backup(const std::string& dir) const override;
  // Writes etcd's snapshot of the whole cluster database (Maintenance.Snapshot, what `etcdctl
  // snapshot save` writes) to `snapshot_path`, and the list of this store's keys with their
  // versions, one "namespace<TAB>hex(key)<TAB>version" line each, to `manifest_path`.
  base::Status Backup(const std::string& snapshot_path, const std::string& manifest_path) const;

  // An EtcdElection (storage/etcd/etcd_election.h) under this store's prefix.
  base::StatusOr<std::unique_ptr<StoreRole>> NewRole(RoleOptions options) const override;

  // One etcd transaction: max_txn_ops keys, and max_request_bytes less what the transaction's
  // framing, compares and version prefixes take (reckoned as half, as the commit path does not
  // count them in ApproximateBytes).
  BatchLimits batch_limits() const override { return limits_; }

  const std::string& prefix() const { return prefix_; }
  // The client, for helpers of this folder (EtcdElection).
  const std::shared_ptr<etcd_internal::EtcdClient>& client() const { return client_; }

 private:
  EtcdStore(std::unique_ptr<etcd_internal::EtcdBackend> backend,
            std::shared_ptr<etcd_internal::EtcdClient> client, std::string prefix,
            const EtcdOptions& options);

  std::shared_ptr<etcd_internal::EtcdClient> client_;
  std::string prefix_;
  BatchLimits limits_;
};

}  // namespace otpd::storage

#endif  // OTPD_STORAGE_ETCD_ETCD_STORE_H_
