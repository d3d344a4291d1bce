// Phone challenges through the validate API end to end: the real otpd with a validate listener
// and an exec delivery hook on loopback. An empty `pass` sends an SMS code (read here from the
// hook's file, as a carrier's gateway would get it) and answers privacyIDEA's CHALLENGE with a
// transaction id; the follow-up with the transaction id and the code is accepted once, through
// /validate/check and /validate/radiuscheck. Attacks: replays, wrong codes, another user's,
// forged and tampered transaction ids, the per-user rate limit, users without a phone; and the
// otpd_validate_* metrics, and no code in the daemon's log.

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "base/clock.h"
#include "base/codec.h"
#include "service/admin/method_admin.h"
#include "tests/e2e/e2e_env.h"
#include "tests/e2e/suite_daemon.h"
#include "tests/e2e/validate_env.h"
#include "tests/testing/eventually.h"
#include "tests/testing/http_client.h"

namespace otpd::e2e {
namespace {

namespace json = boost::json;
using engine::OtpType;
using otpd::testing::HttpClient;
using otpd::testing::HttpReply;
using otpd::testing::LineClient;

// Users with a mobile phone (and a TOTP token, like everyone); dave and alice have no phone.
const std::vector<std::string> kPhoneUsers = {"pat", "quinn", "rob",  "uma", "vic",
                                              "wes", "xena",  "yuri", "zoe"};

std::string Upn(const std::string& name) { return name + "@example.com"; }

using otpd::testing::Eventually;

class ValidateChallengeTest : public ValidateSuite<ValidateChallengeTest> {
 public:
  static std::vector<TestToken> Tokens() {
    std::vector<TestToken> tokens;
    for (const char* name : {"alice", "dave", "pat", "quinn", "rob", "uma", "vic", "wes", "xena",
                             "yuri", "zoe", "ann"}) {
      tokens.push_back(Totp(name));
    }
    return tokens;
  }
  static TestToken Token(const std::string& name) {
    for (TestToken& t : Tokens()) {
      if (t.upn == name + "@example.com") return t;
    }
    ADD_FAILURE() << "no token for " << name;
    return {};
  }

  static bool PrepareSuite(std::vector<std::string>* args, std::string* error) {
    if (!PrepareDataDir(DataDir(), Tokens(), error) || !AddPhones(error)) return false;
    // The delivery hook: a program that appends each event (with its code) to a file.
    const std::string script = dir_->File("exec-hook");
    otpd::testing::WriteFile(script, "#!/bin/sh\n{ cat; echo; } >> \"$1\"\n");
    chmod(script.c_str(), 0700);
    otpd::testing::WriteFile(dir_->File("otpd.toml"),
                             std::string("[clients.") + kClient + "]\nkey = \"" + kClientKey +
                                 "\"\n[hooks.sms]\ntype = \"exec\"\ncommand = [\"" + script +
                                 "\", \"" + EventsFile() +
                                 "\"]\nretry_initial_ms = 50\nretry_max_ms = 200\n");
    *args = {"--config", dir_->File("otpd.toml"), "--validate-listen", "127.0.0.1:0"};
    return true;
  }

 protected:
  static bool AddPhones(std::string* error) {
    auto dir = OpenTestStore(DataDir());
    if (!dir.ok()) {
      *error = std::string(dir.status().message());
      return false;
    }
    service::MethodAdmin methods(*dir->store, *dir->keys, *base::RealClock::Get(), {}, nullptr);
    int n = 10;
    // ann has an office phone besides her mobile: her default sign-in method picks which rings.
    for (service::PhoneType type : {service::PhoneType::kMobile, service::PhoneType::kOffice}) {
      auto added = methods.Add(kAdmin, Upn("ann"),
                               service::PhonePayload{.type = type, .number = "+1 4255550199"});
      if (!added.ok()) {
        *error = "cannot add a phone: " + std::string(added.status().message());
        return false;
      }
    }
    for (const std::string& name : kPhoneUsers) {
      auto added =
          methods.Add(kAdmin, Upn(name),
                      service::PhonePayload{.type = service::PhoneType::kMobile,
                                            .number = "+1 42555512" + std::to_string(n++)});
      if (!added.ok()) {
        *error = "cannot add a phone: " + std::string(added.status().message());
        return false;
      }
    }
    return true;
  }

  static std::string EventsFile() { return dir_->File("exec-events"); }

