// Registration at the next sign-in through the validate API (privacyIDEA's enrolment via
// multichallenge), end to end on the real daemon: an administrator requires re-registration, the
// user's front end sends a temporary access pass as `pass`, gets a challenge carrying the new
// app's QR code, and the app's first code with the transaction id confirms it and signs in; the
// verify socket then takes the app's codes. Attacks: a user who already has a second factor, a
// wrong pass, a code sent without the transaction id, another user's transaction id, and the
// confirming code used again. Where the operator trusts otpd's password for a registration
// ([actions] registration_with_password), the password takes the pass's place, for /validate/check
// and the Security info page, but never while the user holds a pass, and never for a user who
// has a second factor.

#include <gtest/gtest.h>

#include "base/codec.h"
#include "tests/e2e/e2e_env.h"
#include "tests/e2e/suite_daemon.h"
#include "tests/e2e/validate_env.h"
#include "tests/testing/http_client.h"

namespace otpd::e2e {
namespace {

namespace json = boost::json;
using otpd::testing::HttpReply;
using otpd::testing::LineClient;

std::string Upn(const std::string& name) { return name + "@example.com"; }

// What both suites below do: require a registration, give passes, read the app a challenge
// enrols.
template <typename Suite>
class RegistrationSuite : public ValidateSuite<Suite> {
 protected:
  using ValidateSuite<Suite>::Owner;
  using ValidateSuite<Suite>::PostForm;
  using ValidateSuite<Suite>::DataDir;

  static bool Prepare(std::vector<std::string>* args, std::string* error,
                      const std::vector<std::string>& names, const std::string& extra_config) {
    std::vector<TestToken> tokens;
    for (const std::string& name : names) tokens.push_back(Totp(name));
    if (!PrepareDataDir(DataDir(), tokens, error)) return false;
    const std::string config = ValidateSuite<Suite>::dir_->File("otpd.toml");
    otpd::testing::WriteFile(config, std::string("[clients.") + kClient + "]\nkey = \"" +
                                         kClientKey + "\"\n" + extra_config);
    *args = {"--config", config, "--validate-listen", "127.0.0.1:0"};
    return true;
  }

