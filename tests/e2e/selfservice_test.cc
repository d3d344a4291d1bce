// The Security info API (server/selfservice/) end to end on the real daemon: a user signs in with
// password and code or with a temporary access pass, and manages their own methods through Graph's
// /me paths. Attacks: wrong factors, no cookie, a forged or replayed cookie, writes without the
// CSRF token, a phone saved without (or with a wrong) code, the last second factor deleted, an
// administrator's action tried by a user, a session outliving an administrator's revocation.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <chrono>
#include <sstream>
#include <thread>

#include "base/codec.h"
#include "tests/e2e/e2e_env.h"
#include "tests/e2e/suite_daemon.h"
#include "tests/e2e/validate_env.h"
#include "tests/testing/http_client.h"

namespace otpd::e2e {
namespace {

namespace json = boost::json;
using otpd::testing::HttpReply;

const std::string kPasswordId = "28c10230-6103-485e-b985-444c60001490";
const std::string kPassword = "a long enough password 1";

// A browser's side of one session: its cookie and CSRF token.
struct Page {
  std::string cookie;  // "otpd_session=..."
  std::string csrf;
};

class SelfServiceTest : public SuiteDaemon<SelfServiceTest> {
 public:
  static bool PrepareSuite(std::vector<std::string>* args, std::string* error) {
    std::vector<TestToken> tokens;
    for (const char* name : {"sam", "wrong", "csrf", "gone", "reg", "phone", "last", "pw", "revoke",
                             "admin", "seen"}) {
      tokens.push_back(Totp(name));
    }
    if (!PrepareDataDir(DataDir(), tokens, error)) return false;
    const std::string script = dir_->File("exec-hook");
    otpd::testing::WriteFile(script, "#!/bin/sh\n{ cat; echo; } >> \"$1\"\n");
    chmod(script.c_str(), 0700);
    otpd::testing::WriteFile(dir_->File("otpd.toml"),
                             "[hooks.phones]\ntype = \"exec\"\ncommand = [\"" + script + "\", \"" +
                                 dir_->File("exec-events") +
                                 "\"]\nretry_initial_ms = 50\nretry_max_ms = 200\n");
    *args = {"--config", dir_->File("otpd.toml"), "--selfservice-listen", "127.0.0.1:0"};
    return true;
  }
  static bool SuiteStarted(std::string* error) {
    if (daemon_->selfservice_port() == 0) *error = "no selfservice port: " + daemon_->log();
    return error->empty();
  }

