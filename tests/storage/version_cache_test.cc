// The commit pipeline remembers the versions it wrote, so that rewriting hot records needs no
// backend read. What it remembers must always equal what is stored: across cache overflow and
// across failed writes.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "storage/commit_pipeline.h"
#include "storage/fault_injection_store.h"
#include "storage/local_backend.h"
#include "storage/memory_store.h"
#include "storage/pipelined_store.h"
#include "storage/version_cache.h"

namespace otpd::storage {
namespace {

// Rewrites `keys` keys round-robin with compare-and-set on the version the test expects.
void Rewrite(Store& store, int keys, int rounds) {
  for (int round = 0; round < rounds; ++round) {
    for (int k = 0; k < keys; ++k) {
      const std::string key = "k" + std::to_string(k);
      WriteBatch batch;
      batch.RequireVersion(Namespace::kState, key, static_cast<uint64_t>(round));
      batch.Put(Namespace::kState, key, std::to_string(round));
      ASSERT_TRUE(store.Commit(std::move(batch), Durability::kDurable).ok())
          << "key " << key << " round " << round;
    }
  }
  for (int k = 0; k < keys; ++k) {
    auto record = store.Get(Namespace::kState, "k" + std::to_string(k));
    ASSERT_TRUE(record.ok() && record->has_value());
    EXPECT_EQ((*record)->version, static_cast<uint64_t>(rounds));
  }
}

TEST(VersionCacheTest, SmallerThanTheWorkingSet) {
  MemoryStore store(PipelineOptions{.version_cache_entries = 3});
  Rewrite(store, 10, 20);
}

TEST(VersionCacheTest, Disabled) {
  MemoryStore store(PipelineOptions{.version_cache_entries = 0});
  Rewrite(store, 4, 5);
}

TEST(VersionCacheTest, FailedWritesAreForgotten) {
  FaultInjectionStore store;
  Rewrite(store, 3, 2);  // versions 2 cached
  store.FailNextWrites(1);
  WriteBatch failing;
  failing.Put(Namespace::kState, "k0", "lost");
  EXPECT_FALSE(store.Commit(std::move(failing), Durability::kDurable).ok());
  // The failed Put applied nothing; the next CAS must see version 2, not 3.
  WriteBatch next;
  next.RequireVersion(Namespace::kState, "k0", 2);
  next.Put(Namespace::kState, "k0", "after");
  ASSERT_TRUE(store.Commit(std::move(next), Durability::kDurable).ok());
  auto record = store.Get(Namespace::kState, "k0");
  EXPECT_EQ((*record)->version, 3u);
  EXPECT_EQ((*record)->value, "after");
}

TEST(VersionCacheTest, WorkingSetBeyondTheInitialTable) {
  // 5000 keys grow the table past its initial 1024 slots; every version stays right.
  MemoryStore store(PipelineOptions{.version_cache_entries = 8000});
  Rewrite(store, 5000, 3);
}

// ---- versions learned from reads --------------------------------------------------------------

// A backend that counts the version reads the committer makes, and can fail its next write.
class CountingBackend final : public LocalBackend {
 public:
  explicit CountingBackend(const PipelineOptions& options = {}) : LocalBackend(options) {}

  base::StatusOr<std::optional<Record>> ReadStored(Namespace ns,
                                                   std::string_view key) const override {
    ++reads;
    auto it = records.find({ns, std::string(key)});
    if (it == records.end()) return std::optional<Record>();
    return std::optional<Record>(it->second);
  }
  base::Status Scan(Namespace, std::string_view, std::string_view, const ScanFn&) const override {
    return base::OkStatus();
  }
  base::Status Apply(std::span<const Mutation> mutations, bool) override {
    if (fail_next_write) {
      fail_next_write = false;
      return base::UnavailableError("injected write failure");
    }
    for (const Mutation& m : mutations) {
      if (m.is_delete) {
        records.erase({m.ns, std::string(m.key)});
      } else {
        records[{m.ns, std::string(m.key)}] = Record{std::string(m.value), m.version};
      }
    }
    return base::OkStatus();
  }

