// otpctl's action commands (user reset-password, require-reregister, revoke-mfa-sessions,
// app-password, tap, hooks) against the running daemon: they go through the admin API's routes,
// print what they print offline, and take effect on the verify socket.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "tests/e2e/admin_actions_env.h"

namespace otpd::e2e {
namespace {

using namespace actions_env;  // NOLINT: the suite's paths and helpers

class OtpctlActionsTest : public AdminActionsEnv {};

TEST_F(OtpctlActionsTest, ActionCommandsGoThroughTheDaemon) {
  const std::string upn = "cli@example.com";
  MakeUser(upn);
  RunResult r = Otpctl({"user", "reset-password", upn, "--json", "--online"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::value reset = Parse(r.out);
  ASSERT_TRUE(reset.is_object()) << r.out;
  EXPECT_TRUE(reset.at("operation").as_string().starts_with("op_")) << r.out;
  EXPECT_TRUE(reset.at("must_change").as_bool());
  const std::string generated = std::string(reset.at("new_password").as_string());
  EXPECT_EQ(Password(upn, generated), "OK\tp\tmust_change=1");
  EXPECT_EQ(r.err.find(generated), std::string::npos);
  // The operation otpctl names is the API's.
  EXPECT_EQ(Owner()
                .Get(Auth(upn) + "operations/" + std::string(reset.at("operation").as_string()))
                .status,
            200);
  // Online, the audit log names the caller (the admin socket's uid), not --actor.
  std::vector<json::object> audit = Audit(upn, "password.reset");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_TRUE(audit[0].at("actor").as_string().starts_with("uid:")) << json::serialize(audit[0]);

  const std::string file = dir_->File("cli-password");
  otpd::testing::WritePrivateFile(file, "a file's password 77\n");
  r = Otpctl({"user", "reset-password", upn, "--password-file", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("must be changed at the next sign-in"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("shown once"), std::string::npos) << r.out;
  EXPECT_EQ(Password(upn, "a file's password 77"), "OK\tp\tmust_change=1");
  EXPECT_EQ(Password(upn, generated), "FAIL\tp\treason=bad_password");

  // require-reregister lists what the daemon did.
  ASSERT_TRUE(Socket()
                  .Call(VerifyLine("v", "cli-rereg@example.com", Token("RR2").Code(1)))
                  .starts_with("OK"));
  r = Otpctl({"user", "require-reregister", "cli-rereg@example.com", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::value rereg = Parse(r.out);
  ASSERT_TRUE(rereg.is_object()) << r.out;
  EXPECT_EQ(json::serialize(rereg.at("deactivated_tokens")), R"(["RR2"])");
  EXPECT_TRUE(rereg.at("deleted_methods").as_array().empty());
  EXPECT_EQ(Socket().Call(VerifyLine("v", "cli-rereg@example.com", Token("RR2").Code(2))),
            "FAIL\tv\treason=registration_required");

  // revoke-mfa-sessions.
  LineClient c = Socket();
  ASSERT_TRUE(
      c.Call(VerifyLine("v", "cli-sessions@example.com", Token("SE2").Code(1))).starts_with("OK"));
  const std::string session =
      Field(c.Call("REMEMBER\tr\tuser=cli-sessions@example.com"), "session");
  ASSERT_FALSE(session.empty());
  r = Otpctl({"user", "revoke-mfa-sessions", "cli-sessions@example.com"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("is revoked"), std::string::npos) << r.out;
  EXPECT_EQ(Socket().Call("SESSION\ts\tuser=cli-sessions@example.com\tsession=" + session),
            "FAIL\ts\treason=revoked");

  // App passwords.
  r = Otpctl({"app-password", "create", upn, "mail", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::value app = Parse(r.out);
  ASSERT_TRUE(app.is_object()) << r.out;
  const std::string app_id = std::string(app.at("id").as_string());
  const std::string app_password = std::string(app.at("password").as_string());
  EXPECT_TRUE(Socket()
                  .Call("APP_PASSWORD\ta\tuser=" + upn + "\tpassword=" + app_password)
                  .starts_with("OK\ta"));
  r = Otpctl({"app-password", "create", upn, "vpn"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const size_t shown = r.out.find("(shown once): ");
  ASSERT_NE(shown, std::string::npos) << r.out;
  const std::string vpn_password = r.out.substr(shown + 14, r.out.find('\n', shown) - shown - 14);
  EXPECT_TRUE(Socket()
                  .Call("APP_PASSWORD\ta\tuser=" + upn + "\tpassword=" + vpn_password)
                  .starts_with("OK\ta"));
  r = Otpctl({"app-password", "list", upn});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(app_id), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mail"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(app_password), std::string::npos);
  r = Otpctl({"app-password", "delete", upn, "--id", app_id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("deleted 1 app password"), std::string::npos) << r.out;
  EXPECT_EQ(Socket().Call("APP_PASSWORD\ta\tuser=" + upn + "\tpassword=" + app_password),
            "FAIL\ta\treason=bad_password");
  r = Otpctl({"app-password", "delete", upn, "--id", app_id});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(r.err.empty());

  // A temporary access pass, usable once.
  r = Otpctl({"tap", "create", upn, "--once", "--lifetime", "30"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string marker = "(shown once): ";
  const size_t at = r.out.find(marker);
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string pass =
      r.out.substr(at + marker.size(), r.out.find('\n', at) - at - marker.size());
  EXPECT_NE(r.out.find("usable until"), std::string::npos);
  EXPECT_NE(r.out.find(", once"), std::string::npos);
  const std::string first = Socket().Call("TAP\tt\tuser=" + upn + "\tpass=" + pass);
  EXPECT_TRUE(first.starts_with("OK\tt")) << first;
  EXPECT_TRUE(Socket().Call("TAP\tt\tuser=" + upn + "\tpass=" + pass).starts_with("FAIL\tt"));

  // Hooks.
  r = Otpctl({"hooks", "list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::value hooks = Parse(r.out);
  ASSERT_TRUE(hooks.is_object()) << r.out;
  ASSERT_EQ(hooks.at("hooks").as_array().size(), 2u) << r.out;
  EXPECT_EQ(hooks.at("hooks").as_array()[0].at("name").as_string(), "flaky");
  EXPECT_EQ(hooks.at("hooks").as_array()[1].at("name").as_string(), "gone");
  EXPECT_GT(hooks.at("last_event").to_number<uint64_t>(), 0u);
  r = Otpctl({"hooks", "dead-letters", "flaky", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Parse(r.out).is_array()) << r.out;
  r = Otpctl({"hooks", "redeliver", "flaky"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("dead letter(s) of hook flaky"), std::string::npos) << r.out;
  r = Otpctl({"hooks", "enable", "flaky"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("hook flaky enabled"), std::string::npos) << r.out;
  r = Otpctl({"hooks", "enable", "nope"});
  EXPECT_EQ(r.exit_code, 1);

  // Over TLS with a reader's key: refused, nothing changed.
  const std::string key_file = dir_->File("cli-reader.apikey");
  otpd::testing::WritePrivateFile(key_file, MakeKey("cli-reader", {"reader"}) + "\n");
  r = Otpctl({"user", "reset-password", upn},
             {"--admin", "https://localhost:" + std::to_string(daemon_->admin_port()),
              "--admin-ca-file", dir_->File("admin.crt"), "--api-key-file", key_file});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("role"), std::string::npos) << r.err;
  EXPECT_EQ(Password(upn, "a file's password 77"), "OK\tp\tmust_change=1");
  r = Otpctl({"app-password", "list", upn},
             {"--admin", "https://localhost:" + std::to_string(daemon_->admin_port()),
              "--admin-ca-file", dir_->File("admin.crt"), "--api-key-file", key_file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace otpd::e2e
