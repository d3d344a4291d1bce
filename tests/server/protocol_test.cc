#include "server/protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace otpd::server {
namespace {

// Parses a copy of `text` (the parser unescapes in place); `storage` keeps the bytes alive.
ParseResult Parse(std::string* storage) { return ParseRequest(std::span<char>(*storage)); }

TEST(ProtocolTest, ParsesVerifyByUser) {
  std::string line = "VERIFY\tr-1\tuser=alice@example.com\totp=123456";
  ParseResult r = Parse(&line);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.id, "r-1");
  EXPECT_EQ(r.request.verb, Verb::kVerify);
  EXPECT_EQ(r.request.user, "alice@example.com");
  EXPECT_EQ(r.request.serial, "");
  EXPECT_EQ(r.request.otp, "123456");
}

TEST(ProtocolTest, ParsesVerifyBySerialWithCrLf) {
  std::string line = "VERIFY\t7\totp=12345678\tserial=HW-0001\r";
  ParseResult r = Parse(&line);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.request.serial, "HW-0001");
  EXPECT_EQ(r.request.otp, "12345678");
}

TEST(ProtocolTest, ParsesResyncHelloPingStats) {
  std::string resync = "RESYNC\ta\tuser=bob\totp=111111\totp2=222222";
  ParseResult r = Parse(&resync);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.request.verb, Verb::kResync);
  EXPECT_EQ(r.request.otp2, "222222");

  std::string hello = "HELLO\th\tversion=1\tclient=vpn\tkey=s3cr3t";
  r = Parse(&hello);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.request.verb, Verb::kHello);
  EXPECT_EQ(r.request.version, "1");
  EXPECT_EQ(r.request.client, "vpn");
  EXPECT_EQ(r.request.key, "s3cr3t");

  std::string hello_bare = "HELLO\th\tversion=1";
  EXPECT_TRUE(Parse(&hello_bare).ok);
  std::string ping = "PING\tp";
  r = Parse(&ping);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.request.verb, Verb::kPing);
  std::string stats = "STATS\ts.1";
  r = Parse(&stats);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.request.verb, Verb::kStats);
}

TEST(ProtocolTest, UnescapesValuesInPlace) {
  std::string line = "VERIFY\tx\tuser=a\\tb\\\\c\\nd\totp=123456";
  ParseResult r = Parse(&line);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.request.user, std::string("a\tb\\c\nd"));
  // The view points into the line buffer: no copy was made.
  EXPECT_GE(r.request.user.data(), line.data());
  EXPECT_LT(r.request.user.data(), line.data() + line.size());
}

TEST(ProtocolTest, ValuesWithoutEscapesAreViewsOfTheLine) {
  std::string line = "VERIFY\tx\tuser=carol\totp=123456";
  ParseResult r = Parse(&line);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.request.user.data(), line.data() + line.find("carol"));
}

struct Malformed {
  const char* name;
  std::string line;
  std::string id;  // the id the reply must carry
};

