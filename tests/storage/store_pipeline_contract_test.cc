// The Store contract's commit pipeline and log, run against every store by the instantiation in
// store_contract_test.cc: batches grouped behind a busy committer, completions on the committer's
// thread, the bounded queue, concurrent submitters, close, and log numbers without gaps.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/storage/store_contract_env.h"

namespace otpd::storage {
namespace {

using testing::Backend;
using testing::StoreContractTest;

TEST_P(StoreContractTest, ConditionsSeeEarlierBatchesOfTheSameGroup) {
  auto before = store_->pipeline_stats();
  auto release = BlockCommitter();
  std::vector<base::Status> results(4, base::UnknownError("not called"));
  auto submit = [&](int i, WriteBatch b) {
    EXPECT_TRUE(store_
                    ->Submit(std::move(b), i % 2 ? Durability::kDurable : Durability::kRelaxed,
                             [&results, i](base::Status s) { results[i] = std::move(s); })
                    .ok());
  };
  WriteBatch create;  // creates k (version 1)
  create.RequireVersion(Namespace::kState, "k", 0);
  create.Put(Namespace::kState, "k", "created");
  submit(0, std::move(create));
  WriteBatch second_create;  // same condition, but k exists once batch 0 is in the group
  second_create.RequireVersion(Namespace::kState, "k", 0);
  second_create.Put(Namespace::kState, "k", "clobbered");
  second_create.Put(Namespace::kState, "other", "must not appear");
  submit(1, std::move(second_create));
  WriteBatch update;  // sees version 1 from batch 0
  update.RequireVersion(Namespace::kState, "k", 1);
  update.Put(Namespace::kState, "k", "updated");
  submit(2, std::move(update));
  WriteBatch unrelated;
  unrelated.Put(Namespace::kUsers, "bob", "b");
  submit(3, std::move(unrelated));
  std::promise<base::Status> barrier;  // an empty durable batch: in the same group
  ASSERT_TRUE(store_
                  ->Submit(WriteBatch(), Durability::kDurable,
                           [&](base::Status s) { barrier.set_value(std::move(s)); })
                  .ok());
  release->Open();
  ASSERT_TRUE(barrier.get_future().get().ok());

  EXPECT_TRUE(results[0].ok()) << results[0];
  EXPECT_TRUE(base::IsAborted(results[1])) << results[1];
  EXPECT_TRUE(results[2].ok()) << results[2];
  EXPECT_TRUE(results[3].ok()) << results[3];
  EXPECT_EQ(GetOrDie(Namespace::kState, "k"), (Record{"updated", 2}));
  EXPECT_FALSE(GetOrDie(Namespace::kState, "other").has_value());
  EXPECT_EQ(GetOrDie(Namespace::kUsers, "bob"), (Record{"b", 1}));
  // Everything queued behind the blocker went to the backend as ONE group: one write, one fsync.
  // (The blocker itself wrote nothing.)
  auto after = store_->pipeline_stats();
  EXPECT_EQ(after.groups - before.groups, 1u);
  EXPECT_EQ(after.syncs - before.syncs, 1u);
  EXPECT_EQ(after.aborted - before.aborted, 1u);
}

TEST_P(StoreContractTest, SubmitCompletesOnTheCommitterThread) {
  std::promise<std::thread::id> where;
  WriteBatch b;
  b.Put(Namespace::kState, "x", "1");
  ASSERT_TRUE(store_
                  ->Submit(std::move(b), Durability::kDurable,
                           [&](base::Status s) {
                             EXPECT_TRUE(s.ok()) << s;
                             where.set_value(std::this_thread::get_id());
                           })
                  .ok());
  auto id = where.get_future().get();
  EXPECT_NE(id, std::this_thread::get_id());
  EXPECT_EQ(GetOrDie(Namespace::kState, "x"), (Record{"1", 1}));
}

TEST_P(StoreContractTest, FullQueueRefusesWithoutBlockingOrCallingBack) {
  PipelineOptions p;
  p.max_queue = 4;
  store_ = Make(p);
  auto release = BlockCommitter();
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    WriteBatch b;
    b.Put(Namespace::kState, "q" + std::to_string(i), "v");
    EXPECT_TRUE(store_
                    ->Submit(std::move(b), Durability::kDurable,
                             [&](base::Status s) {
                               EXPECT_TRUE(s.ok()) << s;
                               ok.fetch_add(1);
                             })
                    .ok());
  }
  EXPECT_EQ(ok.load(), 0);  // queued behind the blocked committer

