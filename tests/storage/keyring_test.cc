#include "storage/keyring.h"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <filesystem>

#include <atomic>
#include <fstream>
#include <thread>
#include <vector>

#include "base/codec.h"
#include "storage/memory_store.h"
#include "storage/rocksdb/rocksdb_store.h"
#include "tests/storage/test_util.h"

namespace otpd::storage {
namespace {

using testing::TempDir;

base::SecretBytes FixedKey(uint8_t fill) {
  base::SecretBytes key(32);
  for (auto& b : key.mutable_span()) b = fill;
  return key;
}

std::vector<uint8_t> Seed(std::string_view s) { return {s.begin(), s.end()}; }

bool OpensTo(const KeyRing& ring, Namespace ns, std::string_view key, std::string_view blob,
             std::string_view expected) {
  auto opened = ring.OpenSecret(ns, key, blob);
  return opened.ok() && opened->view() == expected;
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

TEST(KeyRingTest, SealsAndOpensBoundToTheRecord) {
  MemoryStore store;
  auto ring = KeyRing::Open(store, FixedKey(1));
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_EQ((*ring)->current_version(), 1u);
  auto blob = (*ring)->SealSecret(Namespace::kTokens, "serial-1", Seed("seed-one"));
  ASSERT_TRUE(blob.ok());
  EXPECT_TRUE(OpensTo(**ring, Namespace::kTokens, "serial-1", *blob, "seed-one"));
  // Copied to another record or another namespace, it does not open.
  EXPECT_TRUE(
      base::IsDataLoss((*ring)->OpenSecret(Namespace::kTokens, "serial-2", *blob).status()));
  EXPECT_TRUE(
      base::IsDataLoss((*ring)->OpenSecret(Namespace::kMethods, "serial-1", *blob).status()));
  // Tampering is detected.
  std::string tampered = *blob;
  tampered[tampered.size() / 2] ^= 0x20;
  EXPECT_TRUE(
      base::IsDataLoss((*ring)->OpenSecret(Namespace::kTokens, "serial-1", tampered).status()));
  // The data key is stored wrapped, never in clear.
  auto wrapped = store.Get(Namespace::kMeta, "keyring/dk/0000000001");
  ASSERT_TRUE(wrapped.ok() && wrapped->has_value());
  EXPECT_EQ((*wrapped)->value.size(), 32 + base::kSealOverheadBytes);
}

TEST(KeyRingTest, WithoutCreateFirstKeyAnEmptyStoreIsNotFoundAndUntouched) {
  MemoryStore store;
  auto ring = KeyRing::Open(store, FixedKey(1), /*create_first_key=*/false);
  EXPECT_TRUE(base::IsNotFound(ring.status())) << ring.status();
  auto current = store.Get(Namespace::kMeta, "keyring/current");
  ASSERT_TRUE(current.ok());
  EXPECT_FALSE(current->has_value());
  // Once created, it opens either way, and lists its versions.
  ASSERT_TRUE(KeyRing::Open(store, FixedKey(1)).ok());
  auto again = KeyRing::Open(store, FixedKey(1), /*create_first_key=*/false);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->versions(), std::vector<uint32_t>{1});
}

TEST(KeyRingTest, WrongMasterKeyIsAClearError) {
  TempDir dir;
  RocksDbOptions options;
  options.path = dir.File("db");
  std::string blob;
  {
    auto store = RocksDbStore::Open(options);
    ASSERT_TRUE(store.ok());
    auto ring = KeyRing::Open(**store, FixedKey(1));
    ASSERT_TRUE(ring.ok());
    blob = (*ring)->SealSecret(Namespace::kTokens, "s", Seed("persisted")).value();
  }
  auto store = RocksDbStore::Open(options);
  ASSERT_TRUE(store.ok());
  auto wrong = KeyRing::Open(**store, FixedKey(2));
  ASSERT_TRUE(base::IsFailedPrecondition(wrong.status())) << wrong.status();
  EXPECT_NE(wrong.status().message().find("master key does not match this data directory"),
            std::string_view::npos);
  auto right = KeyRing::Open(**store, FixedKey(1));
  ASSERT_TRUE(right.ok());
  EXPECT_TRUE(OpensTo(**right, Namespace::kTokens, "s", blob, "persisted"));
  EXPECT_TRUE(base::IsInvalidArgument(KeyRing::Open(**store, base::SecretBytes(16)).status()));
}

TEST(KeyRingTest, KeyFileIsCreatedPrivateAndRefusedWhenShared) {
  TempDir dir;
  MasterKeyOptions options;
  options.key_file = dir.File("master.key");
  options.env_var = "";
  auto created = LoadMasterKey(options);
  ASSERT_TRUE(created.ok()) << created.status();
  struct stat st;
  ASSERT_EQ(stat(options.key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  auto again = LoadMasterKey(options);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->Equals(*created));

  chmod(options.key_file.c_str(), 0644);
  auto refused = LoadMasterKey(options);
  ASSERT_TRUE(base::IsPermissionDenied(refused.status())) << refused.status();
  EXPECT_NE(refused.status().message().find("chmod 600"), std::string_view::npos);
  EXPECT_NE(refused.status().message().find(options.key_file), std::string_view::npos);

  options.key_file = dir.File("absent.key");
  options.create_key_file = false;
  EXPECT_TRUE(base::IsNotFound(LoadMasterKey(options).status()));
}

TEST(KeyRingTest, MasterKeyFromTheEnvironmentWinsAndIsValidated) {
  TempDir dir;
  base::SecretBytes key = FixedKey(7);
  MasterKeyOptions options;
  options.env_var = "OTPD_TEST_MASTER_KEY";
  options.key_file = dir.File("unused.key");
  {
    ScopedEnv env(options.env_var.c_str(), base::HexEncode(key.span()));
    auto loaded = LoadMasterKey(options);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_TRUE(loaded->Equals(key));
  }
  {
    ScopedEnv env(options.env_var.c_str(), base::Base64Encode(key.span()) + "\n");
    auto loaded = LoadMasterKey(options);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_TRUE(loaded->Equals(key));
  }
  {
    std::string short_key = base::HexEncode(FixedKey(9).span()).substr(0, 40);
    ScopedEnv env(options.env_var.c_str(), short_key);
    auto bad = LoadMasterKey(options);
    ASSERT_TRUE(base::IsInvalidArgument(bad.status())) << bad.status();
    EXPECT_NE(bad.status().message().find(options.env_var), std::string_view::npos);
    EXPECT_EQ(bad.status().message().find(short_key), std::string_view::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(options.key_file));
}

TEST(KeyRingTest, MasterKeyRotationKeepsSecretsReadable) {
  MemoryStore store;
  auto ring = KeyRing::Open(store, FixedKey(1)).value();
  auto blob = ring->SealSecret(Namespace::kTokens, "t", Seed("secret")).value();
  ASSERT_TRUE(ring->RotateMasterKey(FixedKey(2)).ok());
  EXPECT_TRUE(OpensTo(*ring, Namespace::kTokens, "t", blob, "secret"));
  auto reopened = KeyRing::Open(store, FixedKey(2));
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_TRUE(OpensTo(**reopened, Namespace::kTokens, "t", blob, "secret"));
  EXPECT_TRUE(base::IsFailedPrecondition(KeyRing::Open(store, FixedKey(1)).status()));
  // A further data key and rotation keep working under the new master.
  ASSERT_TRUE(ring->RotateDataKey().ok());
  ASSERT_TRUE(ring->RotateMasterKey(FixedKey(3)).ok());
  EXPECT_TRUE(KeyRing::Open(store, FixedKey(3)).ok());
}

// The rewrite function a service would pass: re-seal blobs that are not under the current key.
KeyRing::RewriteFn ResealToCurrent(Namespace ns) {
  return [ns](std::string_view key, std::string_view value,
              KeyRing& ring) -> base::StatusOr<std::optional<std::string>> {
    OTPD_ASSIGN_OR_RETURN(uint32_t version, base::SealedKeyVersion(value));
    if (version == ring.current_version()) return std::optional<std::string>();
    OTPD_ASSIGN_OR_RETURN(base::SecretBytes plain, ring.OpenSecret(ns, key, value));
    OTPD_ASSIGN_OR_RETURN(std::string resealed, ring.SealSecret(ns, key, plain.span()));
    return std::optional<std::string>(std::move(resealed));
  };
}

TEST(KeyRingTest, DataKeyRotationAndResealAll) {
  MemoryStore store;
  auto ring = KeyRing::Open(store, FixedKey(1)).value();
  constexpr int kRecords = 57;
  WriteBatch batch;
  for (int i = 0; i < kRecords; ++i) {
    std::string key = "serial-" + std::to_string(1000 + i);
    batch.Put(Namespace::kTokens, key,
              ring->SealSecret(Namespace::kTokens, key, Seed("seed-" + key)).value());
  }
  ASSERT_TRUE(store.Commit(std::move(batch), Durability::kDurable).ok());

  auto v2 = ring->RotateDataKey();
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(*v2, 2u);
  EXPECT_EQ(ring->current_version(), 2u);
  ResealStats stats;
  ASSERT_TRUE(
      ring->ResealAll(Namespace::kTokens, ResealToCurrent(Namespace::kTokens), 10, &stats).ok());
  EXPECT_EQ(stats.rewritten, static_cast<uint64_t>(kRecords));
  int checked = 0;
  ASSERT_TRUE(store
                  .Scan(Namespace::kTokens, "",
                        [&](std::string_view key, const Record& r) {
                          EXPECT_EQ(base::SealedKeyVersion(r.value).value(), 2u);
                          EXPECT_EQ(r.version, 2u);
                          EXPECT_TRUE(OpensTo(*ring, Namespace::kTokens, key, r.value,
                                              "seed-" + std::string(key)));
                          ++checked;
                          return true;
                        })
                  .ok());
  EXPECT_EQ(checked, kRecords);
  // Idempotent: a second pass rewrites nothing. A reopened ring knows both versions.
  ASSERT_TRUE(
      ring->ResealAll(Namespace::kTokens, ResealToCurrent(Namespace::kTokens), 10, &stats).ok());
  EXPECT_EQ(stats.rewritten, 0u);
  auto reopened = KeyRing::Open(store, FixedKey(1));
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->current_version(), 2u);
}

TEST(KeyRingTest, ResealAllRetriesARecordChangedMeanwhileInsteadOfClobberingIt) {
  MemoryStore store;
  auto ring = KeyRing::Open(store, FixedKey(1)).value();
  WriteBatch batch;
  for (std::string key : {"a", "b", "c"}) {
    batch.Put(Namespace::kTokens, key,
              ring->SealSecret(Namespace::kTokens, key, Seed("old-" + key)).value());
  }
  ASSERT_TRUE(store.Commit(std::move(batch), Durability::kDurable).ok());
  ASSERT_TRUE(ring->RotateDataKey().ok());

  bool interfered = false;
  auto inner = ResealToCurrent(Namespace::kTokens);
  KeyRing::RewriteFn rewrite = [&](std::string_view key, std::string_view value,
                                   KeyRing& r) -> base::StatusOr<std::optional<std::string>> {
    if (key == "b" && !interfered) {
      // An administrator re-seeds token b while the walk is on this page.
      interfered = true;
      WriteBatch change;
      change.Put(Namespace::kTokens, "b",
                 r.SealSecret(Namespace::kTokens, "b", Seed("new-b")).value());
      EXPECT_TRUE(store.Commit(std::move(change), Durability::kDurable).ok());
    }
    return inner(key, value, r);
  };
  ResealStats stats;
  ASSERT_TRUE(ring->ResealAll(Namespace::kTokens, rewrite, 100, &stats).ok());
  EXPECT_GE(stats.retries, 1u);
  auto b = store.Get(Namespace::kTokens, "b").value();
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(OpensTo(*ring, Namespace::kTokens, "b", b->value, "new-b"));
  auto a = store.Get(Namespace::kTokens, "a").value();
  EXPECT_EQ(base::SealedKeyVersion(a->value).value(), 2u);
  EXPECT_TRUE(OpensTo(*ring, Namespace::kTokens, "a", a->value, "old-a"));
}

TEST(KeyRingTest, ConcurrentSealAndOpenDuringRotation) {
  MemoryStore store;
  auto ring = KeyRing::Open(store, FixedKey(1)).value();
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, rounds{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 3; ++t) {
    workers.emplace_back([&, t] {
      std::string key = "k" + std::to_string(t);
      while (!stop.load()) {
        auto blob = ring->SealSecret(Namespace::kTokens, key, Seed("payload"));
        if (!blob.ok() || !OpensTo(*ring, Namespace::kTokens, key, *blob, "payload")) {
          failures.fetch_add(1);
        }
        rounds.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(ring->RotateDataKey().ok());
  ASSERT_TRUE(ring->RotateMasterKey(FixedKey(9)).ok());
  while (rounds.load() < 300) std::this_thread::yield();
  stop.store(true);
  for (auto& w : workers) w.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ring->current_version(), 6u);
}

}  // namespace
}  // namespace otpd::storage
