// The Store contract, run against every implementation: MemoryStore, the RocksDB store and, when
// the build has it, the etcd store on a real 3-member etcd cluster started by the test.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "storage/memory_store.h"
#include "storage/rocksdb/rocksdb_store.h"
#include "tests/storage/test_util.h"
#ifdef OTPD_HAVE_ETCD
#include <unistd.h>

#include "storage/etcd/etcd_store.h"
#include "tests/testing/etcd_cluster.h"
#endif

namespace otpd::storage {
namespace {

using testing::Gate;
using testing::TempDir;

enum class Backend { kMemory, kRocksDb, kEtcd };

struct StoreKind {
  std::string name;
  Backend backend;
  friend void PrintTo(const StoreKind& kind, std::ostream* os) { *os << kind.name; }
};

class StoreContractTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
#ifdef OTPD_HAVE_ETCD
    if (GetParam().backend == Backend::kEtcd) {
      if (otpd::testing::EtcdCluster::Binary().empty()) {
        GTEST_SKIP() << otpd::testing::kEtcdMissing;
      }
      std::string error;
      etcd_ = otpd::testing::SharedEtcdCluster(&error);
      ASSERT_NE(etcd_, nullptr) << error;
    }
#endif
    store_ = Make(PipelineOptions{});
  }

  std::unique_ptr<PipelinedStore> Make(PipelineOptions p) {
    store_.reset();  // releases the directory's lock before reopening
    if (GetParam().backend == Backend::kMemory) return std::make_unique<MemoryStore>(p);
#ifdef OTPD_HAVE_ETCD
    if (GetParam().backend == Backend::kEtcd) {
      // A key space of its own for every store the test makes.
      static int stores = 0;
      EtcdOptions o;
      o.connection.endpoints = etcd_->endpoints();
      o.prefix = "/contract/" + std::to_string(getpid()) + "-" + std::to_string(++stores) + "/";
      o.max_queue = p.max_queue;
      o.max_group_bytes = p.max_group_bytes;
      o.max_group_batches = p.max_group_batches;
      auto store = EtcdStore::Open(o);
      EXPECT_TRUE(store.ok()) << store.status();
      return std::move(store).value();
    }
#endif
    RocksDbOptions o;
    o.path = dir_.File("db");
    o.max_queue = p.max_queue;
    o.max_batch_bytes = p.max_group_bytes;
    o.max_group_batches = p.max_group_batches;
    o.block_cache_bytes = 8 << 20;
    auto store = RocksDbStore::Open(o);
    EXPECT_TRUE(store.ok()) << store.status();
    return std::move(store).value();
  }

  base::Status Put(Namespace ns, std::string_view key, std::string_view value) {
    WriteBatch b;
    b.Put(ns, key, value);
    return store_->Commit(std::move(b), Durability::kDurable);
  }

  std::optional<Record> GetOrDie(Namespace ns, std::string_view key) {
    auto r = store_->Get(ns, key);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::nullopt;
  }

  std::vector<std::string> ScanKeys(Namespace ns, std::string_view prefix) {
    std::vector<std::string> keys;
    EXPECT_TRUE(store_
                    ->Scan(ns, prefix,
                           [&](std::string_view key, const Record&) {
                             keys.emplace_back(key);
                             return true;
                           })
                    .ok());
    return keys;
  }

  // Submits a batch whose callback blocks the committer until the returned gate opens, and waits
  // until the committer is inside that callback. Everything submitted meanwhile queues up.
  std::shared_ptr<Gate> BlockCommitter() {
    auto release = std::make_shared<Gate>();
    auto entered = std::make_shared<Gate>();
    EXPECT_TRUE(store_
                    ->Submit(WriteBatch(), Durability::kRelaxed,
                             [release, entered](base::Status) {
                               entered->Open();
                               release->Wait();
                             })
                    .ok());
    entered->Wait();
    return release;
  }

