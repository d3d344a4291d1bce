// The Store is where otpd keeps everything durable: users, methods, the token inventory, the hot
// verification state, sessions, app passwords, the event outbox, the audit log and metadata.
//
// It is deliberately small — namespaced point reads, ordered prefix scans and atomic write batches
// with a compare-and-set — so that backends other than the embedded RocksDB one (PostgreSQL, a
// distributed SQL engine) can implement it. Every record carries a version that the Store
// maintains: 1 after the first Put, +1 on every later Put of the same key. A Delete removes the
// record and its version; a later Put starts again at 1.
//
// Writes go through a commit pipeline: a committer thread gathers every pending batch into one
// atomic write and one fsync (group commit) and then completes each caller. Callbacks run on that
// thread, never on the caller's, so they must be short and must not block on the Store (Commit()
// from a callback fails). A store whose writes wait on the network (etcd) may have several
// committers, each with a group whose keys no other holds (storage/commit_pipeline.h): batches
// that share a key still complete in submission order, others in any order.
//
// Thread-safety: Store implementations are safe to use from any number of threads. WriteBatch is a
// plain value with no internal locking.

#ifndef OTPD_STORAGE_STORE_H_
#define OTPD_STORAGE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/statusor.h"
#include "storage/store_role.h"
#include "storage/store_watch.h"

namespace otpd::storage {

enum class Namespace : uint8_t {
  kUsers,
  kMethods,
  kTokens,
  kState,
  kSessions,
  kAppPasswords,
  kOutbox,
  kAudit,
  kMeta,
};
inline constexpr int kNamespaceCount = 9;

// "users", "methods", "tokens", "state", "sessions", "apppw", "outbox", "audit", "meta"; "invalid"
// for a value outside the enumeration.
std::string_view NamespaceName(Namespace ns);

// True when `ns` is one of the enumerators above.
inline bool IsValidNamespace(Namespace ns) { return static_cast<uint8_t>(ns) < kNamespaceCount; }

// Every namespace, in enumeration order.
std::vector<Namespace> AllNamespaces();

struct Record {
  std::string value;
  uint64_t version = 0;  // 1 after the first Put, +1 on every Put

  friend bool operator==(const Record& a, const Record& b) {
    return a.value == b.value && a.version == b.version;
  }
};

// A set of changes applied atomically, in the order they were added. Movable value type.
class WriteBatch {
 public:
  // kInsert is a put of a key that is written exactly once (audit records): the store gives it
  // version 1 without looking up the version it would replace, and does not keep it among the
  // versions it remembers for hot records. The caller guarantees the key is new (time-ordered or
  // random keys); inserting a key that exists replaces it with version 1.
  //
  // kAppend adds a record to the log of its namespace (outbox events): the committer gives it the
  // log's next number when the batch commits, and writes it, version 1, under LogKey(number). The
  // log's last number is kept in the same namespace under kLogCounterKey, rewritten in the same
  // atomic write. Numbers are assigned in commit order (two appends to one log are never in
  // flight together, whatever the committers), start at 1, and are gap-free among committed
  // batches: a batch that aborts or whose group fails to write gives its numbers back. So once a
  // reader sees number N, every number below N is committed and visible too; a reader that moves a
  // cursor along the log can never skip a record that committed late. The op's key is empty; the
  // number is not known to the caller.
  enum class OpKind : uint8_t { kPut, kDelete, kInsert, kAppend };
  struct Op {
    OpKind kind;
    Namespace ns;
    std::string key;
    std::string value;  // empty for kDelete
  };
  struct Condition {
    Namespace ns;
    std::string key;
    uint64_t version;  // 0 = the record must not exist
  };

  WriteBatch() = default;
  WriteBatch(WriteBatch&&) noexcept = default;
  WriteBatch& operator=(WriteBatch&&) noexcept = default;
  WriteBatch(const WriteBatch&) = default;
  WriteBatch& operator=(const WriteBatch&) = default;

  void Put(Namespace ns, std::string_view key, std::string_view value);
  void Delete(Namespace ns, std::string_view key);
  // A put of a write-once key (see OpKind::kInsert).
  void Insert(Namespace ns, std::string_view key, std::string_view value);
  // Appends `value` to the log of `ns` (see OpKind::kAppend).
  void AppendToLog(Namespace ns, std::string_view value);

  // Moves every change and condition of `other` to the end of this batch.
  void Append(WriteBatch&& other);

  // Makes the whole batch conditional: it commits only if (ns, key) has exactly `version` at
  // commit time (0 = must not exist); otherwise the batch fails with base::AbortedError and
  // nothing of it is applied. Conditions are evaluated against the state before any of this
  // batch's own changes, but after every batch committed (or grouped) before it.
  void RequireVersion(Namespace ns, std::string_view key, uint64_t version);

  // True when the batch has neither changes nor conditions.
  bool empty() const { return ops_.empty() && conditions_.empty(); }
  // Number of changes (Put and Delete) plus conditions.
  size_t size() const { return ops_.size() + conditions_.size(); }
  // Approximate bytes of keys and values, used for group sizing.
  size_t ApproximateBytes() const { return bytes_; }
  void Clear();

  const std::vector<Op>& ops() const { return ops_; }
  const std::vector<Condition>& conditions() const { return conditions_; }

