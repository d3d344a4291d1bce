// The embedded default Store: RocksDB in a local data directory, one column family per
// namespace, values prefixed with their 8-byte big-endian version, writes through the shared
// group-commit pipeline (one rocksdb::WriteBatch and one WAL fsync per group).
//
// Open refuses, with a message naming the directory:
//   - a directory another process has open (RocksDB's LOCK file), unless the open is read-only:
//     FailedPrecondition "data directory /x is in use by another process (is otpd running?)";
//   - a RocksDB database without otpd's product marker, or a non-empty directory that is not a
//     database at all: FailedPrecondition "... is not an otpd data directory";
//   - a schema version newer than this build understands: FailedPrecondition;
//   - corruption: DataLoss.
// Older schema versions are migrated in place at open (see storage/rocksdb/schema.h).
//
// Only tools/ should name this header; everything else receives a storage::Store.
// Thread-safety: as for every Store.

#ifndef OTPD_STORAGE_ROCKSDB_ROCKSDB_STORE_H_
#define OTPD_STORAGE_ROCKSDB_ROCKSDB_STORE_H_

#include <cstddef>
#include <memory>
#include <string>

#include "base/statusor.h"
#include "storage/commit_pipeline.h"
#include "storage/local_backend.h"
#include "storage/pipelined_store.h"
#include "storage/store.h"

namespace otpd::storage {

struct RocksDbOptions {
  // The data directory. Required.
  std::string path;

  // Create the data directory (and an empty otpd database in it) when it does not exist or is
  // empty. When false, a missing directory is a NotFound error. Default: true.
  bool create_if_missing = true;

  // Open an existing database read-only: nothing in the directory is created or changed (no
  // write-ahead log, no MANIFEST, no OPTIONS file), and every commit fails with
  // FailedPrecondition. A missing or empty directory is a NotFound error (create_if_missing is
  // ignored); so is a database whose creation was interrupted or whose schema is older than
  // this build's, which only a read-write open would repair. It takes no lock, so it works while
  // another process (otpd) has the directory open for writing, and sees the data as of the open.
  // Default: false.
  bool read_only = false;

  // Batches that may wait for the committer; Submit() beyond this fails at once with
  // ResourceExhausted (backpressure). Default: 4096.
  size_t max_queue = 4096;

  // A commit group stops growing at this many bytes of keys and values. Default: 4 MiB.
  size_t max_batch_bytes = 4 << 20;

  // A commit group holds at most this many batches; 0 = no limit. 1 turns group commit off (one
  // write and one fsync per batch), for measurements only. Default: 0.
  size_t max_group_batches = 0;

  // Size of the block cache shared by all namespaces (uncompressed data, index and filter
  // blocks). Default: 64 MiB.
  size_t block_cache_bytes = 64 << 20;

  // Bloom filter bits per key in SST files (and in the memtables of point-lookup namespaces);
  // 10 gives about 1% false positives. 0 disables filters. Default: 10.
  int bloom_bits_per_key = 10;

  // Memtable size per namespace before it is flushed to an SST file. Default: 32 MiB.
  size_t write_buffer_bytes = 32 << 20;

  // Background flush and compaction threads. Default: 2.
  int max_background_jobs = 2;
};

class RocksDbBackend;

class RocksDbStore final : public PipelinedStore {
 public:
  // Opens (or creates) the data directory as described above.
  static base::StatusOr<std::unique_ptr<RocksDbStore>> Open(const RocksDbOptions& options);

  ~RocksDbStore() override;

  const std::string& path() const { return path_; }

  // Writes an online, consistent copy of the whole store to `dest_dir`, which must not exist and
  // should be on the same filesystem (files are hard-linked where possible). The copy is itself a
  // data directory: open it with Open() to restore. Concurrent commits continue meanwhile.
  base::Status CreateCheckpoint(const std::string& dest_dir) const;
  // CreateCheckpoint(dir).
  base::Status Backup(const std::string& dir) const override;

  // Flushes memtables to SST files (tools and benchmarks; never needed for durability).
  base::Status Flush();

 private:
  RocksDbStore(std::unique_ptr<RocksDbBackend> backend, const RocksDbOptions& options);
  RocksDbBackend* rocks() const;

  std::string path_;
};

// The schema version this build writes (storage/rocksdb/schema.h); every store Open() returns
// is at this version.
uint32_t RocksDbSchemaVersion();

// Opens the data directory as a bare backend, for composing with FaultInjectionStore. The
// pipeline options in `options` are ignored.
base::StatusOr<std::unique_ptr<LocalBackend>> OpenRocksDbBackend(const RocksDbOptions& options);

}  // namespace otpd::storage

#endif  // OTPD_STORAGE_ROCKSDB_ROCKSDB_STORE_H_
