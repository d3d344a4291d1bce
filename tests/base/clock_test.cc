#include "base/clock.h"

#include <gtest/gtest.h>

namespace otpd::base {
namespace {

TEST(ClockTest, FakeClockAdvancesBothClocks) {
  FakeClock clock(1000);
  auto steady = clock.SteadyNow();
  EXPECT_EQ(clock.NowUnixSeconds(), 1000);
  clock.Advance(std::chrono::seconds(30));
  EXPECT_EQ(clock.NowUnixSeconds(), 1030);
  EXPECT_EQ(clock.SteadyNow() - steady, std::chrono::seconds(30));
  clock.SetUnixSeconds(5);
  EXPECT_EQ(clock.NowUnixMicros(), 5'000'000);
}

TEST(ClockTest, RealClockIsPlausible) {
  int64_t now = RealClock::Get()->NowUnixSeconds();
  EXPECT_GT(now, 1'600'000'000);  // after 2020
  auto first = RealClock::Get()->SteadyNow();
  auto second = RealClock::Get()->SteadyNow();
  EXPECT_LE(first, second);
}

}  // namespace
}  // namespace otpd::base
