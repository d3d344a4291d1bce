#include "storage/commit_pipeline.h"

#include <chrono>
#include <future>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/thread_name.h"

namespace otpd::storage {
namespace {

using VersionMap = std::unordered_map<KeyPrint, uint64_t, KeyPrintHash>;
using KeySet = std::unordered_set<KeyPrint, KeyPrintHash>;

// Versions as they will be once the batches accepted so far into the group are applied; 0 means
// deleted. Lookups fall through to the backend for keys the group has not touched.
class VersionView {
 public:
  // `cache` holds versions known from earlier groups' successful writes.
  VersionView(const CommitBackend* backend, const VersionCache& cache)
      : backend_(backend), cache_(cache) {}

  base::StatusOr<uint64_t> Version(const VersionMap& delta, const KeyPrint& k, Namespace ns,
                                   std::string_view key) {
    if (auto it = delta.find(k); it != delta.end()) return it->second;
    if (auto it = overlay_.find(k); it != overlay_.end()) return it->second;
    if (std::optional<uint64_t> v = cache_.Find(k)) return *v;
    return backend_->ReadVersion(ns, key);
  }

  void Merge(const VersionMap& delta) {
    for (const auto& [k, v] : delta) overlay_[k] = v;
  }

  // The versions this group's accepted batches give their keys.
  const VersionMap& overlay() const { return overlay_; }

 private:
  const CommitBackend* backend_;
  const VersionCache& cache_;
  VersionMap overlay_;
};

base::Status ValidateBatch(const WriteBatch& batch) {
  for (const auto& op : batch.ops()) {
    if (!IsValidNamespace(op.ns))
      return base::InvalidArgumentError("write batch names an invalid namespace");
  }
  for (const auto& c : batch.conditions()) {
    if (!IsValidNamespace(c.ns))
      return base::InvalidArgumentError("write batch names an invalid namespace");
  }
  return base::OkStatus();
}

// The logs as one group leaves them: numbers are handed out as the group's batches are prepared,
// in order, and given back when a batch fails.
struct GroupLogs {
  LogPositions state;             // by namespace
  std::deque<std::string> bytes;  // the log keys and counter values the mutations point into
  uint32_t touched = 0;           // namespaces appended to, as a mask of 1 << ns
};

// The committed state of the log of `ns`, from its counter record.
base::StatusOr<LogPosition> ReadLogPosition(const CommitBackend* backend, Namespace ns) {
  OTPD_ASSIGN_OR_RETURN(std::optional<Record> counter, backend->Read(ns, kLogCounterKey));
  LogPosition state;
  if (!counter) return state;
  std::optional<uint64_t> last = ParseLogCounter(counter->value);
  if (!last) {
    return base::DataLossError("the log counter of " + std::string(NamespaceName(ns)) +
                               " is malformed");
  }
  state.last = *last;
  state.version = counter->version;
  return state;
}

// Checks `batch`'s conditions and turns its ops into mutations (appended to `out`) with the
// versions they will have; the keys of its inserts are added to `inserted`, and its appends get
// their log numbers from `logs`. On failure nothing is appended and `view` and `logs` are
// unchanged.
base::Status PrepareBatch(const WriteBatch& batch, const CommitBackend* backend, VersionView& view,
                          VersionMap& delta, GroupLogs& logs, std::vector<Mutation>* out,
                          KeySet* inserted) {
  OTPD_RETURN_IF_ERROR(ValidateBatch(batch));
  delta.clear();
  for (const auto& c : batch.conditions()) {
    OTPD_ASSIGN_OR_RETURN(uint64_t current,
                          view.Version(delta, Fingerprint(c.ns, c.key), c.ns, c.key));
    if (current != c.version) {
      return base::AbortedError("version conflict on " + std::string(NamespaceName(c.ns)) + "/" +
                                c.key + ": expected " + std::to_string(c.version) + ", found " +
                                std::to_string(current));
    }
    // Remembered once the group is written: the next condition on this key (a user's fence is
    // checked by every sign-in) needs no backend read.
    delta.emplace(Fingerprint(c.ns, c.key), current);
  }
  const size_t first = out->size();
  const auto logs_before = logs.state;
  const size_t bytes_before = logs.bytes.size();
  const uint32_t touched_before = logs.touched;
  auto fail = [&](base::Status status) {
    out->resize(first);
    logs.state = logs_before;
    while (logs.bytes.size() > bytes_before) logs.bytes.pop_back();
    logs.touched = touched_before;
    return status;
  };
  for (const auto& op : batch.ops()) {
    if (op.kind == WriteBatch::OpKind::kAppend) {
      auto& log = logs.state[static_cast<size_t>(op.ns)];
      if (!log) {
        auto state = ReadLogPosition(backend, op.ns);
        if (!state.ok()) return fail(state.status());
        log = *state;
      }
      ++log->last;
      logs.bytes.push_back(LogKey(log->last));
      logs.touched |= 1u << static_cast<unsigned>(op.ns);
      out->push_back(Mutation{op.ns, logs.bytes.back(), false, op.value, 1});
      continue;
    }
    const KeyPrint k = Fingerprint(op.ns, op.key);
    if (op.kind == WriteBatch::OpKind::kDelete) {
      delta[k] = 0;
      out->push_back(Mutation{op.ns, op.key, true, {}, 0});
      continue;
    }
    if (op.kind == WriteBatch::OpKind::kInsert) {
      // Write-once keys need no version read, and are kept out of the version cache.
      delta[k] = 1;
      inserted->insert(k);
      out->push_back(Mutation{op.ns, op.key, false, op.value, 1});
      continue;
    }
    auto current = view.Version(delta, k, op.ns, op.key);
    if (!current.ok()) return fail(current.status());
    uint64_t version = *current + 1;
    delta[k] = version;
    out->push_back(Mutation{op.ns, op.key, false, op.value, version});
  }
  view.Merge(delta);
  return base::OkStatus();
}

}  // namespace

base::StatusOr<uint64_t> CommitBackend::ReadVersion(Namespace ns, std::string_view key) const {
  OTPD_ASSIGN_OR_RETURN(std::optional<Record> record, Read(ns, key));
  return record.has_value() ? record->version : 0;
}

CommitBackend::GroupWrites CommitBackend::CommitGroup(std::span<GroupMember> members) {
  for (GroupMember& m : members) {
    m.result = base::InternalError("this storage backend does not commit groups itself");
  }
  return {};
}

namespace {

// What the committer may remember depends on whether it is the backend's only writer.
PipelineOptions Adjusted(PipelineOptions options, const CommitBackend* backend) {
  if (options.max_queue == 0) options.max_queue = 1;
  if (backend->CommitsGroups()) {
    options.version_cache_entries = 0;
    options.learn_from_reads = 0;
  }
  return options;
}

}  // namespace

CommitPipeline::CommitPipeline(CommitBackend* backend, PipelineOptions options)
    : backend_(backend),
      options_(Adjusted(options, backend)),
      version_cache_(options_.version_cache_entries) {
  committer_ = std::thread([this] {
    base::SetCurrentThreadName("otpd-commit");
    Run();
  });
  committer_id_.store(committer_.get_id());
}

CommitPipeline::~CommitPipeline() { Close(); }

base::Status CommitPipeline::Submit(WriteBatch batch, Durability durability, CommitCallback done) {
  base::MutexLock lock(mu_);
  if (closing_ || queue_.size() >= options_.max_queue) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return closing_ ? base::UnavailableError("store is shutting down")
                    : base::ResourceExhaustedError("commit queue is full");
  }
  queue_.push_back(Pending{std::move(batch), durability, std::move(done)});
  work_cv_.Signal();
  return base::OkStatus();
}

