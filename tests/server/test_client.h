// A blocking line client for server tests (POSIX sockets, receive timeout), independent of the
// server's Asio code.

#ifndef OTPD_TESTS_SERVER_TEST_CLIENT_H_
#define OTPD_TESTS_SERVER_TEST_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace otpd::server::testing {

class TestClient {
 public:
  static std::optional<TestClient> Tcp(uint16_t port);
  static std::optional<TestClient> Unix(const std::string& path);

  TestClient(TestClient&& other) noexcept;
  TestClient& operator=(TestClient&&) = delete;
  ~TestClient();

  bool Send(const std::string& bytes);
  // The next line without its LF; nullopt on EOF, reset or timeout.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Sends `line` + LF and reads one reply line.
  std::optional<std::string> Call(const std::string& line);
  // True when the server closed the connection (EOF or reset) within `timeout`, discarding any
  // lines still to read.
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void ShutdownWrite();
  int fd() const { return fd_; }

 private:
  explicit TestClient(int fd) : fd_(fd) {}
  int fd_;
  std::string buffer_;
};

}  // namespace otpd::server::testing

#endif  // OTPD_TESTS_SERVER_TEST_CLIENT_H_
