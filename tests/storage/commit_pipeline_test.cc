// The commit pipeline with several groups in flight (PipelineOptions::max_groups_in_flight), on a
// backend of this file that may commit groups concurrently, as the etcd one does: groups whose
// keys are disjoint go at once, a batch that shares a key with a group in flight waits for it,
// appends to one log and batches that write nothing keep their order, and nothing of this reaches
// a backend that numbers versions itself (a LocalBackend keeps one committer).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "storage/commit_pipeline.h"
#include "storage/memory_store.h"
#include "tests/storage/test_util.h"

namespace otpd::storage {
namespace {

using testing::Gate;

// A map that commits groups concurrently. It checks what the pipeline promises it: no key is in
// two groups in flight at once. The first group that touches the key given to HoldOn stops inside
// CommitGroup until Release().
class ConcurrentBackend final : public CommitBackend {
 public:
  base::StatusOr<std::optional<Record>> Read(Namespace ns, std::string_view key) const override {
    std::lock_guard lock(mu_);
    auto it = records_.find({ns, std::string(key)});
    if (it == records_.end()) return std::optional<Record>();
    return std::optional<Record>(it->second);
  }
  base::Status Scan(Namespace, std::string_view, std::string_view, const ScanFn&) const override {
    return base::UnimplementedError("not needed here");
  }
  bool ConcurrentGroups() const override { return true; }

  GroupWrites CommitGroup(std::span<GroupMember> members) override {
    std::set<Key> keys;
    for (const GroupMember& m : members) {
      for (const auto& c : m.batch->conditions()) keys.insert({c.ns, c.key});
      for (const auto& op : m.batch->ops()) keys.insert(KeyOf(op));
    }
    bool held = false;
    {
      std::lock_guard lock(mu_);
      for (const Key& k : keys) {
        if (!active_.insert(k).second) ++overlaps_;
        if (hold_ && *hold_ == k) held = true;
      }
      if (held) hold_.reset();  // only the first such group waits
      ++in_flight_;
      max_in_flight_ = std::max(max_in_flight_, in_flight_);
    }
    if (held) {
      entered_.Open();
      release_.Wait();
    }
    if (pause_ > std::chrono::microseconds::zero()) std::this_thread::sleep_for(pause_);
    GroupWrites writes;
    std::lock_guard lock(mu_);
    for (GroupMember& m : members) {
      m.result = base::OkStatus();
      for (const auto& c : m.batch->conditions()) {
        auto it = records_.find({c.ns, c.key});
        const uint64_t have = it == records_.end() ? 0 : it->second.version;
        if (have != c.version) m.result = base::AbortedError("condition failed");
      }
      if (!m.result.ok()) continue;
      for (const auto& op : m.batch->ops()) {
        Record& r = records_[KeyOf(op)];
        r.value = op.value;
        ++r.version;
      }
    }
    ++writes.writes;
    for (const Key& k : keys) active_.erase(k);
    --in_flight_;
    return writes;
  }

  // Makes the next group that touches (ns, key) wait inside CommitGroup for Release(); returns
  // once a committer is waiting there (after the caller submitted such a batch: WaitHeld()).
  void HoldOn(Namespace ns, std::string key) { hold_.emplace(ns, std::move(key)); }
  void WaitHeld() { entered_.Wait(); }
  void Release() { release_.Open(); }
  void PauseEachGroup(std::chrono::microseconds pause) { pause_ = pause; }

  int overlaps() const {
    std::lock_guard lock(mu_);
    return overlaps_;
  }
  int max_in_flight() const {
    std::lock_guard lock(mu_);
    return max_in_flight_;
  }

 private:
  using Key = std::pair<Namespace, std::string>;
  static Key KeyOf(const WriteBatch::Op& op) {
    return {op.ns, op.kind == WriteBatch::OpKind::kAppend ? std::string(kLogCounterKey) : op.key};
  }