  TempDir dir_;
#ifdef OTPD_HAVE_ETCD
  otpd::testing::EtcdCluster* etcd_ = nullptr;
#endif
  std::unique_ptr<PipelinedStore> store_;
};

TEST_P(StoreContractTest, PutGetAndVersions) {
  auto missing = store_->Get(Namespace::kUsers, "alice");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(Put(Namespace::kUsers, "alice", "v-one").ok());
  EXPECT_EQ(GetOrDie(Namespace::kUsers, "alice"), (Record{"v-one", 1}));
  ASSERT_TRUE(Put(Namespace::kUsers, "alice", "v-two").ok());
  EXPECT_EQ(GetOrDie(Namespace::kUsers, "alice"), (Record{"v-two", 2}));
  // Namespaces are separate key spaces.
  EXPECT_FALSE(GetOrDie(Namespace::kMethods, "alice").has_value());
  // Binary keys and values, including NUL bytes and an empty value.
  std::string key("k\0ey", 4), value("\0\xff\x01", 3);
  ASSERT_TRUE(Put(Namespace::kState, key, value).ok());
  EXPECT_EQ(GetOrDie(Namespace::kState, key), (Record{value, 1}));
  ASSERT_TRUE(Put(Namespace::kState, "empty", "").ok());
  EXPECT_EQ(GetOrDie(Namespace::kState, "empty"), (Record{"", 1}));
}

TEST_P(StoreContractTest, PutsInOneBatchApplyInOrder) {
  WriteBatch b;
  b.Put(Namespace::kState, "c", "first");
  b.Put(Namespace::kState, "c", "second");
  b.Delete(Namespace::kState, "gone");
  ASSERT_TRUE(store_->Commit(std::move(b), Durability::kDurable).ok());
  EXPECT_EQ(GetOrDie(Namespace::kState, "c"), (Record{"second", 2}));

  // Changes of one key interleaved with others (which a backend may reorder among themselves).
  WriteBatch mixed;
  mixed.Put(Namespace::kState, "m", "1");
  mixed.Put(Namespace::kUsers, "a", "x");
  mixed.Delete(Namespace::kState, "m");
  mixed.Put(Namespace::kState, "b", "y");
  mixed.Put(Namespace::kState, "m", "3");
  mixed.Put(Namespace::kState, "z", "1");
  mixed.Delete(Namespace::kState, "z");
  ASSERT_TRUE(store_->Commit(std::move(mixed), Durability::kDurable).ok());
  EXPECT_EQ(GetOrDie(Namespace::kState, "m"), (Record{"3", 1}));
  EXPECT_EQ(GetOrDie(Namespace::kState, "b"), (Record{"y", 1}));
  EXPECT_EQ(GetOrDie(Namespace::kUsers, "a"), (Record{"x", 1}));
  auto z = store_->Get(Namespace::kState, "z");
  ASSERT_TRUE(z.ok());
  EXPECT_FALSE(z->has_value());
}

TEST_P(StoreContractTest, DeleteRemovesRecordAndVersionRestarts) {
  ASSERT_TRUE(Put(Namespace::kTokens, "s1", "a").ok());
  ASSERT_TRUE(Put(Namespace::kTokens, "s1", "b").ok());
  WriteBatch del;
  del.Delete(Namespace::kTokens, "s1");
  ASSERT_TRUE(store_->Commit(std::move(del), Durability::kDurable).ok());
  EXPECT_FALSE(GetOrDie(Namespace::kTokens, "s1").has_value());
  ASSERT_TRUE(Put(Namespace::kTokens, "s1", "c").ok());
  EXPECT_EQ(GetOrDie(Namespace::kTokens, "s1"), (Record{"c", 1}));
}

