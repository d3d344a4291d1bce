// Slow and hostile clients against the real daemon: clients that never read their replies, that
// send a byte a second, 10 000 idle connections, and a flood of garbage. In each case a
// well-behaved client keeps getting answers quickly and the daemon's memory (VmRSS) stays
// bounded. The measured figures are printed as "[figure] ..." lines (docs/hardening.md).

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <thread>

#include "tests/e2e/e2e_env.h"
#include "tests/hardening/hardening_env.h"

namespace otpd::hardening {
namespace {

using e2e::TestToken;
using otpd::testing::Daemon;
using otpd::testing::Field;
using otpd::testing::Fields;
using otpd::testing::LineClient;
using otpd::testing::TempDir;
using Clock = std::chrono::steady_clock;

constexpr char kClientKey[] = "vpn-client-key-0123456789";

class HostileClientsTest : public ::testing::Test {
 protected:
  // `n` connections to the daemon's Unix socket (fewer, with a failure recorded, if some fail).
  std::vector<int> ConnectClients(int n) {
    std::vector<int> fds;
    for (int i = 0; i < n; ++i) {
      int fd = ConnectUnix(SocketPath());
      if (fd < 0) {
        ADD_FAILURE() << "connection " << i << " to the daemon failed";
        break;
      }
      fds.push_back(fd);
    }
    return fds;
  }

  void StartDaemon(const std::vector<std::string>& extra = {}) {
    StartDaemonWith(e2e::DaemonArgs(dir_.File("data"), extra));
  }

  // The daemon with TCP clients that must authenticate (client "vpn", kClientKey) and the given
  // [limits] lines.
  void StartAuthenticatingDaemon(const std::string& limits) {
    otpd::testing::WriteFile(
        dir_.File("otpd.toml"),
        "[limits]\n" + limits + "\n[clients.vpn]\nkey = \"" + std::string(kClientKey) + "\"\n");
    StartDaemonWith({"--data-dir", dir_.File("data"), "--key-file",
                     e2e::KeyFileFor(dir_.File("data")), "--socket", SocketPath(), "--listen",
                     "127.0.0.1:0", "--config", dir_.File("otpd.toml")});
  }

  void StartDaemonWith(const std::vector<std::string>& args) {
    std::string error;
    ASSERT_TRUE(e2e::PrepareDataDir(dir_.File("data"), {token_}, &error)) << error;
    ASSERT_TRUE(daemon_.Start(OTPD_PATH, args)) << daemon_.log();
    pid_ = FindChild("otpd");
    ASSERT_GT(pid_, 0);
    baseline_kib_ = RssKib(pid_);
  }

  std::string SocketPath() const { return dir_.File("data") + "/verify.sock"; }

  // A VERIFY with the token's next code must be accepted, within `limit`.
  void ExpectSignInWorks(std::chrono::milliseconds limit = std::chrono::seconds(2)) {
    LineClient c = LineClient::Unix(SocketPath());
    auto start = Clock::now();
    std::string reply = c.Call(e2e::VerifyLine("g", token_.upn, token_.Code(++counter_)));
    auto took = Clock::now() - start;
    EXPECT_EQ(Fields(reply).empty() ? "" : Fields(reply)[0], "OK") << Field(reply, "reason");
    EXPECT_LT(took, limit);
  }

  // The daemon is alive and its RSS grew by less than `max_growth_kib` since start.
  void ExpectBounded(const std::string& what, long max_growth_kib) {
    ASSERT_TRUE(Alive(pid_)) << daemon_.log();
    long now = RssKib(pid_);
    Figure(what + " rss_kib",
           "start " + std::to_string(baseline_kib_) + ", now " + std::to_string(now));
    if (!kSanitized) {
      EXPECT_LT(now - baseline_kib_, max_growth_kib);
    }
  }

