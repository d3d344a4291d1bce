// What Microsoft's Graph SDKs send and expect, against the real otpd over TLS: Graph's create-user
// body with its password, $select, the password method's collection and any method by id,
// resetPassword's operation, device bodies with displayName and the #$delta list of beta,
// parameter changes of unused devices, and the request ids every answer carries. Each case also
// attacks its promise: a refused body creates nothing, a used token keeps its parameters, a
// hostile client-request-id is not echoed.

#include <gtest/gtest.h>

#include "base/codec.h"
#include "tests/e2e/e2e_env.h"
#include "tests/e2e/suite_daemon.h"
#include "tests/testing/http_client.h"

namespace otpd::e2e {
namespace {

namespace json = boost::json;
using engine::OtpType;
using otpd::testing::HttpClient;
using otpd::testing::HttpReply;
using otpd::testing::LineClient;

const std::string kDevices = "/v1.0/directory/authenticationMethodDevices/hardwareOathDevices";
const std::string kPasswordId = "28c10230-6103-485e-b985-444c60001490";
const std::string kPassword = "Graph-created 7 passphrase";

std::string Auth(const std::string& upn, const std::string& rest) {
  return "/v1.0/users/" + upn + "/authentication/" + rest;
}

std::string Base32Of(const std::string& seed) {
  return base::Base32Encode({reinterpret_cast<const uint8_t*>(seed.data()), seed.size()},
                            /*pad=*/false);
}

std::string SeedFor(const std::string& n) {
  std::string seed = n + "-graph-shape-seed";
  seed.resize(20, '#');
  return seed;
}

json::object Device(const std::string& serial) {
  return json::object{{"serialNumber", serial},      {"secretKey", Base32Of(SeedFor(serial))},
                      {"manufacturer", "Contoso"},   {"model", "Hardware Token 1000"},
                      {"timeIntervalInSeconds", 30}, {"hashFunction", "hmacsha1"}};
}

json::object NewUser(const std::string& upn, const std::string& password = kPassword) {
  return json::object{{"accountEnabled", true},
                      {"displayName", "Created by Graph"},
                      {"mailNickname", "created"},
                      {"userPrincipalName", upn},
                      {"passwordProfile", json::object{{"forceChangePasswordNextSignIn", true},
                                                       {"password", password}}}};
}

class AdminGraphTest : public SuiteDaemon<AdminGraphTest> {
 public:
  static bool PrepareSuite(std::vector<std::string>* args, std::string* error) {
    if (!PrepareDataDir(DataDir(), {}, error) || !MakeAdminCertificate(error)) return false;
    *args = AdminTlsArgs();
    return true;
  }

 protected:
  static std::string Password(const std::string& upn, const std::string& password) {
    LineClient c = LineClient::Unix(DataDir() + "/verify.sock");
    return c.Call("PASSWORD\tp\tuser=" + upn + "\tpassword=" + password);
  }
};

TEST_F(AdminGraphTest, CreatingAUserTakesGraphsBodyWithItsPassword) {
  HttpClient owner = Owner();
  HttpReply created = owner.Post("/v1.0/users", NewUser("made@example.com"));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Json().at("id"), "made@example.com");
  EXPECT_EQ(created.Json().at("userPrincipalName"), "made@example.com");
  EXPECT_EQ(created.Json().at("displayName"), "Created by Graph");
  EXPECT_FALSE(created.Header("location").empty());
  EXPECT_EQ(created.body.find(kPassword), std::string::npos) << "the password never comes back";
  // The password signs in, and must be changed first, as forceChangePasswordNextSignIn said.
  EXPECT_EQ(Password("made@example.com", kPassword), "OK\tp\tmust_change=1");
  json::object keep = NewUser("kept@example.com");
  keep["passwordProfile"].as_object()["forceChangePasswordNextSignIn"] = false;
  ASSERT_EQ(owner.Post("/v1.0/users", keep).status, 201);
  EXPECT_EQ(Password("kept@example.com", kPassword), "OK\tp");