TEST_P(StoreContractTest, ScanIsOrderedAndBoundedByPrefix) {
  const std::vector<std::string> keys = {"b",      "ab",  "a",  "ab\xff\xff",          "ac",
                                         "ab\xff", "abc", "aa", std::string("ab\0", 3)};
  WriteBatch batch;
  for (const auto& k : keys) batch.Put(Namespace::kSessions, k, "v:" + k);
  batch.Put(Namespace::kAudit, "ab-other-namespace", "x");
  ASSERT_TRUE(store_->Commit(std::move(batch), Durability::kRelaxed).ok());

  EXPECT_EQ(
      ScanKeys(Namespace::kSessions, "ab"),
      (std::vector<std::string>{"ab", std::string("ab\0", 3), "abc", "ab\xff", "ab\xff\xff"}));
  EXPECT_EQ(ScanKeys(Namespace::kSessions, "ab\xff"),
            (std::vector<std::string>{"ab\xff", "ab\xff\xff"}));
  EXPECT_EQ(ScanKeys(Namespace::kSessions, ""),
            (std::vector<std::string>{"a", "aa", "ab", std::string("ab\0", 3), "abc", "ab\xff",
                                      "ab\xff\xff", "ac", "b"}));
  EXPECT_TRUE(ScanKeys(Namespace::kSessions, "zz").empty());

  // Early stop, and the record passed along.
  std::vector<std::string> seen;
  ASSERT_TRUE(store_
                  ->Scan(Namespace::kSessions, "a",
                         [&](std::string_view key, const Record& r) {
                           EXPECT_EQ(r.value, "v:" + std::string(key));
                           EXPECT_EQ(r.version, 1u);
                           seen.emplace_back(key);
                           return seen.size() < 2;
                         })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "aa"}));

  // ScanFrom resumes inside the prefix.
  seen.clear();
  ASSERT_TRUE(store_
                  ->ScanFrom(Namespace::kSessions, "ab", "abc",
                             [&](std::string_view key, const Record&) {
                               seen.emplace_back(key);
                               return true;
                             })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"abc", "ab\xff", "ab\xff\xff"}));
}

TEST_P(StoreContractTest, ScanCallbackMaySubmitWrites) {
  for (int i = 0; i < 600; ++i)
    ASSERT_TRUE(Put(Namespace::kOutbox, "e" + std::to_string(1000 + i), "x").ok());
  std::atomic<int> done{0};
  int visited = 0;
  ASSERT_TRUE(store_
                  ->Scan(Namespace::kOutbox, "e",
                         [&](std::string_view key, const Record&) {
                           ++visited;
                           WriteBatch b;
                           b.Delete(Namespace::kOutbox, key);
                           EXPECT_TRUE(store_
                                           ->Submit(std::move(b), Durability::kRelaxed,
                                                    [&](base::Status s) {
                                                      EXPECT_TRUE(s.ok()) << s;
                                                      done.fetch_add(1);
                                                    })
                                           .ok());
                           return true;
                         })
                  .ok());
  EXPECT_EQ(visited, 600);
  ASSERT_TRUE(store_->Commit(WriteBatch(), Durability::kDurable).ok());  // barrier
  EXPECT_EQ(done.load(), 600);
  EXPECT_TRUE(ScanKeys(Namespace::kOutbox, "").empty());
}

TEST_P(StoreContractTest, RequireVersionCommitsOnlyOnMatch) {
  ASSERT_TRUE(Put(Namespace::kState, "cred", "w1").ok());  // version 1

  WriteBatch stale;
  stale.RequireVersion(Namespace::kState, "cred", 7);
  stale.Put(Namespace::kState, "cred", "w-stale");
  stale.Put(Namespace::kAudit, "side-effect", "must not appear");
  base::Status s = store_->Commit(std::move(stale), Durability::kDurable);
  EXPECT_TRUE(base::IsAborted(s)) << s;
  EXPECT_EQ(GetOrDie(Namespace::kState, "cred"), (Record{"w1", 1}));
  EXPECT_FALSE(GetOrDie(Namespace::kAudit, "side-effect").has_value());

  WriteBatch must_not_exist;
  must_not_exist.RequireVersion(Namespace::kState, "cred", 0);
  must_not_exist.Put(Namespace::kAudit, "side-effect", "x");
  EXPECT_TRUE(base::IsAborted(store_->Commit(std::move(must_not_exist), Durability::kDurable)));
  EXPECT_FALSE(GetOrDie(Namespace::kAudit, "side-effect").has_value());

  WriteBatch fresh;
  fresh.RequireVersion(Namespace::kState, "new-cred", 0);
  fresh.Put(Namespace::kState, "new-cred", "w0");
  ASSERT_TRUE(store_->Commit(std::move(fresh), Durability::kDurable).ok());

  WriteBatch current;
  current.RequireVersion(Namespace::kState, "cred", 1);
  current.RequireVersion(Namespace::kState, "new-cred", 1);
  current.Put(Namespace::kState, "cred", "w2");
  ASSERT_TRUE(store_->Commit(std::move(current), Durability::kDurable).ok());
  EXPECT_EQ(GetOrDie(Namespace::kState, "cred"), (Record{"w2", 2}));
}

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

