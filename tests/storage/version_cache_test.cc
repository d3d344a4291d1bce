// The commit pipeline remembers the versions it wrote, so that rewriting hot records needs no
// backend read. What it remembers must always equal what is stored: across cache overflow and
// across failed writes.

#include <gtest/gtest.h>

#include <string>

#include "storage/fault_injection_store.h"
#include "storage/memory_store.h"

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

}  // namespace
}  // namespace otpd::storage
