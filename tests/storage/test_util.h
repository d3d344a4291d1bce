// Helpers shared by the storage tests: temporary directories, latches, raw RocksDB access for
// building foreign or future data directories.

#ifndef OTPD_TESTS_STORAGE_TEST_UTIL_H_
#define OTPD_TESTS_STORAGE_TEST_UTIL_H_

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace otpd::storage::testing {

// A fresh directory from mkdtemp, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/otpd-storage-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    char* made = mkdtemp(buf.data());
    if (made == nullptr) std::abort();
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

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
