#include "tests/testing/daemon.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <regex>
#include <thread>

extern char** environ;

namespace otpd::testing {

Daemon::~Daemon() {
  if (pid_ > 0) Stop(SIGKILL);
}

void Daemon::Drain(int timeout_ms) {
  if (err_fd_ < 0) return;
  pollfd p{err_fd_, POLLIN, 0};
  while (poll(&p, 1, timeout_ms) > 0) {
    char buf[4096];
    ssize_t n = read(err_fd_, buf, sizeof(buf));
    if (n <= 0) {
      close(err_fd_);
      err_fd_ = -1;
      return;
    }
    log_.append(buf, static_cast<size_t>(n));
    timeout_ms = 0;
  }
}

const std::string& Daemon::log() {
  Drain(0);
  return log_;
}

bool Daemon::Start(const std::string& binary, const std::vector<std::string>& args,
                   std::chrono::milliseconds timeout) {
  int err_pipe[2];
  if (pipe(err_pipe) != 0) return false;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> all = {binary};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The master key comes from the arguments only: a developer's own OTPD_MASTER_KEY or
  // OTPD_KEY_FILE must not change what a test runs with.
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (entry.starts_with("OTPD_MASTER_KEY=") || entry.starts_with("OTPD_KEY_FILE=")) continue;
    envp.push_back(*e);
  }
  envp.push_back(nullptr);
  int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(err_pipe[1]);
  if (rc != 0) {
    close(err_pipe[0]);
    pid_ = -1;
    log_ += "spawn failed\n";
    return false;
  }
  err_fd_ = err_pipe[0];
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  static const std::regex started(R"(started: .* tcp_port=(\d+))");
  const size_t from = log_.size();
  while (std::chrono::steady_clock::now() < deadline) {
    Drain(50);
    std::smatch m;
    std::string fresh = log_.substr(from);
    if (std::regex_search(fresh, m, started)) {
      tcp_port_ = static_cast<uint16_t>(std::stoi(m[1]));
      static const std::regex admin(R"(admin_port=(\d+))");
      std::smatch a;
      if (std::regex_search(fresh, a, admin)) {
        admin_port_ = static_cast<uint16_t>(std::stoi(a[1]));
      }
      static const std::regex validate(R"(validate_port=(\d+))");
      if (std::regex_search(fresh, a, validate)) {
        validate_port_ = static_cast<uint16_t>(std::stoi(a[1]));
      }
      static const std::regex selfservice(R"(selfservice_port=(\d+))");
      if (std::regex_search(fresh, a, selfservice)) {
        selfservice_port_ = static_cast<uint16_t>(std::stoi(a[1]));
      }
      return true;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      Drain(0);
      return false;
    }
  }
  return false;
}

int Daemon::Stop(int sig) {
  if (pid_ <= 0) return -1;
  kill(pid_, sig);
  int status = 0;
  // Keep reading its stderr while it exits: a report longer than the pipe holds (a sanitizer's,
  // say) would otherwise block the daemon in write() and this wait for ever.
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (err_fd_ >= 0) {
      Drain(20);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  pid_ = -1;
  Drain(100);
  if (err_fd_ >= 0) {
    close(err_fd_);
    err_fd_ = -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

LineClient LineClient::Tcp(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    fd = -1;
  }
  int one = 1;
  if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return LineClient(fd);
}

LineClient LineClient::Unix(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    fd = -1;
  }
  return LineClient(fd);
}

LineClient::LineClient(LineClient&& other) noexcept
    : fd_(other.fd_), closed_(other.closed_), buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
}

LineClient::~LineClient() {
  if (fd_ >= 0) close(fd_);
}

bool LineClient::Send(const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string LineClient::ReadLine(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || fd_ < 0) return "";
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
    char buf[8192];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      closed_ = true;
      return "";
    }
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

std::string LineClient::Call(const std::string& line) {
  if (!Send(line + "\n")) return "";
  return ReadLine();
}

std::vector<std::string> Fields(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t tab = line.find('\t', start);
    out.push_back(line.substr(start, tab - start));
    if (tab == std::string::npos) return out;
    start = tab + 1;
  }
}

std::string Field(const std::string& line, const std::string& key) {
  for (const std::string& f : Fields(line)) {
    if (f.rfind(key + "=", 0) == 0) return f.substr(key.size() + 1);
  }
  return "";
}

}  // namespace otpd::testing
