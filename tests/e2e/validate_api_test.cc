// The privacyIDEA-compatible validate API end to end: the real otpd with a validate listener on
// loopback, spoken to over HTTP with a [clients.NAME] key. Each answer shape of /validate/check
// and /validate/radiuscheck, codes spent on one door refused on the other (verify socket and
// HTTP), concurrent identical requests, unauthenticated clients and hostile bodies.

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "base/codec.h"
#include "tests/e2e/e2e_env.h"
#include "tests/e2e/suite_daemon.h"
#include "tests/e2e/validate_env.h"
#include "tests/testing/http_client.h"

namespace otpd::e2e {
namespace {

namespace json = boost::json;
using engine::OtpType;
using otpd::testing::HttpClient;
using otpd::testing::HttpReply;
using otpd::testing::LineClient;

class ValidateApiTest : public ValidateSuite<ValidateApiTest> {
 protected:
  static std::vector<TestToken> Tokens() {
    std::vector<TestToken> tokens;
    for (const char* name :
         {"alice", "carol", "dave", "frank", "heidi", "ivan", "grace", "judy", "mallory"}) {
      tokens.push_back(Totp(name));
    }
    std::string seed = "validate-seed-bob";
    seed.resize(20, '#');
    tokens.push_back(TestToken{"VT-bob", "bob@example.com", seed, {.type = OtpType::kHotp}});
    return tokens;
  }
  static TestToken Token(const std::string& name) {
    for (TestToken& t : Tokens()) {
      if (t.upn == name + "@example.com") return t;
    }
    ADD_FAILURE() << "no token for " << name;
    return {};
  }