  std::atomic<bool> called{false};
  auto start = std::chrono::steady_clock::now();
  WriteBatch extra;
  extra.Put(Namespace::kState, "overflow", "v");
  base::Status rejected =
      store_->Submit(std::move(extra), Durability::kDurable, [&](base::Status) { called = true; });
  EXPECT_TRUE(base::IsResourceExhausted(rejected)) << rejected;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));

  // Commit() waits for space instead of failing.
  std::thread blocking([&] {
    WriteBatch b;
    b.Put(Namespace::kState, "waited", "v");
    EXPECT_TRUE(store_->Commit(std::move(b), Durability::kDurable).ok());
  });
  release->Open();
  blocking.join();
  ASSERT_TRUE(store_->Commit(WriteBatch(), Durability::kDurable).ok());
  EXPECT_EQ(ok.load(), 4);
  EXPECT_FALSE(GetOrDie(Namespace::kState, "overflow").has_value());
  EXPECT_TRUE(GetOrDie(Namespace::kState, "waited").has_value());
  EXPECT_FALSE(called.load()) << "a refused batch's callback must never run";
}

TEST_P(StoreContractTest, ConcurrentAsyncSubmittersAllComplete) {
  constexpr int kThreads = 8, kPerThread = 150;
  std::atomic<int> completed{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        WriteBatch b;
        b.Put(Namespace::kState, "t" + std::to_string(t), std::to_string(i));
        EXPECT_TRUE(
            store_
                ->Submit(std::move(b), Durability::kDurable,
                         [&](base::Status s) { (s.ok() ? completed : failed).fetch_add(1); })
                .ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(store_->Commit(WriteBatch(), Durability::kDurable).ok());
  EXPECT_EQ(completed.load(), kThreads * kPerThread);
  EXPECT_EQ(failed.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    // Per-submitter order is preserved: the last value wins and every put counted.
    EXPECT_EQ(GetOrDie(Namespace::kState, "t" + std::to_string(t)),
              (Record{std::to_string(kPerThread - 1), kPerThread}));
  }
  EXPECT_LT(store_->pipeline_stats().groups, static_cast<uint64_t>(kThreads * kPerThread));
}

// With several groups allowed in flight (etcd commits them at once; a local store keeps one
// committer), each key's batches are still decided in submission order: every batch on a shared
// key is conditional on the version the one before it wrote, beside batches of unrelated keys.
TEST_P(StoreContractTest, SeveralGroupsInFlightDecideEachKeyInOrder) {
  PipelineOptions p;
  p.max_groups_in_flight = 4;
  store_ = Make(p);
  constexpr int kThreads = 6, kPerThread = 60, kShared = 3;
  std::mutex mu;
  std::vector<uint64_t> versions(kShared, 0);
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        WriteBatch b;
        b.Put(Namespace::kState, "own/" + std::to_string(t) + "/" + std::to_string(i), "v");
        const int k = (t + i) % kShared;
        const std::string key = "shared/" + std::to_string(k);
        std::lock_guard lock(mu);
        b.RequireVersion(Namespace::kState, key, versions[k]++);
        b.Put(Namespace::kState, key, std::to_string(t));
        ASSERT_TRUE(store_
                        ->Submit(std::move(b), Durability::kDurable,
                                 [&](base::Status s) {
                                   if (!s.ok()) failed.fetch_add(1);
                                 })
                        .ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  store_->Close();
  EXPECT_EQ(failed.load(), 0);
  for (int k = 0; k < kShared; ++k) {
    auto r = GetOrDie(Namespace::kState, "shared/" + std::to_string(k));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->version, versions[k]);
  }
  EXPECT_EQ(ScanKeys(Namespace::kState, "own/").size(), size_t{kThreads * kPerThread});
}

TEST_P(StoreContractTest, CloseDrainsQueueThenRefuses) {
  auto release = BlockCommitter();
  std::atomic<int> ok{0};
  for (int i = 0; i < 50; ++i) {
    WriteBatch b;
    b.Put(Namespace::kOutbox, "e" + std::to_string(i), "v");
    EXPECT_TRUE(store_
                    ->Submit(std::move(b), Durability::kDurable,
                             [&](base::Status s) {
                               if (s.ok()) ok.fetch_add(1);
                             })
                    .ok());
  }
  std::thread closer([&] { store_->Close(); });
  // Once shutdown has started, new work is refused at once, without a callback. Probe until it
  // has. Probes accepted before the shutdown complete later, on the drain thread: each owns its
  // flag, so nothing here is touched after this loop.
  base::Status refused;
  auto refused_called = std::make_shared<std::atomic<bool>>(false);
  for (int i = 0; i < 5000 && refused.ok(); ++i) {
    WriteBatch late;
    late.Put(Namespace::kOutbox, "late", "v");
    auto called = std::make_shared<std::atomic<bool>>(false);
    refused = store_->Submit(std::move(late), Durability::kDurable,
                             [called](base::Status) { called->store(true); });
    if (refused.ok()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    } else {
      refused_called = called;
    }
  }
  EXPECT_TRUE(base::IsUnavailable(refused)) << refused;
  release->Open();
  closer.join();
  EXPECT_FALSE(refused_called->load()) << "a refused batch's callback must never run";
  EXPECT_EQ(ok.load(), 50);
  WriteBatch after;
  after.Put(Namespace::kOutbox, "after", "v");
  EXPECT_TRUE(base::IsUnavailable(store_->Commit(std::move(after), Durability::kDurable)));
  // Reads still work and see everything that was drained.
  EXPECT_EQ(ScanKeys(Namespace::kOutbox, "e").size(), 50u);
}

TEST_P(StoreContractTest, CommitFromACallbackIsRefused) {
  std::promise<base::Status> inner;
  ASSERT_TRUE(store_
                  ->Submit(WriteBatch(), Durability::kRelaxed,
                           [&](base::Status) {
                             inner.set_value(store_->Commit(WriteBatch(), Durability::kRelaxed));
                           })
                  .ok());
  base::Status s = inner.get_future().get();
  EXPECT_TRUE(base::IsFailedPrecondition(s)) << s;
}

// Log records get their numbers in commit order, from 1, and without gaps: a batch that aborts
// gives its number back, and the next committed record takes it.
TEST_P(StoreContractTest, LogNumbersFollowCommitOrderWithoutGaps) {
  auto append = [&](std::string value, uint64_t require_version) {
    WriteBatch b;
    b.RequireVersion(Namespace::kUsers, "fence", require_version);
    b.AppendToLog(Namespace::kOutbox, value);
    b.AppendToLog(Namespace::kOutbox, value + "+");
    return store_->Commit(std::move(b), Durability::kDurable);
  };
  ASSERT_TRUE(append("a", 0).ok());
  EXPECT_TRUE(base::IsAborted(append("lost", 7)));  // its numbers (3, 4) are given back
  ASSERT_TRUE(append("b", 0).ok());
  std::vector<std::pair<uint64_t, std::string>> log;
  ASSERT_TRUE(store_
                  ->Scan(Namespace::kOutbox, "",
                         [&](std::string_view key, const Record& r) -> base::StatusOr<bool> {
                           if (auto n = ParseLogKey(key)) {
                             EXPECT_EQ(r.version, 1u);
                             log.emplace_back(*n, r.value);
                           }
                           return true;
                         })
                  .ok());
  using Entry = std::pair<uint64_t, std::string>;
  EXPECT_EQ(log, (std::vector<Entry>{{1, "a"}, {2, "a+"}, {3, "b"}, {4, "b+"}}));
  auto counter = GetOrDie(Namespace::kOutbox, kLogCounterKey);
  ASSERT_TRUE(counter.has_value());
  EXPECT_EQ(ParseLogCounter(counter->value), 4u);

  // The counter outlives the process: a reopened store goes on from it (a MemoryStore is new
  // when made again: there is nothing to reopen).
  if (GetParam().backend != Backend::kRocksDb) return;
  store_ = Make(PipelineOptions{});
  ASSERT_TRUE(append("c", 0).ok());
  EXPECT_EQ(GetOrDie(Namespace::kOutbox, LogKey(5)).value_or(Record{}).value, "c");
  EXPECT_EQ(GetOrDie(Namespace::kOutbox, LogKey(6)).value_or(Record{}).value, "c+");
  EXPECT_FALSE(GetOrDie(Namespace::kOutbox, LogKey(7)).has_value());
}

// Many writers at once, some of whose batches abort: a reader walking the log from its cursor
// never finds a number missing below one it has seen (no record is committed "late" behind the
// cursor), and at the end every committed record is there exactly once.
TEST_P(StoreContractTest, ALogReaderNeverSkipsARecordThatCommittedLate) {
  constexpr int kWriters = 4, kPerWriter = 300;
  std::atomic<bool> done{false};
  std::atomic<int> committed{0};
  uint64_t cursor = 0;
  bool gap = false;
  std::thread reader([&] {
    while (!done.load() || cursor < static_cast<uint64_t>(committed.load())) {
      (void)store_->ScanFrom(Namespace::kOutbox, "", LogKey(cursor + 1),
                             [&](std::string_view key, const Record&) -> base::StatusOr<bool> {
                               auto n = ParseLogKey(key);
                               if (!n) return false;
                               if (*n != cursor + 1) gap = true;
                               cursor = *n;
                               return true;
                             });
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        WriteBatch b;
        const bool doomed = i % 7 == 3;
        b.RequireVersion(Namespace::kUsers, "w" + std::to_string(w), doomed ? 99 : 0);
        b.AppendToLog(Namespace::kOutbox, std::to_string(w) + "/" + std::to_string(i));
        std::promise<base::Status> p;
        ASSERT_TRUE(store_
                        ->Submit(std::move(b), i % 2 ? Durability::kRelaxed : Durability::kDurable,
                                 [&p](base::Status s) { p.set_value(s); })
                        .ok());
        base::Status s = p.get_future().get();
        EXPECT_EQ(s.ok(), !doomed) << s;
        if (s.ok()) committed.fetch_add(1);
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  reader.join();
  EXPECT_FALSE(gap);
  EXPECT_EQ(cursor, static_cast<uint64_t>(committed.load()));
  // Per writer, the records are in the order that writer committed them.
  std::vector<int> last(kWriters, -1);
  ASSERT_TRUE(store_
                  ->Scan(Namespace::kOutbox, "",
                         [&](std::string_view key, const Record& r) -> base::StatusOr<bool> {
                           if (!ParseLogKey(key)) return true;
                           const size_t slash = r.value.find('/');
                           const int w = std::stoi(r.value.substr(0, slash));
                           const int i = std::stoi(r.value.substr(slash + 1));
                           EXPECT_GT(i, last[static_cast<size_t>(w)]);
                           last[static_cast<size_t>(w)] = i;
                           return true;
                         })
                  .ok());
}

}  // namespace
}  // namespace otpd::storage
