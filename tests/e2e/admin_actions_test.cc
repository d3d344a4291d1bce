// The administrator's actions through the admin API, end to end: the real otpd on loopback with
// its admin socket (the owner) and a TLS listener (API keys), and an exec hook that fails until
// the test lets it succeed. Each action's effect is checked over the verify socket and in the
// audit log; role boundaries and hostile bodies are refused with nothing changed.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/e2e/admin_actions_env.h"

namespace otpd::e2e {
namespace {

using namespace actions_env;  // NOLINT: the suite's paths and helpers

class AdminActionsTest : public AdminActionsEnv {};

TEST_F(AdminActionsTest, ResetPasswordIsAnOperationAndTakesEffectOnTheSocket) {
  const std::string upn = "reset@example.com";
  MakeUser(upn);
  HttpClient owner = Owner();
  HttpReply r = owner.Post(ResetPath(upn), json::object{});
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string generated = std::string(r.Json().at("newPassword").as_string());
  EXPECT_GE(generated.size(), 12u);
  EXPECT_EQ(r.Header("Cache-Control"), "no-store");
  const std::string location = r.Header("Location");
  const std::string prefix = Auth(upn) + "operations/";
  ASSERT_TRUE(PathOf(location).starts_with(prefix)) << location;
  EXPECT_EQ(Password(upn, generated), "OK\tp\tmust_change=1");

  // The operation, where Location says.
  HttpReply op = owner.Get(PathOf(location));
  ASSERT_EQ(op.status, 200) << op.body;
  const json::value op_json = op.Json();
  const json::object& o = op_json.as_object();
  EXPECT_EQ(o.at("id").as_string(), PathOf(location).substr(prefix.size()));
  EXPECT_EQ(o.at("status").as_string(), "succeeded");
  EXPECT_TRUE(o.at("statusDetail").is_null());
  EXPECT_FALSE(o.at("createdDateTime").as_string().empty());
  EXPECT_FALSE(o.at("lastActionDateTime").as_string().empty());
  EXPECT_TRUE(PathOf(std::string(o.at("resourceLocation").as_string()))
                  .ends_with("methods/" + kPasswordId));
  EXPECT_EQ(owner.Get(prefix + "op_0000000000000000").status, 404);
  // Another user's operation is not this user's.
  MakeUser("other-reset@example.com");
  EXPECT_EQ(owner
                .Get(Auth("other-reset@example.com") + "operations/" +
                     std::string(o.at("id").as_string()))
                .status,
            404);

  // A given password: no body; the old one no longer works. Graph's other path works too.
  const std::string chosen = "a chosen password 42";
  r = owner.Post(Auth(upn) + "passwordMethods/" + kPasswordId + "/resetPassword",
                 json::object{{"newPassword", chosen}});
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_TRUE(r.body.empty()) << r.body;
  EXPECT_FALSE(r.Header("Location").empty());
  EXPECT_EQ(Password(upn, chosen), "OK\tp\tmust_change=1");
  EXPECT_EQ(Password(upn, generated), "FAIL\tp\treason=bad_password");

  // Audited with the actor, and the password is in neither the audit log nor the daemon's log.
  std::vector<json::object> audit = Audit(upn, "password.reset");
  ASSERT_EQ(audit.size(), 2u);
  for (const auto& a : audit) {
    EXPECT_FALSE(a.at("actor").as_string().empty());
    EXPECT_EQ(a.at("result").as_string(), "ok");
    EXPECT_EQ(json::serialize(a).find(chosen), std::string::npos);
    EXPECT_EQ(json::serialize(a).find(generated), std::string::npos);
  }
  EXPECT_EQ(daemon_->log().find(generated), std::string::npos);
  EXPECT_EQ(daemon_->log().find(chosen), std::string::npos);

  // Refused with nothing changed: a password against the policy, unknown fields, wrong types, a
  // wrong method id, an unknown user.
  EXPECT_EQ(owner.Post(ResetPath(upn), json::object{{"newPassword", "short"}}).status, 400);
  EXPECT_EQ(owner.Post(ResetPath(upn), json::object{{"password", chosen}}).status, 400);
  EXPECT_EQ(owner.Post(ResetPath(upn), json::object{{"newPassword", 12}}).status, 400);
  EXPECT_EQ(owner.Request("POST", ResetPath(upn), "[]", "application/json").status, 400);
  EXPECT_EQ(owner.Post(Auth(upn) + "methods/not-the-password/resetPassword", json::object{}).status,
            404);
  EXPECT_EQ(owner.Post(ResetPath("nobody@example.com"), json::object{}).status, 404);
  EXPECT_EQ(Password(upn, chosen), "OK\tp\tmust_change=1");
  size_t succeeded = 0;
  for (const auto& a : Audit(upn, "password.reset"))
    succeeded += a.at("result").as_string() == "ok";
  EXPECT_EQ(succeeded, audit.size());

  // The user's method list shows the password method.
  HttpReply methods = owner.Get(Auth(upn) + "methods");
  ASSERT_EQ(methods.status, 200) << methods.body;
  bool listed = false;
  const json::value methods_json = methods.Json();
  for (const auto& m : methods_json.at("value").as_array()) {
    listed |= m.at("id").as_string() == kPasswordId;
  }
  EXPECT_TRUE(listed) << methods.body;
  EXPECT_EQ(methods.body.find(chosen), std::string::npos);
}

TEST_F(AdminActionsTest, RequireReregistrationListsWhatItDidAndTheSocketAgrees) {
  const std::string upn = "rereg@example.com";
  HttpClient owner = Owner();
  HttpReply phone =
      owner.Post(Auth(upn) + "phoneMethods",
                 json::object{{"phoneNumber", "+1 4255550100"}, {"phoneType", "mobile"}});
  ASSERT_EQ(phone.status, 201) << phone.body;
  const std::string phone_id = std::string(phone.Json().at("id").as_string());
  ASSERT_TRUE(Socket().Call(VerifyLine("v", upn, Token("RR1").Code(1))).starts_with("OK"));

  // Hostile bodies first: nothing changes.
  EXPECT_EQ(owner.Post(Auth(upn) + "requireReregistration", json::object{{"force", true}}).status,
            400);
  EXPECT_EQ(
      owner.Request("POST", Auth(upn) + "requireReregistration", "{", "application/json").status,
      400);
  EXPECT_EQ(owner.Get("/v1.0/directory/authenticationMethodDevices/hardwareOathDevices/RR1")
                .Json()
                .at("status")
                .as_string(),
            "activated");

  HttpReply r = owner.Request("POST", Auth(upn) + "requireReregistration");
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value answer = r.Json();
  const json::object& o = answer.as_object();
  ASSERT_EQ(o.at("deactivatedDevices").as_array().size(), 1u) << r.body;
  EXPECT_EQ(o.at("deactivatedDevices").as_array()[0].at("id").as_string(), "RR1");
  EXPECT_EQ(o.at("deactivatedDevices").as_array()[0].at("serialNumber").as_string(), "RR1");
  ASSERT_EQ(o.at("deletedMethods").as_array().size(), 1u) << r.body;
  const json::object& deleted = o.at("deletedMethods").as_array()[0].as_object();
  EXPECT_EQ(deleted.at("id").as_string(), phone_id);
  EXPECT_EQ(deleted.at("@odata.type").as_string(), "#microsoft.graph.phoneAuthenticationMethod");

  EXPECT_EQ(Socket().Call(VerifyLine("v", upn, Token("RR1").Code(2))),
            "FAIL\tv\treason=registration_required");
  EXPECT_EQ(owner.Get("/v1.0/directory/authenticationMethodDevices/hardwareOathDevices/RR1")
                .Json()
                .at("status")
                .as_string(),
            "assigned");
  EXPECT_EQ(owner.Get(Auth(upn) + "phoneMethods/" + phone_id).status, 404);
  EXPECT_TRUE(owner.Get("/v1.0/users/" + upn).Json().at("mfaRegistrationRequired").as_bool());
  // Done once: a second call finds nothing more to do.
  r = owner.Post(Auth(upn) + "requireReregistration", json::object{});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.Json().at("deactivatedDevices").as_array().empty());
  EXPECT_TRUE(r.Json().at("deletedMethods").as_array().empty());
  EXPECT_EQ(Audit(upn, "user.require_reregistration").size(), 2u);
  EXPECT_EQ(owner.Post(Auth("nobody@example.com") + "requireReregistration", json::object{}).status,
            404);
}

TEST_F(AdminActionsTest, RevokeMfaSessionsEndsARememberedSession) {
  const std::string upn = "sessions@example.com";
  LineClient c = Socket();
  ASSERT_TRUE(c.Call(VerifyLine("v", upn, Token("SE1").Code(1))).starts_with("OK"));
  const std::string session = Field(c.Call("REMEMBER\tr\tuser=" + upn), "session");
  ASSERT_FALSE(session.empty());
  EXPECT_EQ(Socket().Call("SESSION\ts\tuser=" + upn + "\tsession=" + session), "OK\ts");

  HttpClient owner = Owner();
  EXPECT_EQ(owner.Post(Auth(upn) + "revokeMfaSessions", json::object{{"all", true}}).status, 400);
  EXPECT_EQ(Socket().Call("SESSION\ts\tuser=" + upn + "\tsession=" + session), "OK\ts");
  HttpReply r = owner.Request("POST", Auth(upn) + "revokeMfaSessions");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::serialize(r.Json()), R"({"value":true})");
  EXPECT_EQ(Socket().Call("SESSION\ts\tuser=" + upn + "\tsession=" + session),
            "FAIL\ts\treason=revoked");
  EXPECT_EQ(Audit(upn, "user.revoke_mfa_sessions").size(), 1u);
  EXPECT_EQ(daemon_->log().find(session), std::string::npos);
}

