#include "engine/lockout.h"

#include <gtest/gtest.h>

#include "base/clock.h"

namespace otpd::engine {
namespace {

TEST(LockoutTest, LocksAfterThresholdAndDoubles) {
  base::FakeClock clock(1'700'000'000);
  LockoutPolicy policy;  // 5 failures, 30 s doubling, 15 min cap
  LockoutState s;
  for (int i = 1; i <= 4; ++i) {
    s = RecordFailure(s, clock.NowUnixSeconds(), policy);
    EXPECT_EQ(RetryAfter(s, clock.NowUnixSeconds()), 0) << i;
  }
  s = RecordFailure(s, clock.NowUnixSeconds(), policy);  // 5th
  EXPECT_EQ(RetryAfter(s, clock.NowUnixSeconds()), 30);
  clock.Advance(std::chrono::seconds(29));
  EXPECT_EQ(RetryAfter(s, clock.NowUnixSeconds()), 1);
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(RetryAfter(s, clock.NowUnixSeconds()), 0);  // expired
  const int64_t expected[] = {60, 120, 240, 480, 900, 900, 900};
  for (int64_t delay : expected) {
    s = RecordFailure(s, clock.NowUnixSeconds(), policy);
    EXPECT_EQ(RetryAfter(s, clock.NowUnixSeconds()), delay);
    clock.Advance(std::chrono::seconds(delay));
    EXPECT_EQ(RetryAfter(s, clock.NowUnixSeconds()), 0);
  }
  EXPECT_EQ(RecordSuccess(), LockoutState{});
}

TEST(LockoutTest, ManyFailuresNeverOverflow) {
  LockoutPolicy policy;
  LockoutState s{.failures = UINT32_MAX - 1};
  s = RecordFailure(s, 100, policy);
  s = RecordFailure(s, 100, policy);
  EXPECT_EQ(s.failures, UINT32_MAX);
  EXPECT_EQ(RetryAfter(s, 100), 900);
}

// A failure that comes more than forget_after_seconds after the previous one starts the count
// again: one wrong code every 15 minutes must not keep a user locked for ever.
TEST(LockoutTest, SlowFailuresAreForgotten) {
  LockoutPolicy policy;  // 5 failures, 30 s doubling, 15 min cap, forgotten after 15 min
  int64_t now = 1'700'000'000;
  LockoutState s;
  for (int i = 0; i < 100; ++i) {
    s = RecordFailure(s, now, policy);
    EXPECT_EQ(s.failures, 1u) << i;
    EXPECT_EQ(RetryAfter(s, now), 0) << i;
    now += 901;
  }
  // Faster than that, they add up and lock.
  for (int i = 0; i < 5; ++i) {
    s = RecordFailure(s, now, policy);
    now += 60;
  }
  EXPECT_EQ(s.failures, 5u);
  EXPECT_GT(RetryAfter(s, now - 60), 0);
  // A user locked at the longest delay is free again, and counts from zero, once the lock and
  // the forgetting time have both passed.
  LockoutState locked{.failures = 50, .locked_until = now + 900, .last_failure = now};
  EXPECT_EQ(EffectiveFailures(locked, now + 1000, policy), 50u);
  EXPECT_EQ(EffectiveFailures(locked, now + 1801, policy), 0u);
  locked = RecordFailure(locked, now + 1801, policy);
  EXPECT_EQ(locked.failures, 1u);
  EXPECT_EQ(RetryAfter(locked, now + 1801), 0);
}

TEST(LockoutTest, PolicyValidation) {
  EXPECT_TRUE(LockoutPolicy{}.Validate().ok());
  EXPECT_FALSE((LockoutPolicy{.threshold = 0}).Validate().ok());
  EXPECT_FALSE((LockoutPolicy{.base_delay_seconds = 60, .max_delay_seconds = 30}).Validate().ok());
  EXPECT_FALSE((LockoutPolicy{.forget_after_seconds = 0}).Validate().ok());
}

}  // namespace
}  // namespace otpd::engine
