// PipelinedStore is a Store made of a CommitBackend (where the bytes live) and a CommitPipeline
// (how writes reach it). MemoryStore, the RocksDB store and FaultInjectionStore are all one.
//
// Reads go straight to the backend and see committed batches only. Thread-safe.

#ifndef OTPD_STORAGE_PIPELINED_STORE_H_
#define OTPD_STORAGE_PIPELINED_STORE_H_

#include <memory>

#include "storage/commit_pipeline.h"
#include "storage/store.h"

namespace otpd::storage {

class PipelinedStore : public Store {
 public:
  // Takes ownership of `backend`, which must not be null, and starts the committer.
  PipelinedStore(std::unique_ptr<CommitBackend> backend, PipelineOptions options);
  // Close(), then releases the backend.
  ~PipelinedStore() override;

  base::StatusOr<std::optional<Record>> Get(Namespace ns, std::string_view key) const override;
  base::Status Scan(Namespace ns, std::string_view prefix, const ScanFn& fn) const override;
  base::Status ScanFrom(Namespace ns, std::string_view prefix, std::string_view start,
                        const ScanFn& fn) const override;
  base::Status Submit(WriteBatch batch, Durability durability, CommitCallback done) override;
  base::Status Commit(WriteBatch batch, Durability durability) override;

  // Starts shutdown: new batches fail with UnavailableError, queued ones are committed, then the
  // committer stops. Reads keep working until the store is destroyed. Idempotent.
  void Close();

  CommitPipeline::Stats pipeline_stats() const { return pipeline_.stats(); }
  const CommitPipeline& pipeline() const { return pipeline_; }

 protected:
  CommitBackend* backend() const { return backend_.get(); }

 private:
  std::unique_ptr<CommitBackend> backend_;
  CommitPipeline pipeline_;  // after backend_: stopped before the backend goes away
};

}  // namespace otpd::storage

#endif  // OTPD_STORAGE_PIPELINED_STORE_H_
