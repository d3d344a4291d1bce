// The group-commit pipeline shared by every Store implementation.
//
// Callers submit WriteBatches; ONE committer thread takes everything pending (up to the group
// limits), evaluates each batch's RequireVersion conditions against the committed state plus the
// batches already accepted into the same group, assigns record versions, and hands the group to the
// backend as one atomic write with one fsync (if any member asked for durability). A batch whose
// conditions fail is dropped alone with AbortedError; a backend failure reaches every remaining
// member of the group and nothing of the group is applied. Callbacks then run in submission order
// on the committer thread.
//
// The queue is bounded: Submit() never blocks and fails with ResourceExhaustedError when full;
// Commit() waits for space. Close() stops accepting batches (UnavailableError), drains what is
// queued, and joins the committer.
//
// Thread-safety: Submit, Commit, Close and stats are safe from any thread.

#ifndef OTPD_STORAGE_COMMIT_PIPELINE_H_
#define OTPD_STORAGE_COMMIT_PIPELINE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <deque>
#include <mutex>
#include <span>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "base/histogram.h"
#include "base/mutex.h"
#include "storage/store.h"
#include "storage/version_cache.h"

namespace otpd::storage {

// One change of a group, as handed to a backend. The views point into the submitted batches and are
// valid only for the duration of CommitBackend::Apply.
struct Mutation {
  Namespace ns;
  std::string_view key;
  bool is_delete = false;
  std::string_view value;  // for a put
  uint64_t version = 0;    // the record's new version, for a put
};

// What a Store keeps its bytes in. Reads may come from any thread; Apply only from the committer.
class CommitBackend {
 public:
  virtual ~CommitBackend() = default;

  // The committed record, nullopt when absent.
  virtual base::StatusOr<std::optional<Record>> Read(Namespace ns, std::string_view key) const = 0;

  // The committed version of (ns, key); 0 when absent. The default reads the whole record.
  virtual base::StatusOr<uint64_t> ReadVersion(Namespace ns, std::string_view key) const;

  // Records with key >= start and starting with prefix, in key order, until fn returns false.
  virtual base::Status Scan(Namespace ns, std::string_view prefix, std::string_view start,
                            const ScanFn& fn) const = 0;

  // Applies every mutation atomically (all or nothing), in order; when `sync` is true the change,
  // and every earlier one, is durable (fsynced) before this returns OK. `mutations` may be empty
  // when only a sync is asked for.
  virtual base::Status Apply(std::span<const Mutation> mutations, bool sync) = 0;

  // A backend that other processes write too (etcd, shared by several otpd nodes) cannot let the
  // committer check conditions and number versions from what it alone remembers: it returns true
  // here and commits whole groups itself (CommitGroup); the pipeline then keeps no version cache,
  // learns nothing from reads and never calls Apply.
  virtual bool CommitsGroups() const { return false; }

  struct GroupMember {
    const WriteBatch* batch = nullptr;  // valid, non-empty namespaces
    Durability durability = Durability::kDurable;
    base::Status result;  // set by CommitGroup
  };
  struct GroupWrites {
    uint64_t writes = 0;  // backend writes made (transactions)
    uint64_t syncs = 0;   // of which made durable for a kDurable member
  };
  // Commits `members` in order with the semantics of Store::Submit, setting each result: a batch
  // whose conditions do not hold (against what is committed plus the members before it) fails
  // with AbortedError alone; a backend failure reaches the members it concerns. Committer thread
  // only. The default fails every member (for backends that do not return true above).
  virtual GroupWrites CommitGroup(std::span<GroupMember> members);
};

// Where a namespace's log stands (WriteBatch::AppendToLog): the last number given out and the
// version of its counter record.
struct LogPosition {
  uint64_t last = 0;
  uint64_t version = 0;
};
using LogPositions = std::array<std::optional<LogPosition>, kNamespaceCount>;

struct PipelineOptions {
  // Batches that may wait for the committer. Submit() fails with ResourceExhaustedError when this
  // many are queued. Default: 4096.
  size_t max_queue = 4096;

  // A group stops growing once its batches hold this many bytes of keys and values (a single
  // larger batch still commits, alone). Default: 4 MiB.
  size_t max_group_bytes = 4 << 20;

  // A group holds at most this many batches; 0 means no limit. 1 disables group commit (one write
  // and one fsync per batch), which is only useful to measure what group commit buys.
  // Default: 0.
  size_t max_group_batches = 0;

  // Record versions the committer remembers from its own writes and from the conditions it
  // checked, so that a Put to a key it wrote before, or a condition on a key it checked before,
  // needs no backend read (the hot sign-in state is rewritten over and over, and every sign-in
  // checks its user's fence: about three records per user). The committer is the only writer,
  // so what it remembers is current (storage/version_cache.h: keys by 128-bit fingerprint); it
  // forgets everything when the limit is reached, and forgets a group's keys when its write
  // fails. 0 disables. Default: 4 << 20, enough for a million users; the table grows with use,
  // to 128 MiB at the most.
  size_t version_cache_entries = 4 << 20;

