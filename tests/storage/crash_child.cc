// Helper process for the crash and lock tests (not a test itself).
//
//   storage_crash_child run <dir>   commits durable batches in a loop; each batch sets the keys
//                                   wm/0..wm/3 of namespace state to the same increasing
//                                   watermark n. After a batch's callback reports success it
//                                   writes "n\n" to stdout. Runs until killed.
//   storage_crash_child log <dir>   the same, and each batch also appends "n" to the outbox's log
//                                   (WriteBatch::AppendToLog), with 32 batches in flight.
//   storage_crash_child hold <dir>  opens the store, writes "ready\n", and keeps it open until
//                                   stdin reaches EOF.

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "storage/rocksdb/rocksdb_store.h"

using otpd::storage::Durability;
using otpd::storage::Namespace;
using otpd::storage::RocksDbOptions;
using otpd::storage::RocksDbStore;
using otpd::storage::WriteBatch;

namespace {

void WriteLine(const std::string& line) {
  std::string out = line + "\n";
  // One write() of a short line to a pipe is atomic.
  if (write(STDOUT_FILENO, out.data(), out.size()) != static_cast<ssize_t>(out.size())) _exit(4);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s run|log|hold <dir>\n", argv[0]);
    return 2;
  }
  RocksDbOptions options;
  options.path = argv[2];
  options.block_cache_bytes = 4 << 20;
  auto store = RocksDbStore::Open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "open failed: %s\n", store.status().ToString().c_str());
    return 3;
  }
  if (std::strcmp(argv[1], "hold") == 0) {
    WriteLine("ready");
    char buf[64];
    while (read(STDIN_FILENO, buf, sizeof buf) > 0) {
    }
    return 0;
  }

  auto current = (*store)->Get(Namespace::kState, "wm/0");
  if (!current.ok()) return 3;
  uint64_t next = current->has_value() ? std::stoull((*current)->value) + 1 : 1;
  WriteLine("start " + std::to_string(next - 1));
  const bool log = std::strcmp(argv[1], "log") == 0;
  std::atomic<int> in_flight{0};
  for (;; ++next) {
    while (in_flight.load() >= 32) usleep(50);
    WriteBatch batch;
    for (int k = 0; k < 4; ++k) {
      batch.Put(Namespace::kState, "wm/" + std::to_string(k), std::to_string(next));
    }
    if (log) batch.AppendToLog(Namespace::kOutbox, std::to_string(next));
    in_flight.fetch_add(1);
    otpd::base::Status queued = (*store)->Submit(
        std::move(batch), Durability::kDurable, [next, &in_flight](otpd::base::Status s) {
          if (!s.ok()) {
            std::fprintf(stderr, "commit failed: %s\n", s.ToString().c_str());
            _exit(5);
          }
          WriteLine(std::to_string(next));
          in_flight.fetch_sub(1);
        });
    if (!queued.ok()) {
      std::fprintf(stderr, "submit refused: %s\n", queued.ToString().c_str());
      _exit(5);
    }
  }
}
