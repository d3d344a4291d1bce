// IoRunner is an io_context and the threads that run it. The verify socket and the validate
// endpoint serve sign-ins on the daemon's main runner (threads otpd-io-N); the admin API has a
// runner of its own at a lower priority (otpd-admin-io-N, see tools/otpd/otpd.cc), so that a client
// reading thousands of records cannot hold the io threads that sign-ins need.
//
// Thread-safety: Start and Stop are called by the owning thread; io() may be used from any
// thread.

#ifndef OTPD_SERVER_IO_RUNNER_H_
#define OTPD_SERVER_IO_RUNNER_H_

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace otpd::server {

class IoRunner {
 public:
  // `threads` io threads (at least one), named `name`-0, `name`-1, ...; a positive `nice` lowers
  // their scheduling priority by that much (a failure leaves the default).
  explicit IoRunner(uint32_t threads, std::string name = "otpd-io", int nice = 0);
  ~IoRunner();  // Stop()
  IoRunner(const IoRunner&) = delete;
  IoRunner& operator=(const IoRunner&) = delete;

  // Starts the io threads; they run until Stop. Idempotent.
  void Start();
  // Stops the io_context (handlers not yet run are dropped) and joins the threads. Idempotent.
  void Stop();

  boost::asio::io_context& io() { return io_; }

 private:
  const uint32_t threads_;
  const std::string name_;
  const int nice_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> running_;
};

}  // namespace otpd::server

#endif  // OTPD_SERVER_IO_RUNNER_H_
