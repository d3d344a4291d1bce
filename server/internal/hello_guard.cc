#include "server/internal/hello_guard.h"

#include <algorithm>

namespace otpd::server::internal {

HelloGuard::HelloGuard(const base::Clock& clock, LogFn log) : clock_(clock), log_(std::move(log)) {}

bool HelloGuard::Allowed(std::string_view address) {
  const Time now = clock_.SteadyNow();
  base::MutexLock lock(mu_);
  auto it = entries_.find(std::string(address));
  return it == entries_.end() || it->second.locked_until <= now;
}

void HelloGuard::MakeRoomLocked(Time now) {
  if (entries_.size() < kMaxAddresses) return;
  // Forget what is over; if that is not enough, the least recently seen address.
  for (auto it = entries_.begin(); it != entries_.end();) {
    const bool over = it->second.locked_until <= now && now - it->second.window_start >= kWindow;
    it = over ? entries_.erase(it) : std::next(it);
  }
  if (entries_.size() < kMaxAddresses) return;
  auto oldest = std::min_element(
      entries_.begin(), entries_.end(),
      [](const auto& a, const auto& b) { return a.second.last_seen < b.second.last_seen; });
  entries_.erase(oldest);
}

void HelloGuard::Failed(std::string_view address, uint32_t max_per_window, bool throttled) {
  const Time now = clock_.SteadyNow();
  base::MutexLock lock(mu_);
  auto it = entries_.find(std::string(address));
  if (it == entries_.end()) {
    MakeRoomLocked(now);
    it = entries_.emplace(std::string(address), Entry{.window_start = now}).first;
  }
  Entry& e = it->second;
  e.last_seen = now;
  if (now - e.window_start >= kWindow) {
    e.window_start = now;
    e.failures = 0;
    if (e.locked_until <= now - kWindow) e.locks = 0;  // a quiet minute after the lock
  }
  ++e.failures;
  if (!throttled && e.failures > max_per_window && e.locked_until <= now) {
    const auto lock_for = std::min<std::chrono::seconds>(
        kWindow * (int64_t{1} << std::min<uint32_t>(e.locks, 10)), kMaxLock);
    e.locked_until = now + lock_for;
    ++e.locks;
  }
  ++failures_;
  if (throttled) ++throttled_;

  if (!logged_once_ || now - last_log_ >= kLogInterval * 6) {
    // The first failure after a quiet spell: logged at once, with its address.
    FlushLocked(now);
    logged_once_ = true;
    last_log_ = now;
    log_("verify: failed HELLO from " + std::string(address) +
         " (further failures are summarised every " + std::to_string(kLogInterval.count()) + " s)");
    return;
  }
  ++unlogged_;
  if (throttled) ++unlogged_throttled_;
  if (unlogged_addresses_.size() < 100000) unlogged_addresses_.emplace(address);
  if (now - last_log_ >= kLogInterval) FlushLocked(now);
}

void HelloGuard::FlushLocked(Time now) {
  if (unlogged_ == 0) return;
  log_("verify: " + std::to_string(unlogged_) + " failed HELLOs from " +
       std::to_string(unlogged_addresses_.size()) + " address(es) since the last report, " +
       std::to_string(unlogged_throttled_) + " refused unread (too many failures)");
  unlogged_ = unlogged_throttled_ = 0;
  unlogged_addresses_.clear();
  last_log_ = now;
}

void HelloGuard::Flush() {
  const Time now = clock_.SteadyNow();
  base::MutexLock lock(mu_);
  FlushLocked(now);
}

uint64_t HelloGuard::failures() const {
  base::MutexLock lock(mu_);
  return failures_;
}

uint64_t HelloGuard::throttled() const {
  base::MutexLock lock(mu_);
  return throttled_;
}

}  // namespace otpd::server::internal
