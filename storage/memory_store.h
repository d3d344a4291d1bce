// MemoryStore keeps records in ordered maps in memory. It implements the whole Store contract,
// including the asynchronous group-commit pipeline with its own committer thread, bounded queue
// and shutdown behaviour, so that code tested against it behaves the same on RocksDB. Nothing is
// persisted. Thread-safe.

#ifndef OTPD_STORAGE_MEMORY_STORE_H_
#define OTPD_STORAGE_MEMORY_STORE_H_

#include <memory>

#include "storage/commit_pipeline.h"
#include "storage/local_backend.h"
#include "storage/pipelined_store.h"

namespace otpd::storage {

// A backend keeping records in memory; for stores composed by hand (FaultInjectionStore).
// Only the version cache options of `options` matter.
std::unique_ptr<LocalBackend> NewMemoryBackend(const PipelineOptions& options = {});

class MemoryStore final : public PipelinedStore {
 public:
  explicit MemoryStore(PipelineOptions options = {});
};

}  // namespace otpd::storage

#endif  // OTPD_STORAGE_MEMORY_STORE_H_
