// A hook sink's worker (service/hooks/hooks.h): the sink, its retry schedule and thread, and the
// delivery state that the worker's thread, the pruner and the admin calls share under its mutex.
// Not for use outside HookDispatcher.

#ifndef OTPD_SERVICE_INTERNAL_HOOK_WORKER_H_
#define OTPD_SERVICE_INTERNAL_HOOK_WORKER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "service/hooks/hooks.h"

namespace otpd::service {

struct HookDispatcher::Worker {
  class Loop;  // the delivery loop run on `thread` (hooks.cc)

  std::string name;
  std::unique_ptr<EventSink> sink;
  RetrySchedule retry;
  std::thread thread;

  mutable base::Mutex mu;
  base::CondVar cv;  // wakes a sleeping worker: stop, enable, redeliver
  uint64_t cursor OTPD_GUARDED_BY(mu) = 0;
  uint64_t cursor_version OTPD_GUARDED_BY(mu) = 0;  // of the stored cursor record
  uint64_t delivered OTPD_GUARDED_BY(mu) = 0;
  uint64_t failed_attempts OTPD_GUARDED_BY(mu) = 0;
  uint64_t dead_letters OTPD_GUARDED_BY(mu) = 0;
  bool disabled OTPD_GUARDED_BY(mu) = false;
  std::string last_error OTPD_GUARDED_BY(mu);
  std::vector<uint64_t> requeued OTPD_GUARDED_BY(mu);  // dead letters to deliver again first
  uint64_t wakes OTPD_GUARDED_BY(mu) = 0;
};

}  // namespace otpd::service

#endif  // OTPD_SERVICE_INTERNAL_HOOK_WORKER_H_
