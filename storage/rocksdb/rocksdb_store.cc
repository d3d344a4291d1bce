#include "storage/rocksdb/rocksdb_store.h"

#include <utility>

#include "storage/rocksdb/rocksdb_backend.h"
#include "storage/rocksdb/schema.h"

namespace otpd::storage {
namespace {

PipelineOptions ToPipelineOptions(const RocksDbOptions& o) {
  PipelineOptions p;
  p.max_queue = o.max_queue;
  p.max_group_bytes = o.max_batch_bytes;
  p.max_group_batches = o.max_group_batches;
  return p;
}

}  // namespace

RocksDbStore::RocksDbStore(std::unique_ptr<RocksDbBackend> backend, const RocksDbOptions& options)
    : PipelinedStore(std::move(backend), ToPipelineOptions(options)), path_(options.path) {}

RocksDbStore::~RocksDbStore() = default;

base::StatusOr<std::unique_ptr<RocksDbStore>> RocksDbStore::Open(const RocksDbOptions& options) {
  OTPD_ASSIGN_OR_RETURN(std::unique_ptr<RocksDbBackend> backend, RocksDbBackend::Open(options));
  return std::unique_ptr<RocksDbStore>(new RocksDbStore(std::move(backend), options));
}

RocksDbBackend* RocksDbStore::rocks() const { return static_cast<RocksDbBackend*>(backend()); }

base::Status RocksDbStore::CreateCheckpoint(const std::string& dest_dir) const {
  return rocks()->Checkpoint(dest_dir);
}

base::Status RocksDbStore::Backup(const std::string& dir) const { return CreateCheckpoint(dir); }

base::Status RocksDbStore::Flush() { return rocks()->Flush(); }

uint32_t RocksDbSchemaVersion() { return rocksdb_schema::kCurrentSchemaVersion; }

base::StatusOr<std::unique_ptr<LocalBackend>> OpenRocksDbBackend(const RocksDbOptions& options) {
  OTPD_ASSIGN_OR_RETURN(std::unique_ptr<RocksDbBackend> backend, RocksDbBackend::Open(options));
  return std::unique_ptr<LocalBackend>(std::move(backend));
}

}  // namespace otpd::storage