TEST(ProtocolTest, EveryMalformedShapeIsABadRequest) {
  const std::string long_id(65, 'a');
  const std::vector<Malformed> cases = {
      {"empty line", "", "-"},
      {"only cr", "\r", "-"},
      {"verb only", "PING", "-"},
      {"empty id", "PING\t", "-"},
      {"id too long", "PING\t" + long_id, "-"},
      {"id bad char", "PING\ta/b", "-"},
      {"id with space", "PING\ta b", "-"},
      {"id with escape", "PING\ta\\tb", "-"},
      {"bad id with fields", "VERIFY\t#\tuser=a\totp=123456", "-"},
      {"unknown verb", "FROB\t1", "1"},
      {"lower-case verb", "ping\t1", "1"},
      {"empty verb", "\t1", "1"},
      {"password without password", "PASSWORD\t1\tuser=a", "1"},
      {"password without user", "PASSWORD\t1\tpassword=x", "1"},
      {"password with otp", "PASSWORD\t1\tuser=a\tpassword=x\totp=123456", "1"},
      {"app password bare", "APP_PASSWORD\t1", "1"},
      {"tap with password key", "TAP\t1\tuser=a\tpassword=x", "1"},
      {"session without session", "SESSION\t1\tuser=a", "1"},
      {"remember bare", "REMEMBER\t1", "1"},
      {"remember 0 days", "REMEMBER\t1\tuser=a\tdays=0", "1"},
      {"remember 366 days", "REMEMBER\t1\tuser=a\tdays=366", "1"},
      {"remember days 07", "REMEMBER\t1\tuser=a\tdays=07", "1"},
      {"remember days -1", "REMEMBER\t1\tuser=a\tdays=-1", "1"},
      {"set password without new", "SET_PASSWORD\t1\tuser=a\told=x", "1"},
      {"enrol without user", "ENROL\t1\ttap=x", "1"},
      {"enrol long name", "ENROL\t1\tuser=a\tname=" + std::string(257, 'n'), "1"},
      {"confirm without method", "CONFIRM\t1\tuser=a\totp=123456", "1"},
      {"confirm bad otp", "CONFIRM\t1\tuser=a\tmethod=m\totp=12", "1"},
      {"challenge email", "CHALLENGE\t1\tuser=a\tmethod=email", "1"},
      {"challenge pigeon", "CHALLENGE\t1\tuser=a\tmethod=mobile\tchannel=pigeon", "1"},
      {"subscribe from 0", "SUBSCRIBE\t1\tfrom=0", "1"},
      {"subscribe from x", "SUBSCRIBE\t1\tfrom=x", "1"},
      {"subscribe with user", "SUBSCRIBE\t1\tuser=a", "1"},
      {"ping with a field", "PING\t1\tx=y", "1"},
      {"stats with a field", "STATS\t1\tuser=a", "1"},
      {"trailing tab", "PING\t1\t", "1"},
      {"double tab", "VERIFY\t1\tuser=a\t\totp=123456", "1"},
      {"field without =", "VERIFY\t1\tuser\totp=123456", "1"},
      {"empty key", "VERIFY\t1\t=a\totp=123456", "1"},
      {"empty value", "VERIFY\t1\tuser=\totp=123456", "1"},
      {"unknown key", "VERIFY\t1\tuser=a\totp=123456\tcolour=red", "1"},
      {"hello key on verify", "VERIFY\t1\tuser=a\totp=123456\tversion=1", "1"},
      {"otp2 on verify", "VERIFY\t1\tuser=a\totp=123456\totp2=123456", "1"},
      {"duplicate key", "VERIFY\t1\tuser=a\tuser=b\totp=123456", "1"},
      {"duplicate otp", "VERIFY\t1\tuser=a\totp=123456\totp=123456", "1"},
      {"user and serial", "VERIFY\t1\tuser=a\tserial=s\totp=123456", "1"},
      {"neither user nor serial", "VERIFY\t1\totp=123456", "1"},
      {"missing otp", "VERIFY\t1\tuser=a", "1"},
      {"otp too short", "VERIFY\t1\tuser=a\totp=12345", "1"},
      {"otp too long", "VERIFY\t1\tuser=a\totp=1234567890", "1"},
      {"otp not digits", "VERIFY\t1\tuser=a\totp=12345a", "1"},
      {"otp escaped tab", "VERIFY\t1\tuser=a\totp=123\\t456", "1"},
      {"resync without otp2", "RESYNC\t1\tuser=a\totp=123456", "1"},
      {"resync bad otp2", "RESYNC\t1\tuser=a\totp=123456\totp2=x", "1"},
      {"resync both", "RESYNC\t1\tuser=a\tserial=b\totp=123456\totp2=654321", "1"},
      {"bad escape", "VERIFY\t1\tuser=a\\x\totp=123456", "1"},
      {"trailing backslash", "VERIFY\t1\totp=123456\tuser=a\\", "1"},
      {"raw control char", std::string("VERIFY\t1\tuser=a\x01") + "b\totp=123456", "1"},
      {"raw cr inside", "VERIFY\t1\tuser=a\rb\totp=123456", "1"},
      {"raw nul", std::string("VERIFY\t1\tuser=a\0b\totp=123456", 28), "1"},
      {"hello without version", "HELLO\t1\tclient=a\tkey=b", "1"},
      {"hello client without key", "HELLO\t1\tversion=1\tclient=a", "1"},
      {"hello key without client", "HELLO\t1\tversion=1\tkey=a", "1"},
      {"hello unknown key", "HELLO\t1\tversion=1\tuser=a", "1"},
  };
  for (const Malformed& c : cases) {
    std::string line = c.line;
    ParseResult r = Parse(&line);
    EXPECT_FALSE(r.ok) << c.name;
    EXPECT_EQ(r.id, c.id) << c.name;
    EXPECT_FALSE(r.error.empty()) << c.name;
  }
}

