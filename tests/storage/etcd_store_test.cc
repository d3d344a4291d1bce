// What the etcd store promises beyond the Store contract (which store_contract_test.cc and
// store_pipeline_contract_test.cc run against it): etcd's transaction limits, several writers on
// one cluster, errors when the cluster is gone, the watch, the election helper and the backup. Real
// etcd clusters on loopback, started by the tests.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <thread>

#include "storage/etcd/etcd_election.h"
#include "storage/etcd/etcd_store.h"
#include "tests/storage/test_util.h"
#include "tests/testing/etcd_cluster.h"

namespace otpd::storage {
namespace {

using otpd::testing::EtcdCluster;
using testing::BlockCommitter;
using testing::Gate;

std::string FreshPrefix() {
  static std::atomic<int> n{0};
  return "/t/" + std::to_string(getpid()) + "-" + std::to_string(++n) + "/";
}

EtcdOptions OptionsFor(const EtcdCluster& cluster, const std::string& prefix) {
  EtcdOptions o;
  o.connection.endpoints = cluster.endpoints();
  o.connection.timeout = std::chrono::milliseconds(1500);
  o.prefix = prefix;
  return o;
}

std::unique_ptr<EtcdStore> OpenOrDie(const EtcdOptions& o) {
  auto store = EtcdStore::Open(o);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

class EtcdStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (EtcdCluster::Binary().empty()) GTEST_SKIP() << otpd::testing::kEtcdMissing;
    std::string error;
    cluster_ = otpd::testing::SharedEtcdCluster(&error);
    ASSERT_NE(cluster_, nullptr) << error;
    prefix_ = FreshPrefix();
    store_ = OpenOrDie(OptionsFor(*cluster_, prefix_));
    ASSERT_NE(store_, nullptr);
  }

  std::optional<Record> Get(Store& store, Namespace ns, std::string_view key) {
    auto r = store.Get(ns, key);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::nullopt;
  }