  // Namespaces whose reads also teach the version cache, as a mask of 1 << Namespace: the first
  // rewrite of a record read since the start, or the first condition on it, then needs no
  // backend read on the committer thread either (a sign-in loads the user's record and state
  // before its commit checks the one and rewrites the other). Default: the state and users
  // namespaces; learning every record read would crowd them out of the cache.
  uint32_t learn_from_reads = (1u << static_cast<unsigned>(Namespace::kState)) |
                              (1u << static_cast<unsigned>(Namespace::kUsers));
};

class CommitPipeline {
 public:
  struct Stats {
    uint64_t groups = 0;     // backend writes attempted
    uint64_t syncs = 0;      // of which durable (fsynced)
    uint64_t committed = 0;  // batches applied
    uint64_t aborted = 0;    // batches dropped because a RequireVersion did not hold
    uint64_t failed = 0;     // batches failed by a backend error or invalid input
    uint64_t rejected = 0;   // batches refused at Submit (queue full or shut down)
  };

  // `backend` must outlive the pipeline. Starts the committer thread.
  CommitPipeline(CommitBackend* backend, PipelineOptions options);
  ~CommitPipeline();  // Close()

  CommitPipeline(const CommitPipeline&) = delete;
  CommitPipeline& operator=(const CommitPipeline&) = delete;

  // See Store::Submit.
  [[nodiscard]] base::Status Submit(WriteBatch batch, Durability durability, CommitCallback done);
  // See Store::Commit.
  base::Status Commit(WriteBatch batch, Durability durability);

  // Refuses new batches from now on, commits everything already queued, then stops the committer.
  // Idempotent; must not be called from a commit callback.
  void Close();

  Stats stats() const;

  // Batches per backend write, and the duration of each durable write (fsync included) in
  // microseconds, for export.
  const base::Histogram& group_batches() const { return group_batches_; }
  const base::Histogram& sync_micros() const { return sync_micros_; }

  // Learning versions from reads (PipelineOptions::learn_from_reads). A reader takes a ticket
  // before it reads (ns, key) from the backend, then offers what it found. The committer takes
  // the offer before its next group, unless its cache has forgotten anything since the ticket (a
  // failed write, or the reset at the limit) or already knows the key (then it wrote the key
  // since, and knows better). At most 65 536 offers wait; more are dropped. Thread-safe.
  bool Learns(Namespace ns) const;
  uint64_t LearnTicket() const { return published_forgets_.load(std::memory_order_acquire); }
  void Learn(Namespace ns, std::string_view key, uint64_t version, uint64_t ticket) const;

 private:
  struct Offer {
    KeyPrint key;
    uint64_t version;
    uint64_t ticket;
  };

  struct Pending {
    WriteBatch batch;
    Durability durability;
    CommitCallback done;
  };

  void Run();
  void CommitGroup(std::deque<Pending>& group);
  // CommitGroup for a backend that commits groups itself (CommitBackend::CommitsGroups).
  void DelegateGroup(std::deque<Pending>& group);
  // On the committer: moves the offers into the version cache, then publishes its forgets.
  void TakeOffers();
  bool OnCommitterThread() const { return std::this_thread::get_id() == committer_id_.load(); }

  CommitBackend* const backend_;
  PipelineOptions options_;
  // Versions of keys this pipeline wrote (see PipelineOptions::version_cache_entries). Only the
  // committer thread touches it.
  VersionCache version_cache_;
  // The logs as committed, by namespace; read from the backend the first time a log is appended
  // to, and forgotten (read again) after a failed write. Only the committer thread touches it.
  LogPositions logs_;
  // version_cache_.forgets() as of the last group: the learning tickets.
  std::atomic<uint64_t> published_forgets_{0};

  mutable base::Mutex offers_mu_;
  mutable std::vector<Offer> offers_ OTPD_GUARDED_BY(offers_mu_);

  mutable base::Mutex mu_;
  base::CondVar work_cv_;   // queue_ non-empty or closing_
  base::CondVar space_cv_;  // queue_ has room or closing_
  std::deque<Pending> queue_ OTPD_GUARDED_BY(mu_);
  bool closing_ OTPD_GUARDED_BY(mu_) = false;

  std::atomic<std::thread::id> committer_id_;
  std::atomic<uint64_t> groups_{0}, syncs_{0}, committed_{0}, aborted_{0}, failed_{0}, rejected_{0};
  base::Histogram group_batches_{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}};
  base::Histogram sync_micros_{base::LatencyBoundsMicros()};
  std::once_flag join_once_;
  std::thread committer_;
};

}  // namespace otpd::storage

#endif  // OTPD_STORAGE_COMMIT_PIPELINE_H_
