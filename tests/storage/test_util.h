// Helpers shared by the storage tests (temporary directories come from tests/testing/): latches,
// raw RocksDB access for building foreign or future data directories.

#ifndef OTPD_TESTS_STORAGE_TEST_UTIL_H_
#define OTPD_TESTS_STORAGE_TEST_UTIL_H_

#include <condition_variable>
#include <mutex>
#include <string>
#include <utility>

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

// Creates a plain RocksDB database (no otpd marker) at `path` holding one key in the default
// column family.
void CreateForeignRocksDb(const std::string& path);

// Overwrites the schema version recorded in an otpd RocksDB data directory (which must be closed).
void SetSchemaVersion(const std::string& path, const std::string& version);

}  // namespace otpd::storage::testing

#endif  // OTPD_TESTS_STORAGE_TEST_UTIL_H_