  EtcdCluster* cluster_ = nullptr;
  std::string prefix_;
  std::unique_ptr<EtcdStore> store_;
};

// The shared cluster runs with etcd's default --max-txn-ops of 128. A group of ten 40-put batches
// must go out as several Txns (etcd refuses one with 400 puts), each batch whole.
TEST_F(EtcdStoreTest, LargeGroupsAreSplitIntoTxnsWithoutSplittingABatch) {
  const auto before = store_->pipeline_stats();
  auto release = BlockCommitter(*store_);
  std::vector<std::promise<base::Status>> results(10);
  for (int b = 0; b < 10; ++b) {
    WriteBatch batch;
    for (int i = 0; i < 40; ++i) {
      batch.Put(Namespace::kTokens, "b" + std::to_string(b) + "-" + std::to_string(i), "v");
    }
    ASSERT_TRUE(store_
                    ->Submit(std::move(batch), Durability::kDurable,
                             [&results, b](base::Status s) { results[b].set_value(s); })
                    .ok());
  }
  release->Open();
  for (auto& r : results) {
    base::Status s = r.get_future().get();
    EXPECT_TRUE(s.ok()) << s;
  }
  const auto after = store_->pipeline_stats();
  EXPECT_GE(after.groups - before.groups, 4u);  // 400 puts, at most 3 batches (120) per Txn
  int keys = 0;
  ASSERT_TRUE(store_
                  ->Scan(Namespace::kTokens, "b",
                         [&](std::string_view, const Record& r) {
                           EXPECT_EQ(r.version, 1u);
                           ++keys;
                           return true;
                         })
                  .ok());
  EXPECT_EQ(keys, 400);
}

TEST_F(EtcdStoreTest, ABatchLargerThanOneTxnFailsAloneWithAClearError) {
  auto release = BlockCommitter(*store_);
  std::promise<base::Status> big_result, small_result;
  WriteBatch big;
  for (int i = 0; i < 129; ++i) big.Put(Namespace::kTokens, "big" + std::to_string(i), "v");
  ASSERT_TRUE(store_
                  ->Submit(std::move(big), Durability::kDurable,
                           [&](base::Status s) { big_result.set_value(s); })
                  .ok());
  WriteBatch small;
  small.Put(Namespace::kTokens, "small", "v");
  ASSERT_TRUE(store_
                  ->Submit(std::move(small), Durability::kDurable,
                           [&](base::Status s) { small_result.set_value(s); })
                  .ok());
  release->Open();
  base::Status s = big_result.get_future().get();
  EXPECT_TRUE(base::IsInvalidArgument(s)) << s;
  EXPECT_NE(s.message().find("--max-txn-ops"), std::string::npos) << s;
  EXPECT_TRUE(small_result.get_future().get().ok());
  EXPECT_FALSE(Get(*store_, Namespace::kTokens, "big0").has_value());
  EXPECT_TRUE(Get(*store_, Namespace::kTokens, "small").has_value());

  // Too many bytes for one request (etcd's default --max-request-bytes is 1.5 MiB).
  WriteBatch heavy;
  for (int i = 0; i < 4; ++i) {
    heavy.Put(Namespace::kTokens, "heavy" + std::to_string(i), std::string(512 << 10, 'x'));
  }
  s = store_->Commit(std::move(heavy), Durability::kDurable);
  EXPECT_TRUE(base::IsInvalidArgument(s)) << s;
  EXPECT_NE(s.message().find("--max-request-bytes"), std::string::npos) << s;
  EXPECT_FALSE(Get(*store_, Namespace::kTokens, "heavy0").has_value());
}

// Two stores on one prefix are two otpd nodes. What one knows of a key's state goes stale when
// the other writes it; versions must still count every write, and compare-and-set must still
// lose no update.
TEST_F(EtcdStoreTest, TwoNodesNumberVersionsAndCompareAndSetCorrectly) {
  auto other = OpenOrDie(OptionsFor(*cluster_, prefix_));
  ASSERT_NE(other, nullptr);
  auto put = [](Store& s, std::string_view value) {
    WriteBatch b;
    b.Put(Namespace::kState, "k", value);
    return s.Commit(std::move(b), Durability::kDurable);
  };
  ASSERT_TRUE(put(*store_, "a").ok());  // version 1; store_ knows it
  ASSERT_TRUE(put(*other, "b").ok());   // version 2, behind store_'s back
  ASSERT_TRUE(put(*store_, "c").ok());  // must be 3, not 2
  EXPECT_EQ(Get(*other, Namespace::kState, "k"), (Record{"c", 3}));

  constexpr int kThreads = 2, kIncrements = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads * 2; ++t) {
    Store* s = t % 2 ? static_cast<Store*>(other.get()) : store_.get();
    threads.emplace_back([s] {
      for (int i = 0; i < kIncrements;) {
        auto current = s->Get(Namespace::kState, "counter");
        ASSERT_TRUE(current.ok()) << current.status();
        uint64_t version = current->has_value() ? (*current)->version : 0;
        int value = current->has_value() ? std::stoi((*current)->value) : 0;
        WriteBatch b;
        b.RequireVersion(Namespace::kState, "counter", version);
        b.Put(Namespace::kState, "counter", std::to_string(value + 1));
        base::Status st = s->Commit(std::move(b), Durability::kDurable);
        if (base::IsAborted(st)) continue;
        ASSERT_TRUE(st.ok()) << st;
        ++i;
      }
    });
  }
  for (auto& th : threads) th.join();
  auto counter = Get(*store_, Namespace::kState, "counter");
  ASSERT_TRUE(counter.has_value());
  EXPECT_EQ(counter->value, std::to_string(kThreads * 2 * kIncrements));
  EXPECT_EQ(counter->version, static_cast<uint64_t>(kThreads * 2 * kIncrements));
}

