// Failure throttling per user (RFC 4226 section 7.3), as data and pure functions. After
// `threshold` consecutive failures the user is locked for `base_delay_seconds`; every further
// failure doubles the delay up to `max_delay_seconds`. While locked, codes are not checked at
// all. A success clears everything. Locks always expire, and failures are forgotten: a failure
// that comes more than `forget_after_seconds` after the previous one (and after the lock it
// caused, if any) starts the count again, so a slow trickle of wrong codes can never keep a user
// locked for ever.

#ifndef OTPD_ENGINE_LOCKOUT_H_
#define OTPD_ENGINE_LOCKOUT_H_

#include <cstdint>

#include "base/status.h"

namespace otpd::engine {

struct LockoutPolicy {
  // Consecutive failures before the first lock. Default 5; must be >= 1.
  uint32_t threshold = 5;
  // Length of the first lock in seconds. Default 30; must be >= 1.
  int64_t base_delay_seconds = 30;
  // The longest lock in seconds. Default 900 (15 minutes); must be >= base_delay_seconds.
  int64_t max_delay_seconds = 900;
  // Quiet time after which earlier failures stop counting: measured from the later of the last
  // failure and the end of its lock. Default 900 (15 minutes); must be >= 1.
  int64_t forget_after_seconds = 900;

  base::Status Validate() const;
};

struct LockoutState {
  // Consecutive failed attempts since the last success.
  uint32_t failures = 0;
  // Unix seconds until which attempts are refused without checking; 0 when not locked.
  int64_t locked_until = 0;
  // Unix seconds of the last failure; 0 when there was none.
  int64_t last_failure = 0;

  friend bool operator==(const LockoutState&, const LockoutState&) = default;
};

// Seconds until an attempt may be made at `now_unix`; 0 when attempts are allowed now.
int64_t RetryAfter(const LockoutState& state, int64_t now_unix);

// The failures that still count at `now_unix` (0 once they are forgotten).
uint32_t EffectiveFailures(const LockoutState& state, int64_t now_unix,
                           const LockoutPolicy& policy);

// The state after one more failure at `now_unix`.
LockoutState RecordFailure(const LockoutState& state, int64_t now_unix,
                           const LockoutPolicy& policy);

// The state after a success.
inline LockoutState RecordSuccess() { return LockoutState{}; }

}  // namespace otpd::engine

#endif  // OTPD_ENGINE_LOCKOUT_H_