  mutable std::mutex mu_;
  std::map<Key, Record> records_;
  std::set<Key> active_;
  int overlaps_ = 0, in_flight_ = 0, max_in_flight_ = 0;
  std::optional<Key> hold_;
  Gate entered_, release_;
  std::chrono::microseconds pause_{0};
};

WriteBatch PutOf(std::string_view key, std::string_view value) {
  WriteBatch b;
  b.Put(Namespace::kState, key, value);
  return b;
}

// A batch submitted with a callback that records its result; `done` tells whether it completed.
struct Pending {
  std::shared_ptr<std::promise<base::Status>> result =
      std::make_shared<std::promise<base::Status>>();
  std::shared_future<base::Status> future = result->get_future().share();
  bool done() const {
    return future.wait_for(std::chrono::milliseconds(0)) == std::future_status::ready;
  }
};

Pending SubmitTo(CommitPipeline& pipeline, WriteBatch batch) {
  Pending p;
  EXPECT_TRUE(pipeline
                  .Submit(std::move(batch), Durability::kDurable,
                          [r = p.result](base::Status s) { r->set_value(std::move(s)); })
                  .ok());
  return p;
}

PipelineOptions InFlight(size_t n) {
  PipelineOptions o;
  o.max_groups_in_flight = n;
  return o;
}

class CommitPipelineTest : public ::testing::Test {
 protected:
  // A pipeline with `in_flight` committers, and `first` submitted to it: its group, which touches
  // (ns, key), is held inside the backend until backend_.Release().
  Pending StartHeld(size_t in_flight, WriteBatch first, Namespace ns, std::string key) {
    pipeline_ = std::make_unique<CommitPipeline>(&backend_, InFlight(in_flight));
    backend_.HoldOn(ns, std::move(key));
    Pending held = SubmitTo(*pipeline_, std::move(first));
    backend_.WaitHeld();
    return held;
  }
  bool CommitNow(WriteBatch batch) {
    return pipeline_->Commit(std::move(batch), Durability::kDurable).ok();
  }