  // The codes of the `type` events (sms.send, voice.call) for `upn` that the hook got so far, in
  // order.
  static std::vector<std::string> SentCodes(const std::string& upn,
                                            const std::string& type = "sms.send") {
    return HookCodes(EventsFile(), upn, {type});
  }
  // The `count`th code sent to `upn` by `type` events (waiting for the hook), "" if it never
  // comes.
  static std::string WaitForCode(const std::string& upn, size_t count,
                                 const std::string& type = "sms.send") {
    std::string code;
    Eventually([&] {
      const std::vector<std::string> codes = SentCodes(upn, type);
      if (codes.size() >= count) code = codes[count - 1];
      return !code.empty();
    });
    if (!code.empty()) sent_codes_.push_back(code);
    return code;
  }
  // Starts a challenge for `upn` on /validate/check; its transaction id ("" if none).
  static std::string Trigger(const std::string& upn) {
    HttpReply r = PostForm("/validate/check", {{"user", upn}, {"pass", ""}});
    json::value v = r.Json();
    if (r.status != 200 || !v.is_object() ||
        v.at("result").at("authentication").as_string() != "CHALLENGE") {
      ADD_FAILURE() << "no challenge: " << r.status << " " << r.body;
      return "";
    }
    return std::string(v.at("detail").at("transaction_id").as_string());
  }
  static HttpReply Answer(const std::string& upn, const std::string& tid, const std::string& code,
                          const std::string& path = "/validate/check") {
    return PostForm(path, {{"user", upn}, {"transaction_id", tid}, {"pass", code}});
  }
  static inline std::vector<std::string> sent_codes_;  // for the log check
};

void ExpectChallenge(const HttpReply& r) {
  ASSERT_EQ(r.status, 200) << r.body;
  json::value v = r.Json();
  ExpectEnvelope(v);
  EXPECT_EQ(v.at("result").at("status").as_bool(), true) << r.body;
  EXPECT_EQ(v.at("result").at("value").as_bool(), false) << r.body;
  EXPECT_EQ(v.at("result").at("authentication").as_string(), "CHALLENGE") << r.body;
  const json::object& d = v.at("detail").as_object();
  EXPECT_EQ(d.at("message").as_string(), "Enter the code sent to your phone");
  const std::string tid(d.at("transaction_id").as_string());
  EXPECT_EQ(tid.size(), 64u);
  const json::array& multi = d.at("multi_challenge").as_array();
  ASSERT_EQ(multi.size(), 1u) << r.body;
  EXPECT_EQ(multi[0].at("transaction_id").as_string(), tid);
  EXPECT_EQ(multi[0].at("type").as_string(), "sms");
  EXPECT_EQ(multi[0].at("client_mode").as_string(), "interactive");
  EXPECT_FALSE(multi[0].at("serial").as_string().empty());
  EXPECT_EQ(multi[0].at("message").as_string(), "Enter the code sent to your phone");
  EXPECT_EQ(d.at("expires_in").as_int64(), 300);
}

std::string Reason(const HttpReply& r) {
  json::value v = r.Json();
  if (!v.is_object() || !v.at("detail").is_object()) return "";
  const json::object& d = v.at("detail").as_object();
  return d.contains("otpd_reason") ? std::string(d.at("otpd_reason").as_string()) : "";
}

TEST_F(ValidateChallengeTest, ChallengeRoundTripAcceptsTheSentCodeOnce) {
  const std::string upn = Upn("pat");
  HttpReply first = PostForm("/validate/check", {{"user", upn}, {"pass", ""}});
  ExpectChallenge(first);
  const std::string tid(first.Json().at("detail").at("transaction_id").as_string());
  const std::string code = WaitForCode(upn, 1);
  ASSERT_EQ(code.size(), 6u) << daemon_->log();
  // The answer carries no code; the code is in the delivery event only.
  EXPECT_EQ(first.body.find(code), std::string::npos);

  HttpReply ok = Answer(upn, tid, code);
  ExpectDecision(ok, true, "matching 1 tokens");
  HttpReply replay = Answer(upn, tid, code);
  ExpectDecision(replay, false, "wrong otp value. previous otp used again");
  EXPECT_EQ(Reason(replay), "replayed");
  // Nor without the transaction id, nor on the verify socket.
  ExpectDecision(Check(upn, code), false, "wrong otp value. previous otp used again");
  EXPECT_EQ(otpd::testing::Field(VerifySocket(upn, code), "reason"), "replayed");
}

TEST_F(ValidateChallengeTest, AnAnswerNamesTheChannelTheCodeWentBy) {
  // A mobile's code sent by a call (the verify socket's CHALLENGE channel=voice) is privacyIDEA's
  // voice token in the answer, not its sms one.
  const std::string upn = Upn("zoe");
  LineClient socket = LineClient::Unix(DataDir() + "/verify.sock");
  const std::string sent =
      socket.Call("CHALLENGE\tc\tuser=" + upn + "\tmethod=mobile\tchannel=voice");
  ASSERT_EQ(sent.rfind("OK\tc\tchannel=voice", 0), 0u) << sent;
  const std::string code = WaitForCode(upn, 1, "voice.call");
  ASSERT_EQ(code.size(), 6u) << daemon_->log();
  HttpReply voice = Check(upn, code);
  ExpectDecision(voice, true, "matching 1 tokens");
  EXPECT_EQ(voice.Json().at("detail").at("type").as_string(), "voice") << voice.body;

  // The next code, by SMS through the validate API, is the sms token again.
  const std::string tid = Trigger(upn);
  const std::string sms = WaitForCode(upn, 1);
  HttpReply ok = Answer(upn, tid, sms);
  ExpectDecision(ok, true, "matching 1 tokens");
  EXPECT_EQ(ok.Json().at("detail").at("type").as_string(), "sms") << ok.body;
}

TEST_F(ValidateChallengeTest, ChallengeWithJsonAndAWrongCodeFirst) {
  const std::string upn = Upn("quinn");
  HttpReply first = PostJson("/validate/check", json::object{{"user", upn}, {"pass", ""}});
  ExpectChallenge(first);
  const std::string tid(first.Json().at("detail").at("transaction_id").as_string());
  const std::string code = WaitForCode(upn, 1);
  ASSERT_EQ(code.size(), 6u);
  const std::string wrong = code == "000000" ? "000001" : "000000";
  HttpReply refused = PostJson(
      "/validate/check", json::object{{"user", upn}, {"transaction_id", tid}, {"pass", wrong}});
  ExpectDecision(refused, false, "wrong otp value");
  EXPECT_EQ(Reason(refused), "bad_code");
  // A wrong guess does not use the code up.
  ExpectDecision(PostJson("/validate/check",
                          json::object{{"user", upn}, {"transaction_id", tid}, {"pass", code}}),
                 true, "matching 1 tokens");
}

TEST_F(ValidateChallengeTest, TransactionIdsAreBoundToTheirUser) {
  const std::string rob = Upn("rob");
  const std::string tid = Trigger(rob);
  const std::string code = WaitForCode(rob, 1);
  ASSERT_EQ(code.size(), 6u);
  // Rob's transaction id for another user (who has a phone and a pending code of her own).
  const std::string wes = Upn("wes");
  const std::string wes_tid = Trigger(wes);
  const std::string wes_code = WaitForCode(wes, 1);
  HttpReply other = Answer(wes, tid, wes_code);
  ExpectDecision(other, false, "No such challenge for this user (unknown transaction_id)");
  EXPECT_EQ(Reason(other), "unknown");
  ExpectDecision(Answer(rob, wes_tid, code), false,
                 "No such challenge for this user (unknown transaction_id)");
  // Unknown, forged and tampered ids.
  for (const std::string& bad : {std::string(64, '0'), std::string("12345678901234567890"),
                                 tid.substr(0, 63) + (tid[63] == 'a' ? "b" : "a"),
                                 std::string("0fffffffffffffff") + tid.substr(16)}) {
    HttpReply r = Answer(rob, bad, code);
    ExpectDecision(r, false, "No such challenge for this user (unknown transaction_id)");
    EXPECT_EQ(r.body.find(code), std::string::npos);
  }
  const std::string tampered = tid.substr(0, 63) + (tid[63] == '0' ? "1" : "0");
  EXPECT_EQ(Answer(rob, tampered, code, "/validate/radiuscheck").status, 400);
  // None of that reached the sign-in: both codes still work, once.
  ExpectDecision(Answer(rob, tid, code), true, "matching 1 tokens");
  ExpectDecision(Answer(wes, wes_tid, wes_code), true, "matching 1 tokens");
}

TEST_F(ValidateChallengeTest, ChallengesAreRateLimitedPerUser) {
  const std::string upn = Upn("uma");
  for (int i = 1; i <= 5; ++i) {
    SCOPED_TRACE(i);
    ExpectChallenge(PostForm("/validate/check", {{"user", upn}, {"pass", ""}}));
    WaitForCode(upn, static_cast<size_t>(i));
  }
  HttpReply limited = PostForm("/validate/check", {{"user", upn}, {"pass", ""}});
  ExpectDecision(limited, false, "Too many codes were sent; try again later");
  EXPECT_EQ(Reason(limited), "rate_limited");
  EXPECT_GT(limited.Json().at("detail").at("retry_after").as_int64(), 0);
  // The same limit on the RADIUS door and on the verify socket: it is the user's.
  HttpReply radius = PostForm("/validate/radiuscheck", {{"user", upn}, {"pass", ""}});
  ASSERT_EQ(radius.status, 200);
  json::value attrs = radius.Json();
  EXPECT_NE(std::string(attrs.at("reply:Reply-Message").as_string()).find("Too many codes"),
            std::string::npos);
  EXPECT_FALSE(attrs.as_object().contains("control:Response-Packet-Type"));
  LineClient c = LineClient::Unix(DataDir() + "/verify.sock");
  EXPECT_EQ(otpd::testing::Field(c.Call("CHALLENGE\tc\tuser=" + upn + "\tmethod=mobile"), "reason"),
            "rate_limited");
  // No sixth code went out; the fifth still works.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(SentCodes(upn).size(), 5u);
  ExpectDecision(Check(upn, SentCodes(upn).back()), true, "matching 1 tokens");
}

TEST_F(ValidateChallengeTest, RadiusCheckChallengeGivesStateThen204) {
  const std::string upn = Upn("vic");
  HttpReply first = PostForm("/validate/radiuscheck", {{"user", upn}, {"pass", ""}});
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.Header("content-type"), "application/json");
  json::value attrs = first.Json();
  EXPECT_EQ(attrs.at("control:Response-Packet-Type").as_string(), "Access-Challenge");
  EXPECT_EQ(attrs.at("reply:Reply-Message").as_string(), "Enter the code sent to your phone");
  const std::string state(attrs.at("reply:State").as_string());
  EXPECT_EQ(state.size(), 64u);
  const std::string code = WaitForCode(upn, 1);
  ASSERT_EQ(code.size(), 6u);
  EXPECT_EQ(Answer(upn, state, code, "/validate/radiuscheck").status, 204);
  EXPECT_EQ(Answer(upn, state, code, "/validate/radiuscheck").status, 400);
}

TEST_F(ValidateChallengeTest, UsersWithoutAPhoneGetARejectNotAChallenge) {
  const std::string upn = Upn("dave");
  HttpReply r = PostForm("/validate/check", {{"user", upn}, {"pass", ""}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("result").at("authentication").as_string(), "REJECT") << r.body;
  EXPECT_EQ(Reason(r), "bad_request") << r.body;  // what an empty code was before challenges
  EXPECT_FALSE(r.Json().at("detail").as_object().contains("transaction_id"));
  EXPECT_EQ(PostForm("/validate/radiuscheck", {{"user", upn}, {"pass", ""}}).status, 400);
  ExpectError(PostForm("/validate/check", {{"user", "nobody@example.com"}, {"pass", ""}}), 400,
              904);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(SentCodes(upn).empty());
}

TEST_F(ValidateChallengeTest, MetricsCountAnswersByEndpointAndResult) {
  auto metrics = [] {
    HttpReply r = HttpClient::Unix(DataDir() + "/admin.sock").Get("/metrics");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
  };
  auto value = [](const std::string& text, const std::string& series) -> double {
    const size_t at = text.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + series.size() + 2));
  };
  const std::string check_challenge =
      "otpd_validate_requests_total{endpoint=\"check\",result=\"challenge\"}";
  const std::string check_accept =
      "otpd_validate_requests_total{endpoint=\"check\",result=\"accept\"}";
  const std::string radius_reject =
      "otpd_validate_requests_total{endpoint=\"radiuscheck\",result=\"reject\"}";
  const std::string check_error =
      "otpd_validate_requests_total{endpoint=\"check\",result=\"error\"}";
  const std::string auth_failures = "otpd_validate_auth_failures_total";
  const std::string before = metrics();
  for (const std::string& s :
       {check_challenge, check_accept, radius_reject, check_error, auth_failures}) {
    EXPECT_GE(value(before, s), 0) << s << " missing from\n" << before;
  }
  const TestToken t = Token("alice");
  ExpectDecision(Check(t.upn, t.Code(2)), true, "matching 1 tokens");
  Trigger(Upn("xena"));
  EXPECT_EQ(PostForm("/validate/radiuscheck", {{"user", t.upn}, {"pass", WrongCode(t)}}).status,
            400);
  ExpectError(PostForm("/validate/check", {{"user", t.upn}, {"pass", "1"}},
                       BasicAuth(kClient, "wrong-key-0123456789")),
              401, 4031);
  ExpectError(PostForm("/validate/check", {{"pass", "1"}}), 400, 905);
  const std::string after = metrics();
  EXPECT_EQ(value(after, check_accept), value(before, check_accept) + 1);
  EXPECT_EQ(value(after, radius_reject), value(before, radius_reject) + 1);
  EXPECT_EQ(value(after, auth_failures), value(before, auth_failures) + 1);
  EXPECT_EQ(value(after, check_error), value(before, check_error) + 2);  // auth + parameters
  EXPECT_NE(after.find("# TYPE otpd_validate_duration_seconds histogram"), std::string::npos);
  EXPECT_EQ(value(after, check_challenge), value(before, check_challenge) + 1);
}

