// FaultInjectionStore is a Store whose backend can be told to fail, in the manner of LevelDB's
// ErrorEnv: the next N group writes fail, or every durable (fsynced) group write fails until the
// fault is cleared, or reads fail. A failed group write applies nothing, and its error reaches
// every batch of the group, exactly as a real write or fsync error would. Tests of the service and
// the server use it to prove that a storage failure rejects a sign-in and never loses or rewinds a
// watermark.
//
// Thread-safety: as for every Store; the fault switches may be flipped from any thread.

#ifndef OTPD_STORAGE_FAULT_INJECTION_STORE_H_
#define OTPD_STORAGE_FAULT_INJECTION_STORE_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "storage/commit_pipeline.h"
#include "storage/local_backend.h"
#include "storage/pipelined_store.h"

namespace otpd::storage {

class FaultInjectionStore final : public PipelinedStore {
 public:
  // Wraps `inner` (by default a fresh in-memory backend; a RocksDB one from OpenRocksDbBackend()
  // works too).
  explicit FaultInjectionStore(std::unique_ptr<LocalBackend> inner = nullptr,
                               PipelineOptions options = {});

  // The next `n` group writes fail with UnavailableError("injected write failure").
  void FailNextWrites(int n);
  // While on, every group write that needs an fsync fails with UnavailableError("injected fsync
  // failure") and applies nothing; relaxed-only groups still succeed.
  void SetFailSync(bool on);
  // While on, Get and Scan fail with UnavailableError("injected read failure").
  void SetFailReads(bool on);
  // Clears every fault.
  void ClearFaults();
  // Number of writes and reads failed so far.
  uint64_t injected_failures() const;

 private:
  class Backend;
  struct WrapTag {};
  FaultInjectionStore(WrapTag, std::unique_ptr<Backend> backend, PipelineOptions options);
  Backend* faults_;
};

}  // namespace otpd::storage

#endif  // OTPD_STORAGE_FAULT_INJECTION_STORE_H_