 protected:
  static otpd::testing::HttpClient Client() {
    return otpd::testing::HttpClient::Tcp(daemon_->selfservice_port());
  }
  static HttpReply Call(const Page& page, const std::string& method, const std::string& target,
                        const json::value& body = nullptr, bool csrf = true) {
    std::vector<std::pair<std::string, std::string>> headers = {{"Cookie", page.cookie}};
    if (csrf) headers.emplace_back("X-CSRF-Token", page.csrf);
    return Client().Request(method, target, body.is_null() ? "" : json::serialize(body),
                            body.is_null() ? "" : "application/json", headers);
  }
  static HttpReply SignInWith(const json::object& body) {
    return Client().Request("POST", "/selfservice/signin", json::serialize(body),
                            "application/json");
  }
  // Signs `upn` in with their password and the hardware token's code `steps` ahead (the
  // current one activated the token).
  static Page SignIn(const std::string& name, int64_t steps = 1) {
    HttpReply r = SignInWith({{"userPrincipalName", Totp(name).upn},
                              {"password", kPassword},
                              {"verificationCode", Totp(name).Code(steps)}});
    EXPECT_EQ(r.status, 200) << r.body;
    return PageOf(r);
  }
  static Page PageOf(const HttpReply& r) {
    Page page;
    const std::string set = r.Header("set-cookie");
    page.cookie = set.substr(0, set.find(';'));
    if (r.status == 200) page.csrf = std::string(r.Json().at("csrfToken").as_string());
    return page;
  }
  static std::string Auth(const std::string& upn, const std::string& rest) {
    return "/v1.0/users/" + upn + "/authentication/" + rest;
  }
  static void SetPassword(const std::string& upn) {
    HttpReply r = Owner().Post(Auth(upn, "passwordMethods/" + kPasswordId + "/resetPassword"),
                               json::object{{"newPassword", kPassword}});
    ASSERT_EQ(r.status, 202) << r.body;
  }
  static size_t CountOf(const std::string& upn, const std::string& collection) {
    return Owner().Get(Auth(upn, collection)).Json().at("value").as_array().size();
  }
  static int64_t Failures(const std::string& upn) {
    return Owner().Get("/v1.0/users/" + upn).Json().at("signInFailures").as_int64();
  }
  static std::string VerifySocket(const std::string& upn, const std::string& code) {
    otpd::testing::LineClient c = otpd::testing::LineClient::Unix(DataDir() + "/verify.sock");
    return c.Call(VerifyLine("v", upn, code));
  }
};

TEST_F(SelfServiceTest, PasswordAndCodeStartASessionInASafeCookie) {
  const std::string upn = Totp("sam").upn;
  SetPassword(upn);
  HttpReply r = SignInWith({{"userPrincipalName", upn},
                            {"password", kPassword},
                            {"verificationCode", Totp("sam").Code(1)}});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string cookie = r.Header("set-cookie");
  EXPECT_EQ(cookie.rfind("otpd_session=", 0), 0u) << cookie;
  for (const char* flag : {"HttpOnly", "Secure", "SameSite=Strict", "Path=/"}) {
    EXPECT_NE(cookie.find(flag), std::string::npos) << flag;
  }
  EXPECT_EQ(r.Header("cache-control"), "no-store");
  const json::value v = r.Json();
  EXPECT_EQ(v.at("userPrincipalName").as_string(), upn);
  EXPECT_FALSE(v.at("mustRegister").as_bool());
  EXPECT_EQ(v.at("csrfToken").as_string().size(), 64u);
  // The password and code appear nowhere in the answer.
  EXPECT_EQ(r.body.find(kPassword), std::string::npos);

  const Page page = PageOf(r);
  HttpReply me = Call(page, "GET", "/v1.0/me");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.Json().at("userPrincipalName").as_string(), upn);
  HttpReply methods = Call(page, "GET", "/v1.0/me/authentication/methods");
  ASSERT_EQ(methods.status, 200) << methods.body;
  bool token = false;
  const json::value listed = methods.Json();
  for (const auto& m : listed.at("value").as_array()) {
    token |= m.at("@odata.type").as_string() == "#microsoft.graph.hardwareOathAuthenticationMethod";
  }
  EXPECT_TRUE(token) << methods.body;
  EXPECT_EQ(Call(page, "GET", "/selfservice/session").Json().at("csrfToken").as_string(),
            page.csrf);
  // The code that signed in is spent on every door.
  EXPECT_EQ(VerifySocket(upn, Totp("sam").Code(1)), "FAIL\tv\treason=replayed");
}

TEST_F(SelfServiceTest, WrongFactorsStartNothingAndCountTowardTheLockout) {
  const std::string upn = Totp("wrong").upn;
  SetPassword(upn);
  const int64_t before = Failures(upn);
  HttpReply r = SignInWith({{"userPrincipalName", upn},
                            {"password", "not the password at all"},
                            {"verificationCode", Totp("wrong").Code(1)}});
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.ErrorCode(), "signInFailed");
  EXPECT_TRUE(r.Header("set-cookie").empty());
  r = SignInWith({{"userPrincipalName", upn},
                  {"password", kPassword},
                  {"verificationCode", WrongCode(Totp("wrong"))}});
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_TRUE(r.Header("set-cookie").empty());
  EXPECT_EQ(Failures(upn), before + 2);
  // An unknown user reads the same; a misspelt field is named; a form post is refused.
  r = SignInWith({{"userPrincipalName", "nobody@example.com"},
                  {"password", kPassword},
                  {"verificationCode", "123456"}});
  EXPECT_EQ(r.status, 401);
  r = SignInWith({{"userPrincipalName", upn}, {"pasword", kPassword}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("pasword"), std::string::npos) << r.body;
  // The password alone is no sign-in unless the operator trusts it to register with (it is not
  // here): refused before it is checked, and the form is told to ask for a code.
  r = SignInWith({{"userPrincipalName", upn}, {"password", kPassword}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("verificationCode"), std::string::npos) << r.body;
  EXPECT_FALSE(
      Client().Get("/selfservice/options").Json().at("registrationWithPassword").as_bool());
  r = Client().Request("POST", "/selfservice/signin", "userPrincipalName=" + upn,
                       "application/x-www-form-urlencoded");
  EXPECT_EQ(r.status, 400) << r.body;
  // From another site's page, even with the right factors.
  r = Client().Request("POST", "/selfservice/signin",
                       json::serialize(json::object{{"userPrincipalName", upn},
                                                    {"password", kPassword},
                                                    {"verificationCode", Totp("wrong").Code(1)}}),
                       "application/json", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(r.status, 403) << r.body;
}

TEST_F(SelfServiceTest, NoCookieAForgedOneOrAnAdministratorsKeyGetsNothing) {
  EXPECT_EQ(Client().Get("/v1.0/me").status, 401);
  EXPECT_EQ(Call(Page{"otpd_session=" + std::string(64, 'a'), ""}, "GET", "/v1.0/me").status, 401);
  const std::string key = MakeKey("selfsvc-reader", {"privileged_authentication_administrator"});
  HttpReply r = Client().Request("GET", "/v1.0/me/authentication/methods", "", "",
                                 {{"Authorization", "Bearer " + key}});
  EXPECT_EQ(r.status, 401);
  // Nor does the admin API answer here.
  EXPECT_EQ(
      Client().Request("GET", "/v1.0/users", "", "", {{"Authorization", "Bearer " + key}}).status,
      404);
}

TEST_F(SelfServiceTest, WritesWithoutTheSessionsCsrfTokenChangeNothing) {
  const std::string upn = Totp("csrf").upn;
  SetPassword(upn);
  const Page page = SignIn("csrf");
  const json::object email{{"emailAddress", "csrf.private@example.org"}};
  HttpReply r = Call(page, "POST", "/v1.0/me/authentication/emailMethods", email, /*csrf=*/false);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.ErrorCode(), "csrfTokenMissing");
  r = Call(Page{page.cookie, std::string(64, '0')}, "POST", "/v1.0/me/authentication/emailMethods",
           email);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.ErrorCode(), "csrfTokenWrong");
  EXPECT_EQ(CountOf(upn, "emailMethods"), 0u);
  // Another session's token is not this one's.
  const Page other = SignIn("csrf", 2);
  EXPECT_EQ(
      Call(Page{page.cookie, other.csrf}, "POST", "/v1.0/me/authentication/emailMethods", email)
          .status,
      403);
  r = Call(page, "POST", "/v1.0/me/authentication/emailMethods", email);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Header("location").find("/v1.0/users/"), std::string::npos) << r.Header("location");
  EXPECT_EQ(CountOf(upn, "emailMethods"), 1u);
}

