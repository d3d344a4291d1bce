#include "server/hooks/exec_sink.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>
#include <utility>

namespace otpd::server::hooks {
namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), 1000));
}

// Writes `data` to the non-blocking socket `fd` until done, the reader closes, or the deadline.
// False only on the deadline.
bool WriteAll(int fd, std::string_view data, Clock::time_point deadline) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (Clock::now() >= deadline) return false;
      pollfd p{.fd = fd, .events = POLLOUT, .revents = 0};
      (void)poll(&p, 1, RemainingMs(deadline));
      continue;
    }
    return true;  // the program closed its input (or exited): its exit status decides
  }
  return true;
}

}  // namespace

base::Status CheckExecSinkOptions(const ExecSinkOptions& options, std::string_view where) {
  const std::string at(where);
  if (options.argv.empty() || options.argv[0].empty()) {
    return base::InvalidArgumentError(at + ".command: needs the program to run");
  }
  if (options.argv[0][0] != '/') {
    return base::InvalidArgumentError(at +
                                      ".command: the program must be an absolute path (no "
                                      "shell and no PATH search is used)");
  }
  struct stat st {};
  if (stat(options.argv[0].c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
      access(options.argv[0].c_str(), X_OK) != 0) {
    return base::InvalidArgumentError(at + ".command: " + options.argv[0] +
                                      " is not an executable file");
  }
  for (const auto& arg : options.argv) {
    if (arg.find('\0') != std::string::npos) {
      return base::InvalidArgumentError(at + ".command: an argument holds a NUL byte");
    }
  }
  if (options.timeout.count() <= 0) {
    return base::InvalidArgumentError(at + ".timeout_ms: must be positive");
  }
  return base::OkStatus();
}

ExecSink::ExecSink(ExecSinkOptions options) : options_(std::move(options)) {}

service::DeliveryResult ExecSink::Deliver(const service::OutboxEvent& event,
                                          std::string_view json) {
  service::DeliveryResult result;
  if (options_.argv.empty()) {
    result.detail = "no command";
    return result;
  }
  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  std::vector<char*> argv;
  for (const auto& a : options_.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_text = {
      "PATH=/usr/local/bin:/usr/bin:/bin", "OTPD_EVENT_ID=" + event.id,
      "OTPD_EVENT_SEQ=" + std::to_string(event.seq), "OTPD_EVENT_TYPE=" + event.type};
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);

  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    result.detail = "cannot create a socket pair";
    return result;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    result.detail = "cannot fork";
    return result;
  }
  if (pid == 0) {
    setpgid(0, 0);
    // The default dispositions, and no signal blocked (the daemon ignores SIGPIPE).
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    const int null = open("/dev/null", O_RDWR);
    if (dup2(fds[1], STDIN_FILENO) < 0 || null < 0 || dup2(null, STDOUT_FILENO) < 0 ||
        dup2(null, STDERR_FILENO) < 0) {
      _exit(126);
    }
    // No other descriptor of the daemon reaches the program.
    syscall(SYS_close_range, 3U, ~0U, 0U);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(fds[1]);
  const auto deadline = Clock::now() + options_.timeout;
  fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  const bool written = WriteAll(fds[0], json, deadline);
  close(fds[0]);  // end of file for the program

  int status = 0;
  bool exited = false;
  if (written) {
    auto pause = std::chrono::milliseconds(1);
    for (;;) {
      pid_t r = waitpid(pid, &status, WNOHANG);
      if (r == pid) {
        exited = true;
        break;
      }
      if (r < 0 && errno != EINTR) break;
      if (Clock::now() >= deadline) break;
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(20));
    }
  }
  if (!exited) {
    kill(-pid, SIGKILL);  // the program and whatever it started
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.detail = "timed out after " + std::to_string(options_.timeout.count()) + " ms";
    return result;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    result.outcome = service::DeliveryOutcome::kDelivered;
    result.detail = "exit code 0";
  } else if (WIFEXITED(status)) {
    result.detail = WEXITSTATUS(status) == 127 ? "exit code 127 (the program could not be run)"
                                               : "exit code " + std::to_string(WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    result.detail = "killed by signal " + std::to_string(WTERMSIG(status));
  }
  return result;
}

}  // namespace otpd::server::hooks
