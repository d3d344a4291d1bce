#include "tests/hardening/hardening_env.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

namespace otpd::hardening {

namespace {

// Fields of /proc/PID/stat after the command name: state, ppid, ...
bool ReadStat(pid_t pid, std::string* comm, char* state, pid_t* ppid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return false;
  *comm = text.substr(open + 1, close - open - 1);
  std::istringstream rest(text.substr(close + 1));
  rest >> *state >> *ppid;
  return static_cast<bool>(rest);
}

}  // namespace

pid_t FindChild(const std::string& comm) {
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return -1;
  pid_t found = -1;
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0') continue;
    std::string name;
    char state = 0;
    pid_t ppid = 0;
    if (ReadStat(static_cast<pid_t>(pid), &name, &state, &ppid) && ppid == getpid() &&
        name == comm && state != 'Z') {
      found = static_cast<pid_t>(pid);
      break;
    }
  }
  closedir(dir);
  return found;
}

long RssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

bool Alive(pid_t pid) {
  std::string comm;
  char state = 0;
  pid_t ppid = 0;
  return pid > 0 && ReadStat(pid, &comm, &state, &ppid) && state != 'Z';
}

int ConnectTcp(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int ConnectUnix(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void SetNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

uint64_t RaiseFdLimit(uint64_t want) {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return 0;
  if (r.rlim_cur < want) {
    r.rlim_cur = std::min<rlim_t>(want, r.rlim_max);
    setrlimit(RLIMIT_NOFILE, &r);
    getrlimit(RLIMIT_NOFILE, &r);
  }
  return r.rlim_cur;
}

void Latencies::Add(std::chrono::steady_clock::duration d) {
  us_.push_back(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

int64_t Latencies::Percentile(double q) const {
  if (us_.empty()) return 0;
  std::sort(us_.begin(), us_.end());
  size_t i = static_cast<size_t>(q * static_cast<double>(us_.size() - 1) + 0.5);
  return us_[std::min(i, us_.size() - 1)];
}

std::string Latencies::Summary() const {
  return "n=" + std::to_string(count()) + " p50=" + std::to_string(Percentile(0.5)) +
         "us p99=" + std::to_string(Percentile(0.99)) + "us max=" + std::to_string(Max()) + "us";
}

bool ProbePings(testing::LineClient& client, int count, Latencies* out) {
  for (int i = 0; i < count; ++i) {
    auto start = std::chrono::steady_clock::now();
    std::string reply = client.Call("PING\tp" + std::to_string(i));
    out->Add(std::chrono::steady_clock::now() - start);
    if (testing::Fields(reply).empty() || testing::Fields(reply)[0] != "OK") return false;
  }
  return true;
}

void Figure(const std::string& name, const std::string& value) {
  std::cout << "[figure] " << name << ": " << value << std::endl;
  ::testing::Test::RecordProperty(name, value);
}

}  // namespace otpd::hardening