TEST_P(StoreContractTest, InsertWritesVersionOneAndMixesWithPuts) {
  WriteBatch b;
  b.Insert(Namespace::kAudit, "a1", "first");
  b.Put(Namespace::kState, "hot", "h1");
  b.Insert(Namespace::kOutbox, "e1", "event");
  ASSERT_TRUE(store_->Commit(std::move(b), Durability::kDurable).ok());
  EXPECT_EQ(GetOrDie(Namespace::kAudit, "a1"), (Record{"first", 1}));
  EXPECT_EQ(GetOrDie(Namespace::kOutbox, "e1"), (Record{"event", 1}));
  // A later ordinary put of an inserted key still sees its version.
  WriteBatch update;
  update.RequireVersion(Namespace::kOutbox, "e1", 1);
  update.Put(Namespace::kOutbox, "e1", "delivered");
  ASSERT_TRUE(store_->Commit(std::move(update), Durability::kDurable).ok());
  EXPECT_EQ(GetOrDie(Namespace::kOutbox, "e1"), (Record{"delivered", 2}));
  // Inside one group too: a condition on a key inserted by an earlier batch of the group holds.
  auto release = BlockCommitter();
  std::vector<base::Status> results(2, base::UnknownError("not called"));
  WriteBatch insert;
  insert.Insert(Namespace::kOutbox, "e2", "x");
  ASSERT_TRUE(store_
                  ->Submit(std::move(insert), Durability::kRelaxed,
                           [&results](base::Status s) { results[0] = std::move(s); })
                  .ok());
  WriteBatch follow;
  follow.RequireVersion(Namespace::kOutbox, "e2", 1);
  follow.Put(Namespace::kOutbox, "e2", "y");
  ASSERT_TRUE(store_
                  ->Submit(std::move(follow), Durability::kRelaxed,
                           [&results](base::Status s) { results[1] = std::move(s); })
                  .ok());
  release->Open();
  ASSERT_TRUE(store_->Commit(WriteBatch(), Durability::kDurable).ok());
  EXPECT_TRUE(results[0].ok()) << results[0];
  EXPECT_TRUE(results[1].ok()) << results[1];
  EXPECT_EQ(GetOrDie(Namespace::kOutbox, "e2"), (Record{"y", 2}));
}

TEST_P(StoreContractTest, AppendKeepsOrderAndConditions) {
  ASSERT_TRUE(Put(Namespace::kUsers, "u", "1").ok());
  WriteBatch first;
  first.Put(Namespace::kState, "k", "a");
  WriteBatch second;
  second.RequireVersion(Namespace::kUsers, "u", 2);  // does not hold: the whole batch aborts
  second.Put(Namespace::kState, "k", "b");
  first.Append(std::move(second));
  EXPECT_TRUE(second.empty());
  EXPECT_EQ(first.size(), 3u);
  EXPECT_TRUE(base::IsAborted(store_->Commit(first, Durability::kDurable)));
  EXPECT_FALSE(GetOrDie(Namespace::kState, "k").has_value());

  WriteBatch ok;
  ok.Put(Namespace::kState, "k", "a");
  WriteBatch later;
  later.RequireVersion(Namespace::kUsers, "u", 1);
  later.Put(Namespace::kState, "k", "b");
  ok.Append(std::move(later));
  ASSERT_TRUE(store_->Commit(std::move(ok), Durability::kDurable).ok());
  EXPECT_EQ(GetOrDie(Namespace::kState, "k"), (Record{"b", 2}));
}