// Runs last (gtest keeps declaration order): nothing any test sent may reach the log.
TEST_F(ValidateChallengeTest, ZzNoCodeOrKeyInTheLog) {
  // A challenge of its own, answered, so that the check has a code even when run alone.
  const std::string upn = Upn("yuri");
  const std::string tid = Trigger(upn);
  ExpectDecision(Answer(upn, tid, WaitForCode(upn, 1)), true, "matching 1 tokens");
  const std::string& log = daemon_->log();
  EXPECT_EQ(log.find(kClientKey), std::string::npos);
  for (const TestToken& t : Tokens()) {
    for (int64_t s = 0; s <= 2; ++s) EXPECT_EQ(log.find("pass=" + t.Code(s)), std::string::npos);
  }
  EXPECT_EQ(log.find("123456"), std::string::npos);
  // Nor the phone codes, nor the transaction ids (they open a challenge for its user).
  for (const std::string& code : sent_codes_) {
    // As a number of its own (not inside a longer run of digits, a port or a pid).
    for (size_t at = log.find(code); at != std::string::npos; at = log.find(code, at + 1)) {
      const bool digit_before = at > 0 && std::isdigit(static_cast<unsigned char>(log[at - 1]));
      const size_t end = at + code.size();
      const bool digit_after =
          end < log.size() && std::isdigit(static_cast<unsigned char>(log[end]));
      EXPECT_TRUE(digit_before || digit_after) << "a sent code is in the log";
    }
  }
  EXPECT_EQ(log.find("transaction_id="), std::string::npos);
}

