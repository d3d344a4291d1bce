// The admin API's reading of JSON bodies: a member given twice (at any depth) is refused and
// named, and free text that people read back (names) may not hold control characters.

#include <gtest/gtest.h>

#include <string>

#include "server/admin/graph.h"
#include "server/admin/json_body.h"
#include "service/model/text_checks.h"

namespace otpd::server::admin {
namespace {

namespace json = boost::json;

std::string Refusal(std::string_view body) {
  base::StatusOr<json::object> parsed = ParseObjectBody(body);
  return parsed.ok() ? "(accepted)" : std::string(parsed.status().message());
}

TEST(AdminBodyTest, AMemberGivenTwiceIsRefusedAndNamed) {
  EXPECT_EQ(Refusal(R"({"displayName":"a","displayName":"b"})"),
            "displayName is given more than once");
  EXPECT_EQ(Refusal(R"({"name":"k","roles":["reader"],"roles":["reader"]})"),
            "roles is given more than once");
  // Nested, and with the same name spelt with an escape.
  EXPECT_EQ(Refusal(R"({"a":{"b":1,"c":{"d":1,"\u0064":2}}})"), "a.c.d is given more than once");
  base::StatusOr<json::value> list = ParseJsonBody(
      R"([{"serialNumber":"S1"},{"serialNumber":"S2","assignTo":{"id":"x","id":"y"}}])");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().message(), "[1].assignTo.id is given more than once");
  // A name that is not printable is not repeated in the message.
  EXPECT_EQ(Refusal("{\"\\u0007\":1,\"\\u0007\":2}"), "(a member) is given more than once");
  // The same name in different objects is no duplicate.
  EXPECT_EQ(Refusal(R"({"a":{"id":1},"b":{"id":1},"c":[{"id":1},{"id":2}]})"), "(accepted)");
  EXPECT_EQ(Refusal(""), "the request needs a JSON object body");
  EXPECT_EQ(Refusal("[]"), "the body must be a JSON object, not an array");
}

TEST(AdminBodyTest, NamesWithControlCharactersAreRefused) {
  const std::string nul("nul\0after", 9);
  for (const std::string& text :
       {std::string("a\tb"), std::string("line\nbreak"), nul, std::string("del\x7f"),
        std::string("c1\xc2\x85next"), std::string("csi\xc2\x9b[31m"), std::string("bell\x07")}) {
    base::Status s = service::CheckFreeText("displayName", text);
    EXPECT_EQ(std::string(s.message()).rfind("displayName contains a control character (U+", 0), 0u)
        << s.message();
  }
  EXPECT_EQ(service::CheckFreeText("name", "ab\x01").message(),
            "name contains a control character (U+0001) at byte 2");
  EXPECT_EQ(service::CheckFreeText("name", "\xc2\x80").message(),
            "name contains a control character (U+0080) at byte 0");
  EXPECT_EQ(service::CheckFreeText("name", "ok\xff").message(),
            "name is not UTF-8 text (at byte 2)");
  for (const char* good :
       {"", "Zoë Ångström", "Grüße, 東京 🙂", "key (ops) #2", "\xc2\xa0nbsp"}) {
    EXPECT_TRUE(service::CheckFreeText("name", good).ok()) << good;
  }

  base::StatusOr<json::object> body =
      ParseObjectBody(R"({"displayName":"Eve\u001b[2J","model":"M\u0085","manufacturer":"ok"})");
  ASSERT_TRUE(body.ok());
  FieldReader in(*body, "[0].");
  EXPECT_EQ(in.Text("manufacturer"), "ok");
  EXPECT_FALSE(in.OptionalText("displayName").has_value());
  EXPECT_FALSE(in.OptionalText("model").has_value());
  EXPECT_EQ(in.Finish().message(),
            "[0].displayName contains a control character (U+001B) at byte 3");
}

}  // namespace
}  // namespace otpd::server::admin
