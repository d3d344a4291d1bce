// The fixture of the Store contract (store_contract_test.cc, store_pipeline_contract_test.cc): the
// store under test, made afresh for each test (MemoryStore, RocksDB in a temporary directory, or
// etcd under a key prefix of its own), and helpers to write, read, scan and hold the committer.

#ifndef OTPD_TESTS_STORAGE_STORE_CONTRACT_ENV_H_
#define OTPD_TESTS_STORAGE_STORE_CONTRACT_ENV_H_

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "storage/memory_store.h"
#include "storage/rocksdb/rocksdb_store.h"
#include "tests/storage/test_util.h"
#ifdef OTPD_HAVE_ETCD
#include <unistd.h>

#include "storage/etcd/etcd_store.h"
#include "tests/testing/etcd_cluster.h"
#endif

namespace otpd::storage::testing {

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
      o.groups_in_flight = p.max_groups_in_flight;
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
  std::shared_ptr<Gate> BlockCommitter() { return testing::BlockCommitter(*store_); }

  TempDir dir_;
#ifdef OTPD_HAVE_ETCD
  otpd::testing::EtcdCluster* etcd_ = nullptr;
#endif
  std::unique_ptr<PipelinedStore> store_;
};

}  // namespace otpd::storage::testing

#endif  // OTPD_TESTS_STORAGE_STORE_CONTRACT_ENV_H_
