// A real etcd cluster for tests: N members of Debian's /usr/bin/etcd on loopback, each on ports
// picked free at start, with their data in a fresh directory (under /dev/shm when it exists, so
// that fsync costs nothing and parallel tests do not wait on the disk), stopped and removed by
// the destructor. Members die with the test process (PR_SET_PDEATHSIG) even when it crashes.
//
// Faults: Kill (SIGKILL) and Restart a member on its data, Pause (SIGSTOP) and Resume (SIGCONT),
// and Leader() to find whom to hit. Elections are fast (heartbeat 50 ms, election timeout
// 500 ms) so that tests of a leader's death stay short.

#ifndef OTPD_TESTS_TESTING_ETCD_CLUSTER_H_
#define OTPD_TESTS_TESTING_ETCD_CLUSTER_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace otpd::testing {

struct EtcdClusterOptions {
  int members = 3;
  // etcd's --max-txn-ops (its default is 128).
  int max_txn_ops = 128;
  int heartbeat_ms = 50;
  int election_ms = 500;
  // Keep the data directory on disk (TMPDIR) instead of /dev/shm: for measurements with fsync.
  bool on_disk = false;
  // TLS towards the clients (https:// client URLs) with this certificate and key (PEM); with
  // client_ca_file also, clients must present a certificate that CA signed. Health is then
  // checked on a plain-HTTP metrics listener of each member.
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
  // More flags for every member.
  std::vector<std::string> extra_args;
};

class EtcdCluster {
 public:
  explicit EtcdCluster(EtcdClusterOptions options = {});
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  // The etcd binary, or "" when it is not installed.
  static std::string Binary();

  // Starts every member and waits until each answers /health (true), or fails with `error`
  // (the members' logs included).
  bool Start(std::string* error, std::chrono::milliseconds timeout = std::chrono::seconds(30));

  int size() const { return static_cast<int>(members_.size()); }
  // "127.0.0.1:PORT" of member i's client URL (https:// with TLS, as etcdctl and otpd take it);
  // all of them.
  std::string endpoint(int i) const;
  std::vector<std::string> endpoints() const;
  // "a,b,c" for a flag.
  std::string endpoint_list() const;

  // SIGKILL, then wait for the process.
  void Kill(int i);
  // Starts a killed member again on its data directory; true once it is healthy (which needs a
  // quorum: to bring back a cluster that lost it, Revive each member, then WaitHealthy).
  bool Restart(int i, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  bool Revive(int i);
  void Pause(int i);   // SIGSTOP
  void Resume(int i);  // SIGCONT
  bool running(int i) const { return members_[static_cast<size_t>(i)].pid > 0; }

  // The index of the member that is leader now, as the running members say; -1 when none does
  // (during an election).
  int Leader() const;
  // Waits until some running member is leader and every running member is healthy.
  bool WaitHealthy(std::chrono::milliseconds timeout);
  bool Healthy(int i) const;

  std::string log(int i) const;

 private:
  struct Member {
    std::string name;
    std::string dir;
    uint16_t client_port = 0;
    uint16_t peer_port = 0;
    uint16_t metrics_port = 0;  // with TLS: plain HTTP for /health
    pid_t pid = -1;
  };
  bool Spawn(int i, bool fresh);

  EtcdClusterOptions options_;
  std::string root_;
  std::vector<Member> members_;
};

// Why a test that needs etcd is skipped when EtcdCluster::Binary() is empty. Only a missing etcd
// skips: every other failure to start a cluster fails the test. CI installs etcd
// (scripts/deps.sh), so there the tests always run.
inline constexpr char kEtcdMissing[] =
    "etcd is not installed (/usr/bin/etcd; Debian package etcd-server, which scripts/deps.sh "
    "installs): test skipped";

// One 3-member cluster for the whole test process, started on first use and stopped at exit
// (CTest runs every test in a process of its own, so this is one cluster per test there). Null
// with `error` filled when it cannot start.
EtcdCluster* SharedEtcdCluster(std::string* error);

}  // namespace otpd::testing

#endif  // OTPD_TESTS_TESTING_ETCD_CLUSTER_H_