  // A second create of the same user changes nothing: the first password still signs in.
  HttpReply again = owner.Post("/v1.0/users", NewUser("made@example.com", "Another 9 passphrase"));
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(again.ErrorCode(), "nameAlreadyExists");
  EXPECT_EQ(Password("made@example.com", kPassword), "OK\tp\tmust_change=1");

  // Refused bodies create nobody.
  const std::string never = "/v1.0/users/never@example.com";
  HttpReply weak = owner.Post("/v1.0/users", NewUser("never@example.com", "short"));
  EXPECT_EQ(weak.status, 400);
  EXPECT_NE(weak.body.find("at least 12 characters"), std::string::npos) << weak.body;
  EXPECT_EQ(weak.body.find("short"), std::string::npos) << "the password is not echoed";
  json::object disabled = NewUser("never@example.com");
  disabled["accountEnabled"] = false;
  EXPECT_EQ(owner.Post("/v1.0/users", disabled).status, 400);
  json::object no_password = NewUser("never@example.com");
  no_password.erase("passwordProfile");
  HttpReply missing = owner.Post("/v1.0/users", no_password);
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.find("passwordProfile"), std::string::npos) << missing.body;
  json::object typo = NewUser("never@example.com");
  typo["passwordProfile"].as_object()["pasword"] = "x";
  HttpReply misspelt = owner.Post("/v1.0/users", typo);
  EXPECT_EQ(misspelt.status, 400);
  EXPECT_NE(misspelt.body.find("passwordProfile.pasword"), std::string::npos) << misspelt.body;
  // A key that may not set passwords creates nobody either.
  HttpReply reader =
      Remote(MakeKey("graph-reader", {"reader"})).Post("/v1.0/users", NewUser("never@example.com"));
  EXPECT_EQ(reader.status, 403);
  EXPECT_EQ(owner.Get(never).status, 404);
}

TEST_F(AdminGraphTest, SelectKeepsTheNamedPropertiesOnly) {
  HttpClient owner = Owner();
  ASSERT_EQ(owner.Put("/v1.0/users/sel@example.com", json::object{{"displayName", "Sel"}}).status,
            201);
  HttpReply one = owner.Get("/v1.0/users/sel@example.com?$select=displayName,id");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.Json(), (json::object{{"displayName", "Sel"}, {"id", "sel@example.com"}}));

  for (const std::string serial : {"SEL1", "SEL2"}) {
    ASSERT_EQ(owner.Post(kDevices, Device(serial)).status, 201);
  }
  // Every page keeps the selection, and its items keep their @odata.type.
  HttpReply page = owner.Get(kDevices + "?$top=1&$select=serialNumber,status");
  ASSERT_EQ(page.status, 200) << page.body;
  const json::object first = page.Json().at("value").at(0).as_object();
  EXPECT_EQ(first.size(), 3u) << page.body;
  EXPECT_TRUE(first.contains("@odata.type") && first.contains("serialNumber"));
  const std::string next(page.Json().at("@odata.nextLink").as_string());
  HttpReply second = owner.Get(next.substr(next.find("/v1.0")));
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.Json().at("value").at(0).as_object().size(), 3u) << second.body;

  // Names the resource does not have, bad syntax, and $select on a change are refused.
  HttpReply unknown = owner.Get("/v1.0/users/sel@example.com?$select=nickname");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("nickname"), std::string::npos) << unknown.body;
  EXPECT_EQ(owner.Get("/v1.0/users/sel@example.com?$select=").status, 400);
  EXPECT_EQ(owner.Get("/v1.0/users/sel@example.com?$select=id,id").status, 400);
  EXPECT_EQ(owner.Get("/v1.0/users/sel@example.com?$select=id&$select=roles").status, 400);
  EXPECT_EQ(owner.Get("/v1.0/users/sel@example.com?$select=a%3Bb").status, 400);
  HttpReply patch = owner.Patch("/v1.0/users/sel@example.com?$select=id",
                                json::object{{"displayName", "Changed"}});
  EXPECT_EQ(patch.status, 400);
  EXPECT_EQ(owner.Get("/v1.0/users/sel@example.com").Json().at("displayName"), "Sel");
}