TEST(ProtocolTest, IdAlphabet) {
  EXPECT_TRUE(IsValidId("aZ09._-"));
  EXPECT_TRUE(IsValidId(std::string(64, 'x')));
  EXPECT_FALSE(IsValidId(std::string(65, 'x')));
  EXPECT_FALSE(IsValidId(""));
  EXPECT_FALSE(IsValidId("a=b"));
  EXPECT_FALSE(IsValidId("é"));
}

TEST(ProtocolTest, EscapeRoundTrip) {
  const std::string original = "a\\b\tc\nd\\t";
  std::string escaped;
  AppendEscaped(&escaped, original);
  EXPECT_EQ(escaped, "a\\\\b\\tc\\nd\\\\t");
  std::optional<size_t> len = UnescapeInPlace(std::span<char>(escaped));
  ASSERT_TRUE(len.has_value());
  EXPECT_EQ(escaped.substr(0, *len), original);
  std::string bad = "a\\r";
  EXPECT_FALSE(UnescapeInPlace(std::span<char>(bad)).has_value());
}

TEST(ProtocolTest, FormatsAcceptedHardwareVerify) {
  service::SignInResult r;
  r.outcome = service::Outcome::kAccepted;
  r.method_id = "m\t1";
  r.method_kind = service::MethodKind::kHardwareOath;
  r.serial = "HW-1";
  r.step = 56666667;
  r.drift = -1;
  EXPECT_EQ(FormatSignInReply("q", r),
            "OK\tq\tmethod=m\\t1\ttype=hardware_oath\tserial=HW-1\tstep=56666667\tdrift=-1\n");
}

TEST(ProtocolTest, FormatsSoftwareVerifyWithoutSerial) {
  service::SignInResult r;
  r.outcome = service::Outcome::kAccepted;
  r.method_id = "app";
  r.method_kind = service::MethodKind::kSoftwareOath;
  r.step = 3;
  EXPECT_EQ(FormatSignInReply("q", r), "OK\tq\tmethod=app\ttype=software_oath\tstep=3\tdrift=0\n");
}

TEST(ProtocolTest, FormatsFailures) {
  service::SignInResult r;
  r.outcome = service::Outcome::kLocked;
  r.retry_after_seconds = 120;
  EXPECT_EQ(FormatSignInReply("1", r), "FAIL\t1\treason=locked\tretry_after=120\n");
  r = {};
  r.outcome = service::Outcome::kDrift;
  r.drift = 40;
  EXPECT_EQ(FormatSignInReply("1", r), "FAIL\t1\treason=drift\tdrift=40\n");
  r = {};
  r.outcome = service::Outcome::kReplayed;
  r.method_id = "m";
  EXPECT_EQ(FormatSignInReply("1", r), "FAIL\t1\treason=replayed\n");
  r = {};
  EXPECT_EQ(FormatSignInReply("1", r), "FAIL\t1\treason=unavailable\n");
}

TEST(ProtocolTest, ParsesTheFactorAndSelfServiceVerbs) {
  struct Case {
    std::string line;
    Verb verb;
  };
  const std::vector<Case> cases = {
      {"PASSWORD\t1\tuser=a\tpassword=p\\tw", Verb::kPassword},
      {"APP_PASSWORD\t1\tuser=a\tpassword=x", Verb::kAppPassword},
      {"TAP\t1\tuser=a\tpass=x", Verb::kTap},
      {"SESSION\t1\tuser=a\tsession=id.secret", Verb::kSession},
      {"REMEMBER\t1\tuser=a\tdays=365", Verb::kRemember},
      {"REMEMBER\t1\tuser=a", Verb::kRemember},
      {"SET_PASSWORD\t1\tuser=a\told=x\tnew=y", Verb::kSetPassword},
      {"ENROL\t1\tuser=a\ttap=x\tname=My phone", Verb::kEnrol},
      {"ENROL\t1\tuser=a", Verb::kEnrol},
      {"CONFIRM\t1\tuser=a\tmethod=m1\totp=123456", Verb::kConfirm},
      {"CHALLENGE\t1\tuser=a\tmethod=office\tchannel=voice", Verb::kChallenge},
      {"CHALLENGE\t1\tuser=a\tmethod=mobile", Verb::kChallenge},
      {"CHALLENGE\t1\tuser=a", Verb::kChallenge},  // the user's default phone
      {"SUBSCRIBE\t1", Verb::kSubscribe},
      {"SUBSCRIBE\t1\tfrom=42", Verb::kSubscribe},
  };
  for (Case c : cases) {
    ParseResult r = Parse(&c.line);
    ASSERT_TRUE(r.ok) << c.line << ": " << r.error;
    EXPECT_EQ(r.request.verb, c.verb);
  }
  std::string line = "SET_PASSWORD\t1\tuser=a\told=o\\tld\tnew=n";
  ParseResult r = Parse(&line);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.request.old_password, "o\tld");
  EXPECT_EQ(r.request.new_password, "n");
  EXPECT_TRUE(CarriesSecret(Verb::kPassword));
  EXPECT_TRUE(CarriesSecret(Verb::kEnrol));
  EXPECT_FALSE(CarriesSecret(Verb::kVerify));
  EXPECT_FALSE(CarriesSecret(Verb::kSubscribe));
}

