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

TEST(LockoutTest, PolicyValidation) {
  EXPECT_TRUE(LockoutPolicy{}.Validate().ok());
  EXPECT_FALSE((LockoutPolicy{.threshold = 0}).Validate().ok());
  EXPECT_FALSE((LockoutPolicy{.base_delay_seconds = 60, .max_delay_seconds = 30}).Validate().ok());
}

}  // namespace
}  // namespace otpd::engine
