// VerifyServer against clients that misbehave or ask too much: oversized and trickled lines, a
// pipeline that is never read, idle connections, requests past their deadline, the in-flight and
// connection caps, a flood of silent TCP connections, and failed HELLOs.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "tests/server/verify_server_env.h"

namespace otpd::server {
namespace {

using namespace std::chrono_literals;
using testing::kClientKey;
using testing::TestClient;
using testing::VerifyServerTest;

TEST_F(VerifyServerTest, OversizedLineIsRefusedAndClosed) {
  StartServer();
  TestClient c = Unix();
  std::string at_limit = "PING\t" + std::string(4096 - 5, 'x');  // bad id, but within the limit
  EXPECT_EQ(c.Call(at_limit), "FAIL\t-\treason=bad_request");
  EXPECT_EQ(c.Call("PING\tok"), "OK\tok");
  ASSERT_TRUE(c.Send("VERIFY\tbig\tuser=" + std::string(5000, 'u') + "\totp=123456\n"));
  EXPECT_EQ(c.ReadLine(), "FAIL\t-\treason=bad_request");
  EXPECT_TRUE(c.WaitClosed());

  // Also when no LF ever comes.
  TestClient d = Unix();
  ASSERT_TRUE(d.Send(std::string(4098, 'y')));
  EXPECT_EQ(d.ReadLine(), "FAIL\t-\treason=bad_request");
  EXPECT_TRUE(d.WaitClosed());
  EXPECT_EQ(c.Call("PING\tx"), std::nullopt);
}

TEST_F(VerifyServerTest, GlobalInFlightCapAnswersUnavailable) {
  config_.limits.max_in_flight = 2;
  service_.Script("999999", Hold());
  StartServer();
  TestClient a = Unix();
  TestClient b = AuthenticatedTcp();
  ASSERT_TRUE(a.Send("VERIFY\ta1\tuser=u\totp=999999\n"));
  ASSERT_TRUE(b.Send("VERIFY\tb1\tuser=u\totp=999999\n"));
  // Wait until both are at the service.
  for (int i = 0; i < 200 && service_.held() < 2; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(service_.held(), 2u);
  EXPECT_EQ(b.Call("VERIFY\tb2\tuser=u\totp=123456"), "FAIL\tb2\treason=unavailable");
  EXPECT_EQ(Stats().fields["in_flight"], "2");
  service_.ReleaseHeld();
  EXPECT_EQ(a.ReadLine(), "OK\ta1\tmethod=held\ttype=hardware_oath\tstep=0\tdrift=0");
  EXPECT_EQ(b.ReadLine(), "OK\tb1\tmethod=held\ttype=hardware_oath\tstep=0\tdrift=0");
  // Capacity is back.
  EXPECT_EQ(b.Call("VERIFY\tb3\tuser=u\totp=123456"),
            "OK\tb3\tmethod=m-u\ttype=software_oath\tstep=1\tdrift=0");
  EXPECT_EQ(service_.calls(), 3u);
}

TEST_F(VerifyServerTest, PipelineCapPausesReadingInsteadOfBuffering) {
  config_.limits.pipeline_depth = 4;
  StartServer();
  TestClient c = Unix();
  ASSERT_EQ(::fcntl(c.fd(), F_SETFL, ::fcntl(c.fd(), F_GETFL) | O_NONBLOCK), 0);
  // The client writes PINGs and never reads. Without backpressure the server would read them
  // all and queue the replies in memory; with it, the kernel buffers fill and the write blocks.
  const std::string ping = "PING\t123456789\n";
  std::string batch;
  for (int i = 0; i < 4096; ++i) batch += ping;
  size_t written = 0;
  bool blocked = false;
  const size_t kLimit = size_t{64} << 20;
  while (written < kLimit) {
    ssize_t n = ::send(c.fd(), batch.data(), batch.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        // Give the server time to drain what it will; blocked for good means backpressure.
        std::this_thread::sleep_for(100ms);
        n = ::send(c.fd(), batch.data(), batch.size(), MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          blocked = true;
          break;
        }
      }
      ASSERT_GE(n, 0) << std::strerror(errno);
    }
    written += static_cast<size_t>(n);
  }
  ASSERT_TRUE(blocked) << "wrote " << written << " bytes without blocking";
  // The server works through what the kernel buffered, then stops reading: from then on only
  // the STATS requests themselves are added.
  uint64_t requests_before = 0, requests_after = 0;
  for (int i = 0; i < 100; ++i) {
    requests_before = std::stoull(Stats().fields["requests"]);
    std::this_thread::sleep_for(100ms);
    requests_after = std::stoull(Stats().fields["requests"]);
    if (requests_after == requests_before + 1) break;
  }
  EXPECT_EQ(requests_after, requests_before + 1);
  EXPECT_LT(requests_before, written / ping.size());

  // Once the client reads, every reply arrives and the connection works again.
  ASSERT_EQ(::fcntl(c.fd(), F_SETFL, ::fcntl(c.fd(), F_GETFL) & ~O_NONBLOCK), 0);
  size_t total = written / ping.size();  // whole lines written
  size_t replies = 0;
  while (replies < total) {
    std::optional<std::string> line = c.ReadLine(10s);
    ASSERT_TRUE(line.has_value()) << "after " << replies << " of " << total;
    ASSERT_EQ(*line, "OK\t123456789");
    ++replies;
  }
  // A partial PING may have been written last: complete it.
  size_t partial = written % ping.size();
  if (partial != 0) {
    ASSERT_TRUE(c.Send(ping.substr(partial)));
    EXPECT_EQ(c.ReadLine(), "OK\t123456789");
  }
  EXPECT_EQ(c.Call("PING\tend"), "OK\tend");
}

TEST_F(VerifyServerTest, IdleConnectionsAreClosed) {
  config_.limits.idle_timeout = 300ms;
  clock_ = &fake_;
  StartServer();
  TestClient idle = Unix();
  TestClient busy = Unix();
  EXPECT_EQ(idle.Call("PING\t0"), "OK\t0");  // its last activity: now
  EXPECT_EQ(busy.Call("PING\t1"), "OK\t1");
  for (int i = 1; i <= 5; ++i) {
    fake_.Advance(100ms);
    EXPECT_EQ(busy.Call("PING\t2"), "OK\t2");
    server_->CheckDeadlines();
    if (i < 3) {
      EXPECT_FALSE(idle.WaitClosed(20ms)) << "closed after " << 100 * i << " ms";
    }
  }
  EXPECT_TRUE(idle.WaitClosed(2s));
  EXPECT_EQ(busy.Call("PING\t3"), "OK\t3");
}

TEST_F(VerifyServerTest, LineTricklingPastTheLineTimeoutIsCutOff) {
  config_.limits.line_timeout = 400ms;
  clock_ = &fake_;
  StartServer();
  TestClient slow = Unix();
  // A line completed within the timeout, a byte at a time, is answered.
  for (char ch : std::string("PING\tquick\n")) {
    ASSERT_TRUE(slow.Send(std::string(1, ch)));
    fake_.Advance(10ms);
    server_->CheckDeadlines();
  }
  EXPECT_EQ(slow.ReadLine(), "OK\tquick");
  // A line still incomplete when the timeout passes is not, although bytes keep arriving (which
  // keeps the connection from being idle).
  const std::string line = "PING\tslow-trickle-of-a-request-id\n";
  std::optional<std::string> reply;
  std::chrono::milliseconds advanced{0};
  for (size_t i = 0; i < line.size() && !reply; ++i) {
    if (!slow.Send(line.substr(i, 1))) break;
    fake_.Advance(30ms);
    advanced += 30ms;
    server_->CheckDeadlines();
    reply = slow.ReadLine(20ms);
  }
  EXPECT_EQ(reply, "FAIL\t-\treason=bad_request");
  EXPECT_GE(advanced, 400ms);
  EXPECT_TRUE(slow.WaitClosed(2s));
  // The timeout is per line: a connection that always has part of a line buffered, but whose
  // lines each complete in time, is never cut.
  TestClient busy = Unix();
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(busy.Send("PING\tp"));
    fake_.Advance(300ms);
    server_->CheckDeadlines();
    ASSERT_TRUE(busy.Send(std::to_string(i) + "\nPI"));
    EXPECT_EQ(busy.ReadLine(), "OK\tp" + std::to_string(i));
    ASSERT_TRUE(busy.Send("NG\tq\n"));
    EXPECT_EQ(busy.ReadLine(), "OK\tq");
  }
}

TEST_F(VerifyServerTest, RequestDeadlineAnswersUnavailableAndDropsTheLateAnswer) {
  config_.limits.request_deadline = 200ms;
  clock_ = &fake_;
  service_.Script("999999", Hold());
  StartServer();
  TestClient c = Unix();
  ASSERT_TRUE(c.Send("VERIFY\tslow\tuser=u\totp=999999\n"));
  for (int i = 0; i < 200 && service_.held() < 1; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(service_.held(), 1u);
  fake_.Advance(190ms);
  server_->CheckDeadlines();
  EXPECT_EQ(c.ReadLine(50ms), std::nullopt);
  fake_.Advance(10ms);
  server_->CheckDeadlines();
  EXPECT_EQ(c.ReadLine(), "FAIL\tslow\treason=unavailable");
  EXPECT_EQ(Stats().fields["in_flight"], "1");  // the service still has it
  service_.ReleaseHeld();
  EXPECT_EQ(c.Call("PING\tnext"), "OK\tnext");  // and not the late answer
  EXPECT_EQ(c.ReadLine(300ms), std::nullopt);
  EXPECT_EQ(Stats().fields["in_flight"], "0");
}

TEST_F(VerifyServerTest, EachListenerRefusesItsOwnExcess) {
  config_.limits.max_connections = 2;
  config_.limits.max_tcp_connections = 1;
  StartServer();
  TestClient a = Unix();
  TestClient b = AuthenticatedTcp();
  EXPECT_EQ(a.Call("PING\ta"), "OK\ta");
  TestClient c = Unix();  // the TCP connection does not count against the Unix socket
  EXPECT_EQ(c.Call("PING\tc"), "OK\tc");
  TestClient d = Unix();
  EXPECT_EQ(d.ReadLine(), "FAIL\t-\treason=unavailable");
  EXPECT_TRUE(d.WaitClosed());
  TestClient e = Tcp();
  EXPECT_EQ(e.ReadLine(), "FAIL\t-\treason=unavailable");
  EXPECT_TRUE(e.WaitClosed());
  EXPECT_EQ(b.Call("PING\tb"), "OK\tb");
}

// Silent TCP connections (no HELLO) are bounded by the TCP listener's own limit and by the HELLO
// deadline: front ends on the Unix socket never notice them.
TEST_F(VerifyServerTest, ATcpFloodLeavesTheUnixSocketAlone) {
  config_.limits.max_connections = 50;
  config_.limits.max_tcp_connections = 20;
  config_.limits.hello_timeout = 5s;
  clock_ = &fake_;
  StartServer();
  std::vector<TestClient> silent;
  for (int i = 0; i < 40; ++i) silent.push_back(Tcp());
  // The first 20 are held, the rest refused at once.
  int refused = 0;
  for (int i = 20; i < 40; ++i) {
    if (silent[i].ReadLine(2s) == "FAIL\t-\treason=unavailable") ++refused;
  }
  EXPECT_EQ(refused, 20);
  std::vector<TestClient> front_ends;
  for (int i = 0; i < 40; ++i) front_ends.push_back(Unix());
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(front_ends[i].Call("PING\t" + std::to_string(i)), "OK\t" + std::to_string(i));
  }
  // The silent ones are cut at the HELLO deadline, and no sooner.
  fake_.Advance(4900ms);
  server_->CheckDeadlines();
  EXPECT_EQ(silent[0].ReadLine(50ms), std::nullopt);
  fake_.Advance(200ms);
  server_->CheckDeadlines();
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(silent[i].ReadLine(2s), "FAIL\t-\treason=unauthorized") << i;
  }
  // Their places are free again once they are closed (here: at the end of the linger time).
  fake_.Advance(1s);
  server_->CheckDeadlines();
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(silent[i].WaitClosed()) << i;
  // A client sees the end of its connection when the server shuts down its sending side, which
  // happens when the lingering starts; the place is free when the linger time is over. A session
  // whose last write completed after the clock moved above lingers from then on: the clock moves
  // on while we wait.
  bool welcome = false;
  std::string answer;
  for (int i = 0; i < 100 && !welcome; ++i) {
    std::optional<TestClient> late = TestClient::Tcp(server_->tcp_port());
    answer = late ? late->Call(std::string("HELLO\th\tversion=1\tclient=vpn\tkey=") + kClientKey)
                        .value_or("(none)")
                  : "(no connection)";
    welcome = answer.starts_with("OK");
    if (!welcome) {
      fake_.Advance(1s);
      server_->CheckDeadlines();
      std::this_thread::sleep_for(20ms);
    }
  }
  EXPECT_TRUE(welcome) << answer << "; open connections: " << server_->stats().connections.load();
}

