// Runs the real otpd binary for end-to-end tests: start it on loopback with an ephemeral port and
// a Unix socket in a temp dir, learn the bound port from its start-up log line, talk to it over
// the real socket, kill it (gracefully or with SIGKILL) and start it again.

#ifndef OTPD_TESTS_TESTING_DAEMON_H_
#define OTPD_TESTS_TESTING_DAEMON_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace otpd::testing {

class Daemon {
 public:
  Daemon() = default;
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Starts `binary` with `args`; waits until it logs that it started (true) or exits or times
  // out (false; log() says why).
  bool Start(const std::string& binary, const std::vector<std::string>& args,
             std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Sends `sig` and waits for the process to exit; returns its exit code (-1 if killed).
  int Stop(int sig);
  bool running() const { return pid_ > 0; }
  // The process id while running (to signal it without stopping it), else -1.
  pid_t pid() const { return pid_; }

  uint16_t tcp_port() const { return tcp_port_; }
  // The admin API's TCP port (admin_listen), 0 when it has none.
  uint16_t admin_port() const { return admin_port_; }
  // The validate API's TCP port (validate_listen), 0 when it has none.
  uint16_t validate_port() const { return validate_port_; }
  uint16_t selfservice_port() const { return selfservice_port_; }
  // Everything the daemon wrote to stderr so far.
  const std::string& log();

 private:
  void Drain(int timeout_ms);

  pid_t pid_ = -1;
  int err_fd_ = -1;
  uint16_t tcp_port_ = 0;
  uint16_t admin_port_ = 0;
  uint16_t validate_port_ = 0;
  uint16_t selfservice_port_ = 0;
  std::string log_;
};

// A line-protocol client over TCP (127.0.0.1) or a Unix socket.
class LineClient {
 public:
  static LineClient Tcp(uint16_t port);
  static LineClient Unix(const std::string& path);
  LineClient(LineClient&& other) noexcept;
  LineClient& operator=(LineClient&&) = delete;
  ~LineClient();

  bool connected() const { return fd_ >= 0; }
  // Writes raw bytes (one or more lines, each ending with \n).
  bool Send(const std::string& bytes);
  // The next reply line without its \n, or "" on timeout/close (closed() tells which).
  std::string ReadLine(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Sends one line and reads one reply.
  std::string Call(const std::string& line);
  bool closed() const { return closed_; }

 private:
  explicit LineClient(int fd) : fd_(fd) {}
  int fd_ = -1;
  bool closed_ = false;
  std::string buffer_;
};

// Splits a reply into its TAB-separated fields.
std::vector<std::string> Fields(const std::string& line);
// The value of key=... in a reply, or "" when absent.
std::string Field(const std::string& line, const std::string& key);

}  // namespace otpd::testing

#endif  // OTPD_TESTS_TESTING_DAEMON_H_
