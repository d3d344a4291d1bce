#include "tests/testing/etcd_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/testing/subprocess.h"

namespace otpd::testing {
namespace {

// One HTTP/1.0 request to 127.0.0.1:port; the whole answer, "" when none within `timeout_ms`.
std::string Http(uint16_t port, const std::string& method, const std::string& path,
                 const std::string& body, int timeout_ms) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto left = [&] {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
    return static_cast<int>(ms < 0 ? 0 : ms);
  };
  std::string request = method + " " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
  size_t sent = 0;
  std::string answer;
  while (left() > 0) {
    pollfd p{fd, static_cast<short>(sent < request.size() ? POLLOUT : POLLIN), 0};
    if (poll(&p, 1, left()) <= 0) break;
    if (sent < request.size()) {
      ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
      continue;
    }
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    answer.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return answer;
}

// The value of "name":"digits" in a JSON text, "" when absent.
std::string JsonNumberString(const std::string& json, const std::string& name) {
  size_t at = json.find("\"" + name + "\":\"");
  if (at == std::string::npos) return "";
  at += name.size() + 4;
  size_t end = json.find('"', at);
  return end == std::string::npos ? "" : json.substr(at, end - at);
}

}  // namespace

EtcdCluster::EtcdCluster(EtcdClusterOptions options) : options_(options) {
  std::string base = "/dev/shm";
  struct stat st;
  if (options_.on_disk || stat(base.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
      access(base.c_str(), W_OK) != 0) {
    const char* tmp = getenv("TMPDIR");
    base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string pattern = base + "/otpd-etcd-XXXXXX";
  if (mkdtemp(pattern.data()) != nullptr) root_ = pattern;
  for (int i = 0; i < options_.members; ++i) {
    Member m;
    m.name = "m" + std::to_string(i);
    m.dir = root_ + "/" + m.name;
    members_.push_back(m);
  }
}

EtcdCluster::~EtcdCluster() {
  for (int i = 0; i < size(); ++i) {
    if (members_[static_cast<size_t>(i)].pid > 0) {
      kill(members_[static_cast<size_t>(i)].pid, SIGCONT);
      Kill(i);
    }
  }
  std::error_code ec;
  if (!root_.empty()) std::filesystem::remove_all(root_, ec);
}

std::string EtcdCluster::Binary() {
  for (const char* path : {"/usr/bin/etcd", "/usr/local/bin/etcd"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return "";
}

std::string EtcdCluster::endpoint(int i) const {
  return (options_.cert_file.empty() ? "" : "https://") + std::string("127.0.0.1:") +
         std::to_string(members_[static_cast<size_t>(i)].client_port);
}

std::vector<std::string> EtcdCluster::endpoints() const {
  std::vector<std::string> out;
  for (int i = 0; i < size(); ++i) out.push_back(endpoint(i));
  return out;
}

std::string EtcdCluster::endpoint_list() const {
  std::string out;
  for (int i = 0; i < size(); ++i) out += (i ? "," : "") + endpoint(i);
  return out;
}

bool EtcdCluster::Spawn(int i, bool fresh) {
  Member& m = members_[static_cast<size_t>(i)];
  std::string cluster;
  for (const Member& other : members_) {
    cluster += (cluster.empty() ? "" : ",") + other.name +
               "=http://127.0.0.1:" + std::to_string(other.peer_port);
  }
  const bool tls = !options_.cert_file.empty();
  const std::string client =
      (tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(m.client_port);
  const std::string peer = "http://127.0.0.1:" + std::to_string(m.peer_port);
  std::vector<std::string> args = {Binary(),
                                   "--name",
                                   m.name,
                                   "--data-dir",
                                   m.dir,
                                   "--listen-client-urls",
                                   client,
                                   "--advertise-client-urls",
                                   client,
                                   "--listen-peer-urls",
                                   peer,
                                   "--initial-advertise-peer-urls",
                                   peer,
                                   "--initial-cluster",
                                   cluster,
                                   "--initial-cluster-state",
                                   fresh ? "new" : "existing",
                                   "--initial-cluster-token",
                                   "otpd-test",
                                   "--heartbeat-interval",
                                   std::to_string(options_.heartbeat_ms),
                                   "--election-timeout",
                                   std::to_string(options_.election_ms),
                                   "--max-txn-ops",
                                   std::to_string(options_.max_txn_ops),
                                   "--logger",
                                   "zap",
                                   "--log-level",
                                   "warn"};
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  if (tls) {
    args.insert(args.end(),
                {"--cert-file", options_.cert_file, "--key-file", options_.key_file,
                 "--listen-metrics-urls", "http://127.0.0.1:" + std::to_string(m.metrics_port)});
    if (!options_.client_ca_file.empty()) {
      args.insert(args.end(), {"--client-cert-auth", "--trusted-ca-file", options_.client_ca_file});
    }
  }
  const std::string log = root_ + "/" + m.name + ".log";
  const pid_t pid = StartChild(std::move(args), log);
  if (pid < 0) return false;
  m.pid = pid;
  return true;
}

bool EtcdCluster::Start(std::string* error, std::chrono::milliseconds timeout) {
  if (Binary().empty()) {
    *error = "etcd is not installed (Debian: etcd-server)";
    return false;
  }
  if (root_.empty()) {
    *error = "cannot create a directory for the cluster";
    return false;
  }
  const bool tls = !options_.cert_file.empty();
  const size_t per_member = tls ? 3 : 2;
  const std::vector<uint16_t> ports = FreeLoopbackPorts(members_.size() * per_member);
  for (size_t i = 0; i < members_.size(); ++i) {
    members_[i].client_port = ports[i * per_member];
    members_[i].peer_port = ports[i * per_member + 1];
    if (tls) members_[i].metrics_port = ports[i * per_member + 2];
  }
  for (int i = 0; i < size(); ++i) {
    if (!Spawn(i, true)) {
      *error = "cannot start etcd";
      return false;
    }
  }
  if (WaitHealthy(timeout)) return true;
  *error = "the etcd cluster did not become healthy (leader: " + std::to_string(Leader()) + "):";
  for (int i = 0; i < size(); ++i) {
    const Member& m = members_[static_cast<size_t>(i)];
    *error += "\n--- " + m.name + " (client port " + std::to_string(m.client_port) +
              ", peer port " + std::to_string(m.peer_port) +
              (running(i) ? Healthy(i) ? ", healthy" : ", running, not healthy" : ", exited") +
              ")\n" + log(i);
  }
  return false;
}

void EtcdCluster::Kill(int i) {
  Member& m = members_[static_cast<size_t>(i)];
  if (m.pid <= 0) return;
  kill(m.pid, SIGKILL);
  waitpid(m.pid, nullptr, 0);
  m.pid = -1;
}

bool EtcdCluster::Revive(int i) { return running(i) || Spawn(i, false); }

bool EtcdCluster::Restart(int i, std::chrono::milliseconds timeout) {
  if (running(i)) return true;
  if (!Spawn(i, false)) return false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Healthy(i)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

void EtcdCluster::Pause(int i) {
  if (running(i)) kill(members_[static_cast<size_t>(i)].pid, SIGSTOP);
}

void EtcdCluster::Resume(int i) {
  if (running(i)) kill(members_[static_cast<size_t>(i)].pid, SIGCONT);
}

bool EtcdCluster::Healthy(int i) const {
  if (!running(i)) return false;
  const Member& m = members_[static_cast<size_t>(i)];
  const bool tls = !options_.cert_file.empty();
  std::string answer = Http(tls ? m.metrics_port : m.client_port, "GET", "/health", "", 1000);
  return answer.find("\"health\":\"true\"") != std::string::npos;
}

int EtcdCluster::Leader() const {
  for (int i = 0; i < size(); ++i) {
    if (!running(i)) continue;
    std::string status = Http(members_[static_cast<size_t>(i)].client_port, "POST",
                              "/v3/maintenance/status", "{}", 1000);
    std::string leader = JsonNumberString(status, "leader");
    if (leader.empty() || leader == "0") continue;
    for (int j = 0; j < size(); ++j) {
      if (!running(j)) continue;
      std::string other = Http(members_[static_cast<size_t>(j)].client_port, "POST",
                               "/v3/maintenance/status", "{}", 1000);
      if (JsonNumberString(other, "member_id") == leader) return j;
    }
  }
  return -1;
}

bool EtcdCluster::WaitHealthy(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    bool all = true;
    for (int i = 0; i < size() && all; ++i) all = !running(i) || Healthy(i);
    // etcd's /health is true only while the member knows a leader; Leader() names it, which
    // needs the client URL in plain HTTP.
    if (all && (!options_.cert_file.empty() || Leader() >= 0)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string EtcdCluster::log(int i) const {
  std::ifstream in(root_ + "/" + members_[static_cast<size_t>(i)].name + ".log");
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  return text.size() > 4000 ? text.substr(text.size() - 4000) : text;
}

EtcdCluster* SharedEtcdCluster(std::string* error) {
  static EtcdCluster* cluster = nullptr;
  static std::string start_error;
  static bool tried = false;
  if (!tried) {
    tried = true;
    static EtcdCluster shared;  // destroyed at exit: the members are stopped
    if (shared.Start(&start_error)) cluster = &shared;
  }
  if (cluster == nullptr) *error = start_error;
  return cluster;
}

}  // namespace otpd::testing
