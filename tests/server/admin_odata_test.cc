// The admin API's parsing of request targets, OData options and JSON bodies, with hostile input.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "base/status.h"
#include "server/admin/graph.h"
#include "server/admin/odata.h"

namespace otpd::server::admin {
namespace {

namespace json = boost::json;

TEST(AdminTargetTest, SplitsAndDecodes) {
  auto t = ParseTarget("/v1.0/users/a%40b.example/authentication?$top=5&x=%20y");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->segments,
            (std::vector<std::string>{"v1.0", "users", "a@b.example", "authentication"}));
  EXPECT_EQ(t->Param("$top"), "5");
  EXPECT_EQ(t->Param("x"), " y");
  EXPECT_FALSE(t->Param("missing").has_value());
}

TEST(AdminTargetTest, RefusesHostileTargets) {
  for (const char* bad :
       {"users", "/a/%2fb", "/a/%00", "/a/%zz", "/a/%4", "/a?x=1&x=2", "http://evil/a"}) {
    auto t = ParseTarget(bad);
    EXPECT_FALSE(t.ok()) << bad;
    if (!t.ok()) {
      EXPECT_EQ(t.status().code(), base::StatusCode::kInvalidArgument) << bad;
    }
  }
}

TEST(AdminTargetTest, PercentEncodeRoundTrips) {
  // A "/" may be encoded in a query value but never in a path segment (it would change the path).
  const std::string hostile = "a b?c&d=e%f'g\"<>#é+";
  auto t = ParseTarget("/x/" + PercentEncode(hostile) + "?v=" + PercentEncode(hostile + "/"));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->segments.at(1), hostile);
  EXPECT_EQ(t->Param("v"), hostile + "/");
}

TEST(AdminFilterTest, ParsesEqInStartsWithJoinedByAnd) {
  const std::set<std::string_view> fields = {"status", "serialNumber", "phoneType"};
  auto f = ParseFilter(
      "status eq 'available' and startswith(serialNumber,'OATH') and phoneType in ('mobile', "
      "'office')",
      fields);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->size(), 3u);
  EXPECT_TRUE((*f)[0].Matches("available"));
  EXPECT_FALSE((*f)[0].Matches("activated"));
  EXPECT_TRUE((*f)[1].Matches("OATH0001"));
  EXPECT_FALSE((*f)[1].Matches("XOATH"));
  EXPECT_TRUE((*f)[2].Matches("office"));
  EXPECT_FALSE((*f)[2].Matches("alternateMobile"));
  // Quotes doubled inside a literal stand for one.
  auto q = ParseFilter("serialNumber eq 'O''Brien'", fields);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_TRUE((*q)[0].Matches("O'Brien"));
}

TEST(AdminFilterTest, RefusesWhatItDoesNotKnowAndSaysWhere) {
  const std::set<std::string_view> fields = {"status"};
  for (const char* bad : {"secret eq 'x'", "status gt 'a'", "status eq", "status eq 'open",
                          "status eq 'a' or status eq 'b'", "startswith(status)", "(status eq 'a'",
                          "status in ()", "status eq 'a' and", ""}) {
    auto f = ParseFilter(bad, fields);
    EXPECT_FALSE(f.ok()) << bad;
  }
  auto unknown = ParseFilter("secret eq 'x'", fields);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("secret"), std::string::npos)
      << unknown.status().message();
}

TEST(AdminPagingTest, ReadsTopSkipTokenAndRefusesStrangers) {
  auto t = ParseTarget("/v1.0/users?$top=2&$skiptoken=" + EncodeSkipToken("carol@example.com"));
  ASSERT_TRUE(t.ok());
  auto p = ReadPaging(*t, {"id"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->top, 2u);
  EXPECT_EQ(p->after, "carol@example.com");

  for (const char* bad : {"/u?$top=0", "/u?$top=1000", "/u?$top=-1", "/u?$top=abc",
                          "/u?$skiptoken=zz", "/u?$orderby=id", "/u?unknown=1"}) {
    auto target = ParseTarget(bad);
    ASSERT_TRUE(target.ok()) << bad;
    EXPECT_FALSE(ReadPaging(*target, {"id"}).ok()) << bad;
  }
  auto own = ParseTarget("/u?since=2026-01-01T00:00:00Z");
  ASSERT_TRUE(own.ok());
  EXPECT_TRUE(ReadPaging(*own, {"id"}, {"since"}).ok());
}

TEST(AdminFieldReaderTest, NamesUnknownMissingAndMistypedFields) {
  json::object body = json::parse(R"({"name":"k","roles":["reader"],"extra":1})").as_object();
  FieldReader in(body);
  EXPECT_EQ(in.String("name", FieldReader::kRequired), "k");
  EXPECT_EQ(in.OptionalStringArray("roles"), (std::vector<std::string>{"reader"}));
  base::Status s = in.Finish();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("extra"), std::string::npos) << s.message();

  json::object typed = json::parse(R"({"device":{"id":7}})").as_object();
  FieldReader outer(typed);
  const json::object* device = outer.Object("device", FieldReader::kRequired);
  ASSERT_NE(device, nullptr);
  ASSERT_TRUE(outer.Finish().ok());
  FieldReader inner(*device, "device.");
  inner.String("id", FieldReader::kRequired);
  s = inner.Finish();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("device.id"), std::string::npos) << s.message();

  json::object empty;
  FieldReader missing(empty);
  missing.String("verificationCode", FieldReader::kRequired);
  s = missing.Finish();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("verificationCode"), std::string::npos) << s.message();

  json::object range = json::parse(R"({"digits":12})").as_object();
  FieldReader ranged(range);
  ranged.OptionalInt("digits", 6, 8);
  EXPECT_FALSE(ranged.Finish().ok());
}

TEST(AdminGraphTest, StatusesMapToGraphCodes) {
  EXPECT_EQ(ClassifyStatus(base::InvalidArgumentError("x")).http_status, 400u);
  EXPECT_EQ(ClassifyStatus(base::PermissionDeniedError("x")).code, "accessDenied");
  EXPECT_EQ(ClassifyStatus(base::NotFoundError("x")).http_status, 404u);
  EXPECT_EQ(ClassifyStatus(base::AlreadyExistsError("x")).http_status, 409u);
  EXPECT_EQ(ClassifyStatus(base::InternalError("x")).http_status, 500u);
  json::value body =
      json::parse(GraphErrorBody("itemNotFound", "no such user", "rid-1", "crid-1", 0));
  EXPECT_EQ(body.at("error").at("code"), "itemNotFound");
  EXPECT_EQ(body.at("error").at("message"), "no such user");
  EXPECT_EQ(body.at("error").at("innerError").at("request-id"), "rid-1");
  EXPECT_EQ(body.at("error").at("innerError").at("date"), "1970-01-01T00:00:00Z");
}

}  // namespace
}  // namespace otpd::server::admin
