// The group-commit pipeline shared by every Store implementation.
//
// Callers submit WriteBatches; a committer thread takes everything pending (up to the group
// limits) and hands the group, whole, to the backend (CommitBackend::CommitGroup), which checks
// each batch's RequireVersion conditions against the committed state plus the batches accepted
// before it, assigns record versions and writes the group (a LocalBackend: as one atomic write
// with one fsync if any member asked for durability). A batch whose conditions fail is dropped
// alone with AbortedError; a backend failure reaches the members it concerns and nothing of
// theirs is applied. Callbacks then run in submission order on that committer thread.
//
// By default there is one committer. A backend whose writes wait on the network (etcd) may have
// several groups in flight (PipelineOptions::max_groups_in_flight), one per committer thread,
// provided no two of them touch the same key: a batch waits while any key it writes or checks is
// held by a group in flight or by an earlier batch still waiting. So batches that share a key
// are decided, written and completed in submission order, as with one committer; batches with
// disjoint keys may complete in any order.
//
// The queue is bounded: Submit() never blocks and fails with ResourceExhaustedError when full;
// Commit() waits for space. Close() stops accepting batches (UnavailableError), drains what is
// queued, and joins the committer.
//
// Thread-safety: Submit, Commit, Close and stats are safe from any thread.

#ifndef OTPD_STORAGE_COMMIT_PIPELINE_H_
#define OTPD_STORAGE_COMMIT_PIPELINE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <unordered_set>
#include <vector>

#include "base/histogram.h"
#include "base/mutex.h"
#include "storage/store.h"

namespace otpd::storage {

// What a Store keeps its bytes in, and how a group of batches reaches them. Reads may come from
// any thread; CommitGroup only from the committer.
//
// There is one way to commit: the pipeline hands every group, whole, to CommitGroup. A backend
// that this process alone writes (memory, RocksDB) derives from LocalBackend
// (storage/local_backend.h), which checks conditions and numbers versions from what it remembers
// and writes the group as one atomic write; a backend that other processes write too (etcd)
// checks them against the shared state itself.
class CommitBackend {
 public:
  virtual ~CommitBackend() = default;

  // The committed record, nullopt when absent.
  virtual base::StatusOr<std::optional<Record>> Read(Namespace ns, std::string_view key) const = 0;

  // Records with key >= start and starting with prefix, in key order, until fn returns false.
  virtual base::Status Scan(Namespace ns, std::string_view prefix, std::string_view start,
                            const ScanFn& fn) const = 0;

  struct GroupMember {
    const WriteBatch* batch = nullptr;  // valid, non-empty namespaces
    Durability durability = Durability::kDurable;
    base::Status result;  // set by CommitGroup
  };
  struct GroupWrites {
    uint64_t writes = 0;  // backend writes made (transactions)
    uint64_t syncs = 0;   // of which made durable for a kDurable member
    // Set by a backend that wrote the group as one write: the batches it held, and when it was
    // durable, how long the write took in microseconds, fsync included (for the pipeline's
    // group_batches and sync_micros).
    uint64_t batches_in_one_write = 0;
    std::optional<uint64_t> sync_micros;
  };
  // Commits `members` in order with the semantics of Store::Submit, setting each result: a batch
  // whose conditions do not hold (against what is committed plus the members before it) fails
  // with AbortedError alone; a backend failure reaches the members it concerns, and nothing of
  // what it concerns is applied. A durable member with nothing to write still makes every
  // earlier write durable. Committer thread only.
  virtual GroupWrites CommitGroup(std::span<GroupMember> members) = 0;

  // Whether CommitGroup may run on several threads at once for groups with disjoint keys
  // (PipelineOptions::max_groups_in_flight). A backend that numbers versions from what it
  // remembers of its own writes (LocalBackend) must not.
  virtual bool ConcurrentGroups() const { return false; }
};

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

  // For a LocalBackend (storage/local_backend.h), which takes these two from the options too:
  // record versions the committer remembers from its own writes and from the conditions it
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

  // Groups the backend may be writing at once, each by a committer thread of its own (see the
  // top of this file). A batch's keys are those it writes or checks, and its namespace's log
  // counter when it appends to a log (so a log is numbered in commit order); a batch that writes
  // nothing waits for every batch before it (a durable one still makes them all durable). Taken
  // as 1 for a backend without CommitBackend::ConcurrentGroups. Default: 1.
  size_t max_groups_in_flight = 1;
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

  // `backend` must outlive the pipeline. Starts the committer threads.
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

 private:
  struct Pending {
    WriteBatch batch;
    Durability durability;
    CommitCallback done;
  };

  void Run();
  // Moves the next group from queue_ to `group`: everything pending up to the group limits, and
  // with several groups in flight only batches whose keys no group in flight or earlier waiting
  // batch holds; the group's keys go to `keys` and into in_flight_keys_.
  void TakeGroup(std::deque<Pending>& group, std::vector<uint64_t>& keys) OTPD_REQUIRES(mu_);
  // Hands the group's valid batches to the backend, then completes every batch in order.
  void CommitGroup(std::deque<Pending>& group);
  bool OnCommitterThread() const;

  CommitBackend* const backend_;
  PipelineOptions options_;
  mutable base::Mutex mu_;
  base::CondVar work_cv_;   // queue_ non-empty or closing_
  base::CondVar space_cv_;  // queue_ has room or closing_
  std::deque<Pending> queue_ OTPD_GUARDED_BY(mu_);
  bool closing_ OTPD_GUARDED_BY(mu_) = false;
  // With several groups in flight: their number, and their keys' hashes (a collision only makes
  // a batch wait).
  size_t groups_in_flight_ OTPD_GUARDED_BY(mu_) = 0;
  std::unordered_set<uint64_t> in_flight_keys_ OTPD_GUARDED_BY(mu_);

  std::atomic<uint64_t> groups_{0}, syncs_{0}, committed_{0}, aborted_{0}, failed_{0}, rejected_{0};
  base::Histogram group_batches_{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}};
  base::Histogram sync_micros_{base::LatencyBoundsMicros()};
  std::once_flag join_once_;
  std::vector<std::thread> committers_;
};

}  // namespace otpd::storage

#endif  // OTPD_STORAGE_COMMIT_PIPELINE_H_