TEST_F(AdminGraphTest, PasswordMethodsAndAnyMethodById) {
  HttpClient owner = Owner();
  ASSERT_EQ(owner.Post("/v1.0/users", NewUser("pw@example.com")).status, 201);
  HttpReply list = owner.Get(Auth("pw@example.com", "passwordMethods"));
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(list.Json().at("value").as_array().size(), 1u);
  const json::value method = list.Json().at("value").at(0);
  EXPECT_EQ(method.at("id").as_string(), kPasswordId);
  EXPECT_EQ(method.at("@odata.type"), "#microsoft.graph.passwordAuthenticationMethod");
  EXPECT_TRUE(method.at("password").is_null());
  HttpReply one = owner.Get(Auth("pw@example.com", "passwordMethods/" + kPasswordId));
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.Json(), method);

  // Any method by its id, under methods/.
  HttpReply phone =
      owner.Post(Auth("pw@example.com", "phoneMethods"),
                 json::object{{"phoneNumber", "+1 4255550100"}, {"phoneType", "mobile"}});
  ASSERT_EQ(phone.status, 201) << phone.body;
  const std::string phone_id(phone.Json().at("id").as_string());
  HttpReply by_id = owner.Get(Auth("pw@example.com", "methods/" + phone_id));
  ASSERT_EQ(by_id.status, 200) << by_id.body;
  EXPECT_EQ(by_id.Json(), phone.Json());
  EXPECT_EQ(owner.Get(Auth("pw@example.com", "methods/" + kPasswordId)).Json(), method);
  EXPECT_EQ(owner.Get(Auth("pw@example.com", "methods/no-such-method")).status, 404);
  // The path names the kind: a phone's id is not a password method.
  EXPECT_EQ(owner.Get(Auth("pw@example.com", "passwordMethods/" + phone_id)).status, 404);

  // A user without a password lists none, and its id is not found.
  ASSERT_EQ(owner.Put("/v1.0/users/nopw@example.com", json::object{{"displayName", "N"}}).status,
            201);
  EXPECT_EQ(owner.Get(Auth("nopw@example.com", "passwordMethods")).Json().at("value"),
            json::array());
  EXPECT_EQ(owner.Get(Auth("nopw@example.com", "passwordMethods/" + kPasswordId)).status, 404);
}

TEST_F(AdminGraphTest, ResetPasswordPointsAtGraphsOperation) {
  HttpClient owner = Owner();
  ASSERT_EQ(owner.Post("/v1.0/users", NewUser("reset@example.com")).status, 201);
  ASSERT_EQ(owner.Post("/v1.0/users", NewUser("other@example.com")).status, 201);
  HttpReply reset = owner.Post(
      Auth("reset@example.com", "methods/" + kPasswordId + "/resetPassword"), json::object{});
  ASSERT_EQ(reset.status, 202) << reset.body;
  const std::string location = reset.Header("location");
  const std::string prefix = "/v1.0/users/reset@example.com/authentication/operations/";
  const size_t at = location.find(prefix);
  ASSERT_NE(at, std::string::npos) << location;
  const std::string op = location.substr(at + prefix.size());
  HttpReply status = owner.Get(location.substr(at));
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(status.Json().at("@odata.type"), "#microsoft.graph.longRunningOperation");
  EXPECT_EQ(status.Json().at("id").as_string(), op);
  EXPECT_EQ(status.Json().at("status"), "succeeded");
  EXPECT_TRUE(status.Json().at("statusDetail").is_null());
  EXPECT_NE(std::string(status.Json().at("resourceLocation").as_string()).find(kPasswordId),
            std::string::npos);
  // Where earlier answers pointed still answers.
  EXPECT_EQ(owner
                .Get(Auth("reset@example.com",
                          "methods/" + kPasswordId + "/resetPasswordOperations/" + op))
                .status,
            200);
  // Another user's operation, or one that never was, is not found.
  EXPECT_EQ(owner.Get(Auth("other@example.com", "operations/" + op)).status, 404);
  EXPECT_EQ(owner.Get(Auth("reset@example.com", "operations/op_none")).status, 404);
}

