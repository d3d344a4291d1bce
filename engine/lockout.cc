#include "engine/lockout.h"

#include <algorithm>

namespace otpd::engine {

base::Status LockoutPolicy::Validate() const {
  if (threshold < 1) return base::InvalidArgumentError("lockout threshold must be at least 1");
  if (base_delay_seconds < 1) {
    return base::InvalidArgumentError("lockout base delay must be at least 1 second");
  }
  if (max_delay_seconds < base_delay_seconds) {
    return base::InvalidArgumentError("lockout max delay must not be below the base delay");
  }
  if (forget_after_seconds < 1) {
    return base::InvalidArgumentError("lockout forget-after time must be at least 1 second");
  }
  return base::OkStatus();
}

int64_t RetryAfter(const LockoutState& state, int64_t now_unix) {
  return state.locked_until > now_unix ? state.locked_until - now_unix : 0;
}

uint32_t EffectiveFailures(const LockoutState& state, int64_t now_unix,
                           const LockoutPolicy& policy) {
  const int64_t quiet_since = std::max(state.last_failure, state.locked_until);
  if (state.failures != 0 && now_unix - quiet_since > policy.forget_after_seconds) return 0;
  return state.failures;
}

LockoutState RecordFailure(const LockoutState& state, int64_t now_unix,
                           const LockoutPolicy& policy) {
  LockoutState next = state;
  next.failures = EffectiveFailures(state, now_unix, policy);
  if (next.failures == 0) next.locked_until = 0;
  next.last_failure = now_unix;
  if (next.failures < UINT32_MAX) ++next.failures;
  if (next.failures >= policy.threshold) {
    // Doubling beyond 62 shifts would overflow; the cap is reached long before that.
    uint32_t doublings = std::min<uint32_t>(next.failures - policy.threshold, 40);
    int64_t delay = policy.base_delay_seconds;
    for (uint32_t i = 0; i < doublings && delay < policy.max_delay_seconds; ++i) delay *= 2;
    delay = std::min(delay, policy.max_delay_seconds);
    next.locked_until = now_unix + delay;
  }
  return next;
}

}  // namespace otpd::engine