TEST_F(AdminActionsTest, AppPasswordsAreShownOnceWorkAndStopWorkingWhenDeleted) {
  const std::string upn = "apps@example.com";
  MakeUser(upn);
  HttpClient owner = Owner();
  HttpReply r = owner.Post(Auth(upn) + "appPasswords", json::object{{"displayName", "mail"}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Header("Cache-Control"), "no-store");
  const json::object created = r.Json().as_object();
  const std::string id = std::string(created.at("id").as_string());
  const std::string password = std::string(created.at("password").as_string());
  EXPECT_EQ(created.at("displayName").as_string(), "mail");
  EXPECT_FALSE(created.at("createdDateTime").is_null());
  const std::string ok = Socket().Call("APP_PASSWORD\ta\tuser=" + upn + "\tpassword=" + password);
  EXPECT_TRUE(ok.starts_with("OK\ta")) << ok;

  HttpReply list = owner.Get(Auth(upn) + "appPasswords");
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(list.Json().at("value").as_array().size(), 1u);
  const json::value list_json = list.Json();
  const json::object& item = list_json.at("value").as_array()[0].as_object();
  EXPECT_EQ(item.at("id").as_string(), id);
  EXPECT_FALSE(item.contains("password"));
  EXPECT_EQ(list.body.find(password), std::string::npos);
  // Not among the authentication methods.
  EXPECT_EQ(owner.Get(Auth(upn) + "methods").body.find(id), std::string::npos);

  // Hostile bodies: nothing is made.
  EXPECT_EQ(
      owner.Post(Auth(upn) + "appPasswords", json::object{{"displayName", "x"}, {"y", 1}}).status,
      400);
  EXPECT_EQ(owner.Post(Auth(upn) + "appPasswords", json::object{{"displayName", 5}}).status, 400);
  EXPECT_EQ(owner.Post(Auth(upn) + "appPasswords", json::object{}).status, 400);
  EXPECT_EQ(
      owner.Post(Auth(upn) + "appPasswords", json::object{{"displayName", std::string(129, 'n')}})
          .status,
      400);
  EXPECT_EQ(AppPasswordCount(upn), 1u);

  EXPECT_EQ(owner.Delete(Auth(upn) + "appPasswords/no-such-id").status, 404);
  EXPECT_EQ(owner.Delete(Auth(upn) + "appPasswords/" + id).status, 204);
  EXPECT_EQ(Socket().Call("APP_PASSWORD\ta\tuser=" + upn + "\tpassword=" + password),
            "FAIL\ta\treason=bad_password");
  EXPECT_EQ(owner.Delete(Auth(upn) + "appPasswords/" + id).status, 404);

  // All of them at once.
  for (const char* name : {"one", "two"}) {
    ASSERT_EQ(owner.Post(Auth(upn) + "appPasswords", json::object{{"displayName", name}}).status,
              201);
  }
  r = owner.Delete(Auth(upn) + "appPasswords");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::serialize(r.Json()), R"({"deleted":2})");
  EXPECT_EQ(AppPasswordCount(upn), 0u);
  EXPECT_EQ(Audit(upn, "app_password.create").size(), 3u);
  EXPECT_EQ(daemon_->log().find(password), std::string::npos);

  // At most 40.
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(owner
                  .Post(Auth(upn) + "appPasswords",
                        json::object{{"displayName", "p" + std::to_string(i)}})
                  .status,
              201);
  }
  r = owner.Post(Auth(upn) + "appPasswords", json::object{{"displayName", "one too many"}});
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.ErrorCode(), "quotaLimitReached");
  EXPECT_EQ(AppPasswordCount(upn), 40u);
}

