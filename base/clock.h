// Clock is where time comes from. Code that needs the time receives a Clock (or better, a `now`
// read once per request by its caller) instead of calling time() itself, so that tests can run
// the calendar with FakeClock.
//
// Thread-safety: all implementations are safe to call from any thread.

#ifndef OTPD_BASE_CLOCK_H_
#define OTPD_BASE_CLOCK_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/statusor.h"

namespace otpd::base {

class Clock {
 public:
  virtual ~Clock() = default;

  // Wall-clock time, seconds since the Unix epoch. Used for TOTP time steps and stored
  // timestamps.
  virtual int64_t NowUnixSeconds() const = 0;

  // Wall-clock time in microseconds since the Unix epoch, for audit records.
  virtual int64_t NowUnixMicros() const = 0;

  // Monotonic time for deadlines and measuring durations; unrelated to the wall clock.
  virtual std::chrono::steady_clock::time_point SteadyNow() const = 0;
};

// The system's clocks. A process-wide instance is returned by RealClock::Get().
class RealClock final : public Clock {
 public:
  static RealClock* Get();

  int64_t NowUnixSeconds() const override;
  int64_t NowUnixMicros() const override;
  std::chrono::steady_clock::time_point SteadyNow() const override;
};

// A clock that moves only when told to. Starts at the given wall time; its steady clock starts at
// an arbitrary fixed point and advances together with the wall clock.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t unix_seconds = 1'700'000'000) : micros_(unix_seconds * 1'000'000) {}

  int64_t NowUnixSeconds() const override { return micros_.load() / 1'000'000; }
  int64_t NowUnixMicros() const override { return micros_.load(); }
  std::chrono::steady_clock::time_point SteadyNow() const override {
    return std::chrono::steady_clock::time_point(std::chrono::microseconds(steady_micros_.load()));
  }

  void SetUnixSeconds(int64_t unix_seconds) { micros_.store(unix_seconds * 1'000'000); }
  void Advance(std::chrono::microseconds d) {
    micros_.fetch_add(d.count());
    steady_micros_.fetch_add(d.count());
  }

 private:
  std::atomic<int64_t> micros_;
  std::atomic<int64_t> steady_micros_{1'000'000'000};
};

// "2026-11-29T20:00:00Z" (UTC, ISO 8601 as Graph writes dates); with `micros`, the fraction of the
// second is written too ("...T20:00:00.123456Z").
std::string FormatIsoTime(int64_t unix_seconds);
std::string FormatIsoTimeMicros(int64_t unix_micros);
// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" or a date "YYYY-MM-DD" (midnight UTC)
// into Unix microseconds. InvalidArgument for anything else.
StatusOr<int64_t> ParseIsoTimeMicros(std::string_view text);

}  // namespace otpd::base

#endif  // OTPD_BASE_CLOCK_H_