base::Status CommitPipeline::Commit(WriteBatch batch, Durability durability) {
  if (OnCommitterThread()) {
    return base::FailedPreconditionError("Store::Commit called from a commit callback");
  }
  std::promise<base::Status> result;
  std::future<base::Status> future = result.get_future();
  {
    base::MutexLock lock(mu_);
    while (!closing_ && queue_.size() >= options_.max_queue) space_cv_.Wait(lock);
    if (closing_) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      return base::UnavailableError("store is shutting down");
    }
    queue_.push_back(Pending{std::move(batch), durability,
                             [&result](base::Status s) { result.set_value(std::move(s)); }});
  }
  work_cv_.Signal();
  return future.get();
}

void CommitPipeline::Close() {
  {
    base::MutexLock lock(mu_);
    closing_ = true;
  }
  work_cv_.SignalAll();
  space_cv_.SignalAll();
  if (OnCommitterThread()) return;  // the committer drains and exits by itself
  std::call_once(join_once_, [this] {
    if (committer_.joinable()) committer_.join();
  });
}

CommitPipeline::Stats CommitPipeline::stats() const {
  Stats s;
  s.groups = groups_.load();
  s.syncs = syncs_.load();
  s.committed = committed_.load();
  s.aborted = aborted_.load();
  s.failed = failed_.load();
  s.rejected = rejected_.load();
  return s;
}

bool CommitPipeline::Learns(Namespace ns) const {
  return IsValidNamespace(ns) && options_.version_cache_entries != 0 &&
         (options_.learn_from_reads >> static_cast<unsigned>(ns) & 1) != 0;
}

void CommitPipeline::Learn(Namespace ns, std::string_view key, uint64_t version,
                           uint64_t ticket) const {
  if (!Learns(ns)) return;
  constexpr size_t kMaxOffers = 1 << 16;
  const KeyPrint k = Fingerprint(ns, key);
  base::MutexLock lock(offers_mu_);
  if (offers_.size() < kMaxOffers) offers_.push_back(Offer{k, version, ticket});
}

void CommitPipeline::TakeOffers() {
  std::vector<Offer> offers;
  {
    base::MutexLock lock(offers_mu_);
    offers.swap(offers_);
  }
  for (const Offer& o : offers) {
    if (o.ticket != version_cache_.forgets()) continue;
    if (!version_cache_.Find(o.key)) version_cache_.Put(o.key, o.version);
  }
  published_forgets_.store(version_cache_.forgets(), std::memory_order_release);
}

