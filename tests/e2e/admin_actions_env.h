// What the admin API action tests share: one real otpd per suite on loopback with its admin
// socket (the owner), a TLS listener (API keys), an exec hook ("flaky") that refuses every event
// until the test creates its flag file, and a webhook ("gone") whose receiver answers 410; a few
// users with activated HOTP tokens; and helpers for the paths, the audit log, the verify socket and
// otpctl.
//
// Thread-safety: test code, one thread.

#ifndef OTPD_TESTS_E2E_ADMIN_ACTIONS_ENV_H_
#define OTPD_TESTS_E2E_ADMIN_ACTIONS_ENV_H_

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/e2e_env.h"
#include "tests/e2e/suite_daemon.h"
#include "tests/server/hook_receiver.h"
#include "tests/testing/eventually.h"
#include "tests/testing/http_client.h"

namespace otpd::e2e::actions_env {

using namespace std::chrono_literals;
namespace json = boost::json;
using engine::OtpType;
using otpd::testing::Field;
using otpd::testing::HttpClient;
using otpd::testing::HttpReply;
using otpd::testing::LineClient;
using otpd::testing::RunResult;

inline const std::string kWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
inline const std::string kPasswordId = "28c10230-6103-485e-b985-444c60001490";

inline std::string Auth(const std::string& upn) {
  return "/v1.0/users/" + upn + "/authentication/";
}
inline std::string ResetPath(const std::string& upn) {
  return Auth(upn) + "methods/" + kPasswordId + "/resetPassword";
}

// The path of a URL (what follows the origin).
inline std::string PathOf(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const size_t slash = url.find('/', scheme + 3);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

using otpd::testing::Eventually;

inline TestToken Hotp(const std::string& serial, const std::string& upn) {
  std::string seed = "actions-seed-" + serial;
  seed.resize(20, '#');
  return TestToken{serial, upn, seed, {.type = OtpType::kHotp}};
}

class AdminActionsEnv : public SuiteDaemon<AdminActionsEnv> {
 public:
  static bool PrepareSuite(std::vector<std::string>* args, std::string* error) {
    tokens_ = new std::vector<TestToken>{
        Hotp("RR1", "rereg@example.com"), Hotp("SE1", "sessions@example.com"),
        Hotp("BO1", "boss@example.com"), Hotp("RR2", "cli-rereg@example.com"),
        Hotp("SE2", "cli-sessions@example.com")};
    if (!PrepareDataDir(DataDir(), *tokens_, error) || !MakeAdminCertificate(error)) return false;
    // An exec hook that refuses every event until the flag file exists.
    const std::string script = dir_->File("flaky-hook");
    otpd::testing::WriteFile(script,
                             "#!/bin/sh\ncat > /dev/null\n[ -f \"$1\" ] && exit 0\nexit 1\n");
    chmod(script.c_str(), 0700);
    // A webhook receiver that answers 410 (gone) until the test says otherwise.
    receiver_ = new otpd::testing::HookReceiver(
        {otpd::testing::ReceiverBase64Decode(kWebhookSecret.substr(6))});
    receiver_->SetDefault({.status = 410});
    otpd::testing::WriteFile(
        dir_->File("otpd.toml"),
        "[actions]\nscrypt_log2_n = 10\n"
        "[hooks.flaky]\ntype = \"exec\"\ncommand = [\"" +
            script + "\", \"" + Flag() +
            "\"]\nretry_initial_ms = 20\nretry_max_ms = 50\nattempts = 2\n"
            "[hooks.gone]\ntype = \"webhook\"\nurl = \"" +
            receiver_->url() + "\"\nsecrets = [\"" + kWebhookSecret +
            "\"]\ntimeout_ms = 2000\nretry_initial_ms = 20\nretry_max_ms = 50\n");
    *args = AdminTlsArgs();
    args->insert(args->begin(), {"--config", dir_->File("otpd.toml")});
    return true;
  }
  static void SuiteStopped() {
    delete receiver_;
    delete tokens_;
    receiver_ = nullptr;
    tokens_ = nullptr;
  }

 protected:
  static std::string Flag() { return dir_->File("hook-may-succeed"); }
  static LineClient Socket() { return LineClient::Unix(DataDir() + "/verify.sock"); }
  static const TestToken& Token(const std::string& serial) {
    for (const auto& t : *tokens_) {
      if (t.serial == serial) return t;
    }
    return tokens_->front();
  }
  static void MakeUser(const std::string& upn) {
    HttpReply r = Owner().Put("/v1.0/users/" + upn, json::object{{"displayName", upn}});
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.body;
  }
  // Gives `upn` a known password through the API.
  static void SetPassword(const std::string& upn, const std::string& password) {
    HttpReply r = Owner().Post(ResetPath(upn), json::object{{"newPassword", password}});
    ASSERT_EQ(r.status, 202) << r.body;
  }
  static std::string Password(const std::string& upn, const std::string& password) {
    return Socket().Call("PASSWORD\tp\tuser=" + upn + "\tpassword=" + password);
  }
  // The audit records for `upn` with `action`, newest first.
  static std::vector<json::object> Audit(const std::string& upn, const std::string& action) {
    HttpReply r = Owner().Get("/v1.0/audit?target=user/" + upn + "&action=" + action);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<json::object> out;
    if (r.status != 200) return out;
    const json::value answer = r.Json();
    for (const auto& v : answer.at("value").as_array()) out.push_back(v.as_object());
    return out;
  }
  // otpctl on the suite's data directory: through admin.sock, as the daemon runs.
  static RunResult Otpctl(std::vector<std::string> args, std::vector<std::string> extra = {}) {
    args.insert(args.begin(), OTPCTL_PATH);
    args.insert(args.end(), {"--data-dir", DataDir(), "--key-file", KeyFileFor(DataDir())});
    args.insert(args.end(), extra.begin(), extra.end());
    return otpd::testing::Run(
        args, {"OTPD_MASTER_KEY", "OTPD_KEY_FILE", "OTPD_DATA_DIR", "OTPD_API_KEY"});
  }
  static json::value Parse(const std::string& text) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    return ec ? json::value() : v;
  }
  static size_t AppPasswordCount(const std::string& upn) {
    HttpReply r = Owner().Get(Auth(upn) + "appPasswords");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? r.Json().at("value").as_array().size() : 0;
  }

  static inline otpd::testing::HookReceiver* receiver_ = nullptr;
  static inline std::vector<TestToken>* tokens_ = nullptr;
};

}  // namespace otpd::e2e::actions_env

#endif  // OTPD_TESTS_E2E_ADMIN_ACTIONS_ENV_H_
