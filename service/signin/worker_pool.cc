#include "service/signin/worker_pool.h"

#include <string>

#include "base/thread_name.h"

namespace otpd::service {

WorkerPool::WorkerPool(size_t threads, size_t max_queue_per_thread, std::string_view name, int nice)
    : max_queue_(max_queue_per_thread) {
  if (threads == 0) threads = 1;
  for (size_t i = 0; i < threads; ++i) workers_.push_back(std::make_unique<Worker>());
  for (size_t i = 0; i < threads; ++i) {
    std::string thread_name = std::string(name) + "-" + std::to_string(i);
    workers_[i]->thread = std::thread([w = workers_[i].get(), thread_name, nice] {
      base::SetCurrentThreadName(thread_name);
      base::LowerCurrentThreadPriority(nice);
      Run(w);
    });
  }
}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Stop() {
  for (auto& w : workers_) {
    {
      base::MutexLock lock(w->mu);
      w->stopping = true;
    }
    w->cv.SignalAll();
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

bool WorkerPool::TrySubmit(size_t key, std::function<void()> task) {
  Worker& w = *workers_[key % workers_.size()];
  {
    base::MutexLock lock(w.mu);
    if (w.stopping || w.queue.size() >= max_queue_) return false;
    w.queue.push_back(std::move(task));
  }
  w.cv.Signal();
  return true;
}

void WorkerPool::Run(Worker* w) {
  for (;;) {
    std::function<void()> task;
    {
      base::MutexLock lock(w->mu);
      while (!w->stopping && w->queue.empty()) w->cv.Wait(lock);
      if (w->queue.empty()) return;  // stopping and drained
      task = std::move(w->queue.front());
      w->queue.pop_front();
    }
    task();
  }
}

}  // namespace otpd::service