// Failed HELLOs from one address lock it out for a while: its HELLOs are then refused without
// the key being checked, even the right one; and the log gets a summary, not a line each.
TEST_F(VerifyServerTest, FailedHellosAreThrottledAndSummarised) {
  config_.limits.max_failed_hellos = 3;
  clock_ = &fake_;
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
  StartServer();
  const std::string wrong = "HELLO\th\tversion=1\tclient=vpn\tkey=vpn-key-0123456789abcdeX";
  const std::string right = std::string("HELLO\th\tversion=1\tclient=vpn\tkey=") + kClientKey;
  for (int i = 0; i < 50; ++i) {
    TestClient c = Tcp();
    EXPECT_EQ(c.Call(wrong), "FAIL\th\treason=unauthorized");
  }
  {
    TestClient c = Tcp();  // locked: the right key is refused too
    EXPECT_EQ(c.Call(right), "FAIL\th\treason=unauthorized");
  }
  ParsedReply stats = Stats();
  EXPECT_EQ(stats.fields["hellos_failed"], "4");
  EXPECT_EQ(stats.fields["hellos_throttled"], "47");
  fake_.Advance(61s);
  {
    TestClient c = Tcp();
    EXPECT_EQ(c.Call(right), "OK\th\tversion=1\tserver=otpd/" OTPD_TEST_VERSION);
  }
  server_->Stop();  // flushes the summary
  std::vector<std::string> lines = sink->last_formatted();
  spdlog::set_default_logger(previous);
  int hello_lines = 0;
  bool summary = false;
  for (const std::string& l : lines) {
    if (l.find("HELLO") == std::string::npos) continue;
    ++hello_lines;
    summary |= l.find("50 failed HELLOs") != std::string::npos ||
               l.find("failed HELLOs from 1 address") != std::string::npos;
    EXPECT_EQ(l.find("vpn-key"), std::string::npos) << l;  // never the key
  }
  EXPECT_LE(hello_lines, 3);
  EXPECT_TRUE(summary);
}

}  // namespace
}  // namespace otpd::server
