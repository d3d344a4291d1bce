// End-to-end tests of VerifyServer over a real Unix socket (in a temp dir) and a loopback TCP
// port (ephemeral), with a scripted SignInService answering on its own thread.

#include "server/verify_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "server/protocol.h"
#include "tests/server/fake_sign_in_service.h"
#include "tests/server/test_client.h"

namespace otpd::server {
namespace {

using namespace std::chrono_literals;
using testing::FakeSignInService;
using testing::TestClient;

constexpr char kClientKey[] = "vpn-key-0123456789abcdef";

class VerifyServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("otpd-vs-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    config_.data_dir = dir_.string();
    config_.socket_path = (dir_ / "verify.sock").string();
    config_.listen = "127.0.0.1:0";
    config_.io_threads = 2;
    config_.limits.shutdown_grace = 2s;
    config_.tcp_clients.emplace("vpn", base::SecretBytes::FromString(kClientKey));
  }

  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  void StartServer() {
    server_ = std::make_unique<VerifyServer>(config_, &service_, *clock_);
    base::Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s;
    ASSERT_NE(server_->tcp_port(), 0);
  }

  TestClient Unix() {
    std::optional<TestClient> c = TestClient::Unix(config_.socket_path);
    EXPECT_TRUE(c.has_value());
    return std::move(*c);
  }

  TestClient Tcp() {
    std::optional<TestClient> c = TestClient::Tcp(server_->tcp_port());
    EXPECT_TRUE(c.has_value());
    return std::move(*c);
  }

  TestClient AuthenticatedTcp() {
    TestClient c = Tcp();
    EXPECT_EQ(c.Call(std::string("HELLO\th\tversion=1\tclient=vpn\tkey=") + kClientKey),
              "OK\th\tversion=1\tserver=otpd/" OTPD_TEST_VERSION);
    return c;
  }

  // Reads STATS over a fresh Unix connection.
  ParsedReply Stats() {
    TestClient c = Unix();
    std::optional<std::string> line = c.Call("STATS\ts");
    EXPECT_TRUE(line.has_value());
    std::optional<ParsedReply> reply = ParseReply(line.value_or(""));
    EXPECT_TRUE(reply.has_value()) << line.value_or("");
    return reply.value_or(ParsedReply{});
  }

  static FakeSignInService::Answer Hold() {
    FakeSignInService::Answer a;
    a.result.outcome = service::Outcome::kAccepted;
    a.result.method_id = "held";
    a.hold = true;
    return a;
  }

  static FakeSignInService::Answer Delayed(std::chrono::milliseconds delay, std::string method_id) {
    FakeSignInService::Answer a;
    a.result.outcome = service::Outcome::kAccepted;
    a.result.method_id = std::move(method_id);
    a.result.method_kind = service::MethodKind::kSoftwareOath;
    a.result.step = 9;
    a.delay = delay;
    return a;
  }

  // Advances the fake clock by `step` at a time (checking deadlines after each) until `c` gets a
  // line or `limit` has passed; returns the line and how far the clock went.
  std::pair<std::optional<std::string>, std::chrono::milliseconds> AdvanceUntilReply(
      TestClient& c, std::chrono::milliseconds step, std::chrono::milliseconds limit) {
    std::chrono::milliseconds advanced{0};
    while (advanced < limit) {
      fake_.Advance(step);
      advanced += step;
      server_->CheckDeadlines();
      if (auto line = c.ReadLine(20ms)) return {line, advanced};
    }
    return {std::nullopt, advanced};
  }

