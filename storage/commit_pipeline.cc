#include "storage/commit_pipeline.h"

#include <cstdint>
#include <future>
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

PipelineOptions Adjusted(PipelineOptions options) {
  if (options.max_queue == 0) options.max_queue = 1;
  return options;
}

}  // namespace

CommitPipeline::CommitPipeline(CommitBackend* backend, PipelineOptions options)
    : backend_(backend), options_(Adjusted(options)) {
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
