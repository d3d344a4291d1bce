// Storage failures reach every caller of the failed group, apply nothing, and clear.

#include "storage/fault_injection_store.h"

#include <gtest/gtest.h>

#include <latch>
#include <memory>
#include <vector>

#include "storage/rocksdb/rocksdb_store.h"
#include "tests/storage/test_util.h"

namespace otpd::storage {
namespace {

using testing::BlockCommitter;
using testing::Gate;
using testing::TempDir;

std::optional<Record> Read(const Store& store, Namespace ns, const std::string& key) {
  auto r = store.Get(ns, key);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : std::nullopt;
}

// Submits one batch per key (state/<key> = value) while the committer is blocked, so that they
// form one group once `release` opens; returns their results after the group completed.
std::vector<base::Status> SubmitGroup(FaultInjectionStore& store,
                                      const std::vector<std::pair<std::string, Durability>>& puts,
                                      const std::string& value) {
  auto release = BlockCommitter(store);
  std::vector<base::Status> results(puts.size(), base::UnknownError("not called"));
  std::latch completed(static_cast<std::ptrdiff_t>(puts.size()));
  for (size_t i = 0; i < puts.size(); ++i) {
    WriteBatch b;
    b.Put(Namespace::kState, puts[i].first, value);
    b.Put(Namespace::kOutbox, "event-" + puts[i].first + "-" + value, "e");
    EXPECT_TRUE(store
                    .Submit(std::move(b), puts[i].second,
                            [&results, &completed, i](base::Status s) {
                              results[i] = std::move(s);
                              completed.count_down();
                            })
                    .ok());
  }
  uint64_t groups_before = store.pipeline_stats().groups;
  release->Open();
  completed.wait();
  EXPECT_EQ(store.pipeline_stats().groups, groups_before + 1) << "expected a single group";
  return results;
}

TEST(FaultInjectionTest, FailedWriteReachesEveryCallerOfTheGroupAndAppliesNothing) {
  FaultInjectionStore store;
  auto ok = SubmitGroup(store, {{"a", Durability::kDurable}, {"b", Durability::kRelaxed}}, "1");
  for (const auto& s : ok) ASSERT_TRUE(s.ok()) << s;

  store.FailNextWrites(1);
  auto failed = SubmitGroup(
      store,
      {{"a", Durability::kDurable}, {"b", Durability::kRelaxed}, {"c", Durability::kDurable}}, "2");
  for (const auto& s : failed) {
    EXPECT_TRUE(base::IsUnavailable(s)) << s;
    EXPECT_EQ(s.message(), "injected write failure");
  }
  EXPECT_EQ(Read(store, Namespace::kState, "a"), (Record{"1", 1}));
  EXPECT_EQ(Read(store, Namespace::kState, "b"), (Record{"1", 1}));
  EXPECT_FALSE(Read(store, Namespace::kState, "c").has_value());
  EXPECT_FALSE(Read(store, Namespace::kOutbox, "event-a-2").has_value());
  EXPECT_EQ(store.injected_failures(), 1u);

  // The fault was for one write only: the store recovers by itself.
  auto again = SubmitGroup(store, {{"a", Durability::kDurable}, {"c", Durability::kDurable}}, "3");
  for (const auto& s : again) EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(Read(store, Namespace::kState, "a"), (Record{"3", 2}));
  EXPECT_EQ(Read(store, Namespace::kState, "c"), (Record{"3", 1}));
}

// A group whose write fails gives its log numbers back: the next committed record takes them, and
// the log stays gap-free.
TEST(FaultInjectionTest, AFailedWriteGivesItsLogNumbersBack) {
  FaultInjectionStore store;
  auto append = [&](std::string value) {
    WriteBatch b;
    b.AppendToLog(Namespace::kOutbox, value);
    return store.Commit(std::move(b), Durability::kDurable);
  };
  ASSERT_TRUE(append("first").ok());
  store.FailNextWrites(1);
  EXPECT_TRUE(base::IsUnavailable(append("lost")));
  ASSERT_TRUE(append("second").ok());
  EXPECT_EQ(Read(store, Namespace::kOutbox, LogKey(1)), (Record{"first", 1}));
  EXPECT_EQ(Read(store, Namespace::kOutbox, LogKey(2)), (Record{"second", 1}));
  EXPECT_FALSE(Read(store, Namespace::kOutbox, LogKey(3)).has_value());
  EXPECT_EQ(ParseLogCounter(Read(store, Namespace::kOutbox, std::string(kLogCounterKey))->value),
            2u);
}

TEST(FaultInjectionTest, FsyncFailureFailsDurableGroupsUntilCleared) {
  FaultInjectionStore store;
  store.SetFailSync(true);

  WriteBatch durable;
  durable.Put(Namespace::kState, "w", "1");
  base::Status s = store.Commit(std::move(durable), Durability::kDurable);
  EXPECT_TRUE(base::IsUnavailable(s)) << s;
  EXPECT_EQ(s.message(), "injected fsync failure");
  EXPECT_FALSE(Read(store, Namespace::kState, "w").has_value());

  // A relaxed group needs no fsync and still commits.
  WriteBatch relaxed;
  relaxed.Put(Namespace::kAudit, "r", "1");
  EXPECT_TRUE(store.Commit(std::move(relaxed), Durability::kRelaxed).ok());

  // A relaxed batch grouped with a durable one shares the group's fsync, and its failure.
  auto mixed = SubmitGroup(store, {{"x", Durability::kRelaxed}, {"y", Durability::kDurable}}, "1");
  for (const auto& r : mixed) EXPECT_TRUE(base::IsUnavailable(r)) << r;
  EXPECT_FALSE(Read(store, Namespace::kState, "x").has_value());
  EXPECT_FALSE(Read(store, Namespace::kState, "y").has_value());

  store.ClearFaults();
  auto healed = SubmitGroup(store, {{"x", Durability::kRelaxed}, {"y", Durability::kDurable}}, "2");
  for (const auto& r : healed) EXPECT_TRUE(r.ok()) << r;
  EXPECT_EQ(Read(store, Namespace::kState, "y"), (Record{"2", 1}));
}

TEST(FaultInjectionTest, ReadFaultsSurfaceAsErrors) {
  FaultInjectionStore store;
  store.SetFailReads(true);
  EXPECT_TRUE(base::IsUnavailable(store.Get(Namespace::kUsers, "u").status()));
  EXPECT_TRUE(base::IsUnavailable(
      store.Scan(Namespace::kUsers, "", [](std::string_view, const Record&) { return true; })));
  store.ClearFaults();
  EXPECT_TRUE(store.Get(Namespace::kUsers, "u").ok());
}

// A compare-and-set watermark, as the service keeps it: a failed commit never rewinds or loses it,
// and progress resumes when the fault clears.
TEST(FaultInjectionTest, WatermarkNeverRewindsAcrossFailuresOnRocksDb) {
  TempDir dir;
  RocksDbOptions options;
  options.path = dir.File("db");
  options.block_cache_bytes = 8 << 20;
  uint64_t acknowledged = 0;
  {
    auto backend = OpenRocksDbBackend(options);
    ASSERT_TRUE(backend.ok()) << backend.status();
    FaultInjectionStore store(std::move(backend).value());
    for (uint64_t step = 1; step <= 60; ++step) {
      if (step == 20) store.SetFailSync(true);
      if (step == 30) store.ClearFaults();
      if (step == 40) store.FailNextWrites(5);
      auto current = store.Get(Namespace::kState, "cred");
      ASSERT_TRUE(current.ok());
      WriteBatch b;
      b.RequireVersion(Namespace::kState, "cred", current->has_value() ? (*current)->version : 0);
      b.Put(Namespace::kState, "cred", std::to_string(step));
      base::Status s = store.Commit(std::move(b), Durability::kDurable);
      bool faulted = (step >= 20 && step < 30) || (step >= 40 && step < 45);
      EXPECT_EQ(s.ok(), !faulted) << "step " << step << ": " << s;
      if (s.ok()) acknowledged = step;
      auto now = store.Get(Namespace::kState, "cred");
      ASSERT_TRUE(now.ok());
      ASSERT_TRUE(now->has_value());
      EXPECT_EQ((*now)->value, std::to_string(acknowledged));
    }
  }
  auto reopened = RocksDbStore::Open(options);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  auto r = (*reopened)->Get(Namespace::kState, "cred");
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->value, "60");
  EXPECT_EQ((*r)->version, 60u - 10u - 5u);
}

}  // namespace
}  // namespace otpd::storage
