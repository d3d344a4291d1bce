#include "storage/commit_pipeline.h"

#include <cstdint>
#include <functional>
#include <future>
#include <iterator>
#include <string_view>
#include <utility>
#include <vector>

#include "base/thread_name.h"

namespace otpd::storage {
namespace {

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

PipelineOptions Adjusted(PipelineOptions options, const CommitBackend& backend) {
  if (options.max_queue == 0) options.max_queue = 1;
  if (options.max_groups_in_flight == 0 || !backend.ConcurrentGroups()) {
    options.max_groups_in_flight = 1;
  }
  return options;
}

// The pipeline whose committer this thread is, if any.
thread_local const CommitPipeline* current_committer = nullptr;

uint64_t KeyHash(Namespace ns, std::string_view key) {
  const uint64_t h = std::hash<std::string_view>{}(key);
  return (h ^ (static_cast<uint64_t>(ns) + 1) * 0x9e3779b97f4a7c15ULL) * 0xff51afd7ed558ccdULL;
}

// The keys a batch holds while it waits or is written, appended to `out`.
void AddKeys(const WriteBatch& batch, std::vector<uint64_t>& out) {
  for (const auto& c : batch.conditions()) out.push_back(KeyHash(c.ns, c.key));
  for (const auto& op : batch.ops()) {
    out.push_back(op.kind == WriteBatch::OpKind::kAppend ? KeyHash(op.ns, kLogCounterKey)
                                                         : KeyHash(op.ns, op.key));
  }
}

// How far past the first waiting batch a committer looks for batches it may take.
constexpr size_t kMaxScan = 4096;

}  // namespace

CommitPipeline::CommitPipeline(CommitBackend* backend, PipelineOptions options)
    : backend_(backend), options_(Adjusted(options, *backend)) {
  for (size_t i = 0; i < options_.max_groups_in_flight; ++i) {
    committers_.emplace_back([this] {
      base::SetCurrentThreadName("otpd-commit");
      current_committer = this;
      Run();
    });
  }
}

bool CommitPipeline::OnCommitterThread() const { return current_committer == this; }

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
    for (std::thread& t : committers_) {
      if (t.joinable()) t.join();
    }
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

void CommitPipeline::Run() {
  std::deque<Pending> group;
  std::vector<uint64_t> keys;
  for (;;) {
    {
      base::MutexLock lock(mu_);
      for (;;) {
        if (!queue_.empty()) {
          TakeGroup(group, keys);
          if (!group.empty()) break;
        } else if (closing_) {
          return;  // drained
        }
        // Nothing queued, or everything queued waits for a group in flight.
        work_cv_.Wait(lock);
      }
      if (!queue_.empty() && groups_in_flight_ < options_.max_groups_in_flight) work_cv_.Signal();
    }
    space_cv_.SignalAll();
    CommitGroup(group);
    group.clear();
    if (options_.max_groups_in_flight > 1) {
      {
        base::MutexLock lock(mu_);
        for (uint64_t k : keys) in_flight_keys_.erase(k);
        --groups_in_flight_;
      }
      work_cv_.SignalAll();  // batches that waited for these keys may go
    }
  }
}

void CommitPipeline::TakeGroup(std::deque<Pending>& group, std::vector<uint64_t>& keys) {
  keys.clear();
  size_t bytes = 0;
  auto fits = [&](const Pending& next) {
    if (group.empty()) return true;
    if (bytes + next.batch.ApproximateBytes() > options_.max_group_bytes) return false;
    return options_.max_group_batches == 0 || group.size() < options_.max_group_batches;
  };
  if (options_.max_groups_in_flight == 1) {
    while (!queue_.empty() && fits(queue_.front())) {
      bytes += queue_.front().batch.ApproximateBytes();
      group.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    return;
  }
  // Batches passed over keep their place ahead of everything not yet looked at.
  std::deque<Pending> waiting;
  std::unordered_set<uint64_t> waiting_keys;
  std::vector<uint64_t> mine;
  for (size_t scanned = 0; !queue_.empty() && scanned < kMaxScan; ++scanned) {
    Pending& next = queue_.front();
    if (!fits(next)) break;
    mine.clear();
    AddKeys(next.batch, mine);
    if (next.batch.ops().empty()) {
      // Writes nothing: completes only after every batch before it.
      if (groups_in_flight_ > 0 || !waiting.empty()) break;
    } else {
      bool blocked = false;
      for (uint64_t k : mine) {
        if (in_flight_keys_.contains(k) || waiting_keys.contains(k)) blocked = true;
      }
      if (blocked) {
        waiting_keys.insert(mine.begin(), mine.end());
        waiting.push_back(std::move(next));
        queue_.pop_front();
        continue;
      }
    }
    keys.insert(keys.end(), mine.begin(), mine.end());
    bytes += next.batch.ApproximateBytes();
    group.push_back(std::move(next));
    queue_.pop_front();
  }
  queue_.insert(queue_.begin(), std::make_move_iterator(waiting.begin()),
                std::make_move_iterator(waiting.end()));
  if (group.empty()) return;
  in_flight_keys_.insert(keys.begin(), keys.end());
  ++groups_in_flight_;
}

void CommitPipeline::CommitGroup(std::deque<Pending>& group) {
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
    const CommitBackend::GroupWrites writes = backend_->CommitGroup(members);
    groups_.fetch_add(writes.writes, std::memory_order_relaxed);
    syncs_.fetch_add(writes.syncs, std::memory_order_relaxed);
    if (writes.batches_in_one_write != 0) group_batches_.Observe(writes.batches_in_one_write);
    if (writes.sync_micros) sync_micros_.Observe(*writes.sync_micros);
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

}  // namespace otpd::storage
