// otpd as systemd runs it, without systemd: $NOTIFY_SOCKET names a datagram socket the test
// listens on (READY=1 once the verify socket accepts connections, RELOADING=1 and READY=1 around
// a SIGHUP reload, STOPPING=1 on SIGTERM), and $JOURNAL_STREAM names the file otpd's standard
// error goes to (each log line then starts with its syslog priority, "<6>", and has no time).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/e2e_env.h"

namespace otpd::e2e {
namespace {

using otpd::testing::Daemon;
using otpd::testing::LineClient;
using otpd::testing::TempDir;

// A datagram socket bound to `name` (a path, or "@name" in the abstract namespace), as systemd's.
class NotifyListener {
 public:
  explicit NotifyListener(const std::string& name) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, name.data(), name.size());
    socklen_t length = offsetof(sockaddr_un, sun_path) + name.size();
    if (name[0] == '@') {
      address.sun_path[0] = '\0';
    } else {
      length += 1;
    }
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&address), length) == 0;
    setenv("NOTIFY_SOCKET", name.c_str(), 1);
  }
  ~NotifyListener() {
    unsetenv("NOTIFY_SOCKET");
    close(fd_);
  }
  bool bound() const { return bound_; }

  // The next datagram, or "" when none came within `timeout`.
  std::string Next(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) return "";
    char buffer[4096];
    const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
  }

 private:
  int fd_ = -1;
  bool bound_ = false;
};

