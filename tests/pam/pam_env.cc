#include "tests/pam/pam_env.h"

#include <fcntl.h>
#include <liboath/oath.h>
#include <poll.h>
#include <security/pam_appl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace otpd::pam {
namespace {

using Clock = std::chrono::steady_clock;
using otpd::testing::RunResult;

std::string Hex2Bin(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

}  // namespace

std::string Module() { return PAM_OTPD_MODULE; }

PamService::PamService(const std::string& stack) {
  static std::atomic<int> counter{0};
  name_ = "otpd-pam-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  path_ = "/etc/pam.d/" + name_;
  std::ofstream out(path_, std::ios::trunc);
  out << stack;
  out.close();
  if (!out) ADD_FAILURE() << "cannot write " << path_ << " (the PAM tests run as root)";
}

PamService::~PamService() { unlink(path_.c_str()); }

namespace {

// pamtester with `input` written at once, or with `steps` answered one at a time.
PamResult RunPamtester(const std::string& service, const std::string& user,
                       const std::string& input, const std::string& operation,
                       const std::vector<std::string>& wrapper,
                       const std::vector<DialogStep>& steps) {
  signal(SIGPIPE, SIG_IGN);
  PamResult result;
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 ||
      pipe2(err_pipe, O_CLOEXEC) != 0) {
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  std::vector<std::string> args = wrapper;
  for (const std::string& a : {std::string("pamtester"), service, user, operation}) {
    args.push_back(a);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "LC_", 3) != 0 && std::strncmp(*e, "LANG", 4) != 0) {
      env_strings.emplace_back(*e);
    }
  }
  env_strings.push_back("LC_ALL=C");
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  const auto start = Clock::now();
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(in_pipe[1]);
    close(out_pipe[0]);
    close(err_pipe[0]);
    result.err = std::string("cannot start ") + argv[0] + ": " + std::strerror(rc);
    return result;
  }
  // The answers fit in the pipe; pamtester reads them when it prompts.
  if (!input.empty() && write(in_pipe[1], input.data(), input.size()) < 0) {
    result.err = "writing pamtester's input failed; ";
  }
  int in_fd = in_pipe[1];
  if (steps.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  size_t step = 0;
  size_t seen = 0;  // prompts are looked for in the output after this offset
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  const auto give_up = start + std::chrono::seconds(60);
  while (open_fds > 0 && Clock::now() < give_up) {
    if (poll(fds, 2, 1000) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
    // Prompts may land on either stream: look in both, in arrival order is not needed since
    // each prompt is answered once, in the steps' order.
    while (in_fd >= 0 && step < steps.size()) {
      const std::string all = result.out + result.err;
      const size_t at = all.find(steps[step].prompt, seen);
      if (at == std::string::npos) break;
      seen = at + steps[step].prompt.size();
      const std::string line = steps[step].answer(all) + "\n";
      if (write(in_fd, line.data(), line.size()) < 0) result.err += "writing an answer failed; ";
      if (++step == steps.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
  }
  if (in_fd >= 0) close(in_fd);
  for (pollfd& p : fds) {
    if (p.fd >= 0) close(p.fd);
  }
  if (open_fds > 0) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  result.took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

}  // namespace

PamResult Pamtester(const std::string& service, const std::string& user, const std::string& input,
                    const std::string& operation, const std::vector<std::string>& wrapper) {
  return RunPamtester(service, user, input, operation, wrapper, {});
}

PamResult PamDialog(const std::string& service, const std::string& user,
                    const std::vector<DialogStep>& steps) {
  // Line-buffered stdout: what the module shows (pam_info, on stdout) must arrive before the
  // prompt that follows it (on stderr), as on a terminal.
  return RunPamtester(service, user, "", "authenticate", {"stdbuf", "-oL"}, steps);
}

::testing::AssertionResult EndedWith(const PamResult& r, int code) {
  // pamtester prints "pamtester: successfully authenticated" or "pamtester: <pam_strerror>".
  const std::string expected =
      code == PAM_SUCCESS ? "pamtester: successfully authenticated"
                          : std::string("pamtester: ") + pam_strerror(nullptr, code) + "\n";
  const bool exit_ok = (code == PAM_SUCCESS) == (r.exit_code == 0);
  if (exit_ok && r.all().find(expected) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "expected \"" << expected << "\" (exit " << (code == PAM_SUCCESS ? 0 : 1)
         << "), pamtester exited " << r.exit_code << " saying:\n"
         << r.all();
}

std::string PeerConnection::ReadLine(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return "";
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return "";
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

bool PeerConnection::Send(const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool PeerConnection::WaitClosed(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0))) <= 0) return false;
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return true;
  }
  return false;
}

ScriptedPeer::ScriptedPeer(const std::string& path, Script script)
    : path_(path), script_(std::move(script)) {
  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
  unlink(path_.c_str());
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listen_fd_, 16) != 0) {
    ADD_FAILURE() << "cannot listen on " << path_ << ": " << std::strerror(errno);
    return;
  }
  thread_ = std::thread([this] { Serve(); });
}