TEST_F(SelfServiceTest, ACookieReplayedAfterSignOutIsRefused) {
  const std::string upn = Totp("gone").upn;
  SetPassword(upn);
  const Page page = SignIn("gone");
  ASSERT_EQ(Call(page, "GET", "/v1.0/me").status, 200);
  HttpReply out = Call(page, "POST", "/selfservice/signout");
  EXPECT_EQ(out.status, 204) << out.body;
  EXPECT_NE(out.Header("set-cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Call(page, "GET", "/v1.0/me").status, 401);
  EXPECT_EQ(Call(page, "POST", "/v1.0/me/authentication/emailMethods",
                 json::object{{"emailAddress", "gone@example.org"}})
                .status,
            401);
  EXPECT_EQ(CountOf(upn, "emailMethods"), 0u);
}

TEST_F(SelfServiceTest, AfterReregistrationAPassSignsInAndTheNewAppSignsIn) {
  const std::string upn = Totp("reg").upn;
  ASSERT_EQ(Owner().Post(Auth(upn, "requireReregistration"), json::object{}).status, 200);
  HttpReply tap = Owner().Post(Auth(upn, "temporaryAccessPassMethods"), json::object{});
  ASSERT_EQ(tap.status, 201) << tap.body;
  const std::string pass(tap.Json().at("temporaryAccessPass").as_string());
  EXPECT_EQ(
      SignInWith({{"userPrincipalName", upn}, {"temporaryAccessPass", "NotThePass99"}}).status,
      401);
  HttpReply r = SignInWith({{"userPrincipalName", upn}, {"temporaryAccessPass", pass}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.Json().at("mustRegister").as_bool());
  const Page page = PageOf(r);

  HttpReply app = Call(page, "POST", "/v1.0/me/authentication/softwareOathMethods",
                       json::object{{"displayName", "My phone"}});
  ASSERT_EQ(app.status, 201) << app.body;
  const std::string id(app.Json().at("id").as_string());
  auto seed = base::Base32Decode(std::string(app.Json().at("secretKey").as_string()));
  ASSERT_TRUE(seed.ok());
  const TestToken phone{"app", upn, std::string(seed->view()), {.type = engine::OtpType::kTotp}};
  const std::string confirm = "/v1.0/me/authentication/softwareOathMethods/" + id + "/confirm";
  r = Call(page, "POST", confirm, json::object{{"verificationCode", WrongCode(phone)}});
  EXPECT_EQ(r.status, 400) << r.body;
  r = Call(page, "POST", confirm, json::object{{"verificationCode", phone.Code()}});
  ASSERT_EQ(r.status, 204) << r.body;
  EXPECT_FALSE(Call(page, "GET", "/selfservice/session").Json().at("mustRegister").as_bool());
  EXPECT_FALSE(Owner().Get("/v1.0/users/" + upn).Json().at("mfaRegistrationRequired").as_bool());
  // The app signs in on the verify socket; the confirming code does not sign in again.
  EXPECT_EQ(VerifySocket(upn, phone.Code()), "FAIL\tv\treason=replayed");
  EXPECT_EQ(VerifySocket(upn, phone.Code(1)).rfind("OK\tv", 0), 0u);
  // Audited as the user's own change.
  HttpReply activity = Call(page, "GET", "/v1.0/me/activity");
  ASSERT_EQ(activity.status, 200) << activity.body;
  bool mine = false;
  const json::value events = activity.Json();
  for (const auto& a : events.at("value").as_array()) {
    mine |=
        a.at("action").as_string() == "software_oath.confirm" && a.at("by").as_string() == "you";
  }
  EXPECT_TRUE(mine) << activity.body;
}

TEST_F(SelfServiceTest, APhoneIsSavedOnlyWithTheCodeSentToIt) {
  const std::string upn = Totp("phone").upn;
  SetPassword(upn);
  const Page page = SignIn("phone");
  const std::string phones = "/v1.0/me/authentication/phoneMethods";
  const json::object mobile{{"phoneNumber", "+1 5555550123"}, {"phoneType", "mobile"}};
  // A code typed before any was sent saves nothing.
  json::object guessed = mobile;
  guessed["verificationCode"] = "123456";
  EXPECT_EQ(Call(page, "POST", phones, guessed).status, 400);
  HttpReply sent = Call(page, "POST", phones, mobile);
  ASSERT_EQ(sent.status, 202) << sent.body;
  EXPECT_EQ(sent.Json().at("channel").as_string(), "sms");
  EXPECT_EQ(CountOf(upn, "phoneMethods"), 0u);
  const std::vector<std::string> codes = WaitForHookCodes(dir_->File("exec-events"), upn, 1);
  ASSERT_EQ(codes.size(), 1u);
  // A wrong code, and the right code for another number, save nothing.
  json::object wrong = mobile;
  wrong["verificationCode"] = codes[0] == "000000" ? "000001" : "000000";
  EXPECT_EQ(Call(page, "POST", phones, wrong).status, 400);
  json::object elsewhere{
      {"phoneNumber", "+1 5555550999"}, {"phoneType", "mobile"}, {"verificationCode", codes[0]}};
  EXPECT_EQ(Call(page, "POST", phones, elsewhere).status, 400);
  EXPECT_EQ(CountOf(upn, "phoneMethods"), 0u);
  json::object right = mobile;
  right["verificationCode"] = codes[0];
  HttpReply saved = Call(page, "POST", phones, right);
  ASSERT_EQ(saved.status, 201) << saved.body;
  // Shown masked to the user, as to an administrator without the privileged role.
  const std::string shown(saved.Json().at("phoneNumber").as_string());
  EXPECT_EQ(shown.find("5555550123"), std::string::npos) << shown;
  EXPECT_EQ(CountOf(upn, "phoneMethods"), 1u);
  // The code is spent.
  EXPECT_EQ(Call(page, "POST", phones, right).status, 400);
  // The user prefers texts now; a phone they do not have cannot be preferred.
  const std::string preferences = "/v1.0/me/authentication/signInPreferences";
  const std::string key = "userPreferredMethodForSecondaryAuthentication";
  EXPECT_TRUE(Call(page, "GET", preferences).Json().at(key).is_null());
  EXPECT_EQ(Call(page, "PATCH", preferences, json::object{{key, "voiceOffice"}}).status, 400);
  EXPECT_EQ(Call(page, "PATCH", preferences, json::object{{key, "telepathy"}}).status, 400);
  HttpReply chose = Call(page, "PATCH", preferences, json::object{{key, "sms"}});
  EXPECT_EQ(chose.status, 204) << chose.body;
  EXPECT_EQ(Call(page, "GET", preferences).Json().at(key).as_string(), "sms");
  // Administrators see it through Graph's path.
  EXPECT_EQ(Owner().Get(Auth(upn, "signInPreferences")).Json().at(key).as_string(), "sms");
  // An office phone gets a call.
  HttpReply office = Call(page, "POST", phones,
                          json::object{{"phoneNumber", "+1 5555550124"}, {"phoneType", "office"}});
  ASSERT_EQ(office.status, 202) << office.body;
  EXPECT_EQ(office.Json().at("channel").as_string(), "voice");
}

TEST_F(SelfServiceTest, AUserKeepsASecondFactorAndCannotDoAnAdministratorsWork) {
  const std::string upn = Totp("last").upn;
  SetPassword(upn);
  const Page page = SignIn("last");
  // The hardware token is an administrator's to take back; a pass is an administrator's to give.
  HttpReply methods = Owner().Get(Auth(upn, "hardwareOathMethods"));
  const std::string token(methods.Json().at("value").at(0).at("id").as_string());
  EXPECT_EQ(Call(page, "DELETE", "/v1.0/me/authentication/hardwareOathMethods/" + token).status,
            403);
  EXPECT_EQ(Call(page, "POST", "/v1.0/me/authentication/temporaryAccessPassMethods", json::object{})
                .status,
            403);
  EXPECT_EQ(
      Call(page, "POST", "/v1.0/me/authentication/requireReregistration", json::object{}).status,
      403);
  // Nor another user's methods, however the path is spelt.
  for (const char* path : {"/v1.0/me/authentication/methods/../../../users/sam@example.com",
                           "/v1.0/me/../users/sam@example.com/authentication/methods",
                           "/v1.0/me/authentication/methods/%2e%2e%2f%2e%2e%2fsam@example.com"}) {
    HttpReply r = Call(page, "GET", path);
    EXPECT_NE(r.status, 200) << path << ": " << r.body;
    EXPECT_EQ(r.body.find("VT-sam"), std::string::npos) << path;
  }

  // With an app besides the token, the app may go; the token then stays the last second factor.
  HttpReply app = Call(page, "POST", "/v1.0/me/authentication/softwareOathMethods", json::object{});
  ASSERT_EQ(app.status, 201) << app.body;
  const std::string id(app.Json().at("id").as_string());
  auto seed = base::Base32Decode(std::string(app.Json().at("secretKey").as_string()));
  ASSERT_TRUE(seed.ok());
  const TestToken phone{"app", upn, std::string(seed->view()), {.type = engine::OtpType::kTotp}};
  ASSERT_EQ(Call(page, "POST", "/v1.0/me/authentication/softwareOathMethods/" + id + "/confirm",
                 json::object{{"verificationCode", phone.Code()}})
                .status,
            204);
  EXPECT_EQ(Call(page, "DELETE", "/v1.0/me/authentication/softwareOathMethods/" + id).status, 204);
  EXPECT_EQ(CountOf(upn, "softwareOathMethods"), 0u);

  // An administrator unassigns the token; the user's last second factor is then a phone, which
  // they cannot delete.
  ASSERT_EQ(Owner()
                .Post(Auth(upn, "phoneMethods"),
                      json::object{{"phoneNumber", "+1 5555550111"}, {"phoneType", "mobile"}})
                .status,
            201);
  ASSERT_EQ(Owner().Delete(Auth(upn, "hardwareOathMethods/" + token)).status, 204);
  HttpReply r = Call(page, "DELETE",
                     "/v1.0/me/authentication/phoneMethods/3179e48a-750b-4051-897c-87b9720928f7");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("last sign-in method"), std::string::npos) << r.body;
  EXPECT_EQ(CountOf(upn, "phoneMethods"), 1u);
}

TEST_F(SelfServiceTest, APasswordChangeNeedsTheCurrentOne) {
  const std::string upn = Totp("pw").upn;
  SetPassword(upn);
  const Page page = SignIn("pw");
  const int64_t before = Failures(upn);
  HttpReply r = Call(page, "POST", "/v1.0/me/changePassword",
                     json::object{{"currentPassword", "not my password"},
                                  {"newPassword", "my brand new password 7"}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("currentPassword"), std::string::npos) << r.body;
  EXPECT_EQ(Failures(upn), before + 1);
  r = Call(page, "POST", "/v1.0/me/changePassword",
           json::object{{"currentPassword", kPassword}, {"newPassword", "short"}});
  EXPECT_EQ(r.status, 400) << r.body;
  r = Call(
      page, "POST", "/v1.0/me/changePassword",
      json::object{{"currentPassword", kPassword}, {"newPassword", "my brand new password 7"}});
  ASSERT_EQ(r.status, 204) << r.body;
  otpd::testing::LineClient c = otpd::testing::LineClient::Unix(DataDir() + "/verify.sock");
  EXPECT_EQ(c.Call("PASSWORD\tp\tuser=" + upn + "\tpassword=" + kPassword),
            "FAIL\tp\treason=bad_password");
  EXPECT_EQ(c.Call("PASSWORD\tp\tuser=" + upn + "\tpassword=my brand new password 7"), "OK\tp");
}

TEST_F(SelfServiceTest, SigningOutEverywhereEndsTheOtherSessionsAndAnAdministratorEndsAll) {
  const std::string upn = Totp("revoke").upn;
  SetPassword(upn);
  const Page first = SignIn("revoke");
  const Page second = SignIn("revoke", 2);
  HttpReply r = Call(first, "POST", "/v1.0/me/revokeSignInSessions");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.Json().at("value").as_bool());
  EXPECT_EQ(Call(first, "GET", "/v1.0/me").status, 200);
  EXPECT_EQ(Call(second, "GET", "/v1.0/me").status, 401);
  // An administrator's revocation ends the page's sessions too.
  ASSERT_EQ(Owner().Post(Auth(upn, "revokeMfaSessions"), json::object{}).status, 200);
  EXPECT_EQ(Call(first, "GET", "/v1.0/me").status, 401);
}

// A user sees when their token last signed them in and the wrong tries since, from the state
// the sign-in already keeps: a wrong code typed by someone else on another door shows up.
TEST_F(SelfServiceTest, AUserSeesTheirLastSignInAndTheWrongTriesSince) {
  const std::string upn = Totp("seen").upn;
  SetPassword(upn);
  const Page page = SignIn("seen");
  EXPECT_EQ(Client().Get("/v1.0/me/signInActivity").status, 401);
  const std::string wrong = WrongCode(Totp("seen"));
  EXPECT_EQ(VerifySocket(upn, wrong).rfind("FAIL\tv", 0), 0u);
  HttpReply r = Call(page, "GET", "/v1.0/me/signInActivity");
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value v = r.Json();
  EXPECT_EQ(v.at("failedSignInsSinceLastSuccess").as_int64(), 1) << r.body;
  EXPECT_TRUE(v.at("lastFailedSignInDateTime").is_string()) << r.body;
  EXPECT_TRUE(v.at("lockedUntilDateTime").is_null()) << r.body;
  ASSERT_EQ(v.at("methods").as_array().size(), 1u) << r.body;
  const json::value& token = v.at("methods").at(0);
  EXPECT_EQ(token.at("@odata.type").as_string(),
            "#microsoft.graph.hardwareOathAuthenticationMethod");
  EXPECT_EQ(token.at("displayName").as_string(), Totp("seen").serial);
  EXPECT_TRUE(token.at("lastUsedDateTime").is_string()) << r.body;
  EXPECT_EQ(v.at("lastSuccessfulSignInDateTime"), token.at("lastUsedDateTime"));
  // Neither code is in the answer.
  EXPECT_EQ(r.body.find(wrong), std::string::npos);
  EXPECT_EQ(r.body.find(Totp("seen").Code(1)), std::string::npos);
  // The next right code clears the count.
  EXPECT_EQ(VerifySocket(upn, Totp("seen").Code(2)).rfind("OK\tv", 0), 0u);
  EXPECT_EQ(Call(page, "GET", "/v1.0/me/signInActivity")
                .Json()
                .at("failedSignInsSinceLastSuccess")
                .as_int64(),
            0);
}

// Wrong sign-ins are throttled per source address as failed HELLOs are: past the limit, the
// address's next sign-ins are refused unread (429), so that no factor of theirs is checked or
// counted, and spraying passwords across users earns no more guesses.
class SelfServiceThrottleTest : public SuiteDaemon<SelfServiceThrottleTest> {
 public:
  static bool PrepareSuite(std::vector<std::string>* args, std::string* error) {
    if (!PrepareDataDir(DataDir(), {Totp("spray"), Totp("victim")}, error)) return false;
    otpd::testing::WriteFile(dir_->File("otpd.toml"), "[limits]\nselfservice_failed_signins = 3\n");
    *args = {"--config", dir_->File("otpd.toml"), "--selfservice-listen", "127.0.0.1:0"};
    return true;
  }
  static bool SuiteStarted(std::string* error) {
    if (daemon_->selfservice_port() == 0) *error = "no selfservice port: " + daemon_->log();
    return error->empty();
  }

 protected:
  static HttpReply SignInWith(const json::object& body) {
    return otpd::testing::HttpClient::Tcp(daemon_->selfservice_port())
        .Request("POST", "/selfservice/signin", json::serialize(body), "application/json");
  }
};

TEST_F(SelfServiceThrottleTest, AnAddressPastItsWrongSignInsIsRefusedUnread) {
  const std::string upn = Totp("victim").upn;
  HttpReply r = Owner().Post(
      "/v1.0/users/" + upn + "/authentication/passwordMethods/" + kPasswordId + "/resetPassword",
      json::object{{"newPassword", kPassword}});
  ASSERT_EQ(r.status, 202) << r.body;
  // Four users' passwords guessed once each (the limit is 3): no user is near their own lockout.
  for (const std::string& who :
       {std::string("spray@example.com"), std::string("nobody@example.com"),
        std::string("other@example.com"), upn}) {
    r = SignInWith(
        {{"userPrincipalName", who}, {"password", "summer2026!"}, {"verificationCode", "123456"}});
    EXPECT_EQ(r.status, 401) << r.body;
  }
  // The address is throttled now: even the right factors are not read.
  r = SignInWith({{"userPrincipalName", upn},
                  {"password", kPassword},
                  {"verificationCode", Totp("victim").Code(1)}});
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.ErrorCode(), "tooManyRequests");
  EXPECT_EQ(r.Header("retry-after"), "60");
  EXPECT_TRUE(r.Header("set-cookie").empty());
  EXPECT_EQ(Owner().Get("/v1.0/users/" + upn).Json().at("signInFailures").as_int64(), 1);
  // The code was not checked: it still signs in on another door.
  otpd::testing::LineClient c = otpd::testing::LineClient::Unix(DataDir() + "/verify.sock");
  EXPECT_EQ(c.Call(VerifyLine("v", upn, Totp("victim").Code(1))).rfind("OK\tv", 0), 0u);
}

}  // namespace
}  // namespace otpd::e2e