  std::filesystem::path dir_;
  ServerConfig config_;
  base::FakeClock fake_;
  const base::Clock* clock_ = base::RealClock::Get();  // tests of deadlines use &fake_
  FakeSignInService service_;                          // declared before server_: outlives it
  std::unique_ptr<VerifyServer> server_;
};

TEST_F(VerifyServerTest, PingAndVerifyOverUnixSocket) {
  StartServer();
  TestClient c = Unix();
  EXPECT_EQ(c.Call("PING\tp1"), "OK\tp1");
  EXPECT_EQ(c.Call("VERIFY\tv1\tuser=alice@example.com\totp=123456"),
            "OK\tv1\tmethod=m-alice@example.com\ttype=software_oath\tstep=1\tdrift=0");
  EXPECT_EQ(service_.last_user(), "alice@example.com");

  FakeSignInService::Answer hw;
  hw.result.outcome = service::Outcome::kAccepted;
  hw.result.method_id = "tok1";
  hw.result.method_kind = service::MethodKind::kHardwareOath;
  hw.result.serial = "HW-7";
  hw.result.step = 42;
  hw.result.drift = 1;
  service_.Script("222222", hw);
  EXPECT_EQ(c.Call("VERIFY\tv2\tserial=HW-7\totp=222222"),
            "OK\tv2\tmethod=tok1\ttype=hardware_oath\tserial=HW-7\tstep=42\tdrift=1");
  EXPECT_EQ(service_.last_serial(), "HW-7");

  FakeSignInService::Answer locked;
  locked.result.outcome = service::Outcome::kLocked;
  locked.result.retry_after_seconds = 60;
  service_.Script("333333", locked);
  EXPECT_EQ(c.Call("VERIFY\tv3\tuser=bob\totp=333333"), "FAIL\tv3\treason=locked\tretry_after=60");

  FakeSignInService::Answer drift;
  drift.result.outcome = service::Outcome::kDrift;
  drift.result.drift = -30;
  service_.Script("444444", drift);
  EXPECT_EQ(c.Call("RESYNC\tr1\tuser=bob\totp=444444\totp2=555555"),
            "FAIL\tr1\treason=drift\tdrift=-30");
  EXPECT_EQ(service_.last_otp2(), "555555");

  // The socket file was created with mode 0660.
  struct stat st;
  ASSERT_EQ(::stat(config_.socket_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST_F(VerifyServerTest, MalformedLinesAnswerBadRequestAndKeepTheConnection) {
  StartServer();
  TestClient c = Unix();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "FAIL\t-\treason=bad_request"},
      {"NOPE\tn1", "FAIL\tn1\treason=bad_request"},
      {"VERIFY\tn2\tuser=a\tserial=b\totp=123456", "FAIL\tn2\treason=bad_request"},
      {"VERIFY\tn3\tuser=a\totp=12", "FAIL\tn3\treason=bad_request"},
      {"PASSWORD\tn4\tuser=a", "FAIL\tn4\treason=bad_request"},
      {"SUBSCRIBE\tn5\tfrom=0", "FAIL\tn5\treason=bad_request"},
      {"PING\tbad id!", "FAIL\t-\treason=bad_request"},
      {"VERIFY\tn6\tuser=a\\q\totp=123456", "FAIL\tn6\treason=bad_request"},
      {"HELLO\tn7\tversion=2", "FAIL\tn7\treason=bad_request\tversion=1"},
  };
  for (const auto& [line, reply] : cases) EXPECT_EQ(c.Call(line), reply) << line;
  EXPECT_EQ(c.Call("PING\tstill-here"), "OK\tstill-here");
  EXPECT_EQ(service_.calls(), 0u);
}

TEST_F(VerifyServerTest, PipelinedRepliesComeBackInCompletionOrder) {
  service_.Script("100000", Delayed(600ms, "slow"));
  service_.Script("200000", Delayed(300ms, "medium"));
  service_.Script("300000", Delayed(0ms, "fast"));
  StartServer();
  for (bool tcp : {false, true}) {
    TestClient c = tcp ? AuthenticatedTcp() : Unix();
    ASSERT_TRUE(
        c.Send("VERIFY\ta\tuser=u\totp=100000\nVERIFY\tb\tuser=u\totp=200000\n"
               "VERIFY\tc\tuser=u\totp=300000\r\nPING\td\n"));
    std::vector<std::string> ids;
    for (int i = 0; i < 4; ++i) {
      std::optional<std::string> line = c.ReadLine();
      ASSERT_TRUE(line.has_value());
      std::optional<ParsedReply> reply = ParseReply(*line);
      ASSERT_TRUE(reply.has_value()) << *line;
      EXPECT_TRUE(reply->ok) << *line;
      ids.push_back(reply->id);
      if (reply->id == "a") {
        EXPECT_EQ(reply->fields["method"], "slow");
      }
      if (reply->id == "c") {
        EXPECT_EQ(reply->fields["method"], "fast");
      }
    }
    // PING and the instant answer first; the slowest last.
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.begin() + 2),
              (std::set<std::string>{"c", "d"}));
    EXPECT_EQ(ids[2], "b");
    EXPECT_EQ(ids[3], "a");
  }
}

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