  ConcurrentBackend backend_;
  std::unique_ptr<CommitPipeline> pipeline_;  // destroyed (drained) before the backend
};

TEST_F(CommitPipelineTest, ABatchWithOtherKeysCommitsWhileAGroupIsInFlight) {
  Pending a = StartHeld(2, PutOf("a", "1"), Namespace::kState, "a");
  // The group holding "a" waits on its backend; "b" does not wait for it.
  EXPECT_TRUE(CommitNow(PutOf("b", "1")));
  EXPECT_FALSE(a.done());
  backend_.Release();
  EXPECT_TRUE(a.future.get().ok());
  EXPECT_EQ(backend_.overlaps(), 0);
  EXPECT_EQ(backend_.max_in_flight(), 2);
}

TEST_F(CommitPipelineTest, ABatchThatSharesAKeyWaitsForTheGroupInFlight) {
  Pending first = StartHeld(4, PutOf("a", "1"), Namespace::kState, "a");
  // Decided on the first one's version: correct only if it waits for it.
  WriteBatch next = PutOf("a", "2");
  next.RequireVersion(Namespace::kState, "a", 1);
  Pending second = SubmitTo(*pipeline_, std::move(next));
  // A batch that only checks "a" waits too; one behind them on another key does not.
  WriteBatch check;
  check.RequireVersion(Namespace::kState, "a", 2);
  check.Put(Namespace::kState, "c", "1");
  Pending third = SubmitTo(*pipeline_, std::move(check));
  EXPECT_TRUE(CommitNow(PutOf("d", "1")));
  EXPECT_FALSE(second.done());
  EXPECT_FALSE(third.done());
  backend_.Release();
  EXPECT_TRUE(first.future.get().ok());
  EXPECT_TRUE(second.future.get().ok());
  EXPECT_TRUE(third.future.get().ok());
  EXPECT_EQ(backend_.Read(Namespace::kState, "a")->value(), (Record{"2", 2}));
  EXPECT_EQ(backend_.overlaps(), 0);
}

TEST_F(CommitPipelineTest, AppendsToOneLogWaitForEachOther) {
  WriteBatch one;
  one.AppendToLog(Namespace::kOutbox, "event 1");
  Pending first = StartHeld(4, std::move(one), Namespace::kOutbox, std::string(kLogCounterKey));
  WriteBatch two;
  two.AppendToLog(Namespace::kOutbox, "event 2");
  two.Put(Namespace::kState, "x", "1");
  Pending second = SubmitTo(*pipeline_, std::move(two));
  EXPECT_TRUE(CommitNow(PutOf("y", "1")));
  EXPECT_FALSE(second.done());
  backend_.Release();
  EXPECT_TRUE(first.future.get().ok());
  EXPECT_TRUE(second.future.get().ok());
  EXPECT_EQ(backend_.overlaps(), 0);
}

TEST_F(CommitPipelineTest, ABatchThatWritesNothingWaitsForEveryEarlierBatch) {
  Pending a = StartHeld(4, PutOf("a", "1"), Namespace::kState, "a");
  Pending barrier = SubmitTo(*pipeline_, WriteBatch());
  // Behind the barrier, even a batch with keys of its own waits.
  Pending after = SubmitTo(*pipeline_, PutOf("b", "1"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(barrier.done());
  EXPECT_FALSE(after.done());
  backend_.Release();
  EXPECT_TRUE(a.future.get().ok());
  EXPECT_TRUE(barrier.future.get().ok());
  EXPECT_TRUE(after.future.get().ok());
}

// Many submitters on a few shared keys and many of their own: every batch on a shared key is
// conditional on the version the one before it wrote, so one decided out of order aborts; each
// key's completions come in the order its batches were submitted.
TEST_F(CommitPipelineTest, ManySubmittersKeepEachKeysOrder) {
  ConcurrentBackend& backend = backend_;
  backend.PauseEachGroup(std::chrono::microseconds(300));
  constexpr int kThreads = 8, kPerThread = 300, kShared = 6;
  std::mutex mu;
  std::vector<std::vector<int>> submitted(kShared), completed(kShared);
  std::vector<uint64_t> versions(kShared, 0);
  std::atomic<int> failures{0};
  {
    CommitPipeline pipeline(&backend, InFlight(4));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          const int id = t * kPerThread + i;
          WriteBatch b;
          b.Put(Namespace::kState, "own/" + std::to_string(id), "v");
          if (i % 2 == 0) {
            ASSERT_TRUE(pipeline
                            .Submit(std::move(b), Durability::kDurable,
                                    [&](base::Status s) {
                                      if (!s.ok()) failures.fetch_add(1);
                                    })
                            .ok());
            continue;
          }
          const int k = (t + i) % kShared;
          std::lock_guard lock(mu);  // submission order of key k = the order of `submitted[k]`
          b.RequireVersion(Namespace::kState, "shared/" + std::to_string(k), versions[k]);
          b.Put(Namespace::kState, "shared/" + std::to_string(k), std::to_string(id));
          ++versions[k];
          submitted[k].push_back(id);
          ASSERT_TRUE(pipeline
                          .Submit(std::move(b), Durability::kDurable,
                                  [&, k, id](base::Status s) {
                                    if (!s.ok()) failures.fetch_add(1);
                                    std::lock_guard done_lock(mu);
                                    completed[k].push_back(id);
                                  })
                          .ok());
        }
      });
    }
    for (auto& th : threads) th.join();
  }  // Close() drains
  EXPECT_EQ(failures.load(), 0);
  for (int k = 0; k < kShared; ++k) {
    EXPECT_EQ(completed[k], submitted[k]) << "key shared/" << k;
    EXPECT_EQ(backend.Read(Namespace::kState, "shared/" + std::to_string(k))->value().version,
              versions[k]);
  }
  EXPECT_EQ(backend.overlaps(), 0);
  EXPECT_GE(backend.max_in_flight(), 2);  // groups did overlap in time
}

TEST_F(CommitPipelineTest, ALocalBackendKeepsOneCommitter) {
  MemoryStore store(InFlight(4));
  auto release = testing::BlockCommitter(store);
  Pending other;
  ASSERT_TRUE(store
                  .Submit(PutOf("b", "1"), Durability::kDurable,
                          [r = other.result](base::Status s) { r->set_value(std::move(s)); })
                  .ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(other.done());  // no second committer took it
  release->Open();
  EXPECT_TRUE(other.future.get().ok());
}

}  // namespace
}  // namespace otpd::storage