 public:
  static bool PrepareSuite(std::vector<std::string>* args, std::string* error) {
    if (!PrepareDataDir(DataDir(), Tokens(), error)) return false;
    otpd::testing::WriteFile(dir_->File("otpd.toml"), std::string("[clients.") + kClient +
                                                          "]\nkey = \"" + kClientKey + "\"\n");
    *args = {"--config", dir_->File("otpd.toml"), "--validate-listen", "127.0.0.1:0"};
    return true;
  }
};

TEST_F(ValidateApiTest, AcceptThenReplayAnswerPrivacyIdeasShapes) {
  const TestToken t = Token("alice");
  const std::string code = t.Code(1);
  HttpReply ok = PostJson("/validate/check", json::object{{"user", t.upn}, {"pass", code}});
  ExpectDecision(ok, true, "matching 1 tokens");
  json::value d = ok.Json().at("detail");
  EXPECT_EQ(d.at("serial").as_string(), t.serial);
  EXPECT_EQ(d.at("type").as_string(), "totp");
  EXPECT_EQ(d.at("otplen").as_int64(), 6);

  HttpReply again = Check(t.upn, code);
  ExpectDecision(again, false, "wrong otp value. previous otp used again");
  EXPECT_EQ(again.Json().at("detail").at("otpd_reason").as_string(), "replayed");
}

TEST_F(ValidateApiTest, WrongCodeIsARejectAndHotpIsTyped) {
  const TestToken t = Token("bob");
  // A GET with the parameters in the query string, as privacyIDEA also takes them.
  HttpReply wrong =
      Client().Request("GET", "/validate/check?user=bob%40example.com&pass=" + WrongCode(t), "", "",
                       {{"Authorization", BasicAuth(kClient, kClientKey)}});
  ExpectDecision(wrong, false, "wrong otp value");
  EXPECT_EQ(wrong.Json().at("detail").at("otpd_reason").as_string(), "bad_code");

  HttpReply ok = Check(t.upn, t.Code(1));
  ExpectDecision(ok, true, "matching 1 tokens");
  EXPECT_EQ(ok.Json().at("detail").at("type").as_string(), "hotp");
}

TEST_F(ValidateApiTest, RealmIsTheUpnSuffixAndSerialNamesAToken) {
  const TestToken g = Token("grace");
  ExpectDecision(PostForm("/validate/check",
                          {{"user", "grace"}, {"realm", "example.com"}, {"pass", g.Code(1)}}),
                 true, "matching 1 tokens");
  const TestToken j = Token("judy");
  HttpReply by_serial = PostForm("/validate/check", {{"serial", j.serial}, {"pass", j.Code(1)}});
  ExpectDecision(by_serial, true, "matching 1 tokens");
  EXPECT_EQ(by_serial.Json().at("detail").at("serial").as_string(), j.serial);
}

TEST_F(ValidateApiTest, LockedUserGetsFailcounterExceededAndRadius403) {
  const TestToken t = Token("carol");
  const std::string wrong = WrongCode(t);
  for (int i = 0; i < 5; ++i) ExpectDecision(Check(t.upn, wrong), false, "wrong otp value");
  HttpReply locked = Check(t.upn, t.Code(1));
  ExpectDecision(locked, false, "matching 1 tokens, Failcounter exceeded");
  EXPECT_EQ(locked.Json().at("detail").at("otpd_reason").as_string(), "locked");
  EXPECT_GT(locked.Json().at("detail").at("retry_after").as_int64(), 0);
  HttpReply radius = PostForm("/validate/radiuscheck", {{"user", t.upn}, {"pass", t.Code(1)}});
  EXPECT_EQ(radius.status, 403);
  EXPECT_TRUE(radius.body.empty());
}

TEST_F(ValidateApiTest, UnknownUserAndTokenAreErrors) {
  ExpectError(Check("nobody@example.com", "123456"), 400, 904);
  ExpectError(PostForm("/validate/check", {{"serial", "NO-SUCH"}, {"pass", "123456"}}), 404, 601);
}

TEST_F(ValidateApiTest, RadiusCheckAnswers204Then400) {
  const TestToken t = Token("dave");
  const std::string code = t.Code(1);
  HttpReply ok = PostForm("/validate/radiuscheck", {{"user", t.upn}, {"pass", code}});
  EXPECT_EQ(ok.status, 204);
  EXPECT_TRUE(ok.body.empty());
  EXPECT_EQ(PostForm("/validate/radiuscheck", {{"user", t.upn}, {"pass", code}}).status, 400);
  EXPECT_EQ(PostForm("/validate/radiuscheck", {{"user", t.upn}, {"pass", WrongCode(t)}}).status,
            400);
  EXPECT_EQ(PostForm("/validate/radiuscheck", {{"user", t.upn}}).status, 400);
}

TEST_F(ValidateApiTest, ACodeSpentOnOneDoorIsRefusedOnTheOther) {
  const TestToken f = Token("frank");
  const std::string socket_first = f.Code(1);
  EXPECT_EQ(otpd::testing::Fields(VerifySocket(f.upn, socket_first)).at(0), "OK");
  ExpectDecision(Check(f.upn, socket_first), false, "wrong otp value. previous otp used again");

  const TestToken h = Token("heidi");
  const std::string http_first = h.Code(1);
  ExpectDecision(Check(h.upn, http_first), true, "matching 1 tokens");
  const std::string reply = VerifySocket(h.upn, http_first);
  EXPECT_EQ(otpd::testing::Fields(reply).at(0), "FAIL") << reply;
  EXPECT_EQ(otpd::testing::Field(reply, "reason"), "replayed") << reply;
}

TEST_F(ValidateApiTest, ConcurrentIdenticalRequestsAcceptOnce) {
  const TestToken t = Token("ivan");
  const std::string code = t.Code(1);
  constexpr int kThreads = 16;
  std::atomic<int> accepted{0}, replayed{0}, other{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      HttpClient c = Client();
      while (!go.load()) std::this_thread::yield();
      HttpReply r = c.Request("POST", "/validate/check", Form({{"user", t.upn}, {"pass", code}}),
                              "application/x-www-form-urlencoded",
                              {{"Authorization", BasicAuth(kClient, kClientKey)}});
      json::value v = r.Json();
      if (r.status != 200 || !v.is_object()) {
        ++other;
      } else if (v.at("result").at("value").as_bool()) {
        ++accepted;
      } else if (v.at("detail").at("otpd_reason").as_string() == "replayed") {
        ++replayed;
      } else {
        ++other;
      }
    });
  }
  go = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(accepted.load(), 1);
  EXPECT_EQ(replayed.load(), kThreads - 1);
  EXPECT_EQ(other.load(), 0);
}