TEST_F(VerifyServerTest, TcpRequiresHelloWithTheClientKey) {
  StartServer();
  {
    TestClient c = Tcp();
    EXPECT_EQ(c.Call("PING\tp"), "FAIL\tp\treason=unauthorized");
    EXPECT_TRUE(c.WaitClosed());
  }
  {
    TestClient c = Tcp();
    EXPECT_EQ(c.Call("HELLO\th\tversion=1\tclient=vpn\tkey=vpn-key-0123456789abcdeX"),
              "FAIL\th\treason=unauthorized");
    EXPECT_TRUE(c.WaitClosed());
  }
  {
    TestClient c = Tcp();
    EXPECT_EQ(c.Call(std::string("HELLO\th\tversion=1\tclient=web\tkey=") + kClientKey),
              "FAIL\th\treason=unauthorized");
    EXPECT_TRUE(c.WaitClosed());
  }
  {
    TestClient c = Tcp();  // HELLO without credentials is not enough on TCP
    EXPECT_EQ(c.Call("HELLO\th\tversion=1"), "FAIL\th\treason=unauthorized");
    EXPECT_TRUE(c.WaitClosed());
  }
  {
    TestClient c = Tcp();  // a malformed line before HELLO also closes
    EXPECT_EQ(c.Call("VERIFY\tx"), "FAIL\tx\treason=bad_request");
    EXPECT_TRUE(c.WaitClosed());
  }
  EXPECT_EQ(service_.calls(), 0u);
  TestClient ok = AuthenticatedTcp();
  EXPECT_EQ(ok.Call("VERIFY\tv\tuser=carol\totp=123456"),
            "OK\tv\tmethod=m-carol\ttype=software_oath\tstep=1\tdrift=0");
  ParsedReply stats = Stats();
  EXPECT_EQ(stats.fields["unauthorized"], "4");

  // Unix-socket clients are trusted by file permissions and need no HELLO.
  TestClient u = Unix();
  EXPECT_EQ(u.Call("PING\tu"), "OK\tu");
}

TEST_F(VerifyServerTest, ReloadedClientsApplyToNewConnections) {
  StartServer();
  RuntimeConfig runtime;
  runtime.limits = config_.limits;
  runtime.tcp_clients.emplace("web", base::SecretBytes::FromString("web-key-fedcba9876543210"));
  server_->ApplyRuntimeConfig(runtime);
  TestClient old_client = Tcp();
  EXPECT_EQ(old_client.Call(std::string("HELLO\th\tversion=1\tclient=vpn\tkey=") + kClientKey),
            "FAIL\th\treason=unauthorized");
  TestClient new_client = Tcp();
  EXPECT_EQ(new_client.Call("HELLO\th\tversion=1\tclient=web\tkey=web-key-fedcba9876543210"),
            "OK\th\tversion=1\tserver=otpd/" OTPD_TEST_VERSION);
}

TEST_F(VerifyServerTest, UnauthenticatedTcpOnlyWhenConfigured) {
  config_.allow_unauthenticated_tcp = true;
  StartServer();
  TestClient c = Tcp();
  EXPECT_EQ(c.Call("PING\tp"), "OK\tp");
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

TEST_F(VerifyServerTest, GracefulStopAnswersRequestsInFlight) {
  service_.Script("100000", Delayed(300ms, "slow"));
  StartServer();
  TestClient c = Unix();
  TestClient idle = AuthenticatedTcp();
  ASSERT_TRUE(c.Send("VERIFY\tv\tuser=u\totp=100000\n"));
  for (int i = 0; i < 200 && service_.calls() < 1; ++i) std::this_thread::sleep_for(5ms);
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 200ms);   // it waited for the answer...
  EXPECT_LT(took, 1500ms);  // ...not for the grace period
  EXPECT_EQ(c.ReadLine(), "OK\tv\tmethod=slow\ttype=software_oath\tstep=9\tdrift=0");
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_TRUE(idle.WaitClosed());
  EXPECT_FALSE(TestClient::Unix(config_.socket_path).has_value());
  EXPECT_FALSE(std::filesystem::exists(config_.socket_path));
}

