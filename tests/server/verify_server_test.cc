// End-to-end tests of VerifyServer over a real Unix socket (in a temp dir) and a loopback TCP
// port (ephemeral), with a scripted SignInService answering on its own thread.

#include "server/verify_server.h"

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

#include "server/protocol.h"
#include "tests/server/fake_sign_in_service.h"
#include "tests/server/test_client.h"
#include "tests/server/verify_server_env.h"

namespace otpd::server {
namespace {

using namespace std::chrono_literals;
using testing::FakeSignInService;
using testing::kClientKey;
using testing::TestClient;
using testing::VerifyServerTest;

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
