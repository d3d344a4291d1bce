// A raw HTTP/1.1 connection for tests that must send bytes no well-behaved client sends (half a
// request, conflicting framing headers, a second request hidden in a body) and see exactly what
// the server answers and whether it then closes the connection. Blocking POSIX sockets with
// timeouts; header-only.

#ifndef OTPD_TESTS_TESTING_RAW_HTTP_H_
#define OTPD_TESTS_TESTING_RAW_HTTP_H_

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "tests/testing/local_socket.h"

namespace otpd::testing {

struct RawAnswer {
  int status = 0;       // 0: no complete answer
  std::string headers;  // the header block as sent, lower-cased
  std::string body;
};

class RawHttp {
 public:
  static std::optional<RawHttp> Tcp(uint16_t port) { return Adopt(ConnectLoopbackTcp(port)); }
  // From source address `source` (host order, inside 127.0.0.0/8) to 127.0.0.1:`port`.
  static std::optional<RawHttp> TcpFrom(uint16_t port, uint32_t source) {
    return Adopt(ConnectLoopbackTcpFrom(port, source));
  }
  static std::optional<RawHttp> Unix(const std::string& path) {
    return Adopt(ConnectUnixSocket(path));
  }

  RawHttp(RawHttp&& other) noexcept : fd_(other.fd_), buffer_(std::move(other.buffer_)) {
    other.fd_ = -1;
  }
  RawHttp& operator=(RawHttp&&) = delete;
  ~RawHttp() {
    if (fd_ >= 0) ::close(fd_);
  }

  bool Send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // The next answer (its body read by Content-Length); status 0 when none came complete within
  // `timeout`.
  RawAnswer Read(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    RawAnswer answer;
    size_t end = std::string::npos;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(deadline)) return answer;
    }
    std::string head = buffer_.substr(0, end + 2);
    for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t length = 0;
    if (size_t at = head.find("\r\ncontent-length:"); at != std::string::npos) {
      length = std::strtoul(head.c_str() + at + 17, nullptr, 10);
    }
    while (buffer_.size() < end + 4 + length) {
      if (!Fill(deadline)) return answer;
    }
    answer.status = std::atoi(head.c_str() + head.find(' ') + 1);
    answer.headers = std::move(head);
    answer.body = buffer_.substr(end + 4, length);
    buffer_.erase(0, end + 4 + length);
    return answer;
  }

  // True when the server closed the connection (EOF or reset) within `timeout`, discarding any
  // bytes still to read.
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const size_t before = buffer_.size();
      if (!Fill(deadline)) return closed_;
      if (buffer_.size() == before) return closed_;
    }
  }

 private:
  explicit RawHttp(int fd) : fd_(fd) {}
  static std::optional<RawHttp> Adopt(int fd) {
    if (fd < 0) return std::nullopt;
    return RawHttp(fd);
  }

  // Reads what is there (waiting until `deadline`); false at EOF, reset or the deadline.
  bool Fill(std::chrono::steady_clock::time_point deadline) {
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      const int rc = ::poll(&p, 1, static_cast<int>(left.count()));
      if (rc < 0 && errno == EINTR) continue;
      if (rc <= 0) return false;
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        closed_ = true;
        return false;
      }
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
  }

  int fd_;
  std::string buffer_;
  bool closed_ = false;
};

}  // namespace otpd::testing

#endif  // OTPD_TESTS_TESTING_RAW_HTTP_H_