  TempDir dir_;
  TestToken token_{
      "HW-G", "good@example.com", "hardening seed 000001", {.type = engine::OtpType::kHotp}};
  int64_t counter_ = 0;
  Daemon daemon_;
  pid_t pid_ = -1;
  long baseline_kib_ = 0;
};

// Writes PINGs without ever reading: otpd stops reading the connection at pipeline_depth
// unanswered requests, so what it holds stays bounded however much the client sends.
TEST_F(HostileClientsTest, ClientsThatNeverReadDoNotGrowMemory) {
  StartDaemon();
  constexpr int kClients = 20;
  std::vector<int> fds;
  size_t accepted_bytes = 0;
  std::string chunk;
  for (int i = 0; i < 512; ++i) chunk += "PING\tn" + std::to_string(i) + "\n";
  for (int i = 0; i < kClients; ++i) {
    int fd = ConnectUnix(SocketPath());
    ASSERT_GE(fd, 0);
    SetNonBlocking(fd);
    fds.push_back(fd);
  }
  // Each client writes until its socket has stayed full for 300 ms (at most 4 s, 16 MiB).
  for (int fd : fds) {
    auto deadline = Clock::now() + std::chrono::seconds(4);
    auto last_progress = Clock::now();
    size_t sent = 0;
    while (Clock::now() < deadline && sent < (16u << 20) &&
           Clock::now() - last_progress < std::chrono::milliseconds(300)) {
      ssize_t n = send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
        last_progress = Clock::now();
      } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        break;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    accepted_bytes += sent;
  }
  Figure("never-read clients", std::to_string(kClients) + " clients, " +
                                   std::to_string(accepted_bytes / 1024) +
                                   " KiB written before their sockets stalled");
  // Far less than 16 MiB per client got in: the daemon applied backpressure.
  EXPECT_LT(accepted_bytes, size_t{kClients} * (8u << 20));

  LineClient probe = LineClient::Unix(SocketPath());
  Latencies lat;
  EXPECT_TRUE(ProbePings(probe, 200, &lat));
  Figure("never-read clients: well-behaved PING latency", lat.Summary());
  EXPECT_LT(lat.Percentile(0.99), 200'000);
  ExpectSignInWorks();
  ExpectBounded("never-read clients", 64 * 1024);
  for (int fd : fds) close(fd);
}

// Clients that trickle a request a byte a second: they hold a connection each, and nothing else.
TEST_F(HostileClientsTest, ByteASecondClientsDoNotSlowOthers) {
  StartDaemon();
  constexpr int kClients = 50;
  const std::string line = "PING\ts\n";  // 7 bytes: the last arrives after 6 s
  std::vector<int> fds = ConnectClients(kClients);
  ASSERT_EQ(fds.size(), static_cast<size_t>(kClients));
  Latencies lat;
  LineClient probe = LineClient::Unix(SocketPath());
  for (size_t b = 0; b < line.size(); ++b) {
    for (int fd : fds) ASSERT_EQ(send(fd, &line[b], 1, MSG_NOSIGNAL), 1);
    auto next = Clock::now() + std::chrono::seconds(1);
    if (b + 1 == line.size()) break;
    // Meanwhile a well-behaved client is answered at once.
    while (Clock::now() < next) {
      ASSERT_TRUE(ProbePings(probe, 1, &lat));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  // Each slow client gets its answer once its line is complete.
  for (int fd : fds) {
    char buf[64];
    timeval tv{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    EXPECT_GT(n, 0);
    if (n > 0) {
      EXPECT_EQ(std::string(buf, static_cast<size_t>(std::min<ssize_t>(n, 4))), "OK\ts");
    }
    close(fd);
  }
  Figure("byte-a-second clients: well-behaved PING latency", lat.Summary());
  EXPECT_LT(lat.Percentile(0.99), 200'000);
  ExpectSignInWorks();
  ExpectBounded("byte-a-second clients", 16 * 1024);
}

// Clients that trickle a long line, a byte every 200 ms, so that they are never idle: the line
// timeout cuts each off with bad_request and frees its slot, and nobody else notices.
TEST_F(HostileClientsTest, LinesTricklingPastTheLineTimeoutAreCutOff) {
  StartDaemon({"--line-timeout", "1500"});
  constexpr int kClients = 50;
  const std::string line = "PING\t" + std::string(60, 't') + "\n";  // 66 bytes: 13 s
  std::vector<int> fds = ConnectClients(kClients);
  ASSERT_EQ(fds.size(), static_cast<size_t>(kClients));
  Latencies lat;
  LineClient probe = LineClient::Unix(SocketPath());
  auto start = Clock::now();
  std::vector<bool> open(kClients, true);
  int still_open = kClients;
  for (size_t b = 0; b < line.size() && still_open > 0; ++b) {
    for (int i = 0; i < kClients; ++i) {
      if (open[i] && send(fds[i], &line[b], 1, MSG_NOSIGNAL) != 1) {
        open[i] = false;  // the daemon closed it
        --still_open;
      }
    }
    auto next = Clock::now() + std::chrono::milliseconds(200);
    while (Clock::now() < next) {
      ASSERT_TRUE(ProbePings(probe, 1, &lat));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  EXPECT_EQ(still_open, 0) << "clients still connected after " << took.count() << " ms";
  EXPECT_LT(took, std::chrono::seconds(6));
  // Each got the bad_request that says why, then EOF.
  for (int fd : fds) {
    char buf[64];
    timeval tv{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    EXPECT_EQ(std::string(buf, static_cast<size_t>(std::max<ssize_t>(n, 0))),
              "FAIL\t-\treason=bad_request\n");
    close(fd);
  }
  Figure("line timeout 1.5 s: trickling clients cut off after",
         std::to_string(took.count()) + " ms");
  Figure("line timeout: well-behaved PING latency", lat.Summary());
  EXPECT_LT(lat.Percentile(0.99), 200'000);
  ExpectSignInWorks();
  ExpectBounded("trickling clients cut off", 16 * 1024);
}

// 10 000 connections that send nothing. The soft open-file limit is raised for this process and
// the daemon it starts, and --max-tcp-connections lets them all in.
TEST_F(HostileClientsTest, TenThousandIdleConnections) {
  constexpr int kIdle = 10'000;
  uint64_t limit = RaiseFdLimit(kIdle + 1000);
  if (limit < kIdle + 200) GTEST_SKIP() << "RLIMIT_NOFILE hard limit too low: " << limit;
  StartDaemon({"--max-tcp-connections", std::to_string(kIdle + 100)});
  std::vector<int> fds;
  fds.reserve(kIdle);
  auto start = Clock::now();
  for (int i = 0; i < kIdle; ++i) {
    int fd = ConnectTcp(daemon_.tcp_port());
    ASSERT_GE(fd, 0) << "connection " << i << ": " << std::strerror(errno);
    fds.push_back(fd);
  }
  Figure(
      "idle connections: open time",
      std::to_string(kIdle) + " in " +
          std::to_string(
              std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count()) +
          " ms");
  // Wait until the daemon has accepted them all.
  LineClient probe = LineClient::Unix(SocketPath());
  std::string connections;
  for (int i = 0; i < 100; ++i) {
    connections = Field(probe.Call("STATS\tst"), "connections");
    if (!connections.empty() && std::stoi(connections) >= kIdle) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_GE(std::stoi(connections.empty() ? "0" : connections), kIdle);
  long with_idle = RssKib(pid_);
  Figure("idle connections: rss_kib",
         "start " + std::to_string(baseline_kib_) + ", with " + std::to_string(kIdle) + " idle " +
             std::to_string(with_idle) + " (" +
             std::to_string((with_idle - baseline_kib_) * 1024 / kIdle) + " bytes per connection)");
  if (!kSanitized) {
    EXPECT_LT(with_idle - baseline_kib_, 256 * 1024);
  }

  Latencies lat;
  EXPECT_TRUE(ProbePings(probe, 200, &lat));
  Figure("idle connections: well-behaved PING latency", lat.Summary());
  EXPECT_LT(lat.Percentile(0.99), 200'000);
  ExpectSignInWorks();

  auto close_all = [&] {
    for (int fd : fds) close(fd);
    fds.clear();
    for (int i = 0; i < 100; ++i) {
      connections = Field(probe.Call("STATS\tst"), "connections");
      if (connections == "1") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(connections, "1");
  };
  close_all();
  long after_close = RssKib(pid_);
  Figure("idle connections: rss_kib after close", std::to_string(after_close));
  ExpectSignInWorks();

  // A second wave reuses the memory the first one left to the allocator: no per-connection leak.
  for (int i = 0; i < kIdle; ++i) {
    int fd = ConnectTcp(daemon_.tcp_port());
    ASSERT_GE(fd, 0) << "connection " << i << ": " << std::strerror(errno);
    fds.push_back(fd);
  }
  for (int i = 0; i < 100; ++i) {
    connections = Field(probe.Call("STATS\tst"), "connections");
    if (!connections.empty() && std::stoi(connections) >= kIdle) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  long second_wave = RssKib(pid_);
  Figure("idle connections: rss_kib with a second wave of 10000", std::to_string(second_wave));
  if (!kSanitized) {
    EXPECT_LT(second_wave - with_idle, (with_idle - baseline_kib_) / 4);
  }
  close_all();
}

// Random bytes (with some LFs, some over-long lines) from several connections at once, which
// reconnect when the daemon closes them. The daemon answers bad_request or closes, stays up,
// and a well-behaved client is still served.
TEST_F(HostileClientsTest, GarbageFloodLeavesTheDaemonServing) {
  StartDaemon();
  constexpr int kFlooders = 6;
  constexpr size_t kBytesEach = 4u << 20;
  std::atomic<size_t> total{0};
  std::atomic<int> reconnects{0};
  std::vector<std::thread> flooders;
  for (int t = 0; t < kFlooders; ++t) {
    flooders.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(1234 + t));
      std::string buf(8192, '\0');
      size_t sent = 0;
      auto deadline = Clock::now() + std::chrono::seconds(8);
      int fd = -1;
      char sink[65536];
      while (sent < kBytesEach && Clock::now() < deadline) {
        if (fd < 0) {
          fd = t % 2 == 0 ? ConnectUnix(SocketPath()) : ConnectTcp(daemon_.tcp_port());
          if (fd < 0) return;
          SetNonBlocking(fd);
          ++reconnects;
        }
        // Mostly short lines; one chunk in eight has no LF at all (an oversized line).
        bool long_line = rng() % 8 == 0;
        for (char& c : buf) {
          c = static_cast<char>(rng());
          if (c == '\n' && long_line) c = 'x';
          if (!long_line && rng() % 40 == 0) c = '\n';
        }
        ssize_t n = send(fd, buf.data(), buf.size(), MSG_NOSIGNAL);
        if (n > 0) sent += static_cast<size_t>(n);
        ssize_t got;
        while ((got = recv(fd, sink, sizeof sink, 0)) > 0) {
        }
        bool closed_by_daemon = got == 0;
        if (closed_by_daemon || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
          close(fd);
          fd = -1;
        } else if (n < 0) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      }
      if (fd >= 0) close(fd);
      total += sent;
    });
  }
  Latencies lat;
  LineClient probe = LineClient::Unix(SocketPath());
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(ProbePings(probe, 5, &lat));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (auto& f : flooders) f.join();
  Figure("garbage flood", std::to_string(total / 1024) + " KiB from " + std::to_string(kFlooders) +
                              " clients over " + std::to_string(reconnects.load()) +
                              " connections");
  Figure("garbage flood: well-behaved PING latency", lat.Summary());
  EXPECT_LT(lat.Percentile(0.99), 250'000);
  ExpectSignInWorks();
  ExpectBounded("garbage flood", 64 * 1024);
}

// A flood of TCP connections that never say HELLO takes only the TCP listener's share: front
// ends on the Unix socket keep connecting and signing in, and the silent connections are cut at
// the HELLO deadline.
TEST_F(HostileClientsTest, ATcpFloodLeavesUnixFrontEndsAlone) {
  RaiseFdLimit(4096);
  StartAuthenticatingDaemon(
      "max_connections = 200\nmax_tcp_connections = 100\n"
      "hello_timeout_ms = 1500");
  std::vector<int> silent;
  for (int i = 0; i < 300; ++i) {
    int fd = ConnectTcp(daemon_.tcp_port());
    ASSERT_GE(fd, 0) << std::strerror(errno);
    silent.push_back(fd);
  }
  // Front ends on the Unix socket: every one connects and is served, none sees a broken pipe.
  std::vector<LineClient> front_ends;
  for (int i = 0; i < 150; ++i) front_ends.push_back(LineClient::Unix(SocketPath()));
  for (int i = 0; i < 150; ++i) {
    ASSERT_EQ(front_ends[i].Call("PING\tp" + std::to_string(i)), "OK\tp" + std::to_string(i))
        << "front end " << i;
  }
  ExpectSignInWorks();
  std::string stats = front_ends[0].Call("STATS\ts");
  Figure("tcp flood: refused connections", Field(stats, "connections_refused"));
  EXPECT_GE(std::stoi(Field(stats, "connections_refused")), 200);
  // The held silent connections are answered `unauthorized` and closed at the HELLO deadline.
  auto start = Clock::now();
  int cut = 0;
  for (int fd : silent) {
    char buf[256];
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0 &&
        std::string(buf, static_cast<size_t>(n)).find("reason=unauthorized") != std::string::npos) {
      ++cut;
    }
    close(fd);
  }
  Figure("tcp flood: silent connections cut at the HELLO deadline", std::to_string(cut));
  EXPECT_EQ(cut, 100);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
  ExpectBounded("tcp flood", 64 * 1024);
}

// Thousands of wrong HELLOs from one address: its HELLOs are soon refused without the key being
// looked at (even the right key), and the log gets a few summary lines, not one per failure.
TEST_F(HostileClientsTest, KeyGuessingIsThrottledAndTheLogStaysQuiet) {
  StartAuthenticatingDaemon("max_failed_hellos = 5");
  constexpr int kGuesses = 2000;
  for (int i = 0; i < kGuesses; ++i) {
    LineClient c = LineClient::Tcp(daemon_.tcp_port());
    std::string reply = c.Call("HELLO\th\tversion=1\tclient=vpn\tkey=guess-" + std::to_string(i));
    ASSERT_EQ(Field(reply, "reason"), "unauthorized") << reply;
  }
  LineClient right = LineClient::Tcp(daemon_.tcp_port());
  EXPECT_EQ(Field(right.Call(std::string("HELLO\th\tversion=1\tclient=vpn\tkey=") + kClientKey),
                  "reason"),
            "unauthorized");
  LineClient probe = LineClient::Unix(SocketPath());
  std::string stats = probe.Call("STATS\ts");
  EXPECT_EQ(Field(stats, "hellos_failed"), "6");
  EXPECT_EQ(std::stoi(Field(stats, "hellos_throttled")), kGuesses - 5);
  ASSERT_EQ(daemon_.Stop(SIGTERM), 0);
  int lines = 0;
  for (size_t at = 0; (at = daemon_.log().find("HELLO", at)) != std::string::npos; ++at) ++lines;
  Figure("key guessing: log lines for " + std::to_string(kGuesses) + " failed HELLOs",
         std::to_string(lines));
  EXPECT_LE(lines, 5);
  EXPECT_EQ(daemon_.log().find("guess-"), std::string::npos);
}

}  // namespace
}  // namespace otpd::hardening