  mutable std::atomic<int> reads{0};
  bool fail_next_write = false;
  std::map<std::pair<Namespace, std::string>, Record> records;
};

base::Status PutState(CommitPipeline& pipeline, std::string_view key) {
  WriteBatch batch;
  batch.Put(Namespace::kState, key, "v");
  return pipeline.Commit(std::move(batch), Durability::kDurable);
}

TEST(LearnedVersionTest, ARecordReadBeforeItsFirstRewriteNeedsNoBackendRead) {
  CountingBackend backend;
  backend.records[{Namespace::kState, "hot"}] = Record{"old", 7};
  CommitPipeline pipeline(&backend, PipelineOptions{});
  ASSERT_TRUE(backend.Learns(Namespace::kState));
  backend.Learn(Namespace::kState, "hot", 7, backend.LearnTicket());
  backend.Learn(Namespace::kState, "absent", 0, backend.LearnTicket());
  ASSERT_TRUE(PutState(pipeline, "hot").ok());
  ASSERT_TRUE(PutState(pipeline, "absent").ok());
  pipeline.Close();
  EXPECT_EQ(backend.reads, 0);
  EXPECT_EQ((backend.records[{Namespace::kState, "hot"}].version), 8u);
  EXPECT_EQ((backend.records[{Namespace::kState, "absent"}].version), 1u);
}

TEST(LearnedVersionTest, OnlyTheChosenNamespacesAreLearned) {
  CountingBackend backend;
  CommitPipeline pipeline(&backend, PipelineOptions{});
  EXPECT_TRUE(backend.Learns(Namespace::kUsers));
  EXPECT_FALSE(backend.Learns(Namespace::kTokens));
  backend.Learn(Namespace::kTokens, "t", 0, backend.LearnTicket());
  WriteBatch batch;
  batch.Put(Namespace::kTokens, "t", "v");
  ASSERT_TRUE(pipeline.Commit(std::move(batch), Durability::kDurable).ok());
  EXPECT_EQ(backend.reads, 1);

  CountingBackend none(PipelineOptions{.learn_from_reads = 0});
  EXPECT_FALSE(none.Learns(Namespace::kState));
  CountingBackend uncached(PipelineOptions{.version_cache_entries = 0});
  EXPECT_FALSE(uncached.Learns(Namespace::kState));
}

TEST(LearnedVersionTest, AnOfferOlderThanAForgetIsDropped) {
  CountingBackend backend;
  CommitPipeline pipeline(&backend, PipelineOptions{});
  const uint64_t ticket = backend.LearnTicket();
  // A write that fails makes the committer forget what it wrote (here "other"): a version read
  // before that may describe what the failed write changed, so it must not be trusted.
  backend.fail_next_write = true;
  ASSERT_FALSE(PutState(pipeline, "other").ok());
  EXPECT_NE(backend.LearnTicket(), ticket);
  backend.records[{Namespace::kState, "hot"}] = Record{"old", 4};
  backend.Learn(Namespace::kState, "hot", 3, ticket);  // stale
  const int before = backend.reads;
  ASSERT_TRUE(PutState(pipeline, "hot").ok());
  pipeline.Close();
  EXPECT_EQ(backend.reads, before + 1);
  EXPECT_EQ((backend.records[{Namespace::kState, "hot"}].version), 5u);
}

TEST(LearnedVersionTest, WhatTheCommitterWroteOutranksAnOffer) {
  CountingBackend backend;
  CommitPipeline pipeline(&backend, PipelineOptions{});
  const uint64_t ticket = backend.LearnTicket();
  ASSERT_TRUE(PutState(pipeline, "hot").ok());  // version 1, remembered
  ASSERT_TRUE(PutState(pipeline, "hot").ok());  // version 2
  // A read that raced the writes above and saw version 1 arrives late.
  backend.Learn(Namespace::kState, "hot", 1, ticket);
  ASSERT_TRUE(PutState(pipeline, "hot").ok());
  pipeline.Close();
  EXPECT_EQ((backend.records[{Namespace::kState, "hot"}].version), 3u);
  EXPECT_EQ(backend.reads, 1);  // the first write only
}

// Through a Store: Get teaches the committer, so the first rewrite of a record read after a
// restart (a fresh pipeline over a filled backend) needs no read of its own.
TEST(LearnedVersionTest, StoreGetTeachesTheCommitter) {
  auto owned = std::make_unique<CountingBackend>();
  CountingBackend& backend = *owned;
  backend.records[{Namespace::kState, "hot"}] = Record{"old", 3};
  backend.records[{Namespace::kUsers, "u"}] = Record{"old", 5};
  backend.records[{Namespace::kTokens, "t"}] = Record{"old", 2};
  PipelinedStore store(std::move(owned), PipelineOptions{});
  ASSERT_TRUE(store.Get(Namespace::kState, "hot").ok());
  ASSERT_TRUE(store.Get(Namespace::kState, "new").ok());
  ASSERT_TRUE(store.Get(Namespace::kUsers, "u").ok());
  ASSERT_TRUE(store.Get(Namespace::kTokens, "t").ok());
  const int reads = backend.reads;  // the four Gets
  WriteBatch batch;
  batch.Put(Namespace::kState, "hot", "after");
  batch.Put(Namespace::kState, "new", "after");
  batch.RequireVersion(Namespace::kUsers, "u", 5);  // a fence, as a sign-in commit checks it
  batch.Put(Namespace::kTokens, "t", "after");
  ASSERT_TRUE(store.Commit(std::move(batch), Durability::kDurable).ok());
  EXPECT_EQ(backend.reads, reads + 1);  // tokens are not learned
  EXPECT_EQ((*store.Get(Namespace::kState, "hot"))->version, 4u);
  EXPECT_EQ((*store.Get(Namespace::kState, "new"))->version, 1u);
  EXPECT_EQ((*store.Get(Namespace::kTokens, "t"))->version, 3u);
}

// A condition's version, once checked, is remembered: every sign-in checks its user's fence, and
// must not read it from the backend each time.
TEST(LearnedVersionTest, ConditionsAreRemembered) {
  CountingBackend backend;
  backend.records[{Namespace::kMeta, "fence"}] = Record{"f", 9};
  CommitPipeline pipeline(&backend, PipelineOptions{});
  for (int i = 0; i < 5; ++i) {
    WriteBatch batch;
    batch.RequireVersion(Namespace::kMeta, "fence", 9);
    batch.Put(Namespace::kState, "s", "v");
    ASSERT_TRUE(pipeline.Commit(std::move(batch), Durability::kDurable).ok());
  }
  WriteBatch stale;
  stale.RequireVersion(Namespace::kMeta, "fence", 8);
  EXPECT_TRUE(base::IsAborted(pipeline.Commit(std::move(stale), Durability::kDurable)));
  pipeline.Close();
  EXPECT_EQ(backend.reads, 2);  // the fence once, the state record once
}

// Write-once records (audit, outbox) need no version read, and are not remembered: a stream of
// them must not push the hot state out of the cache.
TEST(InsertTest, NeedsNoVersionReadAndIsNotRemembered) {
  CountingBackend backend(PipelineOptions{.version_cache_entries = 4});
  CommitPipeline pipeline(&backend, PipelineOptions{});
  ASSERT_TRUE(PutState(pipeline, "hot").ok());  // one read, then remembered
  const int reads = backend.reads;
  for (int i = 0; i < 50; ++i) {
    WriteBatch batch;
    batch.Insert(Namespace::kAudit, "a" + std::to_string(i), "x");
    batch.Put(Namespace::kState, "hot", "v");
    ASSERT_TRUE(pipeline.Commit(std::move(batch), Durability::kDurable).ok());
  }
  pipeline.Close();
  // Had the 50 inserts been remembered, the 4-entry cache would have been reset and "hot" read
  // again.
  EXPECT_EQ(backend.reads, reads);
  EXPECT_EQ((backend.records[{Namespace::kState, "hot"}].version), 51u);
  EXPECT_EQ((backend.records[{Namespace::kAudit, "a7"}].version), 1u);
}

// ---- the table itself ------------------------------------------------------------------------

// A print whose home slot is `home` modulo the table size (for tables up to 2^20 slots).
KeyPrint Print(uint64_t home, uint64_t id) { return KeyPrint{home | (id << 20), id + 1}; }

TEST(VersionTableTest, PutFindUpdateErase) {
  VersionCache cache(100);
  EXPECT_EQ(cache.Find(Print(1, 1)), std::nullopt);
  cache.Put(Print(1, 1), 7);
  cache.Put(Print(1, 2), 8);  // same home slot
  EXPECT_EQ(cache.Find(Print(1, 1)), 7u);
  EXPECT_EQ(cache.Find(Print(1, 2)), 8u);
  cache.Put(Print(1, 1), 9);
  EXPECT_EQ(cache.Find(Print(1, 1)), 9u);
  EXPECT_EQ(cache.size(), 2u);
  cache.Erase(Print(1, 1));
  EXPECT_EQ(cache.Find(Print(1, 1)), std::nullopt);
  EXPECT_EQ(cache.Find(Print(1, 2)), 8u);  // moved back into the freed slot, still found
  cache.Erase(Print(1, 3));                // absent: nothing happens
  EXPECT_EQ(cache.size(), 1u);
}

TEST(VersionTableTest, DisabledRemembersNothing) {
  VersionCache cache(0);
  cache.Put(Print(1, 1), 7);
  EXPECT_EQ(cache.Find(Print(1, 1)), std::nullopt);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(VersionTableTest, ForgetsEverythingBeyondItsLimit) {
  VersionCache cache(3);
  for (uint64_t i = 0; i < 3; ++i) cache.Put(Print(i, i), i);
  EXPECT_EQ(cache.size(), 3u);
  cache.Put(Print(9, 9), 9);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.Find(Print(0, 0)), std::nullopt);
  EXPECT_EQ(cache.Find(Print(9, 9)), 9u);
}

TEST(VersionTableTest, MaximumTableKeepsItsLimitAtThreeQuartersLoad) {
  VersionCache cache(3 << 20);
  for (uint64_t i = 0; i < 5000; ++i)
    cache.Put(Fingerprint(Namespace::kState, std::to_string(i)), i);
  EXPECT_EQ(cache.size(), 5000u);
  EXPECT_EQ(cache.capacity(), 8192u);  // grown from 1024 by doubling
  VersionCache small(3);
  small.Put(Print(1, 1), 1);
  EXPECT_EQ(small.capacity(), 4u);
}

// Random puts and erases on clustered home slots (long probe runs that wrap around the table's
// end), checked against a map after every step.
TEST(VersionTableTest, AgreesWithAMapUnderRandomPutsAndErases) {
  std::mt19937_64 rng(20261128);
  VersionCache cache(700);  // at most 1024 slots: never grows past them, clears beyond 700
  std::unordered_map<KeyPrint, uint64_t, KeyPrintHash> model;
  for (int step = 0; step < 30000; ++step) {
    // Homes near the end of a 1024-slot table, so runs wrap to the start.
    KeyPrint k = Print(1000 + rng() % 40, rng() % 900);
    if (rng() % 3 == 0) {
      cache.Erase(k);
      model.erase(k);
    } else {
      uint64_t v = rng();
      if (model.size() == 700 && !model.contains(k)) model.clear();
      cache.Put(k, v);
      model[k] = v;
    }
    ASSERT_EQ(cache.size(), model.size()) << "step " << step;
    if (step % 251 == 0) {
      for (uint64_t id = 0; id < 900; ++id) {
        for (uint64_t home = 1000; home < 1040; home += 13) {
          KeyPrint probe = Print(home, id);
          auto it = model.find(probe);
          ASSERT_EQ(cache.Find(probe),
                    it == model.end() ? std::nullopt : std::optional<uint64_t>(it->second))
              << "step " << step;
        }
      }
    }
  }
}

TEST(VersionTableTest, FingerprintsSeparateNamespacesAndKeys) {
  std::set<std::pair<uint64_t, uint64_t>> seen;
  for (Namespace ns : {Namespace::kState, Namespace::kTokens, Namespace::kUsers}) {
    for (int i = 0; i < 20000; ++i) {
      KeyPrint p = Fingerprint(ns, "user" + std::to_string(i) + "@example.com");
      EXPECT_FALSE(p == KeyPrint{});
      EXPECT_TRUE(seen.insert({p.a, p.b}).second);
    }
  }
  EXPECT_FALSE(Fingerprint(Namespace::kState, "") == KeyPrint{});
  EXPECT_FALSE(Fingerprint(Namespace::kState, "ab") == Fingerprint(Namespace::kState, "ba"));
}

}  // namespace
}  // namespace otpd::storage