std::vector<std::string> Args(const std::string& data, const std::vector<std::string>& extra = {}) {
  // --init: these tests start the daemon on a new data directory.
  std::vector<std::string> args = {
      "--data-dir", data, "--key-file", data + ".key", "--socket", data + "/verify.sock", "--init"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(SystemdTest, ReadyOnceTheSocketListensReloadingAroundSighupStoppingOnSigterm) {
  TempDir dir;
  NotifyListener systemd(dir.File("notify"));
  ASSERT_TRUE(systemd.bound());
  const std::string data = dir.File("data");
  Daemon daemon;
  ASSERT_TRUE(daemon.Start(OTPD_PATH, Args(data))) << daemon.log();
  EXPECT_EQ(systemd.Next(), "READY=1");
  EXPECT_TRUE(LineClient::Unix(data + "/verify.sock").connected());

  ASSERT_EQ(kill(daemon.pid(), SIGHUP), 0);
  const std::string reloading = systemd.Next();
  EXPECT_TRUE(reloading.starts_with("RELOADING=1\nMONOTONIC_USEC=")) << reloading;
  EXPECT_EQ(systemd.Next(), "READY=1");

  EXPECT_EQ(daemon.Stop(SIGTERM), 0);
  EXPECT_EQ(systemd.Next(), "STOPPING=1");
  EXPECT_EQ(systemd.Next(std::chrono::milliseconds(200)), "");
}

TEST(SystemdTest, ARefusedReloadEndsWithReadyToo) {
  TempDir dir;
  NotifyListener systemd(dir.File("notify"));
  ASSERT_TRUE(systemd.bound());
  const std::string data = dir.File("data"), config = dir.File("otpd.toml");
  otpd::testing::WriteFile(config, "log_level = \"info\"\n");
  Daemon daemon;
  ASSERT_TRUE(daemon.Start(OTPD_PATH, Args(data, {"--config", config}))) << daemon.log();
  EXPECT_EQ(systemd.Next(), "READY=1");
  otpd::testing::WriteFile(config, "log_level = \"loud\"\n");
  ASSERT_EQ(kill(daemon.pid(), SIGHUP), 0);
  EXPECT_TRUE(systemd.Next().starts_with("RELOADING=1\n"));
  EXPECT_EQ(systemd.Next(), "READY=1");
  EXPECT_EQ(daemon.Stop(SIGTERM), 0);
  EXPECT_NE(daemon.log().find("reload refused"), std::string::npos) << daemon.log();
}

TEST(SystemdTest, AnAbstractNotifySocketIsReachedToo) {
  TempDir dir;
  NotifyListener systemd("@otpd-test-" + std::to_string(getpid()));
  ASSERT_TRUE(systemd.bound());
  Daemon daemon;
  ASSERT_TRUE(daemon.Start(OTPD_PATH, Args(dir.File("data")))) << daemon.log();
  EXPECT_EQ(systemd.Next(), "READY=1");
  EXPECT_EQ(daemon.Stop(SIGTERM), 0);
}

TEST(SystemdTest, WithoutANotifySocketNothingIsSentAndOtpdRunsAsBefore) {
  TempDir dir;
  unsetenv("NOTIFY_SOCKET");
  Daemon daemon;
  ASSERT_TRUE(daemon.Start(OTPD_PATH, Args(dir.File("data")))) << daemon.log();
  EXPECT_EQ(daemon.Stop(SIGTERM), 0);
  EXPECT_EQ(daemon.log().find("notify"), std::string::npos) << daemon.log();
}

// True when a line of `lines` starts with `prefix`.
bool HasLine(const std::string& lines, const std::string& prefix) {
  return lines.starts_with(prefix) || lines.find("\n" + prefix) != std::string::npos;
}

// Runs otpd with its standard error in `log`, $JOURNAL_STREAM naming `journal`'s device and inode
// ("" leaves it unset), until its verify socket is there (then SIGTERM) or it exits.
int RunWithStderrIn(const std::string& log, const std::string& journal,
                    const std::vector<std::string>& args, const std::string& socket) {
  const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  std::string stream;
  struct stat st;
  if (!journal.empty() && stat(journal.c_str(), &st) == 0) {
    stream = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  }
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fd, STDERR_FILENO);
    if (!stream.empty()) setenv("JOURNAL_STREAM", stream.c_str(), 1);
    std::vector<std::string> all = {OTPD_PATH};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(OTPD_PATH, argv.data());
    _exit(127);
  }
  close(fd);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (!socket.empty() && access(socket.c_str(), F_OK) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGTERM);
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(SystemdTest, LinesToTheJournalStartWithTheirPriorityAndHaveNoTime) {
  TempDir dir;
  const std::string data = dir.File("data"), log = dir.File("stderr");
  unsetenv("NOTIFY_SOCKET");
  ASSERT_EQ(RunWithStderrIn(log, log, Args(data), data + "/verify.sock"), 0);
  const std::string lines = otpd::testing::ReadFile(log);
  EXPECT_TRUE(HasLine(lines, "<6>started: data_dir=")) << lines;
  EXPECT_TRUE(HasLine(lines, "<6>stopped\n")) << lines;

  // An error is priority 3 (LOG_ERR): a directory that holds no otpd database.
  const std::string other = dir.File("other");
  mkdir(other.c_str(), 0700);
  otpd::testing::WriteFile(other + "/file", "not a database");
  EXPECT_EQ(RunWithStderrIn(log, log, Args(other), ""), 1);
  EXPECT_TRUE(HasLine(otpd::testing::ReadFile(log), "<3>cannot open the store: data directory"))
      << otpd::testing::ReadFile(log);
}

TEST(SystemdTest, LinesElsewhereHaveTimeAndLevel) {
  TempDir dir;
  const std::string data = dir.File("data"), log = dir.File("stderr");
  unsetenv("NOTIFY_SOCKET");
  // $JOURNAL_STREAM naming another file than standard error's: not the journal.
  otpd::testing::WriteFile(dir.File("elsewhere"), "");
  ASSERT_EQ(RunWithStderrIn(log, dir.File("elsewhere"), Args(data), data + "/verify.sock"), 0);
  const std::string lines = otpd::testing::ReadFile(log);
  EXPECT_EQ(lines.find("<6>"), std::string::npos) << lines;
  EXPECT_NE(lines.find(" otpd info: started: data_dir="), std::string::npos) << lines;
}

}  // namespace
}  // namespace otpd::e2e
