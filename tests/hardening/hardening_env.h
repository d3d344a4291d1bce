// Helpers for the hardening tests: finding the daemon's pid and memory, raw sockets for hostile
// clients, the open-file limit, and latency figures of a well-behaved client.

#ifndef OTPD_TESTS_HARDENING_HARDENING_ENV_H_
#define OTPD_TESTS_HARDENING_HARDENING_ENV_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/testing/daemon.h"
#include "tests/testing/sanitized.h"

namespace otpd::hardening {

using otpd::testing::kSanitized;

// The pid of this process's child whose command name is `comm` (as in /proc/PID/comm), or -1.
pid_t FindChild(const std::string& comm);

// VmRSS of `pid` in KiB from /proc/PID/status, or -1.
long RssKib(pid_t pid);

// True while `pid` exists and is not a zombie.
bool Alive(pid_t pid);

// A blocking TCP connection to 127.0.0.1:port, or -1.
int ConnectTcp(uint16_t port);
// A blocking connection to a Unix socket, or -1.
int ConnectUnix(const std::string& path);
void SetNonBlocking(int fd);

// Raises the soft RLIMIT_NOFILE towards `want` (never above the hard limit); returns the soft
// limit now in force. Child processes started afterwards inherit it.
uint64_t RaiseFdLimit(uint64_t want);

// Latencies in microseconds and their percentiles.
class Latencies {
 public:
  void Add(std::chrono::steady_clock::duration d);
  size_t count() const { return us_.size(); }
  // q in [0, 1]; 0 when empty.
  int64_t Percentile(double q) const;
  int64_t Max() const { return Percentile(1.0); }
  // "n=.. p50=..us p99=..us max=..us".
  std::string Summary() const;

 private:
  mutable std::vector<int64_t> us_;
};

// `count` PINGs over `client`, one at a time; every reply must be OK (returns false otherwise).
bool ProbePings(testing::LineClient& client, int count, Latencies* out);

// Prints one measured figure for docs/hardening.md ("[figure] name: value") and records it as
// a test property.
void Figure(const std::string& name, const std::string& value);

}  // namespace otpd::hardening

#endif  // OTPD_TESTS_HARDENING_HARDENING_ENV_H_
