// HelloGuard slows down key guessing on the TCP verify listener and keeps failed HELLOs from
// flooding the log.
//
// Per source address it counts failed HELLOs in a one-minute window; past the limit, the
// address's HELLOs are refused without looking at the key until its lock ends: one minute,
// doubling while it keeps failing, up to an hour. Addresses are forgotten once their window and
// lock are over; at most kMaxAddresses are tracked (the oldest make room).
//
// Logging: the first failure after a quiet period is logged at once (with its address); the
// failures that follow are summarised in one line at most every kLogInterval (how many, from how
// many addresses, how many were throttled), emitted by the next failure or by Flush().
//
// Thread-safety: all methods may be called from any thread.

#ifndef OTPD_SERVER_INTERNAL_HELLO_GUARD_H_
#define OTPD_SERVER_INTERNAL_HELLO_GUARD_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "base/clock.h"
#include "base/mutex.h"

namespace otpd::server::internal {

class HelloGuard {
 public:
  static constexpr size_t kMaxAddresses = 16384;
  static constexpr std::chrono::seconds kWindow{60};
  static constexpr std::chrono::seconds kMaxLock{3600};
  static constexpr std::chrono::seconds kLogInterval{10};

  using LogFn = std::function<void(const std::string& line)>;

  // `clock` must outlive the guard; `log` receives the lines to log (warn level).
  HelloGuard(const base::Clock& clock, LogFn log);

  // False while `address` is locked out: refuse its HELLO without checking the key.
  bool Allowed(std::string_view address);
  // Records a failed HELLO from `address`; `max_per_window` failures in a window lock it.
  // `throttled` tells that the HELLO was refused because the address was locked.
  void Failed(std::string_view address, uint32_t max_per_window, bool throttled = false);
  // Logs the summary of failures not yet logged, if any.
  void Flush();

  uint64_t failures() const;   // failed HELLOs since start
  uint64_t throttled() const;  // of which refused unread

 private:
  using Time = std::chrono::steady_clock::time_point;
  struct Entry {
    Time window_start;
    uint32_t failures = 0;
    Time locked_until;
    uint32_t locks = 0;  // consecutive locks, for the doubling
    Time last_seen;
  };
  void FlushLocked(Time now) OTPD_REQUIRES(mu_);
  void MakeRoomLocked(Time now) OTPD_REQUIRES(mu_);

  const base::Clock& clock_;
  const LogFn log_;
  mutable base::Mutex mu_;
  std::unordered_map<std::string, Entry> entries_ OTPD_GUARDED_BY(mu_);
  uint64_t failures_ OTPD_GUARDED_BY(mu_) = 0;
  uint64_t throttled_ OTPD_GUARDED_BY(mu_) = 0;
  // Failures since the last log line, and their addresses.
  uint64_t unlogged_ OTPD_GUARDED_BY(mu_) = 0;
  uint64_t unlogged_throttled_ OTPD_GUARDED_BY(mu_) = 0;
  std::unordered_set<std::string> unlogged_addresses_ OTPD_GUARDED_BY(mu_);
  Time last_log_ OTPD_GUARDED_BY(mu_);
  bool logged_once_ OTPD_GUARDED_BY(mu_) = false;
};

}  // namespace otpd::server::internal

#endif  // OTPD_SERVER_INTERNAL_HELLO_GUARD_H_
