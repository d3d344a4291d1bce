// The re-registration guarantee attacked through the real daemon's front doors: two connections
// keep sending fresh HOTP codes over the verify socket while the administrator requires the user
// to register again through the admin API. Once the API has answered, no code sent after that
// moment may be accepted, in any round; a code sent before may be accepted or refused. Each round
// activates the token again (which completes the registration) and races once more.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "tests/e2e/e2e_env.h"
#include "tests/testing/http_client.h"

namespace otpd::e2e {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using otpd::testing::Daemon;
using otpd::testing::Field;
using otpd::testing::Fields;
using otpd::testing::HttpClient;
using otpd::testing::HttpReply;
using otpd::testing::LineClient;
using otpd::testing::TempDir;

constexpr char kUser[] = "racer@example.com";
constexpr char kSerial[] = "RR1";
const std::string kMethods = std::string("/v1.0/users/") + kUser + "/authentication/";

// The rounds are bounded in number and in time: at least kMinRounds must complete.
constexpr int kRounds = 2000;
constexpr int kMinRounds = 500;
constexpr auto kTimeBudget = std::chrono::seconds(90);

struct RoundResult {
  int64_t highest_accepted = 0;  // the highest counter accepted (0: none)
  int late_accepts = 0;          // codes sent after the API answered and still accepted
  int refused_after = 0;         // codes sent after the API answered, refused as they must be
};

class ReregistrationRaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    const TestToken token{kSerial, kUser, "re-registration race", {.type = engine::OtpType::kHotp}};
    token_ = token;
    ASSERT_TRUE(PrepareDataDir(dir_.File("data"), {token}, &error)) << error;
    otpd::testing::WriteFile(dir_.File("otpd.toml"), "[admin]\nactivations_per_window = 100000\n");
    ASSERT_TRUE(daemon_.Start(OTPD_PATH,
                              DaemonArgs(dir_.File("data"), {"--config", dir_.File("otpd.toml")})))
        << daemon_.log();
  }

  HttpClient Admin() { return HttpClient::Unix(dir_.File("data") + "/admin.sock"); }

  // Two signers send counters from `first` on until each has sent two codes after `returned`
  // was set; meanwhile the API call runs after a random pause of up to 3 ms.
  RoundResult Race(HttpClient& admin, LineClient& a, LineClient& b, int64_t first,
                   std::mt19937& random) {
    std::atomic<int64_t> next{first};
    std::atomic<int64_t> returned{INT64_MAX};  // steady-clock ticks when the API answered
    std::atomic<int64_t> highest{0};
    std::atomic<int> late{0}, refused_after{0};
    auto sign = [&](LineClient& c) {
      for (int after = 0; after < 2;) {
        const int64_t k = next++;
        const int64_t sent = Clock::now().time_since_epoch().count();
        const std::string reply = c.Call(VerifyLine("r", kUser, token_.Code(k)));
        const bool ok = !Fields(reply).empty() && Fields(reply)[0] == "OK";
        if (ok) {
          int64_t h = highest.load();
          while (k > h && !highest.compare_exchange_weak(h, k)) {
          }
        }
        if (sent > returned.load()) {
          ++after;
          if (ok) {
            ++late;
          } else if (Field(reply, "reason") == "registration_required") {
            ++refused_after;
          }
        }
      }
    };
    std::vector<std::thread> signers;
    for (LineClient* c : {&a, &b}) signers.emplace_back([&sign, c] { sign(*c); });
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 3000));
    HttpReply r = admin.Post(kMethods + "requireReregistration", json::object());
    returned = Clock::now().time_since_epoch().count();
    for (auto& t : signers) t.join();
    EXPECT_EQ(r.status, 200) << r.body;
    return RoundResult{highest.load(), late.load(), refused_after.load()};
  }

  TempDir dir_;
  Daemon daemon_;
  TestToken token_;
};

TEST_F(ReregistrationRaceTest, NoCodeSentAfterTheChangeReturnedIsAccepted) {
  LineClient a = LineClient::Unix(dir_.File("data") + "/verify.sock");
  LineClient b = LineClient::Unix(dir_.File("data") + "/verify.sock");
  HttpClient admin = Admin();
  std::mt19937 random(20261130);
  int64_t watermark = 0;  // the token's highest accepted counter
  int rounds = 0, late = 0, refused_after = 0, raced = 0;
  const auto until = Clock::now() + kTimeBudget;
  for (; rounds < kRounds && Clock::now() < until; ++rounds) {
    if (rounds > 0) {
      // Activating the deactivated token with its next code completes the registration.
      HttpReply act = admin.Post(kMethods + "hardwareOathMethods/" + kSerial + "/activate",
                                 json::object{{"verificationCode", token_.Code(watermark + 1)}});
      ASSERT_EQ(act.status, 204) << "round " << rounds << ": " << act.body;
      ++watermark;
    }
    RoundResult r = Race(admin, a, b, watermark + 1, random);
    if (r.highest_accepted > watermark) ++raced;  // a code got in before the change
    watermark = std::max(watermark, r.highest_accepted);
    late += r.late_accepts;
    refused_after += r.refused_after;
    if (late > 0) break;
  }
  EXPECT_EQ(late, 0) << "codes accepted after requireReregistration returned, by round " << rounds;
  EXPECT_GE(rounds, kMinRounds) << "too few rounds within the time budget to mean anything";
  // Every round's late codes were refused for the right reason, and the race was a race: in some
  // rounds a code got in before the change.
  EXPECT_EQ(refused_after, 4 * rounds);
  EXPECT_GT(raced, 0);
  std::printf("re-registration race: %d rounds, %d with a code accepted before the change\n",
              rounds, raced);
}

}  // namespace
}  // namespace otpd::e2e