void CommitPipeline::Run() {
  std::deque<Pending> group;
  for (;;) {
    {
      base::MutexLock lock(mu_);
      while (!closing_ && queue_.empty()) work_cv_.Wait(lock);
      if (queue_.empty()) return;  // closing_ and drained
      size_t bytes = 0;
      while (!queue_.empty()) {
        const Pending& next = queue_.front();
        if (!group.empty()) {
          if (bytes + next.batch.ApproximateBytes() > options_.max_group_bytes) break;
          if (options_.max_group_batches != 0 && group.size() >= options_.max_group_batches) break;
        }
        bytes += next.batch.ApproximateBytes();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    space_cv_.SignalAll();
    CommitGroup(group);
    group.clear();
  }
}

void CommitPipeline::DelegateGroup(std::deque<Pending>& group) {
  std::vector<CommitBackend::GroupMember> members;
  std::vector<size_t> index(group.size(), SIZE_MAX);  // group position -> members position
  std::vector<base::Status> results(group.size());
  for (size_t i = 0; i < group.size(); ++i) {
    results[i] = ValidateBatch(group[i].batch);
    if (!results[i].ok()) continue;
    index[i] = members.size();
    members.push_back({&group[i].batch, group[i].durability, base::OkStatus()});
  }
  if (!members.empty()) {
    CommitBackend::GroupWrites writes = backend_->CommitGroup(members);
    groups_.fetch_add(writes.writes, std::memory_order_relaxed);
    syncs_.fetch_add(writes.syncs, std::memory_order_relaxed);
  }
  for (size_t i = 0; i < group.size(); ++i) {
    if (index[i] != SIZE_MAX) results[i] = std::move(members[index[i]].result);
    if (results[i].ok()) {
      committed_.fetch_add(1, std::memory_order_relaxed);
    } else if (base::IsAborted(results[i])) {
      aborted_.fetch_add(1, std::memory_order_relaxed);
    } else {
      failed_.fetch_add(1, std::memory_order_relaxed);
    }
    group[i].done(std::move(results[i]));
  }
}

void CommitPipeline::CommitGroup(std::deque<Pending>& group) {
  if (backend_->CommitsGroups()) {
    DelegateGroup(group);
    return;
  }
  TakeOffers();
  VersionView view(backend_, version_cache_);
  VersionMap delta;
  std::vector<Mutation> mutations;
  KeySet inserted;
  GroupLogs logs{logs_, {}, 0};
  std::vector<base::Status> results(group.size());
  bool sync = false;
  for (size_t i = 0; i < group.size(); ++i) {
    results[i] =
        PrepareBatch(group[i].batch, backend_, view, delta, logs, &mutations, &inserted);
    if (results[i].ok() && group[i].durability == Durability::kDurable) sync = true;
  }
  // Each log appended to records its last number in the same atomic write.
  for (size_t ns = 0; ns < logs.state.size(); ++ns) {
    if ((logs.touched >> ns & 1) == 0) continue;
    LogPosition& log = *logs.state[ns];
    logs.bytes.push_back(LogKey(log.last));  // the same 8-byte encoding
    ++log.version;
    mutations.push_back(Mutation{static_cast<Namespace>(ns), kLogCounterKey, false,
                                 logs.bytes.back(), log.version});
  }
  // A durable batch with nothing to write still asks for an fsync: it acts as a barrier that makes
  // earlier relaxed commits durable.
  if (!mutations.empty() || sync) {
    groups_.fetch_add(1, std::memory_order_relaxed);
    if (sync) syncs_.fetch_add(1, std::memory_order_relaxed);
    group_batches_.Observe(group.size());
    const auto started = std::chrono::steady_clock::now();
    base::Status written = backend_->Apply(mutations, sync);
    if (sync) {
      sync_micros_.Observe(
          static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::steady_clock::now() - started)
                                    .count()));
    }
    if (!written.ok()) {
      for (auto& r : results) {
        if (r.ok()) r = written;
      }
      // Whether a failed write reached the backend is not known: read these keys again next time.
      for (const auto& [k, v] : view.overlay()) version_cache_.Erase(k);
      for (size_t ns = 0; ns < logs_.size(); ++ns) {
        if ((logs.touched >> ns & 1) != 0) logs_[ns].reset();
      }
    } else {
      for (const auto& [k, v] : view.overlay()) {
        if (inserted.empty() || !inserted.contains(k)) version_cache_.Put(k, v);
      }
      for (size_t ns = 0; ns < logs_.size(); ++ns) {
        if ((logs.touched >> ns & 1) != 0) logs_[ns] = logs.state[ns];
      }
    }
    published_forgets_.store(version_cache_.forgets(), std::memory_order_release);
  }
  for (size_t i = 0; i < group.size(); ++i) {
    if (results[i].ok()) {
      committed_.fetch_add(1, std::memory_order_relaxed);
    } else if (base::IsAborted(results[i])) {
      aborted_.fetch_add(1, std::memory_order_relaxed);
    } else {
      failed_.fetch_add(1, std::memory_order_relaxed);
    }
    group[i].done(std::move(results[i]));
  }
}

}  // namespace otpd::storage
