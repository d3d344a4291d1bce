// The validate API's request parser (server/validate/validate_request.h): parameters from a GET
// query string, a form-urlencoded or a JSON body; percent-encoding; duplicates; missing, oversized,
// control-character and non-UTF-8 values; unknown fields; wrong JSON types. Errors name the
// parameter and never carry its value.

#include "server/validate/validate_request.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace otpd::server::validate {
namespace {

namespace bhttp = boost::beast::http;

http::Request Get(const std::string& target) {
  http::Request r{bhttp::verb::get, target, 11};
  return r;
}

http::Request Post(const std::string& body, const std::string& type,
                   const std::string& target = "/validate/check") {
  http::Request r{bhttp::verb::post, target, 11};
  if (!type.empty()) r.set(bhttp::field::content_type, type);
  r.body() = body;
  r.prepare_payload();
  return r;
}

http::Request Form(const std::string& body) {
  return Post(body, "application/x-www-form-urlencoded");
}
http::Request Json(const std::string& body) { return Post(body, "application/json"); }

// The parse's error message, "" when it succeeded.
std::string Error(const http::Request& r) {
  auto p = ParseValidateRequest(r);
  if (p.ok()) return "";
  EXPECT_EQ(p.status().code(), base::StatusCode::kInvalidArgument);
  return std::string(p.status().message());
}

TEST(ValidateRequestTest, GetTakesTheQueryString) {
  auto p = ParseValidateRequest(Get("/validate/check?user=alice%40example.com&pass=123456"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->user, "alice@example.com");
  EXPECT_EQ(p->pass.view(), "123456");
  EXPECT_TRUE(p->serial.empty());
  EXPECT_TRUE(p->transaction_id.empty());
}

TEST(ValidateRequestTest, FormBodyAndQueryStringTogether) {
  auto p =
      ParseValidateRequest(Post("pass=654321", "application/x-www-form-urlencoded; charset=UTF-8",
                                "/validate/check?user=bob%40example.com"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->user, "bob@example.com");
  EXPECT_EQ(p->pass.view(), "654321");
}

TEST(ValidateRequestTest, JsonBody) {
  auto p = ParseValidateRequest(
      Json(R"({"user":"carol","realm":"example.com","pass":"111111","transaction_id":"abc"})"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->user, "carol@example.com");  // the realm becomes the UPN suffix
  EXPECT_EQ(p->realm, "example.com");
  EXPECT_EQ(p->transaction_id, "abc");
  EXPECT_EQ(p->pass.view(), "111111");
}

TEST(ValidateRequestTest, RealmIsIgnoredWhenTheUserHasOne) {
  auto p = ParseValidateRequest(Form("user=dave%40example.org&realm=example.com&pass=1"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->user, "dave@example.org");
}

TEST(ValidateRequestTest, SerialInsteadOfUser) {
  auto p = ParseValidateRequest(Form("serial=HW-0001&pass=123456"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->serial, "HW-0001");
  EXPECT_TRUE(p->user.empty());
}

TEST(ValidateRequestTest, PercentEncodingAndPlus) {
  auto p = ParseValidateRequest(Form("us%65r=a+b%2Bc%40x.y&pass=%31%32%33"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->user, "a b+c@x.y");
  EXPECT_EQ(p->pass.view(), "123");
  // Upper- and lower-case hex digits.
  p = ParseValidateRequest(Form("user=%c3%A9@x.y&pass=1"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->user, "\xc3\xa9@x.y");
}

TEST(ValidateRequestTest, MalformedEscapesAreRefused) {
  for (const char* body : {"user=a&pass=%zz1234", "user=a&pass=12%3", "user=a&pass=12%",
                           "user=a%G0&pass=1", "us%r=a&pass=1"}) {
    EXPECT_NE(Error(Form(body)).find("%-escape"), std::string::npos) << body;
  }
}

TEST(ValidateRequestTest, EmptyPassIsAllowedAndEmptyPairsAreSkipped) {
  // An empty pass is a request of its own (a challenge), not a parse error.
  auto p = ParseValidateRequest(Form("&&user=a%40b.c&&pass=&"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->pass.empty());
  p = ParseValidateRequest(Form("user=a%40b.c&pass"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->pass.empty());
}

TEST(ValidateRequestTest, DuplicatesAreRefusedWhereverTheyCome) {
  EXPECT_EQ(Error(Form("user=a&user=b&pass=1")), "parameter 'user' is given more than once");
  EXPECT_EQ(
      Error(Post("user=b", "application/x-www-form-urlencoded", "/validate/check?user=a&pass=1")),
      "parameter 'user' is given more than once");
  EXPECT_EQ(Error(Json(R"({"user":"a","pass":"1","pass":"2"})")),
            "parameter 'pass' is given more than once");
  EXPECT_EQ(Error(Post(R"({"pass":"2"})", "application/json", "/validate/check?user=a&pass=1")),
            "parameter 'pass' is given more than once");
  // Unknown parameters may repeat: they are not read.
  EXPECT_EQ(Error(Form("user=a&pass=1&client=x&client=y")), "");
}

TEST(ValidateRequestTest, MissingUserOrPass) {
  EXPECT_EQ(Error(Form("user=a%40b.c")), "Missing parameter: 'pass'");
  EXPECT_EQ(Error(Form("pass=123456")), "Missing parameter: 'user' or 'serial'");
  EXPECT_EQ(Error(Form("user=&pass=123456")), "Missing parameter: 'user' or 'serial'");
  EXPECT_EQ(Error(Get("/validate/check")), "Missing parameter: 'pass'");
  EXPECT_EQ(Error(Form("user=a&serial=S&pass=1")), "give 'user' or 'serial', not both");
}

TEST(ValidateRequestTest, OversizedFieldsAreRefusedByName) {
  EXPECT_EQ(Error(Form("user=" + std::string(kMaxUser + 1, 'u') + "&pass=1")),
            "parameter 'user' is longer than 256 bytes");
  EXPECT_EQ(Error(Form("user=" + std::string(kMaxUser, 'u') + "&pass=1")), "");
  EXPECT_EQ(Error(Form("serial=" + std::string(kMaxSerial + 1, 's') + "&pass=1")),
            "parameter 'serial' is longer than 64 bytes");
  const std::string long_pass(kMaxPass + 1, '7');
  const std::string pass_error = Error(Form("user=a&pass=" + long_pass));
  EXPECT_EQ(pass_error, "parameter 'pass' is longer than 64 bytes");
  EXPECT_EQ(pass_error.find(long_pass), std::string::npos);
  EXPECT_EQ(Error(Form("user=a&pass=1&transaction_id=" + std::string(kMaxTransactionId + 1, 't'))),
            "parameter 'transaction_id' is longer than 128 bytes");
  // The realm appended to the user may not make it too long either.
  EXPECT_EQ(
      Error(Form("user=" + std::string(200, 'u') + "&realm=" + std::string(60, 'r') + "&pass=1")),
      "parameter 'user' with its realm is longer than 256 bytes");
}

TEST(ValidateRequestTest, ControlCharactersAndNonUtf8AreRefused) {
  EXPECT_EQ(Error(Form("user=a%0Ab&pass=1")), "parameter 'user' contains control characters");
  EXPECT_EQ(Error(Form("user=a%00b&pass=1")), "parameter 'user' contains control characters");
  EXPECT_EQ(Error(Form("user=a%7Fb&pass=1")), "parameter 'user' contains control characters");
  for (const char* bad :
       {"%FF", "%C3", "%C0%AF", "%E0%80%AF", "%ED%A0%80", "%F4%90%80%80", "%80", "%E2%82"}) {
    EXPECT_EQ(Error(Form(std::string("user=a") + bad + "&pass=1")),
              "parameter 'user' is not UTF-8 text")
        << bad;
  }
  EXPECT_EQ(Error(Form("serial=%FE&pass=1")), "parameter 'serial' is not UTF-8 text");
  // Well-formed multi-byte text is fine: 2, 3 and 4 bytes.
  EXPECT_EQ(Error(Form("user=%C3%A9%E2%82%AC%F0%9F%98%80%40x&pass=1")), "");
  // JSON text must be UTF-8 too (the JSON parser refuses it).
  EXPECT_EQ(Error(Json("{\"user\":\"a\xff\",\"pass\":\"1\"}")), "the body is not valid JSON");
}

TEST(ValidateRequestTest, UnknownFieldsAreIgnored) {
  auto p = ParseValidateRequest(
      Json(R"({"user":"a@b.c","pass":"1","client":"10.0.0.1","otponly":true,"x":{"y":[1]}})"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->user, "a@b.c");
  // They are decoded before they are dropped: a malformed one is still malformed form data.
  EXPECT_NE(Error(Form("user=a&pass=1&state=xyz&client=%zz")).find("%-escape"), std::string::npos);
}

TEST(ValidateRequestTest, WrongJsonTypesAreRefused) {
  EXPECT_EQ(Error(Json(R"({"user":"a","pass":123456})")), "parameter 'pass' must be a string");
  EXPECT_EQ(Error(Json(R"({"user":["a"],"pass":"1"})")), "parameter 'user' must be a string");
  EXPECT_EQ(Error(Json(R"({"user":"a","pass":null})")), "parameter 'pass' must be a string");
  EXPECT_EQ(Error(Json(R"({"user":"a","pass":"1","transaction_id":7})")),
            "parameter 'transaction_id' must be a string");
  EXPECT_EQ(Error(Json("[1,2,3]")), "the JSON body must be an object");
  EXPECT_EQ(Error(Json("\"user\"")), "the JSON body must be an object");
  EXPECT_EQ(Error(Json(R"({"user":"a","pass":)")), "the body is not valid JSON");
  EXPECT_EQ(Error(Json(R"({"x":)" + std::string(100, '[') + std::string(100, ']') +
                       R"(,"user":"a","pass":"1"})")),
            "the body is not valid JSON");  // deeper than the parser goes
  EXPECT_EQ(Error(Json(R"({"user":"a","pass":"1"} x)")), "the body is not valid JSON");
  EXPECT_EQ(Error(Json(R"({"user":"a","pass":"1"}{})")), "the body is not valid JSON");
  EXPECT_EQ(Error(Json(" {\"user\":\"a\",\"pass\":\"1\"} \n")), "");
  // Members inside other values are not parameters, whatever their names.
  auto p = ParseValidateRequest(Json(R"({"x":{"pass":7,"user":["b"]},"user":"a","pass":"1"})"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->user, "a");
  // Escaped names are names: "p\u0061ss" is pass, and a second pass.
  EXPECT_EQ(Error(Json(R"({"user":"a","pass":"1","p\u0061ss":"2"})")),
            "parameter 'pass' is given more than once");
}

TEST(ValidateRequestTest, BodiesOnlyOnPostAndOnlyOfKnownTypes) {
  http::Request get = Get("/validate/check?user=a&pass=1");
  get.body() = "x=y";
  EXPECT_EQ(Error(get), "a GET request carries its parameters in the query string");
  EXPECT_EQ(Error(Post("<xml/>", "text/xml")),
            "the body must be application/x-www-form-urlencoded or application/json");
  EXPECT_EQ(Error(Post("user=a&pass=1", "")),
            "the body must be application/x-www-form-urlencoded or application/json");
  // Case-insensitive media type with parameters.
  EXPECT_EQ(Error(Post(R"({"user":"a","pass":"1"})", "Application/JSON ; charset=utf-8")), "");
  // An empty POST body takes the query string alone.
  EXPECT_EQ(Error(Post("", "", "/validate/check?user=a&pass=1")), "");
}

TEST(ValidateRequestTest, ErrorsNeverCarryTheCode) {
  const std::string code = "918273";
  for (const std::string& body : {"user=a&pass=" + code + "&pass=" + code, "pass=" + code,
                                  "user=a%0A&pass=" + code, "user=a&serial=b&pass=" + code}) {
    const std::string error = Error(Form(body));
    EXPECT_FALSE(error.empty()) << body;
    EXPECT_EQ(error.find(code), std::string::npos) << error;
  }
}

TEST(ValidateRequestTest, DecodeFormHandsEveryPairOver) {
  std::vector<std::pair<std::string, std::string>> pairs;
  auto take = [&](std::string name, std::string value) {
    pairs.emplace_back(std::move(name), std::move(value));
    return base::OkStatus();
  };
  ASSERT_TRUE(DecodeForm("a=1&b=&c&=d&e=%20", take).ok());
  const std::vector<std::pair<std::string, std::string>> want = {
      {"a", "1"}, {"b", ""}, {"c", ""}, {"", "d"}, {"e", " "}};
  EXPECT_EQ(pairs, want);
  // The callback's error stops the walk.
  int calls = 0;
  auto refuse = [&](std::string, std::string) {
    ++calls;
    return base::InvalidArgumentError("no");
  };
  EXPECT_FALSE(DecodeForm("a=1&b=2", refuse).ok());
  EXPECT_EQ(calls, 1);
}

// privacyIDEA reads `state` (what its FreeRADIUS plugin sends: the RADIUS State) as the
// transaction id: the same checks apply, and the two naming different transactions is refused.
TEST(ValidateRequestTest, StateIsTheTransactionId) {
  const std::string tid(64, 'a');
  auto p = ParseValidateRequest(Form("user=u%40example.com&pass=123456&state=" + tid));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->transaction_id, tid);
  auto both = ParseValidateRequest(
      Form("user=u%40example.com&pass=1&state=" + tid + "&transaction_id=" + tid));
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(both->transaction_id, tid);
  auto json =
      ParseValidateRequest(Json(R"({"user":"u@example.com","pass":"1","state":")" + tid + R"("})"));
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(json->transaction_id, tid);

  const std::string other(64, 'b');
  const std::string differ =
      Error(Form("user=u%40example.com&pass=1&state=" + tid + "&transaction_id=" + other));
  EXPECT_NE(differ.find("'state'"), std::string::npos) << differ;
  EXPECT_NE(differ.find("'transaction_id'"), std::string::npos) << differ;
  EXPECT_EQ(differ.find(tid), std::string::npos) << differ;
  EXPECT_EQ(differ.find(other), std::string::npos) << differ;
  // The same limits as transaction_id, named as the parameter that was sent.
  const std::string long_state = Error(Form("user=u&pass=1&state=" + std::string(129, 'c')));
  EXPECT_NE(long_state.find("'state'"), std::string::npos) << long_state;
  EXPECT_NE(Error(Form("user=u&pass=1&state=a&state=a")).find("'state'"), std::string::npos);
  EXPECT_NE(Error(Form("user=u&pass=1&state=%01")).find("'state'"), std::string::npos);
}

}  // namespace
}  // namespace otpd::server::validate
