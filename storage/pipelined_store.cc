#include "storage/pipelined_store.h"

#include <utility>

namespace otpd::storage {

PipelinedStore::PipelinedStore(std::unique_ptr<CommitBackend> backend, PipelineOptions options)
    : backend_(std::move(backend)), pipeline_(backend_.get(), options) {}

PipelinedStore::~PipelinedStore() { Close(); }

base::StatusOr<std::optional<Record>> PipelinedStore::Get(Namespace ns,
                                                          std::string_view key) const {
  if (!IsValidNamespace(ns)) return base::InvalidArgumentError("invalid namespace");
  return backend_->Read(ns, key);
}

base::Status PipelinedStore::Scan(Namespace ns, std::string_view prefix, const ScanFn& fn) const {
  return ScanFrom(ns, prefix, prefix, fn);
}

base::Status PipelinedStore::ScanFrom(Namespace ns, std::string_view prefix, std::string_view start,
                                      const ScanFn& fn) const {
  if (!IsValidNamespace(ns)) return base::InvalidArgumentError("invalid namespace");
  return backend_->Scan(ns, prefix, start < prefix ? prefix : start, fn);
}

base::Status PipelinedStore::Submit(WriteBatch batch, Durability durability, CommitCallback done) {
  return pipeline_.Submit(std::move(batch), durability, std::move(done));
}

base::Status PipelinedStore::Commit(WriteBatch batch, Durability durability) {
  return pipeline_.Commit(std::move(batch), durability);
}

void PipelinedStore::Close() { pipeline_.Close(); }

}  // namespace otpd::storage
