// Helpers shared by the storage tests (temporary directories come from tests/testing/): latches,
// a blocked committer, raw RocksDB access for building foreign or future data directories.

#ifndef OTPD_TESTS_STORAGE_TEST_UTIL_H_
#define OTPD_TESTS_STORAGE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "storage/store.h"
#include "tests/testing/subprocess.h"

namespace otpd::storage::testing {

using ::otpd::testing::TempDir;

// A one-shot gate: Wait() blocks until Open() has been called.
class Gate {
 public:
  void Open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Blocks `store`'s committer inside a commit callback until the returned gate opens, and returns
// once it is blocked: everything submitted meanwhile queues up.
inline std::shared_ptr<Gate> BlockCommitter(Store& store) {
  auto release = std::make_shared<Gate>();
  auto entered = std::make_shared<Gate>();
  EXPECT_TRUE(store
                  .Submit(WriteBatch(), Durability::kRelaxed,
                          [release, entered](base::Status) {
                            entered->Open();
                            release->Wait();
                          })
                  .ok());
  entered->Wait();
  return release;
}

// Creates a plain RocksDB database (no otpd marker) at `path` holding one key in the default
// column family.
void CreateForeignRocksDb(const std::string& path);

// Overwrites the schema version recorded in an otpd RocksDB data directory (which must be closed).
void SetSchemaVersion(const std::string& path, const std::string& version);

}  // namespace otpd::storage::testing

#endif  // OTPD_TESTS_STORAGE_TEST_UTIL_H_
