#include "base/clock.h"

namespace otpd::base {

RealClock* RealClock::Get() {
  static RealClock clock;
  return &clock;
}

int64_t RealClock::NowUnixSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t RealClock::NowUnixMicros() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::chrono::steady_clock::time_point RealClock::SteadyNow() const {
  return std::chrono::steady_clock::now();
}

}  // namespace otpd::base
