// Mutexes that clang's thread-safety analysis understands (std::mutex in libstdc++ carries no
// annotations): Mutex and SharedMutex, the scoped MutexLock / ReaderLock / WriterLock, and
// CondVar for waiting on a Mutex.
//
// Thread-safety: these are the synchronisation primitives.

#ifndef OTPD_BASE_MUTEX_H_
#define OTPD_BASE_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#include "base/thread_annotations.h"

namespace otpd::base {

class OTPD_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() OTPD_ACQUIRE() { mu_.lock(); }
  void Unlock() OTPD_RELEASE() { mu_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

class OTPD_CAPABILITY("shared mutex") SharedMutex {
 public:
  SharedMutex() = default;
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

  void Lock() OTPD_ACQUIRE() { mu_.lock(); }
  void Unlock() OTPD_RELEASE() { mu_.unlock(); }
  void LockShared() OTPD_ACQUIRE_SHARED() { mu_.lock_shared(); }
  void UnlockShared() OTPD_RELEASE_SHARED() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
};

// Holds `mu` from construction until Unlock() or destruction. May be unlocked early (to deliver
// an answer outside the lock) and locked again.
class OTPD_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) OTPD_ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() OTPD_RELEASE() {
    if (held_) mu_.Unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Unlock() OTPD_RELEASE() {
    held_ = false;
    mu_.Unlock();
  }
  void Lock() OTPD_ACQUIRE() {
    mu_.Lock();
    held_ = true;
  }

 private:
  friend class CondVar;
  Mutex& mu_;
  bool held_ = true;
};

class OTPD_SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(SharedMutex& mu) OTPD_ACQUIRE_SHARED(mu) : mu_(mu) { mu_.LockShared(); }
  ~ReaderLock() OTPD_RELEASE() { mu_.UnlockShared(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  SharedMutex& mu_;
};

class OTPD_SCOPED_CAPABILITY WriterLock {
 public:
  explicit WriterLock(SharedMutex& mu) OTPD_ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~WriterLock() OTPD_RELEASE() { mu_.Unlock(); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  SharedMutex& mu_;
};

// A condition variable for a Mutex held through a MutexLock. Waits are written as loops in the
// caller (`while (!ready_) cv_.Wait(lock);`) so that the analysis sees the guarded reads.
class CondVar {
 public:
  void Wait(MutexLock& lock) {
    std::unique_lock native(lock.mu_.mu_, std::adopt_lock);
    cv_.wait(native);
    native.release();
  }
  // Waits until signalled or `timeout` passes; false on timeout.
  bool WaitFor(MutexLock& lock, std::chrono::milliseconds timeout) {
    std::unique_lock native(lock.mu_.mu_, std::adopt_lock);
    const bool signalled = cv_.wait_for(native, timeout) == std::cv_status::no_timeout;
    native.release();
    return signalled;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace otpd::base

#endif  // OTPD_BASE_MUTEX_H_
