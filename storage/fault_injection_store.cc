#include "storage/fault_injection_store.h"

#include <utility>

#include "storage/memory_store.h"

namespace otpd::storage {

// Faults are injected below the version cache, where a real write or fsync fails: the wrapper
// remembers versions (as a LocalBackend) and the inner backend only stores.
class FaultInjectionStore::Backend final : public LocalBackend {
 public:
  Backend(std::unique_ptr<LocalBackend> inner, const PipelineOptions& options)
      : LocalBackend(options), inner_(std::move(inner)) {}

  base::StatusOr<std::optional<Record>> ReadStored(Namespace ns,
                                                   std::string_view key) const override {
    OTPD_RETURN_IF_ERROR(ReadFault());
    return inner_->ReadStored(ns, key);
  }
  base::StatusOr<uint64_t> ReadVersion(Namespace ns, std::string_view key) const override {
    return inner_->ReadVersion(ns, key);  // the committer's own reads are not faulted
  }
  base::Status Scan(Namespace ns, std::string_view prefix, std::string_view start,
                    const ScanFn& fn) const override {
    OTPD_RETURN_IF_ERROR(ReadFault());
    return inner_->Scan(ns, prefix, start, fn);
  }
  base::Status Apply(std::span<const Mutation> mutations, bool sync) override {
    int pending = fail_next_writes_.load();
    while (pending > 0) {
      if (fail_next_writes_.compare_exchange_weak(pending, pending - 1)) {
        failures_.fetch_add(1);
        return base::UnavailableError("injected write failure");
      }
    }
    if (sync && fail_sync_.load()) {
      failures_.fetch_add(1);
      return base::UnavailableError("injected fsync failure");
    }
    return inner_->Apply(mutations, sync);
  }

  base::Status ReadFault() const {
    if (!fail_reads_.load()) return base::OkStatus();
    failures_.fetch_add(1);
    return base::UnavailableError("injected read failure");
  }

  std::unique_ptr<LocalBackend> inner_;
  std::atomic<int> fail_next_writes_{0};
  std::atomic<bool> fail_sync_{false};
  std::atomic<bool> fail_reads_{false};
  mutable std::atomic<uint64_t> failures_{0};
};

FaultInjectionStore::FaultInjectionStore(std::unique_ptr<LocalBackend> inner,
                                         PipelineOptions options)
    : FaultInjectionStore(
          WrapTag{},
          std::make_unique<Backend>(inner ? std::move(inner) : NewMemoryBackend(), options),
          options) {}

FaultInjectionStore::FaultInjectionStore(WrapTag, std::unique_ptr<Backend> backend,
                                         PipelineOptions options)
    : PipelinedStore(std::move(backend), options),
      faults_(static_cast<Backend*>(PipelinedStore::backend())) {}

void FaultInjectionStore::FailNextWrites(int n) { faults_->fail_next_writes_.store(n); }
void FaultInjectionStore::SetFailSync(bool on) { faults_->fail_sync_.store(on); }
void FaultInjectionStore::SetFailReads(bool on) { faults_->fail_reads_.store(on); }
void FaultInjectionStore::ClearFaults() {
  faults_->fail_next_writes_.store(0);
  faults_->fail_sync_.store(false);
  faults_->fail_reads_.store(false);
}
uint64_t FaultInjectionStore::injected_failures() const { return faults_->failures_.load(); }

}  // namespace otpd::storage