TEST_F(AdminActionsTest, BulkAppPasswordDeletionAnswersPerUser) {
  HttpClient owner = Owner();
  for (const std::string upn : {"bulk1@example.com", "bulk2@example.com"}) {
    MakeUser(upn);
  }
  for (const std::string upn : {"bulk1@example.com", "bulk1@example.com", "bulk2@example.com"}) {
    ASSERT_EQ(owner.Post(Auth(upn) + "appPasswords", json::object{{"displayName", "p"}}).status,
              201);
  }
  // Hostile bodies: too many users, wrong types, unknown fields. Nothing is deleted.
  json::array many;
  for (int i = 0; i < 1001; ++i) many.emplace_back("bulk1@example.com");
  EXPECT_EQ(owner.Post("/v1.0/admin/appPasswords/delete", json::object{{"users", many}}).status,
            400);
  EXPECT_EQ(
      owner.Post("/v1.0/admin/appPasswords/delete", json::object{{"users", "bulk1@example.com"}})
          .status,
      400);
  EXPECT_EQ(
      owner.Post("/v1.0/admin/appPasswords/delete", json::object{{"users", json::array{1, 2}}})
          .status,
      400);
  EXPECT_EQ(owner
                .Post("/v1.0/admin/appPasswords/delete",
                      json::object{{"users", json::array{"bulk1@example.com"}}, {"all", true}})
                .status,
            400);
  EXPECT_EQ(owner.Post("/v1.0/admin/appPasswords/delete", json::object{}).status, 400);
  EXPECT_EQ(AppPasswordCount("bulk1@example.com"), 2u);

  HttpReply r = owner.Post(
      "/v1.0/admin/appPasswords/delete",
      json::object{
          {"users", json::array{"bulk1@example.com", "ghost@example.com", "bulk2@example.com"}}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value answer = r.Json();
  const json::array& value = answer.at("value").as_array();
  ASSERT_EQ(value.size(), 3u) << r.body;
  EXPECT_EQ(value[0].at("userPrincipalName").as_string(), "bulk1@example.com");
  EXPECT_EQ(value[0].at("deleted").to_number<int>(), 2);
  EXPECT_TRUE(value[0].at("error").is_null());
  EXPECT_EQ(value[1].at("userPrincipalName").as_string(), "ghost@example.com");
  EXPECT_EQ(value[1].at("deleted").to_number<int>(), 0);
  EXPECT_EQ(value[1].at("error").at("code").as_string(), "itemNotFound");
  EXPECT_EQ(value[2].at("deleted").to_number<int>(), 1);
  EXPECT_TRUE(value[2].at("error").is_null());
  EXPECT_EQ(AppPasswordCount("bulk1@example.com"), 0u);
  EXPECT_EQ(AppPasswordCount("bulk2@example.com"), 0u);
}

TEST_F(AdminActionsTest, TemporaryAccessPassUsableOnce) {
  const std::string upn = "tap@example.com";
  MakeUser(upn);
  HttpClient owner = Owner();
  const std::string taps = Auth(upn) + "temporaryAccessPassMethods";
  HttpReply empty = owner.Get(taps);
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_TRUE(empty.Json().at("value").as_array().empty());
  EXPECT_EQ(owner.Get(Auth("nobody@example.com") + "temporaryAccessPassMethods").status, 404);

  // Hostile bodies.
  EXPECT_EQ(owner.Post(taps, json::object{{"lifetimeInMinutes", 5}}).status, 400);
  EXPECT_EQ(owner.Post(taps, json::object{{"lifetimeInMinutes", 43201}}).status, 400);
  EXPECT_EQ(owner.Post(taps, json::object{{"isUsableOnce", "yes"}}).status, 400);
  EXPECT_EQ(owner.Post(taps, json::object{{"startDateTime", "yesterday"}}).status, 400);
  EXPECT_EQ(owner.Post(taps, json::object{{"temporaryAccessPass", "mine"}}).status, 400);
  EXPECT_TRUE(owner.Get(taps).Json().at("value").as_array().empty());

  HttpReply r = owner.Post(taps, json::object{{"isUsableOnce", true}, {"lifetimeInMinutes", 60}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Header("Cache-Control"), "no-store");
  const json::object created = r.Json().as_object();
  const std::string pass = std::string(created.at("temporaryAccessPass").as_string());
  const std::string id = std::string(created.at("id").as_string());
  EXPECT_EQ(created.at("lifetimeInMinutes").to_number<int>(), 60);
  EXPECT_TRUE(created.at("isUsableOnce").as_bool());
  EXPECT_TRUE(created.at("isUsable").as_bool());
  EXPECT_EQ(created.at("methodUsabilityReason").as_string(), "enabledByPolicy");
  EXPECT_FALSE(created.at("startDateTime").is_null());
  EXPECT_EQ(PathOf(r.Header("Location")), taps + "/" + id);

  HttpReply list = owner.Get(taps);
  ASSERT_EQ(list.Json().at("value").as_array().size(), 1u);
  EXPECT_FALSE(list.Json().at("value").as_array()[0].as_object().contains("temporaryAccessPass"));
  EXPECT_EQ(list.body.find(pass), std::string::npos);
  HttpReply methods = owner.Get(Auth(upn) + "methods");
  EXPECT_NE(methods.body.find(id), std::string::npos) << methods.body;
  EXPECT_EQ(methods.body.find(pass), std::string::npos);

  EXPECT_TRUE(Socket().Call("TAP\tt\tuser=" + upn + "\tpass=" + pass).starts_with("OK\tt"));
  EXPECT_TRUE(Socket().Call("TAP\tt\tuser=" + upn + "\tpass=" + pass).starts_with("FAIL\tt"));
  HttpReply used = owner.Get(taps + "/" + id);
  ASSERT_EQ(used.status, 200) << used.body;
  EXPECT_FALSE(used.Json().at("isUsable").as_bool());
  EXPECT_EQ(used.Json().at("methodUsabilityReason").as_string(), "oneTimeUsed");

  EXPECT_EQ(owner.Get(taps + "/not-" + id).status, 404);
  EXPECT_EQ(owner.Delete(taps + "/not-" + id).status, 404);
  EXPECT_EQ(owner.Delete(taps + "/" + id).status, 204);
  EXPECT_EQ(owner.Get(taps + "/" + id).status, 404);
  EXPECT_TRUE(owner.Get(taps).Json().at("value").as_array().empty());
  EXPECT_EQ(Audit(upn, "tap.create").size(), 1u);
  EXPECT_EQ(daemon_->log().find(pass), std::string::npos);
}

// An authentication administrator cannot act on a user holding an administrative role; a reader
// acts on nobody. Each refusal is a 403 with nothing changed.
TEST_F(AdminActionsTest, RoleBoundariesRefuseWithNothingChanged) {
  const std::string boss = "boss@example.com";
  const std::string staff = "staff@example.com";
  MakeUser(staff);
  HttpClient owner = Owner();
  ASSERT_EQ(owner
                .Patch("/v1.0/users/" + boss,
                       json::object{{"roles", json::array{"authentication_administrator"}}})
                .status,
            204);
  SetPassword(boss, "correct battery staple 1");
  SetPassword(staff, "horse battery staple 22");
  ASSERT_EQ(owner.Post(Auth(boss) + "appPasswords", json::object{{"displayName", "b"}}).status,
            201);
  ASSERT_EQ(owner.Post(Auth(staff) + "appPasswords", json::object{{"displayName", "s"}}).status,
            201);

  struct Call {
    std::string method, path, body;
  };
  auto actions = [](const std::string& upn) {
    return std::vector<Call>{
        {"POST", ResetPath(upn), "{}"},
        {"POST", ResetPath(upn), R"({"newPassword":"an attacker's password 9"})"},
        {"POST", Auth(upn) + "requireReregistration", "{}"},
        {"POST", Auth(upn) + "revokeMfaSessions", ""},
        {"POST", Auth(upn) + "appPasswords", R"({"displayName":"x"})"},
        {"DELETE", Auth(upn) + "appPasswords", ""},
        {"POST", Auth(upn) + "temporaryAccessPassMethods", "{}"},
        {"POST", "/v1.0/admin/appPasswords/delete", R"({"users":[")" + upn + R"("]})"},
    };
  };
  const std::string auth_admin = MakeKey("act-authadmin", {"authentication_administrator"});
  const std::string reader = MakeKey("act-reader", {"reader"});
  HttpClient admin = Remote(auth_admin);
  HttpClient read = Remote(reader);
  for (const Call& call : actions(boss)) {
    HttpReply r = admin.Request(call.method, call.path, call.body, "application/json");
    if (call.path == "/v1.0/admin/appPasswords/delete") {
      // The bulk route answers per user: this one refused.
      ASSERT_EQ(r.status, 200) << r.body;
      EXPECT_EQ(r.Json().at("value").as_array()[0].at("error").at("code").as_string(),
                "accessDenied");
    } else {
      EXPECT_EQ(r.status, 403) << call.method << " " << call.path << ": " << r.body;
      EXPECT_EQ(r.ErrorCode(), "accessDenied");
    }
  }
  for (const std::string& upn : {boss, staff}) {
    for (const Call& call : actions(upn)) {
      HttpReply r = read.Request(call.method, call.path, call.body, "application/json");
      EXPECT_EQ(r.status, 403) << call.method << " " << call.path << ": " << r.body;
    }
  }
  EXPECT_EQ(read.Post("/v1.0/admin/hooks/flaky/redeliver", json::object{}).status, 403);
  EXPECT_EQ(read.Post("/v1.0/admin/hooks/flaky/enable", json::object{}).status, 403);
  // Nothing changed.
  EXPECT_EQ(Password(boss, "correct battery staple 1"), "OK\tp\tmust_change=1");
  EXPECT_EQ(Password(staff, "horse battery staple 22"), "OK\tp\tmust_change=1");
  EXPECT_EQ(AppPasswordCount(boss), 1u);
  EXPECT_EQ(AppPasswordCount(staff), 1u);
  EXPECT_TRUE(
      Owner().Get(Auth(boss) + "temporaryAccessPassMethods").Json().at("value").as_array().empty());
  EXPECT_TRUE(Socket().Call(VerifyLine("v", boss, Token("BO1").Code(1))).starts_with("OK"));
  // Readers may read.
  EXPECT_EQ(read.Get(Auth(boss) + "appPasswords").status, 200);
  EXPECT_EQ(read.Get("/v1.0/admin/hooks").status, 200);

  // The authentication administrator may act on a user without a role, and is the audited actor.
  HttpReply r = admin.Post(ResetPath(staff), json::object{});
  ASSERT_EQ(r.status, 202) << r.body;
  // The audit log has the reset with its actor, and the refused attempts as refusals.
  size_t done = 0, refused = 0;
  for (const auto& a : Audit(staff, "password.reset")) {
    if (a.at("result").as_string() == "ok") {
      done += a.at("actor").as_string() == "apikey:act-authadmin";
    } else {
      refused += a.at("actor").as_string() == "apikey:act-reader";
    }
  }
  EXPECT_EQ(done, 1u);
  EXPECT_EQ(refused, 2u);
  r = admin.Post("/v1.0/admin/appPasswords/delete", json::object{{"users", json::array{staff}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("value").as_array()[0].at("deleted").to_number<int>(), 1);
}

TEST_F(AdminActionsTest, HooksShowDeadLettersAndRedeliverThem) {
  HttpClient owner = Owner();
  // Something to deliver: the hook refuses it until the flag exists.
  MakeUser("hooked@example.com");  // creating a user is no event; an app password is
  ASSERT_EQ(owner
                .Post(Auth("hooked@example.com") + "appPasswords",
                      json::object{{"displayName", "hooked"}})
                .status,
            201);
  json::object flaky;
  ASSERT_TRUE(Eventually([&] {
    HttpReply r = owner.Get("/v1.0/admin/hooks");
    if (r.status != 200) return false;
    const json::value answer = r.Json();
    for (const auto& h : answer.at("value").as_array()) {
      if (h.at("name").as_string() == "flaky") flaky = h.as_object();
    }
    return !flaky.empty() && flaky.at("deadLetters").to_number<int>() > 0;
  })) << daemon_->log();
  EXPECT_EQ(flaky.at("kind").as_string(), "exec");
  EXPECT_EQ(flaky.at("state").as_string(), "enabled");
  EXPECT_TRUE(flaky.contains("cursor"));
  EXPECT_TRUE(flaky.contains("lag"));

  // /metrics tells the same story, for alerts.
  auto metric = [&](const std::string& series) -> double {
    const std::string metrics = owner.Get("/metrics").body;
    const std::string prefix = series + "{hook=\"flaky\"} ";
    const size_t at = metrics.find(prefix);
    return at == std::string::npos ? -1 : std::stod(metrics.substr(at + prefix.size()));
  };
  EXPECT_GT(metric("otpd_hook_dead_letters"), 0);
  EXPECT_GT(metric("otpd_hook_failed_attempts_total"), 0);
  EXPECT_EQ(metric("otpd_hook_disabled"), 0);

  HttpReply dead = owner.Get("/v1.0/admin/hooks/flaky/deadLetters");
  ASSERT_EQ(dead.status, 200) << dead.body;
  const json::value dead_json = dead.Json();
  const json::array& letters = dead_json.at("value").as_array();
  ASSERT_FALSE(letters.empty());
  for (const auto& d : letters) {
    EXPECT_FALSE(d.at("eventId").as_string().empty());
    EXPECT_GT(d.at("sequence").to_number<uint64_t>(), 0u);
    EXPECT_FALSE(d.at("type").as_string().empty());
    EXPECT_EQ(d.at("attempts").to_number<int>(), 2);
    EXPECT_FALSE(d.at("lastError").as_string().empty());
  }
  EXPECT_EQ(owner.Get("/v1.0/admin/hooks/nope/deadLetters").status, 404);
  EXPECT_EQ(owner.Post("/v1.0/admin/hooks/nope/redeliver", json::object{}).status, 404);
  EXPECT_EQ(owner.Post("/v1.0/admin/hooks/nope/enable", json::object{}).status, 404);
  EXPECT_EQ(owner.Post("/v1.0/admin/hooks/flaky/redeliver", json::object{{"x", 1}}).status, 400);

  // The receiver recovers; the dead letters go back to the queue and are delivered.
  otpd::testing::WriteFile(Flag(), "");
  HttpReply r = owner.Post("/v1.0/admin/hooks/flaky/redeliver", json::object{});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_GE(r.Json().at("redelivered").to_number<size_t>(), letters.size());
  // An attempt that began before the flag existed may still fail and bury its event after the
  // redelivery above took the dead letters: such a letter is put back by asking again.
  ASSERT_TRUE(Eventually([&] {
    HttpReply d = owner.Get("/v1.0/admin/hooks/flaky/deadLetters");
    if (d.status != 200) return false;
    if (d.Json().at("value").as_array().empty()) return true;
    owner.Post("/v1.0/admin/hooks/flaky/redeliver", json::object{});
    return false;
  })) << daemon_->log();
  EXPECT_EQ(owner.Request("POST", "/v1.0/admin/hooks/flaky/enable").status, 204);
  EXPECT_EQ(metric("otpd_hook_dead_letters"), 0);
  EXPECT_GE(metric("otpd_hook_delivered_total"), static_cast<double>(letters.size()));
  std::remove(Flag().c_str());
}

// A receiver that answers 410 disables its hook; enabling it after the receiver recovers delivers
// what waited, nothing lost.
TEST_F(AdminActionsTest, EnableResumesAHookItsReceiverDisabled) {
  HttpClient owner = Owner();
  MakeUser("gone@example.com");
  ASSERT_EQ(
      owner.Post(Auth("gone@example.com") + "appPasswords", json::object{{"displayName", "a"}})
          .status,
      201);
  auto gone = [&]() -> json::object {
    HttpReply r = owner.Get("/v1.0/admin/hooks");
    if (r.status != 200) return {};
    const json::value answer = r.Json();
    for (const auto& h : answer.at("value").as_array()) {
      if (h.at("name").as_string() == "gone") return h.as_object();
    }
    return {};
  };
  ASSERT_TRUE(Eventually([&] {
    json::object h = gone();
    return !h.empty() && h.at("state").as_string() == "disabled";
  })) << daemon_->log();
  EXPECT_EQ(gone().at("kind").as_string(), "webhook");
  // Events wait while it is disabled.
  MakeUser("gone2@example.com");
  ASSERT_EQ(
      owner.Post(Auth("gone2@example.com") + "appPasswords", json::object{{"displayName", "waits"}})
          .status,
      201);
  ASSERT_TRUE(Eventually([&] { return gone().at("lag").to_number<uint64_t>() > 0; }));

  receiver_->SetDefault({.status = 200});
  const size_t before = receiver_->received().size();
  EXPECT_EQ(owner.Post("/v1.0/admin/hooks/gone/enable", json::object{{"now", true}}).status, 400);
  EXPECT_EQ(gone().at("state").as_string(), "disabled");
  EXPECT_EQ(owner.Post("/v1.0/admin/hooks/gone/enable", json::object{}).status, 204);
  ASSERT_TRUE(Eventually([&] {
    json::object h = gone();
    return h.at("state").as_string() == "enabled" && h.at("lag").to_number<uint64_t>() == 0;
  })) << daemon_->log();
  bool delivered = false;
  for (const auto& r : receiver_->received()) {
    delivered |= r.body.find("\"app_password.created\"") != std::string::npos &&
                 r.body.find("gone2@example.com") != std::string::npos && r.signature_valid;
  }
  std::string bodies;
  for (const auto& r : receiver_->received()) bodies += r.body.substr(0, 200) + "\n";
  EXPECT_TRUE(delivered) << bodies;
  EXPECT_GT(receiver_->received().size(), before);
}

}  // namespace
}  // namespace otpd::e2e
