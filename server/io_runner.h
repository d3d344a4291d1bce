// IoRunner is the io_context of the daemon's network servers and the threads that run it: the
// verify socket and the admin API accept and serve their connections on the same few io
// threads (named otpd-io-N).
//
// Thread-safety: Start and Stop are called by the owning thread; io() may be used from any
// thread.

#ifndef OTPD_SERVER_IO_RUNNER_H_
#define OTPD_SERVER_IO_RUNNER_H_

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

namespace otpd::server {

class IoRunner {
 public:
  explicit IoRunner(uint32_t threads);
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
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> running_;
};

}  // namespace otpd::server

#endif  // OTPD_SERVER_IO_RUNNER_H_
