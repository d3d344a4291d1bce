// The fixture of the VerifyServer tests (verify_server_test.cc, verify_server_limits_test.cc): a
// server on a Unix socket in a temporary directory and on an ephemeral loopback TCP port, with a
// scripted SignInService answering on its own thread, clients of both kinds, and a fake clock for
// the tests of deadlines.

#ifndef OTPD_TESTS_SERVER_VERIFY_SERVER_ENV_H_
#define OTPD_TESTS_SERVER_VERIFY_SERVER_ENV_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "server/protocol.h"
#include "server/verify_server.h"
#include "tests/server/fake_sign_in_service.h"
#include "tests/server/test_client.h"

namespace otpd::server::testing {

using namespace std::chrono_literals;

inline constexpr char kClientKey[] = "vpn-key-0123456789abcdef";

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

}  // namespace otpd::server::testing

#endif  // OTPD_TESTS_SERVER_VERIFY_SERVER_ENV_H_