ScriptedPeer::~ScriptedPeer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  unlink(path_.c_str());
}

void ScriptedPeer::Serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++connections_;
    PeerConnection c(fd);
    script_(c, *this);
    close(fd);
  }
}

std::vector<std::string> ScriptedPeer::lines() {
  std::lock_guard lock(mu_);
  return lines_;
}

bool ScriptedPeer::ReadRequest(PeerConnection& c) {
  for (int i = 0; i < 2; ++i) {
    std::string line = c.ReadLine();
    if (line.empty()) return false;
    std::lock_guard lock(mu_);
    lines_.push_back(line);
  }
  return true;
}

ScriptedPeer::Script ScriptedPeer::Replies(std::string hello, std::string reply) {
  return [hello, reply](PeerConnection& c, ScriptedPeer& peer) {
    if (!peer.ReadRequest(c)) return;
    c.Send(hello + reply);
    c.WaitClosed();
  };
}

RealOtpd::RealOtpd() {
  const std::string data = dir_.File("data");
  const std::string tokens = dir_.File("tokens.csv");
  if (!Otpctl({"init"}) ||
      !Otpctl({"seed-load", "--count", "4", "--prefix", "pam", "--tokens-out", tokens})) {
    return;
  }
  // user,seed_hex,counter
  std::istringstream rows(otpd::testing::ReadFile(tokens));
  std::string row;
  std::getline(rows, row);
  while (std::getline(rows, row)) {
    const size_t a = row.find(','), b = row.find(',', a + 1);
    seeds_.push_back(row.substr(a + 1, b - a - 1));
    next_.push_back(std::stoull(row.substr(b + 1)));
  }
  otpd::testing::WriteFile(dir_.File("more.csv"),
                           "serial,seed,type,digits,counter\n"
                           "NM-1,3132333435363738393031323334353637383930,hotp,6,0\n"
                           "NA-1,3132333435363738393031323334353637383931,hotp,6,0\n");
  if (!Otpctl({"import", dir_.File("more.csv")}) ||
      !Otpctl({"user", "add", "nomethod@example.com"}) ||
      !Otpctl({"user", "add", "inactive@example.com"}) ||
      !Otpctl({"token", "assign", "NM-1", "nomethod@example.com"}) ||
      !Otpctl({"token", "unassign", "NM-1"}) ||
      !Otpctl({"token", "assign", "NA-1", "inactive@example.com"})) {
    return;
  }
  if (!daemon_.Start(OTPD_PATH, {"--data-dir", data, "--key-file", dir_.File("master.key"),
                                 "--socket", socket()})) {
    error_ = "otpd did not start: " + daemon_.log();
    return;
  }
  ok_ = true;
}

RealOtpd::~RealOtpd() {
  if (daemon_.running()) daemon_.Stop(SIGTERM);
}

RunResult RealOtpd::RunOtpctl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {OTPCTL_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  for (const std::string& a : {std::string("--data-dir"), dir_.File("data"),
                               std::string("--key-file"), dir_.File("master.key")}) {
    argv.push_back(a);
  }
  return otpd::testing::Run(argv);
}

std::string RealOtpd::OtpctlOutput(const std::vector<std::string>& args) {
  RunResult r = RunOtpctl(args);
  if (r.exit_code != 0) {
    ADD_FAILURE() << "otpctl " << args[0] << " failed: " << r.err;
    return "";
  }
  return r.out;
}

bool RealOtpd::Otpctl(const std::vector<std::string>& args) {
  RunResult r = RunOtpctl(args);
  if (r.exit_code != 0) {
    error_ = "otpctl " + args[0] + " failed: " + r.err;
    return false;
  }
  return true;
}

std::string RealOtpd::Code(int i, uint64_t counter) const {
  static const int init = oath_init();
  (void)init;
  const std::string seed = Hex2Bin(seeds_.at(static_cast<size_t>(i)));
  char otp[10] = {};
  if (oath_hotp_generate(seed.data(), seed.size(), counter, 6, false, OATH_HOTP_DYNAMIC_TRUNCATION,
                         otp) != OATH_OK) {
    ADD_FAILURE() << "oath_hotp_generate failed";
  }
  return otp;
}

std::string RealOtpd::NextCode(int i) { return Code(i, next_.at(static_cast<size_t>(i))++); }

std::string RealOtpd::WrongCode(int i) {
  for (int candidate = 0;; candidate += 7919) {
    char text[8];
    std::snprintf(text, sizeof(text), "%06d", candidate % 1000000);
    bool used = false;
    for (uint64_t k = 0; k < 1000 && !used; ++k) {
      used = Code(i, next_.at(static_cast<size_t>(i)) + k) == text;
    }
    if (!used) return text;
  }
}

std::string RealOtpd::Ask(const std::string& line) {
  return otpd::testing::LineClient::Unix(socket()).Call(line);
}

uint64_t RealOtpd::Stat(const std::string& key) {
  const std::string value = otpd::testing::Field(Ask("STATS\ts"), key);
  return value.empty() ? ~uint64_t{0} : std::stoull(value);
}

}  // namespace otpd::pam