TEST_F(VerifyServerTest, StopIsBoundedWhenTheServiceNeverAnswers) {
  config_.limits.shutdown_grace = 200ms;
  config_.limits.request_deadline = 10s;
  service_.Script("999999", Hold());
  StartServer();
  TestClient c = Unix();
  ASSERT_TRUE(c.Send("VERIFY\tv\tuser=u\totp=999999\n"));
  for (int i = 0; i < 200 && service_.held() < 1; ++i) std::this_thread::sleep_for(5ms);
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_TRUE(c.WaitClosed());
  server_.reset();
  // The answer arrives after the server is gone: dropped without harm.
  service_.ReleaseHeld();
  std::this_thread::sleep_for(50ms);
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

TEST_F(VerifyServerTest, HalfClosedClientGetsItsAnswers) {
  service_.Script("100000", Delayed(100ms, "slow"));
  StartServer();
  TestClient c = Unix();
  ASSERT_TRUE(c.Send("VERIFY\tv\tuser=u\totp=100000\nPING\tp\n"));
  c.ShutdownWrite();
  EXPECT_EQ(c.ReadLine(), "OK\tp");
  EXPECT_EQ(c.ReadLine(), "OK\tv\tmethod=slow\ttype=software_oath\tstep=9\tdrift=0");
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(VerifyServerTest, StatsCountRequestsReasonsAndLatency) {
  FakeSignInService::Answer bad;
  bad.result.outcome = service::Outcome::kBadCode;
  service_.Script("000000", bad);
  StartServer();
  TestClient c = Unix();
  EXPECT_EQ(c.Call("VERIFY\t1\tuser=u\totp=123456").value_or("").substr(0, 4), "OK\t1");
  EXPECT_EQ(c.Call("VERIFY\t2\tuser=u\totp=000000"), "FAIL\t2\treason=bad_code");
  EXPECT_EQ(c.Call("VERIFY\t3\tuser=u"), "FAIL\t3\treason=bad_request");
  std::optional<ParsedReply> stats = ParseReply(c.Call("STATS\ts").value_or(""));
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->id, "s");
  EXPECT_EQ(stats->fields["requests"], "4");
  EXPECT_EQ(stats->fields["accepted"], "1");
  EXPECT_EQ(stats->fields["bad_code"], "1");
  EXPECT_EQ(stats->fields["bad_request"], "1");
  EXPECT_EQ(stats->fields["unavailable"], "0");
  EXPECT_EQ(stats->fields["in_flight"], "0");
  EXPECT_EQ(stats->fields["connections"], "1");
  EXPECT_EQ(stats->fields["latency_count"], "2");
  for (const char* key : {"p50_us", "p90_us", "p99_us", "max_us"}) {
    ASSERT_EQ(stats->fields.count(key), 1u) << key;
    EXPECT_GT(std::stoull(stats->fields[key]), 0u) << key;
  }
  EXPECT_LE(std::stoull(stats->fields["p50_us"]), std::stoull(stats->fields["max_us"]));
}

TEST_F(VerifyServerTest, StaleSocketIsReplacedLiveOneRefused) {
  // A stale socket file: bound, then its owner went away.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, config_.socket_path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);
  ASSERT_TRUE(std::filesystem::exists(config_.socket_path));
  StartServer();
  TestClient c = Unix();
  EXPECT_EQ(c.Call("PING\tp"), "OK\tp");

  ServerConfig second = config_.Clone();
  second.listen.clear();
  VerifyServer other(second, &service_);
  base::Status s = other.Start();
  EXPECT_TRUE(base::IsAlreadyExists(s)) << s;
  EXPECT_EQ(c.Call("PING\tq"), "OK\tq");  // the first server is unaffected

  // A path that is not a socket is never removed.
  ServerConfig third = config_.Clone();
  third.listen.clear();
  third.socket_path = (dir_ / "not-a-socket").string();
  { std::ofstream(third.socket_path) << "data"; }
  VerifyServer refused(third, &service_);
  EXPECT_TRUE(base::IsFailedPrecondition(refused.Start()));
  EXPECT_TRUE(std::filesystem::exists(third.socket_path));
}

}  // namespace
}  // namespace otpd::server

// ---- SUBSCRIBE ----------------------------------------------------------------------------------