// Two nodes append to the outbox log at once, from several threads each, with batches that abort
// and batches without events in between. The numbers must be 1..N without a gap or a duplicate,
// each batch's records consecutive and in its order, and a reader following a cursor (on a third
// connection) must see every record exactly once, in number order, never one behind its cursor.
TEST_F(EtcdStoreTest, TwoNodesAppendToOneLogWithoutGapsOrDuplicates) {
  auto other = OpenOrDie(OptionsFor(*cluster_, prefix_));
  auto reader_store = OpenOrDie(OptionsFor(*cluster_, prefix_));
  ASSERT_NE(other, nullptr);
  ASSERT_NE(reader_store, nullptr);
  constexpr int kThreadsPerNode = 3, kBatches = 30;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> committed{0};  // records in committed batches
  std::vector<std::string> seen;       // what the reader took, in order
  bool gap = false;
  std::atomic<int64_t> done_at{0};  // steady-clock seconds; the reader gives up 30 s later
  std::thread reader([&] {
    uint64_t cursor = 0;
    while (!done.load() || cursor < committed.load()) {
      const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::steady_clock::now().time_since_epoch())
                              .count();
      if (done.load() && now > done_at.load() + 30) {
        ADD_FAILURE() << "the reader never reached the last committed record";
        break;
      }
      base::Status s = reader_store->ScanFrom(
          Namespace::kOutbox, "", LogKey(cursor + 1),
          [&](std::string_view key, const Record& r) -> base::StatusOr<bool> {
            auto n = ParseLogKey(key);
            if (!n) return false;
            if (*n != cursor + 1) gap = true;
            cursor = *n;
            seen.push_back(r.value);
            return true;
          });
      EXPECT_TRUE(s.ok()) << s;
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < 2 * kThreadsPerNode; ++t) {
    Store* node = t % 2 ? static_cast<Store*>(other.get()) : store_.get();
    writers.emplace_back([&, node, t] {
      for (int i = 0; i < kBatches; ++i) {
        WriteBatch b;
        const bool doomed = i % 5 == 2;
        const int events = i % 7 == 4 ? 0 : 1 + i % 3;
        b.RequireVersion(Namespace::kUsers, "w" + std::to_string(t), doomed ? 99 : 0);
        b.Put(Namespace::kTokens, "t" + std::to_string(t), std::to_string(i));
        for (int k = 0; k < events; ++k) {
          b.AppendToLog(Namespace::kOutbox, std::to_string(t) + "/" + std::to_string(i) + "/" +
                                                std::to_string(k) + "/" + std::to_string(events));
        }
        base::Status s = node->Commit(std::move(b), Durability::kDurable);
        EXPECT_EQ(s.ok(), !doomed) << s;
        if (s.ok()) committed.fetch_add(static_cast<uint64_t>(events));
      }
    });
  }
  for (auto& w : writers) w.join();
  done_at = std::chrono::duration_cast<std::chrono::seconds>(
                std::chrono::steady_clock::now().time_since_epoch())
                .count();
  done = true;
  reader.join();
  EXPECT_FALSE(gap);

  std::vector<std::string> log;
  ASSERT_TRUE(store_
                  ->Scan(Namespace::kOutbox, "",
                         [&](std::string_view key, const Record& r) -> base::StatusOr<bool> {
                           auto n = ParseLogKey(key);
                           if (!n) return true;
                           EXPECT_EQ(*n, log.size() + 1) << "a gap or a duplicate";
                           EXPECT_EQ(r.version, 1u);
                           log.push_back(r.value);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(log.size(), committed.load());
  EXPECT_EQ(seen, log) << "the reader missed, repeated or reordered records";
  auto counter = Get(*other, Namespace::kOutbox, kLogCounterKey);
  ASSERT_TRUE(counter.has_value());
  EXPECT_EQ(ParseLogCounter(counter->value), committed.load());
  // Each batch's records are consecutive, in its order; each writer's batches in its order.
  std::vector<int> last_batch(2 * kThreadsPerNode, -1);
  for (size_t n = 0; n < log.size();) {
    int t = 0, i = 0, k = 0, events = 0;
    ASSERT_EQ(std::sscanf(log[n].c_str(), "%d/%d/%d/%d", &t, &i, &k, &events), 4) << log[n];
    ASSERT_EQ(k, 0) << "record " << n + 1 << " does not start a batch";
    EXPECT_GT(i, last_batch[static_cast<size_t>(t)]);
    last_batch[static_cast<size_t>(t)] = i;
    for (int j = 0; j < events; ++j, ++n) {
      ASSERT_LT(n, log.size());
      EXPECT_EQ(log[n], std::to_string(t) + "/" + std::to_string(i) + "/" + std::to_string(j) +
                            "/" + std::to_string(events));
    }
  }
}

// A node that chains commits on the versions its own commits will give a key (as the sign-in
// path does) must not have a later link accepted because another node's write happened to give
// the key the version it predicted: equal numbers, but not the record it built on.
TEST_F(EtcdStoreTest, AVersionWrittenByAnotherNodeNeverMeetsAPredictedCondition) {
  auto other = OpenOrDie(OptionsFor(*cluster_, prefix_));
  ASSERT_NE(other, nullptr);
  auto link = [](Store& s, uint64_t version, std::string_view value) {
    WriteBatch b;
    b.RequireVersion(Namespace::kState, "wm", version);
    b.Put(Namespace::kState, "wm", value);
    return s.Commit(std::move(b), Durability::kDurable);
  };
  ASSERT_TRUE(link(*store_, 0, "1").ok());  // version 1, written by store_
  EXPECT_EQ(Get(*other, Namespace::kState, "wm"), (Record{"1", 1}));
  ASSERT_TRUE(link(*other, 1, "9").ok());  // version 2, written by the other node
  // store_'s chain: "2" on version 1, then "3" on the version 2 it expected "2" to create.
  EXPECT_TRUE(base::IsAborted(link(*store_, 1, "2")));
  base::Status second = link(*store_, 2, "3");
  EXPECT_TRUE(base::IsAborted(second)) << second;
  EXPECT_EQ(Get(*other, Namespace::kState, "wm"), (Record{"9", 2}));
  // Once store_ has read version 2, it may build on it.
  EXPECT_EQ(Get(*store_, Namespace::kState, "wm"), (Record{"9", 2}));
  EXPECT_TRUE(link(*store_, 2, "10").ok());

  // The same chain submitted at once, its first link losing to the other node inside one group.
  EXPECT_EQ(Get(*other, Namespace::kState, "wm"), (Record{"10", 3}));
  ASSERT_TRUE(link(*other, 3, "11").ok());  // version 4; store_ still believes 3
  auto release = BlockCommitter(*store_);
  std::vector<std::future<base::Status>> results;
  for (uint64_t v = 3; v < 6; ++v) {
    auto done = std::make_shared<std::promise<base::Status>>();
    results.push_back(done->get_future());
    WriteBatch b;
    b.RequireVersion(Namespace::kState, "wm", v);
    b.Put(Namespace::kState, "wm", "chained");
    ASSERT_TRUE(store_
                    ->Submit(std::move(b), Durability::kDurable,
                             [done](base::Status s) { done->set_value(s); })
                    .ok());
  }
  release->Open();
  for (auto& r : results) EXPECT_TRUE(base::IsAborted(r.get()));
  EXPECT_EQ(Get(*other, Namespace::kState, "wm"), (Record{"11", 4}));
}

// A group whose Txn fails because another node changed one batch's key: that batch alone fails
// (its condition no longer holds), the others of the group commit.
TEST_F(EtcdStoreTest, AnotherNodesWriteFailsOnlyTheBatchItConcerns) {
  auto other = OpenOrDie(OptionsFor(*cluster_, prefix_));
  ASSERT_NE(other, nullptr);
  WriteBatch seed;
  seed.Put(Namespace::kUsers, "fence", "1");
  seed.Put(Namespace::kUsers, "other-fence", "1");
  ASSERT_TRUE(store_->Commit(std::move(seed), Durability::kDurable).ok());
  ASSERT_EQ(Get(*store_, Namespace::kUsers, "fence")->version, 1u);  // store_ knows version 1

  WriteBatch moved;
  moved.Put(Namespace::kUsers, "fence", "2");  // the other node moves the fence
  ASSERT_TRUE(other->Commit(std::move(moved), Durability::kDurable).ok());

  auto release = BlockCommitter(*store_);
  std::promise<base::Status> stale, unrelated, current;
  WriteBatch a;  // decided on the old fence
  a.RequireVersion(Namespace::kUsers, "fence", 1);
  a.Put(Namespace::kState, "a", "x");
  WriteBatch b;
  b.Put(Namespace::kState, "b", "x");
  WriteBatch c;  // decided on a fence nobody moved
  c.RequireVersion(Namespace::kUsers, "other-fence", 1);
  c.Put(Namespace::kState, "c", "x");
  ASSERT_TRUE(
      store_
          ->Submit(std::move(a), Durability::kDurable, [&](base::Status s) { stale.set_value(s); })
          .ok());
  ASSERT_TRUE(store_
                  ->Submit(std::move(b), Durability::kDurable,
                           [&](base::Status s) { unrelated.set_value(s); })
                  .ok());
  ASSERT_TRUE(store_
                  ->Submit(std::move(c), Durability::kDurable,
                           [&](base::Status s) { current.set_value(s); })
                  .ok());
  release->Open();
  base::Status sa = stale.get_future().get();
  EXPECT_TRUE(base::IsAborted(sa)) << sa;
  EXPECT_TRUE(unrelated.get_future().get().ok());
  base::Status sc = current.get_future().get();
  EXPECT_TRUE(sc.ok()) << sc;
  EXPECT_FALSE(Get(*store_, Namespace::kState, "a").has_value());
  EXPECT_TRUE(Get(*store_, Namespace::kState, "b").has_value());
  EXPECT_TRUE(Get(*store_, Namespace::kState, "c").has_value());
}

TEST_F(EtcdStoreTest, WatchSeesAnotherNodesChanges) {
  auto other = OpenOrDie(OptionsFor(*cluster_, prefix_));
  ASSERT_NE(other, nullptr);
  base::Mutex mu;
  std::vector<std::string> seen;
  auto watch = store_->WatchNamespace(Namespace::kUsers, {.changed =
                                                              [&](std::string_view key) {
                                                                base::MutexLock lock(mu);
                                                                seen.emplace_back(key);
                                                              },
                                                          .lost = nullptr});
  ASSERT_TRUE(watch.ok()) << watch.status();
  WriteBatch b;
  b.Put(Namespace::kUsers, "alice@example.com", "x");
  b.Put(Namespace::kState, "not-watched", "x");
  ASSERT_TRUE(other->Commit(std::move(b), Durability::kDurable).ok());
  WriteBatch d;
  d.Delete(Namespace::kUsers, "bob@example.com");
  d.Put(Namespace::kUsers, "bob@example.com", "y");
  ASSERT_TRUE(other->Commit(std::move(d), Durability::kDurable).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    {
      base::MutexLock lock(mu);
      if (seen.size() >= 2 || std::chrono::steady_clock::now() > deadline) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  watch->reset();  // no callback after this
  base::MutexLock lock(mu);
  EXPECT_EQ(seen, (std::vector<std::string>{"alice@example.com", "bob@example.com"}));
}

TEST_F(EtcdStoreTest, BackupWritesASnapshotAndAManifestOfTheKeys) {
  WriteBatch b;
  b.Put(Namespace::kUsers, "u1", "x");
  b.Put(Namespace::kUsers, "u1", "y");
  b.Put(Namespace::kTokens, std::string("s\0", 2), "z");
  ASSERT_TRUE(store_->Commit(std::move(b), Durability::kDurable).ok());
  testing::TempDir dir;
  ASSERT_TRUE(store_->Backup(dir.File("etcd.db"), dir.File("manifest.tsv")).ok());
  EXPECT_GT(std::filesystem::file_size(dir.File("etcd.db")), 1000u);
  EXPECT_EQ(otpd::testing::ReadFile(dir.File("manifest.tsv")), "users\t7531\t2\ntokens\t7300\t1\n");
}

TEST_F(EtcdStoreTest, ElectionHasOneHolderAndHandsOver) {
  ElectionOptions a{.name = "outbox", .holder = "node-a", .ttl = std::chrono::seconds(3)};
  ElectionOptions b{.name = "outbox", .holder = "node-b", .ttl = std::chrono::seconds(3)};
  a.name = b.name = "outbox-" + prefix_;
  EtcdElection ea(*store_, a), eb(*store_, b);
  auto got = ea.TryAcquire();
  ASSERT_TRUE(got.ok() && *got) << got.status();
  got = eb.TryAcquire();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_FALSE(*got);
  EXPECT_EQ(eb.Holder().value(), "node-a");
  // Renewals keep it beyond the TTL.
  std::this_thread::sleep_for(std::chrono::seconds(4));
  EXPECT_TRUE(ea.held());
  EXPECT_FALSE(eb.TryAcquire().value());
  ASSERT_TRUE(ea.Resign().ok());
  EXPECT_FALSE(ea.held());
  got = eb.TryAcquire();
  ASSERT_TRUE(got.ok() && *got) << got.status();
  EXPECT_EQ(ea.Holder().value(), "node-b");
}

// Clusters of their own: these tests break them.
class EtcdOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (EtcdCluster::Binary().empty()) GTEST_SKIP() << otpd::testing::kEtcdMissing;
    std::string error;
    ASSERT_TRUE(cluster_.Start(&error)) << error;
  }
  EtcdCluster cluster_;
};

// With no quorum every operation fails with Unavailable, within a bounded time, and nothing
// reports a success it did not have.
TEST_F(EtcdOutageTest, NoQuorumIsUnavailableNeverOk) {
  auto store = OpenOrDie(OptionsFor(cluster_, "/outage/"));
  ASSERT_NE(store, nullptr);
  WriteBatch b;
  b.Put(Namespace::kState, "k", "1");
  ASSERT_TRUE(store->Commit(std::move(b), Durability::kDurable).ok());
  cluster_.Kill(0);
  cluster_.Kill(1);
  const auto start = std::chrono::steady_clock::now();
  WriteBatch c;
  c.RequireVersion(Namespace::kState, "k", 1);
  c.Put(Namespace::kState, "k", "2");
  base::Status s = store->Commit(std::move(c), Durability::kDurable);
  EXPECT_TRUE(base::IsUnavailable(s)) << s;
  auto r = store->Get(Namespace::kState, "k");
  EXPECT_TRUE(base::IsUnavailable(r.status())) << r.status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15));
  cluster_.Kill(2);
  r = store->Get(Namespace::kState, "k");
  EXPECT_TRUE(base::IsUnavailable(r.status())) << r.status();
  s = store->Commit(WriteBatch(), Durability::kDurable);  // nothing to write: no round trip
  EXPECT_TRUE(s.ok()) << s;
  WriteBatch d;
  d.Put(Namespace::kState, "k2", "1");
  EXPECT_TRUE(base::IsUnavailable(store->Commit(std::move(d), Durability::kDurable)));
  // Back: the write that failed for sure did not happen; the one that timed out may have.
  for (int i = 0; i < cluster_.size(); ++i) ASSERT_TRUE(cluster_.Revive(i));
  ASSERT_TRUE(cluster_.WaitHealthy(std::chrono::seconds(20)));
  // The client that saw every member die reconnects by itself, within 15 s.
  const auto back = std::chrono::steady_clock::now();
  auto k = store->Get(Namespace::kState, "k");
  while (!k.ok() && std::chrono::steady_clock::now() - back < std::chrono::seconds(15)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    k = store->Get(Namespace::kState, "k");
  }
  std::printf("read again %lld ms after the cluster was healthy\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - back)
                                         .count()));
  ASSERT_TRUE(k.ok()) << k.status();
  ASSERT_TRUE(k->has_value());
  EXPECT_TRUE(((**k) == Record{"1", 1}) || ((**k) == Record{"2", 2}));
  WriteBatch e;
  e.RequireVersion(Namespace::kState, "k", (*k)->version);
  e.Put(Namespace::kState, "k", "3");
  EXPECT_TRUE(store->Commit(std::move(e), Durability::kDurable).ok());
}

TEST_F(EtcdOutageTest, AnElectionHolderLosesTheRoleWhenItCannotRenew) {
  auto store = OpenOrDie(OptionsFor(cluster_, "/election/"));
  ASSERT_NE(store, nullptr);
  std::atomic<int> lost{0};
  EtcdElection e(*store,
                 {.name = "outbox", .holder = "a", .ttl = std::chrono::seconds(3), .on_lost = [&] {
                    lost.fetch_add(1);
                  }});
  ASSERT_TRUE(e.TryAcquire().value());
  const auto cut = std::chrono::steady_clock::now();
  for (int i = 0; i < cluster_.size(); ++i) cluster_.Pause(i);
  // Believed for at most 2/3 of the TTL after the last answered renewal.
  while (e.held() && std::chrono::steady_clock::now() - cut < std::chrono::seconds(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_LE(std::chrono::steady_clock::now() - cut,
            std::chrono::seconds(2) + std::chrono::milliseconds(200));
  std::this_thread::sleep_for(std::chrono::seconds(4) - (std::chrono::steady_clock::now() - cut));
  for (int i = 0; i < cluster_.size(); ++i) cluster_.Resume(i);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (lost.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(lost.load(), 1);
  EXPECT_FALSE(e.held());
}

}  // namespace
}  // namespace otpd::storage