TEST_F(ValidateApiTest, ClientsMustAuthenticateAndRefusalsSpendNothing) {
  const TestToken t = Token("mallory");
  const std::string code = t.Code(1);
  HttpReply none =
      Client().Request("POST", "/validate/check", Form({{"user", t.upn}, {"pass", code}}),
                       "application/x-www-form-urlencoded");
  ExpectError(none, 401, 4033);
  EXPECT_EQ(none.Header("www-authenticate"), "Basic realm=\"otpd\"");
  ExpectError(PostForm("/validate/check", {{"user", t.upn}, {"pass", code}},
                       BasicAuth(kClient, "not-the-key-0123456789")),
              401, 4031);
  ExpectError(PostForm("/validate/check", {{"user", t.upn}, {"pass", code}},
                       BasicAuth("stranger", kClientKey)),
              401, 4031);
  ExpectError(PostForm("/validate/check", {{"user", t.upn}, {"pass", code}}, "Bearer whatever"),
              401, 4033);
  EXPECT_EQ(Client()
                .Request("POST", "/validate/radiuscheck", Form({{"user", t.upn}, {"pass", code}}),
                         "application/x-www-form-urlencoded")
                .status,
            401);
  // Nothing above reached the sign-in: the code is still good.
  ExpectDecision(Check(t.upn, code), true, "matching 1 tokens");
}

TEST_F(ValidateApiTest, HostileRequestsGetClearErrors) {
  const auto auth = std::vector<std::pair<std::string, std::string>>{
      {"Authorization", BasicAuth(kClient, kClientKey)}};
  auto post = [&](const std::string& body, const std::string& type) {
    return Client().Request("POST", "/validate/check", body, type, auth);
  };
  const std::string form = "application/x-www-form-urlencoded";
  HttpReply missing = post("user=alice%40example.com", form);
  ExpectError(missing, 400, 905);
  EXPECT_EQ(missing.Json().at("result").at("error").at("message").as_string(),
            "ERR905: Missing parameter: 'pass'");
  ExpectError(post("user=a&pass=%zz1234", form), 400, 905);
  ExpectError(post("user=a&user=b&pass=123456", form), 400, 905);
  ExpectError(post("user=a&serial=S&pass=123456", form), 400, 905);
  ExpectError(post("pass=123456", form), 400, 905);
  ExpectError(post("user=" + std::string(300, 'a') + "&pass=123456", form), 400, 905);
  ExpectError(post("user=a%0Ab&pass=123456", form), 400, 905);
  ExpectError(post("{\"user\":\"a\",\"pass\":", "application/json"), 400, 905);
  ExpectError(post("[1,2,3]", "application/json"), 400, 905);
  ExpectError(post("{\"user\":\"a\",\"pass\":123456}", "application/json"), 400, 905);
  ExpectError(post("<xml/>", "text/xml"), 400, 905);
  // A transaction id answers a user's challenge (validate_challenge_test.cc), not a token's.
  ExpectError(post("serial=S&pass=123456&transaction_id=" + std::string(64, 'a'), form), 400, 905);
  // Larger than the endpoint reads: refused before the body is read.
  HttpReply big = post("user=a&pass=" + std::string(20000, '1'), form);
  EXPECT_EQ(big.status, 413) << big.body;
  ExpectError(Client().Request("GET", "/validate/nothing", "", "", auth), 404, 601);
  EXPECT_EQ(Client().Request("PUT", "/validate/check", "", "", auth).status, 405);
  // The daemon is still serving.
  ExpectError(post("user=nobody%40example.com&pass=123456", form), 400, 904);
}

// Runs last (gtest keeps declaration order): nothing any test sent may reach the log.
TEST_F(ValidateApiTest, ZzNoCodeOrKeyInTheLog) {
  const std::string& log = daemon_->log();
  EXPECT_EQ(log.find(kClientKey), std::string::npos);
  for (const TestToken& t : Tokens()) {
    for (int64_t s = 0; s <= 2; ++s) EXPECT_EQ(log.find("pass=" + t.Code(s)), std::string::npos);
  }
  EXPECT_EQ(log.find("123456"), std::string::npos);
}

}  // namespace
}  // namespace otpd::e2e
