// ValidateServer's phone challenges over loopback HTTP against a scripted sign-in service and a
// fake clock: what it asks the service (the mobile, by SMS), a transaction id that expires with
// its code, the fallback for users without a phone, a challenge the service does not answer in
// time, and the counters the metrics read.

#include "server/validate/validate_server.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "base/codec.h"
#include "server/validate/validate_answer.h"
#include "tests/server/fake_sign_in_service.h"
#include "tests/testing/http_client.h"

namespace otpd::server::validate {
namespace {

namespace json = boost::json;
using otpd::server::testing::FakeSignInService;
using otpd::testing::HttpClient;
using otpd::testing::HttpReply;
using service::Outcome;

constexpr char kKey[] = "validate-server-test-key-0123456789";

class ValidateServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClientTable clients;
    clients.emplace("portal", base::SecretBytes::FromString(kKey));
    runner_ = std::make_shared<IoRunner>(2);
    ValidateServerOptions options;
    options.tcp_listen = "127.0.0.1:0";
    options.request_deadline = std::chrono::milliseconds(300);
    server_ = std::make_unique<ValidateServer>(runner_, options, &service_, clients, clock_);
    ASSERT_TRUE(server_->Start().ok());
    runner_->Start();
  }
  void TearDown() override {
    server_->Stop();
    runner_->Stop();
  }

  HttpReply Post(const std::string& path, const std::string& form) {
    const std::string text = std::string("portal:") + kKey;
    const std::string basic =
        "Basic " + base::Base64Encode(std::span<const uint8_t>(
                       reinterpret_cast<const uint8_t*>(text.data()), text.size()));
    return HttpClient::Tcp(server_->tcp_port())
        .Request("POST", path, form, "application/x-www-form-urlencoded",
                 {{"Authorization", basic}});
  }
  static std::string Authentication(const HttpReply& r) {
    json::value v = r.Json();
    return v.is_object() ? std::string(v.at("result").at("authentication").as_string()) : "";
  }
  uint64_t Count(ValidateStats::Endpoint e, ValidateStats::Result r) const {
    return server_->counters().Answers(e, r);
  }

  base::FakeClock clock_{1'764'450'000};
  FakeSignInService service_;
  std::shared_ptr<IoRunner> runner_;
  std::unique_ptr<ValidateServer> server_;
};

// The service picks the phone and channel (the user's default sign-in method, else the mobile by
// SMS): the server names neither.
TEST_F(ValidateServerTest, EmptyPassAsksForACodeToTheUsersDefaultPhone) {
  HttpReply r = Post("/validate/check", "user=Pat%40Example.com&pass=");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Authentication(r), "CHALLENGE") << r.body;
  EXPECT_EQ(service_.last_challenge(), "Pat@Example.com  ");
  EXPECT_EQ(r.Json().at("detail").at("serial").as_string(), "phone-Pat@Example.com");
  EXPECT_EQ(Count(ValidateStats::kCheck, ValidateStats::kChallenge), 1u);
  // A serial with an empty pass is an ordinary (malformed) code, not a challenge.
  HttpReply by_serial = Post("/validate/check", "serial=HW1&pass=");
  EXPECT_NE(Authentication(by_serial), "CHALLENGE") << by_serial.body;
  EXPECT_EQ(service_.calls(), 2u);
}

TEST_F(ValidateServerTest, TransactionIdsExpireWithTheirCodeAndIgnoreCase) {
  HttpReply r = Post("/validate/check", "user=pat%40example.com&pass=");
  const std::string tid(r.Json().at("detail").at("transaction_id").as_string());
  // Within the 300 s: checked against the user (whatever the case of the name), then verified.
  clock_.Advance(std::chrono::seconds(299));
  HttpReply ok =
      Post("/validate/check", "user=PAT%40example.com&pass=123456&transaction_id=" + tid);
  EXPECT_EQ(Authentication(ok), "ACCEPT") << ok.body;
  EXPECT_EQ(service_.last_user(), "PAT@example.com");
  const size_t calls = service_.calls();
  clock_.Advance(std::chrono::seconds(1));
  HttpReply late =
      Post("/validate/check", "user=pat%40example.com&pass=123456&transaction_id=" + tid);
  EXPECT_EQ(Authentication(late), "REJECT") << late.body;
  EXPECT_EQ(late.Json().at("detail").at("otpd_reason").as_string(), "expired");
  EXPECT_EQ(
      Post("/validate/radiuscheck", "user=pat%40example.com&pass=1&transaction_id=" + tid).status,
      400);
  EXPECT_EQ(service_.calls(), calls);  // the refusals never reached the service
  EXPECT_EQ(Count(ValidateStats::kCheck, ValidateStats::kReject), 1u);
  EXPECT_EQ(Count(ValidateStats::kRadiusCheck, ValidateStats::kReject), 1u);
}

TEST_F(ValidateServerTest, NoPhoneFallsBackToCheckingTheEmptyCode) {
  FakeSignInService::Answer no_phone;
  no_phone.result.outcome = Outcome::kNoMethod;
  service_.Script(FakeSignInService::kChallengeScript, no_phone);
  FakeSignInService::Answer malformed;
  malformed.result.outcome = Outcome::kBadRequest;
  service_.Script("", malformed);
  HttpReply r = Post("/validate/check", "user=dave%40example.com&pass=");
  EXPECT_EQ(Authentication(r), "REJECT") << r.body;
  EXPECT_EQ(r.Json().at("detail").at("otpd_reason").as_string(), "bad_request");
  EXPECT_EQ(service_.calls(), 2u);  // the challenge, then the code
  EXPECT_EQ(Post("/validate/radiuscheck", "user=dave%40example.com&pass=").status, 400);
  EXPECT_EQ(Count(ValidateStats::kCheck, ValidateStats::kChallenge), 0u);
}

TEST_F(ValidateServerTest, RateLimitedChallengesSayWhenToRetry) {
  FakeSignInService::Answer limited;
  limited.result.outcome = Outcome::kRateLimited;
  limited.result.retry_after_seconds = 840;
  service_.Script(FakeSignInService::kChallengeScript, limited);
  HttpReply r = Post("/validate/check", "user=uma%40example.com&pass=");
  EXPECT_EQ(Authentication(r), "REJECT") << r.body;
  EXPECT_EQ(r.Json().at("detail").at("retry_after").as_int64(), 840);
  HttpReply radius = Post("/validate/radiuscheck", "user=uma%40example.com&pass=");
  ASSERT_EQ(radius.status, 200);
  EXPECT_EQ(radius.Json(),
            json::parse(
                R"({"reply:Reply-Message":"Too many codes were sent; try again in 840 seconds"})"));
}

TEST_F(ValidateServerTest, AChallengeNotSentInTimeIsUnavailableAndAnsweredOnce) {
  FakeSignInService::Answer held;
  held.hold = true;
  service_.Script(FakeSignInService::kChallengeScript, held);
  HttpReply r = Post("/validate/check", "user=vic%40example.com&pass=");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.Json().at("result").at("error").at("code").as_int64(), kErrorServer);
  // The service's late answer (a code was sent after all) changes nothing.
  service_.ReleaseHeld();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(Count(ValidateStats::kCheck, ValidateStats::kError), 1u);
  EXPECT_EQ(Count(ValidateStats::kCheck, ValidateStats::kChallenge), 0u);
  EXPECT_EQ(server_->stats().in_flight.load(), 0);
}

}  // namespace
}  // namespace otpd::server::validate
