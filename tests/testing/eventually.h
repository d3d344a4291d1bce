// Waiting in tests for what another thread or process does, without a fixed sleep.

#ifndef OTPD_TESTS_TESTING_EVENTUALLY_H_
#define OTPD_TESTS_TESTING_EVENTUALLY_H_

#include <chrono>
#include <functional>
#include <thread>

namespace otpd::testing {

// Calls `done` every `poll` until it returns true (true) or `timeout` has passed (false). The
// timeout only bounds a failing test: a passing one returns as soon as `done` holds.
inline bool Eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30),
                       std::chrono::milliseconds poll = std::chrono::milliseconds(10)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(poll);
  }
  return true;
}

}  // namespace otpd::testing

#endif  // OTPD_TESTS_TESTING_EVENTUALLY_H_