TEST(ProtocolTest, FormatsFactorActionAndEventReplies) {
  service::SignInResult r;
  r.outcome = service::Outcome::kAccepted;
  r.must_change = true;
  EXPECT_EQ(FormatFactorReply("1", Verb::kPassword, r), "OK\t1\tmust_change=1\n");
  r = {};
  r.outcome = service::Outcome::kAccepted;
  r.method_id = "tap1";
  r.usable_once = true;
  EXPECT_EQ(FormatFactorReply("1", Verb::kTap, r), "OK\t1\tmethod=tap1\tusable_once=1\n");
  EXPECT_EQ(FormatFactorReply("1", Verb::kSession, r), "OK\t1\n");
  r = {};
  r.outcome = service::Outcome::kAccepted;
  r.channel = "sms";
  r.expires_in_seconds = 300;
  EXPECT_EQ(FormatFactorReply("1", Verb::kChallenge, r), "OK\t1\tchannel=sms\texpires_in=300\n");
  r = {};
  r.outcome = service::Outcome::kRateLimited;
  r.retry_after_seconds = 60;
  EXPECT_EQ(FormatFactorReply("1", Verb::kChallenge, r),
            "FAIL\t1\treason=rate_limited\tretry_after=60\n");
  r = {};
  r.outcome = service::Outcome::kRevoked;
  EXPECT_EQ(FormatFactorReply("1", Verb::kSession, r), "FAIL\t1\treason=revoked\n");

  service::ActionResult a(service::Outcome::kAccepted);
  a.fields = {{"session", "abc.def"}, {"expires", "2027-01-01T00:00:00Z"}};
  EXPECT_EQ(FormatActionReply("2", a), "OK\t2\tsession=abc.def\texpires=2027-01-01T00:00:00Z\n");
  service::ActionResult f(service::Outcome::kPolicy);
  EXPECT_EQ(FormatActionReply("2", f), "FAIL\t2\treason=policy\n");

  service::FeedEvent e{.seq = 7,
                       .id = "evt_1",
                       .type = "sessions.revoked",
                       .user = "a@b",
                       .time_micros = 5,
                       .data_json = "{\"x\":\"a\tb\"}"};
  EXPECT_EQ(
      FormatEventLine(e),
      "EVENT\t7\tid=evt_1\ttype=sessions.revoked\tuser=a@b\ttime=5\tdata={\"x\":\"a\\tb\"}\n");
}

TEST(ProtocolTest, HelloReply) {
  EXPECT_EQ(FormatHelloOk("h", "1.2.3"), "OK\th\tversion=1\tserver=otpd/1.2.3\n");
}

TEST(ProtocolTest, ParseReply) {
  std::optional<ParsedReply> ok = ParseReply("OK\tq\tmethod=a\\tb\tstep=3");
  ASSERT_TRUE(ok.has_value());
  EXPECT_TRUE(ok->ok);
  EXPECT_EQ(ok->id, "q");
  EXPECT_EQ(ok->fields.at("method"), "a\tb");
  EXPECT_EQ(ok->reason(), "ok");
  std::optional<ParsedReply> fail = ParseReply("FAIL\t-\treason=bad_request");
  ASSERT_TRUE(fail.has_value());
  EXPECT_FALSE(fail->ok);
  EXPECT_EQ(fail->reason(), "bad_request");
  EXPECT_FALSE(ParseReply("FAIL\t1").has_value());  // a FAIL needs a reason
  EXPECT_FALSE(ParseReply("MAYBE\t1").has_value());
  EXPECT_FALSE(ParseReply("OK").has_value());
  EXPECT_FALSE(ParseReply("OK\t1\tnoequals").has_value());
}

}  // namespace
}  // namespace otpd::server
