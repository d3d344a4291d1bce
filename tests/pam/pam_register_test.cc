// Registration at sign-in through pam_otpd (register=tap), against the real otpd: a user an
// administrator asked to register again types any code, is asked for a temporary access pass,
// sees the new app's QR code drawn in the terminal and its link, types the app's first code and
// is signed in; the verify socket then takes the app's codes. Attacks: a user who already has a
// second factor, a wrong pass, a wrong first code.

#include <liboath/oath.h>
#include <security/pam_appl.h>

#include <cstdlib>
#include <ctime>
#include <string>

#include "tests/pam/pam_env.h"

namespace otpd::pam {
namespace {

using otpd::testing::Field;

// The value of `key` in the JSON otpctl printed (a string value without escapes).
std::string JsonString(const std::string& json, const std::string& key) {
  const std::string marker = "\"" + key + "\":\"";
  const size_t at = json.find(marker);
  if (at == std::string::npos) return "";
  const size_t start = at + marker.size();
  return json.substr(start, json.find('"', start) - start);
}

// The code an app shows `steps` steps from now for the otpauth link in `output`.
std::string AppCode(const std::string& output, int steps = 0) {
  const size_t link = output.find("otpauth://");
  const size_t at = output.find("secret=", link);
  if (link == std::string::npos || at == std::string::npos) return "000000";
  const std::string b32 = output.substr(at + 7, output.find_first_of("&\n", at) - at - 7);
  char* seed = nullptr;
  size_t seed_length = 0;
  if (oath_base32_decode(b32.data(), b32.size(), &seed, &seed_length) != OATH_OK) return "000000";
  char otp[10] = {};
  oath_totp_generate(seed, seed_length, time(nullptr) + 30 * steps, 30, 0, 6, otp);
  free(seed);
  return otp;
}

// pamtester's output without the new app's secret (its link and its QR code), for messages.
std::string Redacted(const std::string& output) {
  std::string out;
  size_t start = 0;
  while (start < output.size()) {
    size_t end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    const std::string line = output.substr(start, end - start);
    const bool secret =
        line.find("otpauth://") != std::string::npos || line.find("\xe2\x96") != std::string::npos;
    out += secret ? "(a line holding the app's secret)\n" : line + "\n";
    start = end + 1;
  }
  return out;
}

// `r` as EndedWith may print it.
PamResult Scrubbed(const PamResult& r) {
  PamResult out = r;
  out.out = Redacted(r.out);
  out.err = Redacted(r.err);
  return out;
}

// The widest line of the QR code drawn (in characters: each half block is one).
size_t QrWidth(const std::string& output, size_t* lines) {
  size_t widest = 0;
  *lines = 0;
  size_t start = 0;
  while (start < output.size()) {
    size_t end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    const std::string line = output.substr(start, end - start);
    if (line.find("\xe2\x96") != std::string::npos) {
      ++*lines;
      size_t chars = 0;
      for (unsigned char c : line) chars += (c & 0xC0) != 0x80;
      widest = std::max(widest, chars);
    }
    start = end + 1;
  }
  return widest;
}

class PamRegisterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(otpd_.ok()) << otpd_.error();
    (void)oath_init();
  }
  std::string Line(const std::string& options) const {
    return "auth required " + Module() + " socket=" + otpd_.socket() + " " + options + "\n";
  }
  std::string MakePass(const std::string& upn) {
    return JsonString(otpd_.OtpctlOutput({"tap", "create", upn, "--json"}), "temporaryAccessPass");
  }

  RealOtpd otpd_;
};