TEST_P(StoreContractTest, ScanReturnsTheCallbacksError) {
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(Put(Namespace::kMeta, "s/" + std::to_string(i), "v").ok());
  int visited = 0;
  base::Status s = store_->Scan(Namespace::kMeta, "s/",
                                [&](std::string_view, const Record&) -> base::StatusOr<bool> {
                                  if (++visited == 3) return base::DataLossError("bad record");
                                  return true;
                                });
  EXPECT_TRUE(base::IsDataLoss(s)) << s;
  EXPECT_EQ(visited, 3);
  visited = 0;
  s = store_->ScanFrom(Namespace::kMeta, "s/", "s/5",
                       [&](std::string_view, const Record&) -> base::StatusOr<bool> {
                         ++visited;
                         return base::NotFoundError("stop");
                       });
  EXPECT_TRUE(base::IsNotFound(s)) << s;
  EXPECT_EQ(visited, 1);
}

TEST_P(StoreContractTest, ConcurrentCompareAndSetLosesNoUpdate) {
  constexpr int kThreads = 4, kIncrements = 60;
  std::vector<std::thread> threads;
  std::atomic<int> conflicts{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIncrements;) {
        auto current = store_->Get(Namespace::kState, "counter");
        ASSERT_TRUE(current.ok());
        uint64_t version = current->has_value() ? (*current)->version : 0;
        int value = current->has_value() ? std::stoi((*current)->value) : 0;
        WriteBatch b;
        b.RequireVersion(Namespace::kState, "counter", version);
        b.Put(Namespace::kState, "counter", std::to_string(value + 1));
        b.Put(Namespace::kAudit, "t" + std::to_string(t) + "-" + std::to_string(i), "inc");
        base::Status s =
            store_->Commit(std::move(b), i % 2 ? Durability::kDurable : Durability::kRelaxed);
        if (base::IsAborted(s)) {
          conflicts.fetch_add(1);
          continue;
        }
        ASSERT_TRUE(s.ok()) << s;
        ++i;
      }
    });
  }
  for (auto& th : threads) th.join();
  auto counter = GetOrDie(Namespace::kState, "counter");
  ASSERT_TRUE(counter.has_value());
  EXPECT_EQ(counter->value, std::to_string(kThreads * kIncrements));
  EXPECT_EQ(counter->version, static_cast<uint64_t>(kThreads * kIncrements));
  EXPECT_EQ(ScanKeys(Namespace::kAudit, "t").size(), static_cast<size_t>(kThreads * kIncrements));
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

TEST_P(StoreContractTest, InvalidNamespaceIsRejected) {
  WriteBatch b;
  b.Put(static_cast<Namespace>(42), "k", "v");
  b.Put(Namespace::kUsers, "k", "v");
  EXPECT_TRUE(base::IsInvalidArgument(store_->Commit(std::move(b), Durability::kDurable)));
  EXPECT_FALSE(GetOrDie(Namespace::kUsers, "k").has_value());
  EXPECT_TRUE(base::IsInvalidArgument(store_->Get(static_cast<Namespace>(9), "k").status()));
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

INSTANTIATE_TEST_SUITE_P(AllStores, StoreContractTest,
                         ::testing::Values(StoreKind{"Memory", Backend::kMemory},
                                           StoreKind{"RocksDb", Backend::kRocksDb}
#ifdef OTPD_HAVE_ETCD
                                           ,
                                           StoreKind{"Etcd", Backend::kEtcd}
#endif
                                           ),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace otpd::storage