// The user's default sign-in method (Graph's signInPreferences) says which phone an empty pass
// reaches and how: a call to the office phone where the user chose voiceOffice, the mobile by SMS
// once they prefer their app; the verify socket's CHALLENGE without method= does the same.
TEST_F(ValidateChallengeTest, TheDefaultSignInMethodPicksThePhone) {
  const std::string upn = Upn("ann");
  const std::string prefs = "/v1.0/users/" + upn + "/authentication/signInPreferences";
  auto prefer = [&](const std::string& method) {
    HttpReply r = Owner().Patch(
        prefs, json::object{{"userPreferredMethodForSecondaryAuthentication", method}});
    ASSERT_EQ(r.status, 204) << r.body;
  };
  prefer("voiceOffice");
  HttpReply called = PostForm("/validate/check", {{"user", upn}, {"pass", ""}});
  ASSERT_EQ(called.status, 200) << called.body;
  const json::value v = called.Json();
  ASSERT_EQ(v.at("result").at("authentication").as_string(), "CHALLENGE") << called.body;
  EXPECT_EQ(v.at("detail").at("type").as_string(), "voice") << called.body;
  const std::string code = WaitForCode(upn, 1, "voice.call");
  ASSERT_EQ(code.size(), 6u) << daemon_->log();
  EXPECT_TRUE(SentCodes(upn).empty()) << "an SMS went out too";
  ExpectDecision(Answer(upn, std::string(v.at("detail").at("transaction_id").as_string()), code),
                 true, "matching 1 tokens");

  // The app or token preferred: nothing names a phone, so the mobile gets an SMS as before.
  prefer("oath");
  ExpectChallenge(PostForm("/validate/check", {{"user", upn}, {"pass", ""}}));
  EXPECT_EQ(WaitForCode(upn, 1).size(), 6u) << daemon_->log();

  // The verify socket's CHALLENGE without a method follows the same preference.
  prefer("voiceOffice");
  LineClient socket = LineClient::Unix(DataDir() + "/verify.sock");
  const std::string sent = socket.Call("CHALLENGE\tc\tuser=" + upn);
  EXPECT_EQ(sent.rfind("OK\tc\tchannel=voice", 0), 0u) << sent;
}

}  // namespace
}  // namespace otpd::e2e