TEST_F(AdminGraphTest, DevicesTakeDisplayNameAndBetasDeltaList) {
  HttpClient owner = Owner();
  json::object named = Device("NAMED1");
  named["displayName"] = "Front desk spare";
  ASSERT_EQ(owner.Post(kDevices, named).status, 201);
  EXPECT_EQ(owner.Get(kDevices + "/NAMED1").Json().at("displayName"), "Front desk spare");
  json::object control = Device("NAMED2");
  control["displayName"] = "bell\a";
  EXPECT_EQ(owner.Post(kDevices, control).status, 400);
  EXPECT_EQ(owner.Get(kDevices + "/NAMED2").status, 404);

  // Graph's beta creates many at once with PATCH and a #$delta list.
  const std::string beta = "/beta/directory/authenticationMethodDevices/hardwareOathDevices";
  json::object one = Device("DELTA1");
  one["@contentId"] = "1";
  json::object two = Device("DELTA2");
  two["@contentId"] = "2";
  HttpReply made =
      owner.Patch(beta, json::object{{"@context", "#$delta"}, {"value", json::array{one, two}}});
  ASSERT_EQ(made.status, 200) << made.body;
  ASSERT_EQ(made.Json().at("value").as_array().size(), 2u);
  EXPECT_EQ(made.Json().at("value").at(1).at("serialNumber"), "DELTA2");
  EXPECT_EQ(made.body.find(Base32Of(SeedFor("DELTA1"))), std::string::npos);
  EXPECT_EQ(owner.Get(kDevices + "/DELTA1").status, 200);

  // All or nothing: a list with an entry that exists creates none of the others.
  HttpReply clash = owner.Patch(
      kDevices,
      json::object{{"@context", "#$delta"}, {"value", json::array{Device("DELTA3"), one}}});
  EXPECT_EQ(clash.status, 409) << clash.body;
  EXPECT_NE(clash.body.find("value[1]"), std::string::npos) << clash.body;
  EXPECT_EQ(owner.Get(kDevices + "/DELTA3").status, 404);
  json::object bad = Device("DELTA4");
  bad["secretKey"] = "not base32!";
  HttpReply malformed = owner.Patch(
      kDevices,
      json::object{{"@context", "#$delta"}, {"value", json::array{Device("DELTA5"), bad}}});
  EXPECT_EQ(malformed.status, 400);
  EXPECT_NE(malformed.body.find("value[1].secretKey"), std::string::npos) << malformed.body;
  EXPECT_EQ(owner.Get(kDevices + "/DELTA5").status, 404);
  EXPECT_EQ(owner
                .Patch(kDevices, json::object{{"@context", "#$entity"},
                                              {"value", json::array{Device("DELTA6")}}})
                .status,
            400);
  EXPECT_EQ(owner.Get(kDevices + "/DELTA6").status, 404);
}