TEST_F(PamRegisterTest, AUserAskedToRegisterDoesSoAtSignIn) {
  const std::string upn = RealOtpd::User(2);
  otpd_.OtpctlOutput({"user", "require-reregister", upn});
  const std::string pass = MakePass(upn);
  ASSERT_FALSE(pass.empty());
  const std::string old_code = otpd_.NextCode(2);
  std::string confirming;
  PamService service(Line("register=tap"));
  PamResult r = PamDialog(service.name(), upn,
                          {{"Verification code: ", [&](const std::string&) { return old_code; }},
                           {"Temporary access pass: ", [&](const std::string&) { return pass; }},
                           {"Code from the app: ", [&](const std::string& output) {
                              confirming = AppCode(output);
                              return confirming;
                            }}});
  EXPECT_TRUE(EndedWith(Scrubbed(r), PAM_SUCCESS)) << Redacted(r.all());
  EXPECT_NE(r.all().find("You must register an authenticator app"), std::string::npos);
  EXPECT_NE(r.all().find("Your authenticator app is registered."), std::string::npos);
  // The code is drawn to fit an 80x24 terminal.
  size_t lines = 0;
  const size_t width = QrWidth(r.all(), &lines);
  EXPECT_GT(lines, 10u) << Redacted(r.all());
  EXPECT_LE(lines, 23u);
  EXPECT_LE(width, 80u);
  // Registered: the app's next code signs in on the verify socket; the confirming one is spent.
  EXPECT_EQ(Field(otpd_.Ask("VERIFY\tv\tuser=" + upn + "\totp=" + confirming), "reason"),
            "replayed");
  EXPECT_EQ(otpd_.Ask("VERIFY\tw\tuser=" + upn + "\totp=" + AppCode(r.all(), 1)).rfind("OK", 0),
            0u);
}

TEST_F(PamRegisterTest, APassTypedAtTheCodePromptStartsTheRegistration) {
  const std::string upn = RealOtpd::User(1);
  otpd_.OtpctlOutput({"user", "require-reregister", upn});
  const std::string pass = MakePass(upn);
  PamService service(Line("register=tap"));
  PamResult r = PamDialog(
      service.name(), upn,
      {{"Verification code: ", [&](const std::string&) { return pass; }},
       {"Code from the app: ", [](const std::string& output) { return AppCode(output); }}});
  EXPECT_TRUE(EndedWith(Scrubbed(r), PAM_SUCCESS)) << Redacted(r.all());
  EXPECT_EQ(r.all().find("Temporary access pass: "), std::string::npos) << Redacted(r.all());
}

TEST_F(PamRegisterTest, NoRegistrationForAUserWithAFactorOrWithAWrongPassOrCode) {
  // pam3 has an activated token: a pass typed at the prompt enrols nothing and is not spent.
  const std::string has = RealOtpd::User(3);
  const std::string pass = MakePass(has);
  PamService service(Line("register=tap"));
  PamResult r = PamDialog(service.name(), has,
                          {{"Verification code: ", [&](const std::string&) { return pass; }}});
  EXPECT_TRUE(EndedWith(Scrubbed(r), PAM_AUTH_ERR)) << Redacted(r.all());
  EXPECT_EQ(r.all().find("QR code"), std::string::npos) << Redacted(r.all());
  EXPECT_EQ(otpd_.Ask("TAP\tt\tuser=" + has + "\tpass=" + pass).rfind("OK", 0), 0u);

  // A wrong pass: refused, counted, nothing enrolled.
  const std::string upn = RealOtpd::User(0);
  otpd_.OtpctlOutput({"user", "require-reregister", upn});
  r = PamDialog(service.name(), upn,
                {{"Verification code: ", [](const std::string&) { return "123456"; }},
                 {"Temporary access pass: ", [](const std::string&) { return "NOTAPASS2345"; }}});
  EXPECT_TRUE(EndedWith(Scrubbed(r), PAM_AUTH_ERR)) << Redacted(r.all());
  EXPECT_NE(r.all().find("Wrong temporary access pass."), std::string::npos) << Redacted(r.all());

  // A wrong first code: not registered, still asked to register.
  const std::string right = MakePass(upn);
  r = PamDialog(service.name(), upn,
                {{"Verification code: ", [&](const std::string&) { return right; }},
                 {"Code from the app: ", [](const std::string& output) {
                    const std::string code = AppCode(output);
                    return code == "111111" ? std::string("222222") : std::string("111111");
                  }}});
  EXPECT_TRUE(EndedWith(Scrubbed(r), PAM_AUTH_ERR)) << Redacted(r.all());
  EXPECT_NE(r.all().find("Wrong code; the app is not registered."), std::string::npos)
      << Redacted(r.all());
  EXPECT_EQ(Field(otpd_.Ask("VERIFY\tv\tuser=" + upn + "\totp=" + otpd_.NextCode(0)), "reason"),
            "registration_required");
}

}  // namespace
}  // namespace otpd::pam
