// WorkerPool runs tasks on a few threads of its own, so that work which may block (a Store read
// that misses every cache and goes to disk) never runs on a server's io thread. Each task names
// a key; tasks with the same key run on the same thread in the order submitted, so requests for
// one user are decided in the order they arrived. The queues are bounded: TrySubmit refuses
// rather than queueing without limit, and the caller answers `unavailable`.
//
// Thread-safe. The destructor runs every task already queued, then joins the threads.

#ifndef OTPD_SERVICE_SIGNIN_WORKER_POOL_H_
#define OTPD_SERVICE_SIGNIN_WORKER_POOL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "base/mutex.h"

namespace otpd::service {

class WorkerPool {
 public:
  // `threads` >= 1; each thread's queue holds at most `max_queue_per_thread` waiting tasks. The
  // threads are named `name`-0, `name`-1, ... (see base/thread_name.h). A positive `nice` lowers
  // the threads' scheduling priority by that much (Linux: per thread), for work that must yield
  // to sign-ins (password hashing).
  WorkerPool(size_t threads, size_t max_queue_per_thread, std::string_view name = "otpd-worker",
             int nice = 0);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs every task already queued, then joins the threads; later TrySubmit calls fail.
  // Idempotent; the destructor calls it.
  void Stop();

  // Queues `task` on the thread for `key`; false (and `task` is dropped unrun) when that queue is
  // full or the pool is stopping.
  bool TrySubmit(size_t key, std::function<void()> task);

 private:
  struct Worker {
    base::Mutex mu;
    base::CondVar cv;
    std::deque<std::function<void()>> queue OTPD_GUARDED_BY(mu);
    bool stopping OTPD_GUARDED_BY(mu) = false;
    std::thread thread;
  };
  static void Run(Worker* worker);

  const size_t max_queue_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace otpd::service

#endif  // OTPD_SERVICE_SIGNIN_WORKER_POOL_H_