 private:
  std::vector<Op> ops_;
  std::vector<Condition> conditions_;
  size_t bytes_ = 0;
};

// Logs (WriteBatch::AppendToLog): record `number` of a namespace's log is kept under
// LogKey(number), 8 bytes big-endian, so the log reads in number order; the last number given
// out is kept under kLogCounterKey (8 bytes big-endian), which sorts after every log key below
// 2^56. A namespace that holds a log should hold nothing else.
std::string LogKey(uint64_t number);
// The number of a log key; nullopt for any other key (the counter).
std::optional<uint64_t> ParseLogKey(std::string_view key);
inline constexpr std::string_view kLogCounterKey = "log-counter";
// The number a log counter record holds; nullopt when the value is malformed.
std::optional<uint64_t> ParseLogCounter(std::string_view value);

enum class Durability {
  kDurable,  // fsync (of the write-ahead log) before completion
  kRelaxed,  // written, but not fsynced: may be lost if the machine (not just the process) crashes
};

using CommitCallback = std::function<void(base::Status)>;

// How big one batch may be on a store: the distinct keys it may touch (written, or read by a
// condition) and the bytes of keys and values it may carry. A larger batch fails whole, nothing
// of it applied. Unbounded on RocksDB; etcd's transaction limits on etcd (--max-txn-ops,
// --max-request-bytes). A writer of many records (an import) sizes its atomic steps by them.
struct BatchLimits {
  size_t max_keys = SIZE_MAX;
  size_t max_bytes = SIZE_MAX;
};

// Called for each record of a scan: true to go on, false to stop, or an error to stop the scan and
// make it return that error.
using ScanFn = std::function<base::StatusOr<bool>(std::string_view key, const Record& record)>;

class Store {
 public:
  virtual ~Store() = default;

  // The committed record under (ns, key), nullopt when absent. Errors are I/O or corruption.
  virtual base::StatusOr<std::optional<Record>> Get(Namespace ns, std::string_view key) const = 0;

  // Calls fn for each record whose key starts with prefix, in key order, until fn returns false
  // (OK) or an error (returned). fn must not call Commit() (it may Submit()).
  virtual base::Status Scan(Namespace ns, std::string_view prefix, const ScanFn& fn) const = 0;

  // As Scan, but starts at the first key >= start (keys below `start` are skipped). Used to walk a
  // namespace in pages. The default implementation filters Scan; backends seek directly.
  virtual base::Status ScanFrom(Namespace ns, std::string_view prefix, std::string_view start,
                                const ScanFn& fn) const;

  // Asynchronous commit through the group-commit pipeline; never blocks. Returns OK when the batch
  // is queued: `done` is then called exactly once, on the committer thread, after the batch is
  // applied (and fsynced when kDurable) or failed. A batch whose RequireVersion conditions do not
  // hold fails with AbortedError and nothing of it is applied; a write or fsync failure reaches
  // every batch of the affected group and nothing of that group is applied. Returns
  // ResourceExhaustedError when the queue is full and UnavailableError after shutdown started:
  // the batch is refused and `done` is never called, so a caller may submit under a lock and
  // answer after releasing it.
  [[nodiscard]] virtual base::Status Submit(WriteBatch batch, Durability durability,
                                            CommitCallback done) = 0;

  // Blocking convenience for admin paths and tools: waits for queue space and for the result.
  // Returns FailedPreconditionError when called from the committer thread (from a callback).
  virtual base::Status Commit(WriteBatch batch, Durability durability) = 0;

  // What only some stores can do. A store without it answers UnimplementedError naming what it
  // lacks (the defaults below); callers ask the store and do without.

  // Writes an online, consistent copy of every record into the directory `dir`, which must not
  // exist and is created; commits continue meanwhile. RocksDB: a checkpoint, itself a data
  // directory; etcd: the cluster's snapshot and the list of this store's keys
  // (storage/etcd/etcd_store.h). The memory store has nothing to copy.
  virtual base::Status Backup(const std::string& dir) const;

  // Starts watching `ns` for changes by anyone (storage/store_watch.h). Only a store that other
  // processes write too (etcd) has them; fails when the store cannot be reached.
  virtual base::StatusOr<std::unique_ptr<StoreWatch>> WatchNamespace(Namespace ns,
                                                                     WatchCallbacks callbacks);

  // A role that at most one of the processes sharing this store holds at a time
  // (storage/store_role.h). Only a store that other processes write too (etcd) has roles: on
  // the others this process holds every role.
  virtual base::StatusOr<std::unique_ptr<StoreRole>> NewRole(RoleOptions options) const;

  // The largest batch this store commits (BatchLimits). Default: unbounded.
  virtual BatchLimits batch_limits() const { return {}; }
};

// Commits `changes`, each atomic on its own but not together (audit records, deletions of
// independent records), in as few batches as the store's limits allow, in order. Stops at the
// first batch that fails and returns its error; `committed` (may be null) receives how many of
// the changes are in.
base::Status CommitEach(Store& store, std::vector<WriteBatch> changes, Durability durability,
                        size_t* committed = nullptr);

}  // namespace otpd::storage

#endif  // OTPD_STORAGE_STORE_H_