TEST_F(AdminGraphTest, OnlyUnusedDevicesTakeNewParameters) {
  HttpClient owner = Owner();
  ASSERT_EQ(owner.Post(kDevices, Device("PARAM1")).status, 201);
  EXPECT_EQ(owner
                .Patch(kDevices + "/PARAM1",
                       json::object{{"hashFunction", "hmacsha256"}, {"timeIntervalInSeconds", 60}})
                .status,
            204);
  HttpReply changed = owner.Get(kDevices + "/PARAM1");
  EXPECT_EQ(changed.Json().at("hashFunction"), "hmacsha256");
  EXPECT_EQ(changed.Json().at("timeIntervalInSeconds"), 60);
  EXPECT_EQ(owner.Patch(kDevices + "/PARAM1", json::object{{"hashFunction", "md5"}}).status, 400);

  // Once it has accepted a code, a token keeps its parameters even back in the inventory: its
  // watermark counts steps of them, and the codes it accepted would come back.
  const TestToken t{"PARAM2", "param@example.com", SeedFor("PARAM2"), {.type = OtpType::kHotp}};
  json::object hotp = Device("PARAM2");
  hotp.erase("timeIntervalInSeconds");
  hotp["type"] = "hotp";
  ASSERT_EQ(owner.Post(kDevices, hotp).status, 201);
  EXPECT_EQ(owner.Patch(kDevices + "/PARAM2", json::object{{"timeIntervalInSeconds", 60}}).status,
            400)
      << "an HOTP token has no time step";
  ASSERT_EQ(owner.Put("/v1.0/users/" + t.upn, json::object{{"displayName", "P"}}).status, 201);
  HttpReply assigned = owner.Post(Auth(t.upn, "hardwareOathMethods"),
                                  json::object{{"device", json::object{{"id", "PARAM2"}}}});
  ASSERT_EQ(assigned.status, 201) << assigned.body;
  const std::string method(assigned.Json().at("id").as_string());
  // Assigned: no change at all.
  EXPECT_EQ(owner.Patch(kDevices + "/PARAM2", json::object{{"hashFunction", "hmacsha256"}}).status,
            409);
  ASSERT_EQ(owner
                .Post(Auth(t.upn, "hardwareOathMethods/" + method + "/activate"),
                      json::object{{"verificationCode", t.Code(0)}})
                .status,
            204);
  ASSERT_EQ(owner.Delete(Auth(t.upn, "hardwareOathMethods/" + method)).status, 204);
  HttpReply used = owner.Patch(kDevices + "/PARAM2", json::object{{"hashFunction", "hmacsha256"}});
  EXPECT_EQ(used.status, 409) << used.body;
  EXPECT_NE(used.body.find("activated before"), std::string::npos) << used.body;
  EXPECT_EQ(owner.Get(kDevices + "/PARAM2").Json().at("hashFunction"), "hmacsha1");
  // Its descriptive fields still change.
  EXPECT_EQ(owner.Patch(kDevices + "/PARAM2", json::object{{"model", "Returned"}}).status, 204);
}

TEST_F(AdminGraphTest, EveryAnswerCarriesTheRequestIds) {
  const std::vector<std::pair<std::string, std::string>> sent = {
      {"client-request-id", "5f0b1e2a-7c3d-4e8f-9a1b-2c3d4e5f6a7b"}};
  // An API error: header and body both name it.
  HttpReply missing = Owner().Request("GET", "/v1.0/users/ghost@example.com", "", "", sent);
  ASSERT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Header("client-request-id"), sent[0].second);
  const json::value inner = missing.Json().at("error").at("innerError");
  EXPECT_EQ(inner.at("client-request-id").as_string(), sent[0].second);
  EXPECT_EQ(inner.at("request-id").as_string(), missing.Header("request-id"));
  EXPECT_FALSE(inner.at("date").as_string().empty());

  // A refused key: the same, before any route is chosen.
  HttpReply refused = Remote("otpd_not-a-real-key").Request("GET", "/v1.0/users", "", "", sent);
  ASSERT_EQ(refused.status, 401);
  EXPECT_EQ(refused.Header("client-request-id"), sent[0].second);
  EXPECT_FALSE(refused.Header("request-id").empty());
  EXPECT_EQ(refused.Json().at("error").at("innerError").at("client-request-id").as_string(),
            sent[0].second);

  // A caller that sends none, or one that is not an id, gets otpd's request id in its place.
  HttpReply none = Owner().Get("/v1.0/users/ghost@example.com");
  EXPECT_EQ(none.Header("client-request-id"), none.Header("request-id"));
  const std::string hostile = "<script>" + std::string(80, 'x');
  HttpReply odd = Remote("otpd_not-a-real-key")
                      .Request("GET", "/v1.0/users", "", "", {{"client-request-id", hostile}});
  EXPECT_EQ(odd.Header("client-request-id"), odd.Header("request-id"));
  EXPECT_EQ(odd.body.find("<script>"), std::string::npos) << odd.body;
}

}  // namespace
}  // namespace otpd::e2e