  static std::string Auth(const std::string& upn, const std::string& rest) {
    return "/v1.0/users/" + upn + "/authentication/" + rest;
  }
  static void RequireReregistration(const std::string& upn) {
    ASSERT_EQ(Owner().Post(Auth(upn, "requireReregistration"), json::object{}).status, 200);
  }
  static std::string MakePass(const std::string& upn, bool once = false) {
    HttpReply r =
        Owner().Post(Auth(upn, "temporaryAccessPassMethods"), json::object{{"isUsableOnce", once}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? std::string(r.Json().at("temporaryAccessPass").as_string()) : "";
  }
  static HttpReply CheckWith(const std::string& user, const std::string& pass,
                             const std::string& transaction) {
    return PostForm("/validate/check",
                    {{"user", user}, {"pass", pass}, {"transaction_id", transaction}});
  }
  // The app an enrolment challenge describes, from its otpauth URI.
  static TestToken AppOf(const json::value& detail, const std::string& upn) {
    const std::string uri(detail.at("otpauth_uri").as_string());
    const size_t at = uri.find("secret=");
    const std::string b32 = uri.substr(at + 7, uri.find('&', at) - at - 7);
    auto seed = base::Base32Decode(b32);
    EXPECT_TRUE(seed.ok());
    return TestToken{
        "app", upn, seed.ok() ? std::string(seed->view()) : "", {.type = engine::OtpType::kTotp}};
  }
  static std::string Tap(const std::string& upn, const std::string& pass) {
    LineClient c = LineClient::Unix(DataDir() + "/verify.sock");
    return c.Call("TAP\tt\tuser=" + upn + "\tpass=" + pass);
  }
};

class ValidateRegistrationTest : public RegistrationSuite<ValidateRegistrationTest> {
 public:
  static bool PrepareSuite(std::vector<std::string>* args, std::string* error) {
    return Prepare(args, error, {"reg", "keeps", "wrong", "other"}, "");
  }
};

TEST_F(ValidateRegistrationTest, APassStartsAnEnrolmentAndTheAppsCodeEndsIt) {
  const std::string upn = Upn("reg");
  RequireReregistration(upn);
  ExpectDecision(Check(upn, Totp("reg").Code()), false, "The user must register a method again");
  // A code is never taken for a pass: no failure counted.
  EXPECT_EQ(Owner().Get("/v1.0/users/" + upn).Json().at("signInFailures").as_int64(), 0);
  const std::string pass = MakePass(upn, /*once=*/true);

  HttpReply challenge = Check(upn, pass);
  ASSERT_EQ(challenge.status, 200) << challenge.body;
  const json::value v = challenge.Json();
  ExpectEnvelope(v);
  EXPECT_EQ(v.at("result").at("value").as_bool(), false);
  EXPECT_EQ(v.at("result").at("authentication").as_string(), "CHALLENGE");
  const json::value& detail = v.at("detail");
  EXPECT_EQ(detail.at("enroll_via_multichallenge").as_bool(), true);
  EXPECT_EQ(detail.at("type").as_string(), "totp");
  const json::value& entry = detail.at("multi_challenge").at(0);
  EXPECT_EQ(entry.at("client_mode").as_string(), "interactive");
  EXPECT_EQ(std::string(entry.at("image").as_string()).rfind("data:image/svg+xml;base64,", 0), 0u);
  auto svg = base::Base64Decode(std::string(entry.at("image").as_string()).substr(26));
  ASSERT_TRUE(svg.ok());
  EXPECT_NE(std::string(svg->view()).find("<svg"), std::string::npos);
  EXPECT_EQ(std::string(detail.at("otpauth_uri").as_string()).rfind("otpauth://totp/", 0), 0u);
  const std::string transaction(detail.at("transaction_id").as_string());
  EXPECT_EQ(entry.at("transaction_id").as_string(), transaction);
  // The pass was usable once: it is spent now.
  EXPECT_NE(Tap(upn, pass).rfind("OK", 0), 0u);

  const TestToken app = AppOf(detail, upn);
  // A wrong code does not confirm; the app's code does, and signs the user in.
  ExpectDecision(CheckWith(upn, WrongCode(app), transaction), false, "wrong otp value");
  ExpectDecision(CheckWith(upn, app.Code(), transaction), true, "matching 1 tokens");
  // The confirming code cannot sign in again; the next one does, on every door.
  EXPECT_EQ(VerifySocket(upn, app.Code()), "FAIL\tv\treason=replayed");
  EXPECT_EQ(VerifySocket(upn, app.Code(1)).rfind("OK\tv", 0), 0u);
  ExpectDecision(Check(upn, app.Code(2)), true, "matching 1 tokens");
  // Registered: no longer asked to.
  EXPECT_FALSE(Owner().Get("/v1.0/users/" + upn).Json().at("mfaRegistrationRequired").as_bool());
}

TEST_F(ValidateRegistrationTest, AUserWithASecondFactorIsNotOfferedOne) {
  const std::string upn = Upn("keeps");
  const std::string pass = MakePass(upn, /*once=*/true);
  HttpReply r = Check(upn, pass);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("result").at("authentication").as_string(), "REJECT") << r.body;
  EXPECT_FALSE(r.Json().at("detail").as_object().contains("image"));
  // The pass was not used up for nothing.
  EXPECT_EQ(Tap(upn, pass).rfind("OK", 0), 0u);
}

TEST_F(ValidateRegistrationTest, AWrongPassOrAStrayCodeEnrolsNothing) {
  const std::string upn = Upn("wrong");
  RequireReregistration(upn);
  HttpReply wrong = Check(upn, "NotTheRightPass9");
  ASSERT_EQ(wrong.status, 200) << wrong.body;
  EXPECT_EQ(wrong.Json().at("result").at("authentication").as_string(), "REJECT") << wrong.body;
  EXPECT_EQ(wrong.Json().at("detail").at("otpd_reason").as_string(), "bad_password");
  // Nothing was enrolled: the user has no authenticator app.
  EXPECT_EQ(Owner().Get(Auth(upn, "softwareOathMethods")).Json().at("value").as_array().size(), 0u);
  EXPECT_EQ(Owner().Get("/v1.0/users/" + upn).Json().at("signInFailures").as_int64(), 1);

  // An enrolment confirmed only with its transaction id: the app's code alone is no pass.
  const std::string pass = MakePass(upn);
  HttpReply challenge = Check(upn, pass);
  ASSERT_EQ(challenge.Json().at("result").at("authentication").as_string(), "CHALLENGE")
      << challenge.body;
  const json::value detail = challenge.Json().at("detail");
  const TestToken app = AppOf(detail, upn);
  EXPECT_EQ(Check(upn, app.Code()).Json().at("result").at("authentication").as_string(), "REJECT");
  // Nor with another user's transaction id.
  RequireReregistration(Upn("other"));
  HttpReply others = Check(Upn("other"), MakePass(Upn("other")));
  ASSERT_EQ(others.Json().at("result").at("authentication").as_string(), "CHALLENGE");
  const std::string foreign(others.Json().at("detail").at("transaction_id").as_string());
  EXPECT_EQ(
      CheckWith(upn, app.Code(), foreign).Json().at("result").at("authentication").as_string(),
      "REJECT");
  EXPECT_TRUE(Owner().Get("/v1.0/users/" + upn).Json().at("mfaRegistrationRequired").as_bool());
  // With its own id it confirms.
  ExpectDecision(CheckWith(upn, app.Code(), std::string(detail.at("transaction_id").as_string())),
                 true, "matching 1 tokens");
}

// The operator trusts otpd's password for a registration ([actions] registration_with_password).
class PasswordRegistrationTest : public RegistrationSuite<PasswordRegistrationTest> {
 public:
  static bool PrepareSuite(std::vector<std::string>* args, std::string* error) {
    if (!Prepare(args, error, {"pwreg", "pwwrong", "pwtap", "pwkeeps", "pwpage"},
                 "[actions]\nregistration_with_password = true\n")) {
      return false;
    }
    args->insert(args->end(), {"--selfservice-listen", "127.0.0.1:0"});
    return true;
  }

