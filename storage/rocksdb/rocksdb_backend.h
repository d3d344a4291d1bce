// The RocksDB CommitBackend behind RocksDbStore. Private to storage/rocksdb/.

#ifndef OTPD_STORAGE_ROCKSDB_ROCKSDB_BACKEND_H_
#define OTPD_STORAGE_ROCKSDB_ROCKSDB_BACKEND_H_

#include <rocksdb/db.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>

#include "storage/local_backend.h"
#include "storage/rocksdb/rocksdb_store.h"

namespace otpd::storage {

// Maps a RocksDB status to ours: Corruption -> DataLoss, IOError/Busy/TimedOut -> Unavailable,
// ... The message is "<context>: <RocksDB's message>".
base::Status FromRocksDb(const rocksdb::Status& s, std::string_view context);

class RocksDbBackend final : public LocalBackend {
 public:
  static base::StatusOr<std::unique_ptr<RocksDbBackend>> Open(const RocksDbOptions& options);
  ~RocksDbBackend() override;

  base::StatusOr<std::optional<Record>> ReadStored(Namespace ns,
                                                   std::string_view key) const override;
  base::StatusOr<uint64_t> ReadVersion(Namespace ns, std::string_view key) const override;
  base::Status Scan(Namespace ns, std::string_view prefix, std::string_view start,
                    const ScanFn& fn) const override;
  base::Status Apply(std::span<const Mutation> mutations, bool sync) override;

  base::Status Checkpoint(const std::string& dest_dir) const;
  base::Status Flush();

 private:
  RocksDbBackend(std::string path, std::unique_ptr<rocksdb::DB> db,
                 std::vector<rocksdb::ColumnFamilyHandle*> handles, bool read_only);
  rocksdb::ColumnFamilyHandle* cf(Namespace ns) const {
    return namespaces_[static_cast<size_t>(ns)];
  }

  std::string path_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // every open column family
  std::array<rocksdb::ColumnFamilyHandle*, kNamespaceCount> namespaces_{};
  const bool read_only_;            // opened with RocksDbOptions::read_only
  bool last_write_failed_ = false;  // committer thread only
};

}  // namespace otpd::storage

#endif  // OTPD_STORAGE_ROCKSDB_ROCKSDB_BACKEND_H_