namespace otpd::server {
namespace {

using namespace std::chrono_literals;

// A feed the test drives: it hands batches to every subscriber, as the outbox feed's thread does,
// and records which subscriptions ended (deliver returned false) or were cancelled.
class FakeFeed final : public service::EventFeed {
 public:
  struct Sub final : service::FeedSubscription {
    std::function<bool(std::vector<service::FeedEvent>)> deliver;
    std::atomic<bool> cancelled{false};
    std::atomic<bool> ended{false};
    uint64_t from = 0;
    void Cancel() override { cancelled = true; }
  };
  std::shared_ptr<service::FeedSubscription> Subscribe(
      uint64_t from, std::function<bool(std::vector<service::FeedEvent>)> deliver) override {
    auto sub = std::make_shared<Sub>();
    sub->deliver = std::move(deliver);
    sub->from = from;
    std::lock_guard lock(mu);
    subs.push_back(sub);
    return sub;
  }
  uint64_t NextSequence() const override { return 11; }
  // Delivers `events` to every live subscriber; returns how many took them.
  int Push(const std::vector<service::FeedEvent>& events) {
    std::vector<std::shared_ptr<Sub>> copy;
    {
      std::lock_guard lock(mu);
      copy = subs;
    }
    int took = 0;
    for (auto& s : copy) {
      if (s->cancelled || s->ended) continue;
      if (s->deliver(events)) {
        ++took;
      } else {
        s->ended = true;
      }
    }
    return took;
  }
  std::mutex mu;
  std::vector<std::shared_ptr<Sub>> subs;
};

service::FeedEvent FeedEventAt(uint64_t seq, size_t pad = 0) {
  return service::FeedEvent{.seq = seq,
                            .id = "evt_" + std::to_string(seq),
                            .type = "sessions.revoked",
                            .user = "a@example.com",
                            .time_micros = 1,
                            .data_json = "{\"pad\":\"" + std::string(pad, 'x') + "\"}"};
}

TEST_F(VerifyServerTest, SubscribeStreamsEventsAndIgnoresInput) {
  FakeFeed feed;
  server_ = std::make_unique<VerifyServer>(config_, &service_, *clock_);
  server_->SetEventFeed(&feed);
  ASSERT_TRUE(server_->Start().ok());
  TestClient c = Unix();
  EXPECT_EQ(c.Call("SUBSCRIBE\ts1\tfrom=5"), "OK\ts1\tnext=5");
  ASSERT_EQ(feed.subs.size(), 1u);
  EXPECT_EQ(feed.subs[0]->from, 5u);
  EXPECT_EQ(feed.Push({FeedEventAt(5), FeedEventAt(6)}), 1);
  EXPECT_EQ(
      c.ReadLine().value_or(""),
      "EVENT\t5\tid=evt_5\ttype=sessions.revoked\tuser=a@example.com\ttime=1\tdata={\"pad\":\"\"}");
  EXPECT_TRUE(c.ReadLine().value_or("").starts_with("EVENT\t6\t"));
  // Requests are ignored from now on; events keep coming.
  ASSERT_TRUE(c.Send("PING\tp\n"));
  EXPECT_FALSE(c.ReadLine(200ms).has_value());
  feed.Push({FeedEventAt(7)});
  EXPECT_TRUE(c.ReadLine().value_or("").starts_with("EVENT\t7\t"));
  // Without from=, the next event; a second subscriber on another connection.
  TestClient d = Unix();
  EXPECT_EQ(d.Call("SUBSCRIBE\ts2"), "OK\ts2\tnext=11");
  // Closing the connection cancels its subscription.
  d.ShutdownWrite();
  EXPECT_TRUE(d.WaitClosed());
  for (int i = 0; i < 100 && !feed.subs[1]->cancelled; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(feed.subs[1]->cancelled);
}

TEST_F(VerifyServerTest, SubscribeWithoutAFeedIsUnavailable) {
  StartServer();
  TestClient c = Unix();
  EXPECT_EQ(c.Call("SUBSCRIBE\ts1"), "FAIL\ts1\treason=unavailable");
  EXPECT_EQ(c.Call("REMEMBER\tr1\tuser=a@example.com"), "FAIL\tr1\treason=unavailable");
}

// A subscriber that does not read is cut off once its backlog passes 1 MiB: the feed is never
// blocked by it, and the server keeps answering everyone else.
TEST_F(VerifyServerTest, ASubscriberThatDoesNotReadIsCutOff) {
  FakeFeed feed;
  server_ = std::make_unique<VerifyServer>(config_, &service_, *clock_);
  server_->SetEventFeed(&feed);
  ASSERT_TRUE(server_->Start().ok());
  TestClient slow = Unix();
  // A small receive buffer, and it never reads after the OK.
  int small = 4096;
  setsockopt(slow.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  EXPECT_EQ(slow.Call("SUBSCRIBE\ts1"), "OK\ts1\tnext=11");
  const auto start = std::chrono::steady_clock::now();
  int pushes = 0;
  for (uint64_t seq = 11; pushes < 2000 && !feed.subs[0]->ended; ++seq, ++pushes) {
    feed.Push({FeedEventAt(seq, 16 * 1024)});  // never blocks
  }
  EXPECT_TRUE(feed.subs[0]->ended) << pushes << " batches of 16 KiB taken";
  EXPECT_LT(pushes, 1000);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_TRUE(slow.WaitClosed(10s));
  TestClient other = Unix();
  EXPECT_EQ(other.Call("PING\tstill"), "OK\tstill");
}

}  // namespace
}  // namespace otpd::server