 protected:
  static constexpr std::string_view kPassword = "a long enough password 1";

  static void SetPassword(const std::string& upn) {
    HttpReply r = Owner().Post(
        Auth(upn, "passwordMethods/28c10230-6103-485e-b985-444c60001490/resetPassword"),
        json::object{{"newPassword", kPassword}});
    ASSERT_EQ(r.status, 202) << r.body;
  }
  static int64_t Failures(const std::string& upn) {
    return Owner().Get("/v1.0/users/" + upn).Json().at("signInFailures").as_int64();
  }
  static size_t Apps(const std::string& upn) {
    return Owner().Get(Auth(upn, "softwareOathMethods")).Json().at("value").as_array().size();
  }
  static otpd::testing::HttpClient Page() {
    return otpd::testing::HttpClient::Tcp(daemon_->selfservice_port());
  }
  static HttpReply PageSignIn(const json::object& body) {
    return Page().Request("POST", "/selfservice/signin", json::serialize(body), "application/json");
  }
};

TEST_F(PasswordRegistrationTest, ThePasswordStartsAnEnrolmentAndTheAppsCodeEndsIt) {
  const std::string upn = Upn("pwreg");
  SetPassword(upn);
  RequireReregistration(upn);
  HttpReply challenge = Check(upn, std::string(kPassword));
  ASSERT_EQ(challenge.status, 200) << challenge.body;
  ASSERT_EQ(challenge.Json().at("result").at("authentication").as_string(), "CHALLENGE")
      << challenge.body;
  const json::value detail = challenge.Json().at("detail");
  EXPECT_EQ(detail.at("enroll_via_multichallenge").as_bool(), true);
  const TestToken app = AppOf(detail, upn);
  ExpectDecision(CheckWith(upn, app.Code(), std::string(detail.at("transaction_id").as_string())),
                 true, "matching 1 tokens");
  EXPECT_FALSE(Owner().Get("/v1.0/users/" + upn).Json().at("mfaRegistrationRequired").as_bool());
  // Registered: the password alone enrols nothing more; the app signs in.
  HttpReply again = Check(upn, std::string(kPassword));
  EXPECT_EQ(again.Json().at("result").at("authentication").as_string(), "REJECT") << again.body;
  EXPECT_EQ(Apps(upn), 1u);
  EXPECT_EQ(VerifySocket(upn, app.Code(1)).rfind("OK\tv", 0), 0u);
}

TEST_F(PasswordRegistrationTest, AWrongPasswordIsCountedAndEnrolsNothing) {
  const std::string upn = Upn("pwwrong");
  SetPassword(upn);
  RequireReregistration(upn);
  HttpReply wrong = Check(upn, "not the password 2");
  ASSERT_EQ(wrong.status, 200) << wrong.body;
  EXPECT_EQ(wrong.Json().at("result").at("authentication").as_string(), "REJECT") << wrong.body;
  EXPECT_EQ(wrong.Json().at("detail").at("otpd_reason").as_string(), "bad_password");
  EXPECT_EQ(wrong.body.find("not the password"), std::string::npos);
  EXPECT_EQ(Failures(upn), 1);
  EXPECT_EQ(Apps(upn), 0u);
  // Digits are a password too here: a wrong one is counted, not waved through as a code.
  EXPECT_EQ(Check(upn, "123456").Json().at("result").at("authentication").as_string(), "REJECT");
  EXPECT_EQ(Failures(upn), 2);
  EXPECT_EQ(Apps(upn), 0u);
}

TEST_F(PasswordRegistrationTest, WhileAPassIsOutOnlyThePassRegisters) {
  const std::string upn = Upn("pwtap");
  SetPassword(upn);
  RequireReregistration(upn);
  const std::string pass = MakePass(upn);
  // The administrator meant the pass to be used: the password is checked as a pass, and fails.
  HttpReply r = Check(upn, std::string(kPassword));
  EXPECT_EQ(r.Json().at("result").at("authentication").as_string(), "REJECT") << r.body;
  EXPECT_EQ(Apps(upn), 0u);
  r = Check(upn, pass);
  EXPECT_EQ(r.Json().at("result").at("authentication").as_string(), "CHALLENGE") << r.body;
}

TEST_F(PasswordRegistrationTest, AUserWithASecondFactorGetsNothingForThePassword) {
  const std::string upn = Upn("pwkeeps");
  SetPassword(upn);
  HttpReply r = Check(upn, std::string(kPassword));
  EXPECT_EQ(r.Json().at("result").at("authentication").as_string(), "REJECT") << r.body;
  EXPECT_FALSE(r.Json().at("detail").as_object().contains("transaction_id")) << r.body;
  EXPECT_EQ(Apps(upn), 0u);
  // Nor on the page: the same answer as a wrong password, and no session.
  HttpReply page = PageSignIn({{"userPrincipalName", upn}, {"password", kPassword}});
  EXPECT_EQ(page.status, 401) << page.body;
  EXPECT_EQ(page.ErrorCode(), "signInFailed");
  EXPECT_TRUE(page.Header("set-cookie").empty());
}

TEST_F(PasswordRegistrationTest, ThePageTakesThePasswordAloneToRegister) {
  EXPECT_TRUE(Page().Get("/selfservice/options").Json().at("registrationWithPassword").as_bool());
  const std::string upn = Upn("pwpage");
  SetPassword(upn);
  RequireReregistration(upn);
  HttpReply wrong = PageSignIn({{"userPrincipalName", upn}, {"password", "not the password 3"}});
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  EXPECT_TRUE(wrong.Header("set-cookie").empty());
  HttpReply r = PageSignIn({{"userPrincipalName", upn}, {"password", kPassword}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.Json().at("mustRegister").as_bool());
  const std::string set = r.Header("set-cookie");
  const std::string cookie = set.substr(0, set.find(';'));
  // The session may add the app the user must register.
  HttpReply added = Page().Request(
      "POST", "/v1.0/me/authentication/softwareOathMethods", json::serialize(json::object{}),
      "application/json",
      {{"Cookie", cookie}, {"X-CSRF-Token", std::string(r.Json().at("csrfToken").as_string())}});
  EXPECT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(Apps(upn), 1u);
}

}  // namespace
}  // namespace otpd::e2e
