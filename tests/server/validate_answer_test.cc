// The validate API's answers (server/validate/validate_answer.h) against the shapes of
// privacyIDEA's documentation: ACCEPT, REJECT, CHALLENGE with multi_challenge, errors, and the
// attribute bodies /validate/radiuscheck gives FreeRADIUS's rlm_rest; and the transaction ids
// (server/validate/transaction_id.h) that bind a challenge's answer to its user.

#include "server/validate/validate_answer.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "server/validate/transaction_id.h"

namespace otpd::server::validate {
namespace {

namespace json = boost::json;
using service::Outcome;

constexpr double kNow = 1764450000.25;

json::object Parse(const Answer& a) { return json::parse(a.body).as_object(); }

void ExpectEnvelope(const json::object& o) {
  EXPECT_EQ(o.at("id").as_int64(), 1);
  EXPECT_EQ(o.at("jsonrpc").as_string(), "2.0");
  EXPECT_EQ(std::string(o.at("version").as_string()).rfind("otpd ", 0), 0u);
  EXPECT_TRUE(o.at("versionnumber").is_string());
  EXPECT_DOUBLE_EQ(o.at("time").as_double(), kNow);
}

service::SignInResult Result(Outcome outcome) {
  service::SignInResult r;
  r.outcome = outcome;
  return r;
}

TEST(ValidateAnswerTest, AcceptHasPrivacyIdeasShape) {
  service::SignInResult r = Result(Outcome::kAccepted);
  r.method_id = "m1";
  r.serial = "HW-0001";
  r.otp_type = engine::OtpType::kTotp;
  r.digits = 6;
  const Answer a = CheckAnswer(r, false, kNow);
  EXPECT_EQ(a.http_status, 200u);
  const json::object o = Parse(a);
  ExpectEnvelope(o);
  EXPECT_EQ(json::serialize(o.at("result")),
            R"({"status":true,"value":true,"authentication":"ACCEPT"})");
  EXPECT_EQ(json::serialize(o.at("detail")),
            R"({"message":"matching 1 tokens","serial":"HW-0001","type":"totp","otplen":6})");
}

// An accepted phone code is privacyIDEA's sms (or voice) token under the phone's own serial,
// never the phone method's id (Graph's, the same in every installation).
TEST(ValidateAnswerTest, PhoneCodesAreSmsOrVoiceUnderThePhonesSerial) {
  service::SignInResult r = Result(Outcome::kAccepted);
  r.method_id = "3179e48a-750b-4051-897c-87b9720928f7";
  r.method_kind = service::MethodKind::kPhone;
  r.channel = "sms";
  r.phone_serial = "PHONE0123456789ABCDEF";
  EXPECT_EQ(json::serialize(Parse(CheckAnswer(r, false, kNow)).at("detail")),
            R"({"message":"matching 1 tokens","serial":"PHONE0123456789ABCDEF","type":"sms"})");
  r.channel = "voice";
  r.outcome = Outcome::kReplayed;
  const json::object replayed = Parse(CheckAnswer(r, false, kNow));
  EXPECT_EQ(replayed.at("detail").at("type").as_string(), "voice");
  EXPECT_EQ(replayed.at("detail").at("serial").as_string(), "PHONE0123456789ABCDEF");
  EXPECT_FALSE(replayed.at("detail").as_object().contains("otplen"));
}

TEST(ValidateAnswerTest, PollTransactionIsPendingAndFalse) {
  const Answer a = PollPendingAnswer(kNow);
  EXPECT_EQ(a.http_status, 200u);
  const json::object o = Parse(a);
  ExpectEnvelope(o);
  EXPECT_EQ(json::serialize(o.at("result")), R"({"status":true,"value":false})");
  EXPECT_EQ(json::serialize(o.at("detail")), R"({"challenge_status":"pending"})");
}

TEST(ValidateAnswerTest, RejectsCarryPrivacyIdeasMessagesAndOtpdsReason) {
  const struct {
    Outcome outcome;
    const char* message;
    const char* reason;
  } cases[] = {
      {Outcome::kBadCode, "wrong otp value", "bad_code"},
      {Outcome::kReplayed, "wrong otp value. previous otp used again", "replayed"},
      {Outcome::kLocked, "matching 1 tokens, Failcounter exceeded", "locked"},
      {Outcome::kNotActivated, "matching 1 tokens, Token is disabled", "not_activated"},
      {Outcome::kNoMethod, "The user has no tokens assigned", "no_method"},
      {Outcome::kDrift, "wrong otp value", "drift"},
      {Outcome::kBadRequest, "wrong otp value", "bad_request"},
  };
  for (const auto& c : cases) {
    service::SignInResult r = Result(c.outcome);
    r.retry_after_seconds = 42;
    const Answer a = CheckAnswer(r, false, kNow);
    EXPECT_EQ(a.http_status, 200u);
    const json::object o = Parse(a);
    ExpectEnvelope(o);
    EXPECT_EQ(json::serialize(o.at("result")),
              R"({"status":true,"value":false,"authentication":"REJECT"})");
    const json::object& d = o.at("detail").as_object();
    EXPECT_EQ(d.at("message").as_string(), c.message);
    EXPECT_EQ(d.at("otpd_reason").as_string(), c.reason);
    EXPECT_EQ(d.contains("retry_after"), c.outcome == Outcome::kLocked) << c.reason;
    EXPECT_FALSE(d.contains("transaction_id"));
  }
}

TEST(ValidateAnswerTest, ErrorsHaveStatusFalseAndNullDetail) {
  const json::object unknown_user = Parse(CheckAnswer(Result(Outcome::kUnknownUser), false, kNow));
  ExpectEnvelope(unknown_user);
  EXPECT_EQ(
      json::serialize(unknown_user.at("result")),
      R"({"status":false,"error":{"code":904,"message":"ERR904: The user can not be found in any resolver in this realm!"}})");
  EXPECT_TRUE(unknown_user.at("detail").is_null());
  const Answer unknown_serial = CheckAnswer(Result(Outcome::kUnknownUser), true, kNow);
  EXPECT_EQ(unknown_serial.http_status, 404u);
  EXPECT_EQ(Parse(unknown_serial).at("result").at("error").at("code").as_int64(), 601);
  const Answer busy = CheckAnswer(Result(Outcome::kUnavailable), false, kNow);
  EXPECT_EQ(busy.http_status, 503u);
  EXPECT_EQ(Parse(busy).at("result").at("error").at("code").as_int64(), 903);
  const Answer param = ErrorAnswer(400, kErrorParameter, "Missing parameter: 'pass'", kNow);
  EXPECT_EQ(Parse(param).at("result").at("error").at("message").as_string(),
            "ERR905: Missing parameter: 'pass'");
}

// privacyIDEA's documented challenge answer: result.value false, authentication CHALLENGE;
// detail.transaction_id, detail.multi_challenge[] with transaction_id, serial, type, message and
// client_mode, and the flat fields older clients read (messages, transaction_ids, serial, type).
TEST(ValidateAnswerTest, ChallengeHasPrivacyIdeasMultiChallengeShape) {
  const std::string tid(kTransactionIdLength, 'a');
  const Answer a = ChallengeAnswer(ChallengeSent{tid, "phone-1", "sms", 300}, kNow);
  EXPECT_EQ(a.http_status, 200u);
  const json::object o = Parse(a);
  ExpectEnvelope(o);
  EXPECT_EQ(json::serialize(o.at("result")),
            R"({"status":true,"value":false,"authentication":"CHALLENGE"})");
  const json::object& d = o.at("detail").as_object();
  EXPECT_EQ(d.at("message").as_string(), kChallengeMessage);
  EXPECT_EQ(d.at("transaction_id").as_string(), tid);
  EXPECT_EQ(json::serialize(d.at("transaction_ids")), "[\"" + tid + "\"]");
  EXPECT_EQ(d.at("messages").as_array().size(), 1u);
  EXPECT_EQ(d.at("serial").as_string(), "phone-1");
  EXPECT_EQ(d.at("type").as_string(), "sms");
  EXPECT_EQ(d.at("preferred_client_mode").as_string(), "interactive");
  EXPECT_EQ(d.at("expires_in").as_int64(), 300);
  const json::array& multi = d.at("multi_challenge").as_array();
  ASSERT_EQ(multi.size(), 1u);
  const json::object& c = multi[0].as_object();
  EXPECT_EQ(c.at("transaction_id").as_string(), tid);
  EXPECT_EQ(c.at("serial").as_string(), "phone-1");
  EXPECT_EQ(c.at("type").as_string(), "sms");
  EXPECT_EQ(c.at("message").as_string(), kChallengeMessage);
  EXPECT_EQ(c.at("client_mode").as_string(), "interactive");
  EXPECT_TRUE(c.at("attributes").is_null());
}

TEST(ValidateAnswerTest, RefusedTransactionsAndRateLimitsAreRejects) {
  for (TransactionCheck check : {TransactionCheck::kExpired, TransactionCheck::kUnknown}) {
    const Answer a = TransactionRefusedAnswer(check, kNow);
    EXPECT_EQ(a.http_status, 200u);
    const json::object o = Parse(a);
    EXPECT_EQ(json::serialize(o.at("result")),
              R"({"status":true,"value":false,"authentication":"REJECT"})");
    EXPECT_EQ(o.at("detail").at("otpd_reason").as_string(),
              check == TransactionCheck::kExpired ? "expired" : "unknown");
    EXPECT_NE(std::string(o.at("detail").at("message").as_string())
                  .find(check == TransactionCheck::kExpired ? "expired" : "transaction_id"),
              std::string::npos);
  }
  const json::object limited = Parse(RateLimitedAnswer(600, kNow));
  EXPECT_EQ(limited.at("result").at("authentication").as_string(), "REJECT");
  EXPECT_EQ(limited.at("detail").at("otpd_reason").as_string(), "rate_limited");
  EXPECT_EQ(limited.at("detail").at("retry_after").as_int64(), 600);
}

TEST(ValidateAnswerTest, RadiusBodiesAreRlmRestAttributeMaps) {
  const std::string tid(kTransactionIdLength, 'b');
  EXPECT_EQ(json::parse(RadiusChallengeBody(tid)),
            json::parse(R"({"control:Response-Packet-Type":"Access-Challenge","reply:State":")" +
                        tid + R"(","reply:Reply-Message":"Enter the code sent to your phone"})"));
  EXPECT_EQ(json::parse(RadiusRefusalBody("no \"more\"")),
            json::parse(R"({"reply:Reply-Message":"no \"more\""})"));
  EXPECT_EQ(RadiusStatus(Outcome::kAccepted), 204u);
  EXPECT_EQ(RadiusStatus(Outcome::kLocked), 403u);
  EXPECT_EQ(RadiusStatus(Outcome::kUnavailable), 503u);
  for (Outcome o : {Outcome::kBadCode, Outcome::kReplayed, Outcome::kUnknownUser,
                    Outcome::kNoMethod, Outcome::kRateLimited}) {
    EXPECT_EQ(RadiusStatus(o), 400u);
  }
}

TransactionIds Ids(char fill) {
  return TransactionIds(base::SecretBytes::FromString(std::string(32, fill)));
}

TEST(TransactionIdTest, ValidForItsUserUntilItExpires) {
  const TransactionIds ids = Ids('k');
  auto id = ids.Issue("Alice@Example.com", 1000);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->size(), kTransactionIdLength);
  EXPECT_EQ(ids.Check(*id, "alice@example.com", 999), TransactionCheck::kValid);  // case-blind
  EXPECT_EQ(ids.Check(*id, "Alice@Example.com", 999), TransactionCheck::kValid);
  EXPECT_EQ(ids.Check(*id, "alice@example.com", 1000), TransactionCheck::kExpired);
  EXPECT_EQ(ids.Check(*id, "bob@example.com", 999), TransactionCheck::kUnknown);
  EXPECT_EQ(ids.Check(*id, "alice@example.co", 999), TransactionCheck::kUnknown);
  // Another key (another process) knows nothing of it.
  EXPECT_EQ(Ids('j').Check(*id, "alice@example.com", 999), TransactionCheck::kUnknown);
}

