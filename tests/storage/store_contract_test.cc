// The Store contract, run against every implementation: MemoryStore, the RocksDB store and, when
// the build has it, the etcd store on a real 3-member etcd cluster started by the test. Here: what
// a commit means (records, versions, conditions) and scans; the commit pipeline and the log are in
// store_pipeline_contract_test.cc. The instantiation at the end runs both files' tests on every
// store.

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "tests/storage/store_contract_env.h"

namespace otpd::storage {
namespace {

using testing::Backend;
using testing::StoreContractTest;
using testing::StoreKind;

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

TEST_P(StoreContractTest, InvalidNamespaceIsRejected) {
  WriteBatch b;
  b.Put(static_cast<Namespace>(42), "k", "v");
  b.Put(Namespace::kUsers, "k", "v");
  EXPECT_TRUE(base::IsInvalidArgument(store_->Commit(std::move(b), Durability::kDurable)));
  EXPECT_FALSE(GetOrDie(Namespace::kUsers, "k").has_value());
  EXPECT_TRUE(base::IsInvalidArgument(store_->Get(static_cast<Namespace>(9), "k").status()));
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