TEST(TransactionIdTest, EveryIdIsFreshAndTamperingIsRefused) {
  const TransactionIds ids = Ids('k');
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(*ids.Issue("alice@example.com", 1000));
  EXPECT_EQ(seen.size(), 100u);
  const std::string id = *ids.Issue("alice@example.com", 1000);
  // Moving the expiry, changing the nonce or the MAC: any changed digit is refused.
  for (size_t i = 0; i < id.size(); ++i) {
    std::string bad = id;
    bad[i] = bad[i] == '0' ? '1' : '0';
    EXPECT_EQ(ids.Check(bad, "alice@example.com", 999), TransactionCheck::kUnknown) << i;
  }
  for (const std::string& bad : {std::string(), id.substr(1), id + "0", std::string(64, 'g'), [&] {
                                   std::string upper = id;
                                   for (char& c : upper) c = static_cast<char>(std::toupper(c));
                                   return upper;
                                 }()}) {
    EXPECT_EQ(ids.Check(bad, "alice@example.com", 999), TransactionCheck::kUnknown) << bad;
  }
}

TEST(TransactionIdTest, RandomKeysDiffer) {
  auto a = TransactionIds::Create();
  auto b = TransactionIds::Create();
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string id = *a->Issue("alice@example.com", 1000);
  EXPECT_EQ(a->Check(id, "alice@example.com", 1), TransactionCheck::kValid);
  EXPECT_EQ(b->Check(id, "alice@example.com", 1), TransactionCheck::kUnknown);
}

}  // namespace
}  // namespace otpd::server::validate
