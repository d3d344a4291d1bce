// The administrator's actions and the factors they govern, end to end against the real daemon on
// loopback: PASSWORD, APP_PASSWORD, TAP, SESSION, REMEMBER, SET_PASSWORD, CHALLENGE and VERIFY
// over the verify socket; otpctl's offline actions on the stopped daemon's data directory; every
// event reaching an exec hook, a webhook receiver that checks signatures, and a SUBSCRIBE
// connection; a receiver that is down across a SIGKILL and a restart still gets everything, in
// order; no secret in the daemon's log.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "service/admin/method_admin.h"
#include "service/admin/user_actions.h"
#include "service/admin/user_admin.h"
#include "service/credentials/app_passwords.h"
#include "service/credentials/passwords.h"
#include "service/credentials/temporary_access_pass.h"
#include "tests/e2e/e2e_env.h"
#include "tests/server/hook_receiver.h"
#include "tests/testing/eventually.h"

namespace otpd::e2e {
namespace {

using namespace std::chrono_literals;
using otpd::testing::Daemon;
using otpd::testing::Field;
using otpd::testing::HookReceiver;
using otpd::testing::LineClient;
using otpd::testing::RunResult;
using otpd::testing::TempDir;

const std::string kAlice = "alice@example.com";
const std::string kPassword = "correct horse battery";
const std::string kWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

std::string WebhookKey() { return otpd::testing::ReceiverBase64Decode(kWebhookSecret.substr(6)); }

RunResult Otpctl(std::vector<std::string> args, const std::string& data) {
  args.insert(args.begin(), OTPCTL_PATH);
  args.insert(args.end(), {"--data-dir", data, "--key-file", KeyFileFor(data)});
  return otpd::testing::Run(args, {"OTPD_MASTER_KEY", "OTPD_KEY_FILE", "OTPD_DATA_DIR"});
}

using otpd::testing::Eventually;

class ActionsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.File("data");
    token_ = TestToken{"AL1", kAlice, "alice's token seed..", {}};
    std::string error;
    ASSERT_TRUE(PrepareDataDir(data_, {token_}, &error)) << error;
    {
      auto dir = OpenTestStore(data_);
      ASSERT_TRUE(dir.ok()) << dir.status();
      const base::Clock& clock = *base::RealClock::Get();
      service::Directory directory(*dir->store, *dir->keys);
      service::PasswordHasher hasher({.scrypt = {.log2_n = 10}});
      service::UserActions actions(directory, clock, hasher, nullptr);
      auto reset = actions.ResetPassword(kAdmin, kAlice, kPassword);
      ASSERT_TRUE(reset.ok()) << reset.status();
      hasher.Stop();
      auto app = service::AppPasswords(directory, clock, nullptr).Create(kAdmin, kAlice, "mail");
      ASSERT_TRUE(app.ok());
      app_password_ = std::string(app->password.view());
      auto tap =
          service::TemporaryAccessPasses(directory, clock, {}, nullptr).Create(kAdmin, kAlice, {});
      ASSERT_TRUE(tap.ok());
      tap_ = std::string(tap->pass.view());
      service::MethodAdmin methods(*dir->store, *dir->keys, clock, {}, nullptr);
      ASSERT_TRUE(methods
                      .Add(kAdmin, kAlice,
                           service::PhonePayload{.type = service::PhoneType::kMobile,
                                                 .number = "+1 4255551234"})
                      .ok());
    }
    // The hooks: a program that appends each event to a file, and the webhook receiver.
    events_file_ = dir_.File("exec-events");
    const std::string script = dir_.File("exec-hook");
    otpd::testing::WriteFile(script, "#!/bin/sh\n{ cat; echo; } >> \"$1\"\n");
    chmod(script.c_str(), 0700);
    receiver_ = std::make_unique<HookReceiver>(std::vector<std::string>{WebhookKey()});
    config_ = dir_.File("otpd.toml");
    otpd::testing::WriteFile(config_,
                             "[actions]\nscrypt_log2_n = 10\n"
                             "[hooks.exec]\ntype = \"exec\"\ncommand = [\"" +
                                 script + "\", \"" + events_file_ +
                                 "\"]\nretry_initial_ms = 50\nretry_max_ms = 200\n"
                                 "[hooks.web]\ntype = \"webhook\"\nurl = \"" +
                                 receiver_->url() + "\"\nsecrets = [\"" + kWebhookSecret +
                                 "\"]\ntimeout_ms = 2000\n"
                                 "retry_initial_ms = 50\nretry_max_ms = 200\nattempts = 1000\n");
    StartDaemon();
  }

  void StartDaemon() {
    ASSERT_TRUE(daemon_.Start(OTPD_PATH, DaemonArgs(data_, {"--config", config_})))
        << daemon_.log();
  }

  LineClient Client() { return LineClient::Unix(data_ + "/verify.sock"); }

  // The exec hook's events so far, parsed.
  std::vector<boost::json::object> ExecEvents() {
    std::vector<boost::json::object> out;
    struct stat st {};
    if (stat(events_file_.c_str(), &st) != 0) return out;
    std::istringstream lines(otpd::testing::ReadFile(events_file_));
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty()) out.push_back(boost::json::parse(line).as_object());
    }
    return out;
  }

  // Every secret the test made, for the log check.
  std::vector<std::string> Secrets() const {
    return {kPassword, app_password_, tap_, "staple horse battery 2"};
  }

  TempDir dir_;
  std::string data_, config_, events_file_;
  TestToken token_;
  std::string app_password_, tap_;
  std::unique_ptr<HookReceiver> receiver_;
  Daemon daemon_;
};

TEST_F(ActionsE2eTest, FactorsAndSelfServiceOverTheSocketWithTheirEvents) {
  LineClient subscriber = Client();
  const std::string ok = subscriber.Call("SUBSCRIBE\ts1\tfrom=1");
  ASSERT_EQ(otpd::testing::Fields(ok)[0], "OK") << ok;
  LineClient c = Client();

  // PASSWORD: the reset one must be changed; a wrong one is refused.
  EXPECT_EQ(c.Call("PASSWORD\tp1\tuser=" + kAlice + "\tpassword=" + kPassword),
            "OK\tp1\tmust_change=1");
  EXPECT_EQ(c.Call("PASSWORD\tp2\tuser=" + kAlice + "\tpassword=wrong password"),
            "FAIL\tp2\treason=bad_password");
  EXPECT_EQ(c.Call("PASSWORD\tp3\tuser=nobody@example.com\tpassword=x"),
            "FAIL\tp3\treason=unknown_user");
  // SET_PASSWORD: the policy, then the change.
  EXPECT_EQ(c.Call("SET_PASSWORD\ts1\tuser=" + kAlice + "\told=" + kPassword + "\tnew=short"),
            "FAIL\ts1\treason=policy");
  EXPECT_EQ(Field(c.Call("SET_PASSWORD\ts2\tuser=" + kAlice + "\told=" + kPassword +
                         "\tnew=staple horse battery 2"),
                  "reason"),
            "");
  EXPECT_EQ(c.Call("PASSWORD\tp4\tuser=" + kAlice + "\tpassword=staple horse battery 2"), "OK\tp4");

  // APP_PASSWORD.
  const std::string app =
      c.Call("APP_PASSWORD\ta1\tuser=" + kAlice + "\tpassword=" + app_password_);
  EXPECT_TRUE(app.starts_with("OK\ta1\tmethod=")) << app;
  EXPECT_EQ(c.Call("APP_PASSWORD\ta2\tuser=" + kAlice + "\tpassword=x" + app_password_),
            "FAIL\ta2\treason=bad_password");

  // REMEMBER only right after a second factor on the same connection, and once.
  EXPECT_EQ(c.Call("REMEMBER\tr1\tuser=" + kAlice), "FAIL\tr1\treason=refused");
  EXPECT_TRUE(c.Call("TAP\tt1\tuser=" + kAlice + "\tpass=" + tap_).starts_with("OK\tt1"));
  LineClient other = Client();
  EXPECT_EQ(other.Call("REMEMBER\tr2\tuser=" + kAlice), "FAIL\tr2\treason=refused");
  const std::string remembered = c.Call("REMEMBER\tr3\tuser=" + kAlice + "\tdays=7");
  const std::string session = Field(remembered, "session");
  ASSERT_FALSE(session.empty()) << remembered;
  EXPECT_EQ(c.Call("REMEMBER\tr4\tuser=" + kAlice), "FAIL\tr4\treason=refused");
  EXPECT_EQ(other.Call("SESSION\tx1\tuser=" + kAlice + "\tsession=" + session), "OK\tx1");
  EXPECT_EQ(other.Call("SESSION\tx2\tuser=" + kAlice + "\tsession=" + session + "x"),
            "FAIL\tx2\treason=unknown");

  // CHALLENGE: the code goes to the hooks (not to SUBSCRIBE), and VERIFY accepts it once.
  const std::string challenge = c.Call("CHALLENGE\tc1\tuser=" + kAlice + "\tmethod=mobile");
  EXPECT_EQ(challenge, "OK\tc1\tchannel=sms\texpires_in=300");
  std::string code;
  ASSERT_TRUE(Eventually([&] {
    for (const auto& e : ExecEvents()) {
      if (e.at("type").as_string() == "sms.send") {
        code = std::string(e.at("data").as_object().at("code").as_string());
      }
    }
    return !code.empty();
  })) << daemon_.log();
  EXPECT_EQ(code.size(), 6u);
  EXPECT_TRUE(c.Call("VERIFY\tv1\tuser=" + kAlice + "\totp=" + code).starts_with("OK\tv1"));
  EXPECT_TRUE(c.Call("VERIFY\tv2\tuser=" + kAlice + "\totp=" + code).starts_with("FAIL\tv2"));
  // The hardware token still works.
  EXPECT_TRUE(c.Call(VerifyLine("v3", kAlice, token_.Code(1))).starts_with("OK\tv3"));

  // The webhook got the same events, signed; the subscriber too, without the code.
  ASSERT_TRUE(Eventually([&] {
    for (const auto& r : receiver_->received()) {
      if (r.body.find("\"sms.send\"") != std::string::npos) return true;
    }
    return false;
  }));
  for (const auto& r : receiver_->received()) EXPECT_TRUE(r.signature_valid) << r.signature;
  std::vector<std::string> stream;
  for (std::string line = subscriber.ReadLine(5s); !line.empty(); line = subscriber.ReadLine(1s)) {
    stream.push_back(line);
    if (line.find("type=sms.send") != std::string::npos) break;
  }
  ASSERT_FALSE(stream.empty());
  uint64_t previous = 0;
  bool saw_sms = false;
  for (const auto& line : stream) {
    const auto fields = otpd::testing::Fields(line);
    ASSERT_EQ(fields[0], "EVENT") << line;
    const uint64_t seq = std::stoull(fields[1]);
    EXPECT_EQ(seq, previous + 1) << line;
    previous = seq;
    EXPECT_EQ(line.find(code), std::string::npos) << line;
    saw_sms |= line.find("type=sms.send") != std::string::npos;
  }
  EXPECT_TRUE(saw_sms);
  // Whatever the subscriber sends is ignored: the connection carries events only.
  ASSERT_TRUE(subscriber.Send("PING\tignored\n"));
  EXPECT_EQ(subscriber.ReadLine(300ms), "");
  EXPECT_FALSE(subscriber.closed());

  EXPECT_EQ(daemon_.Stop(SIGTERM), 0);
  auto secrets = Secrets();
  secrets.push_back(session);
  secrets.push_back(code);
  for (const auto& s : secrets) EXPECT_EQ(daemon_.log().find(s), std::string::npos) << s;
}

// The administrator acts offline while the daemon is stopped and the receiver is down; the daemon
// is then killed with SIGKILL while it retries; after a restart with the receiver up, the
// receiver has every event, in order, and the actions hold over the socket.
TEST_F(ActionsE2eTest, OfflineActionsReachTheHooksAcrossSigkillAndTakeEffect) {
  LineClient c = Client();
  ASSERT_TRUE(c.Call("TAP\tt1\tuser=" + kAlice + "\tpass=" + tap_).starts_with("OK"));
  const std::string session = Field(c.Call("REMEMBER\tr1\tuser=" + kAlice), "session");
  ASSERT_FALSE(session.empty());
  ASSERT_EQ(daemon_.Stop(SIGTERM), 0);

  receiver_->SetDefault({.status = 503});
  RunResult r = Otpctl({"user", "require-reregister", kAlice, "--json"}, data_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto result = boost::json::parse(r.out).as_object();
  EXPECT_EQ(result["deactivated_tokens"].as_array().size(), 1u);
  EXPECT_EQ(result["deleted_methods"].as_array().size(), 1u);  // the phone
  r = Otpctl({"user", "revoke-mfa-sessions", kAlice}, data_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Otpctl({"app-password", "delete", kAlice, "--all"}, data_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("deleted 1 app password"), std::string::npos) << r.out;
  r = Otpctl({"tap", "create", kAlice, "--once", "--json"}, data_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string new_tap =
      std::string(boost::json::parse(r.out).as_object()["temporaryAccessPass"].as_string());
  EXPECT_EQ(r.err.find(new_tap), std::string::npos);
  r = Otpctl({"user", "reset-password", kAlice}, data_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("new password (shown once): "), std::string::npos);
  r = Otpctl({"hooks", "list", "--json"}, data_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto hooks = boost::json::parse(r.out).as_object();
  EXPECT_EQ(hooks["hooks"].as_array().size(), 2u);
  const uint64_t last = hooks["last_event"].to_number<uint64_t>();
  // Bad arguments are named.
  r = Otpctl({"app-password", "delete", kAlice}, data_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--id"), std::string::npos);
  r = Otpctl({"user", "revoke-mfa-sessions", "not an address"}, data_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("UPN"), std::string::npos);

  // The daemon starts with the receiver down, retries, and is killed.
  StartDaemon();
  const size_t before = receiver_->received().size();
  ASSERT_TRUE(receiver_->WaitForCount(before + 2));
  EXPECT_EQ(daemon_.Stop(SIGKILL), -1);
  receiver_->SetDefault({.status = 200});
  StartDaemon();
  ASSERT_TRUE(Eventually([&] {
    for (const auto& g : receiver_->received()) {
      if (g.body.find("\"seq\":" + std::to_string(last) + ",") != std::string::npos &&
          g.signature_valid) {
        return true;
      }
    }
    return false;
  })) << daemon_.log();
  // Taken in order: the accepted deliveries' numbers only go up by one (a repeat is allowed).
  std::vector<uint64_t> taken;
  std::set<std::string> types;
  for (const auto& g : receiver_->received()) {
    EXPECT_TRUE(g.signature_valid);
    auto body = boost::json::parse(g.body).as_object();
    types.insert(std::string(body["type"].as_string()));
    taken.push_back(body["seq"].to_number<uint64_t>());
  }
  for (size_t i = 1; i < taken.size(); ++i) {
    EXPECT_TRUE(taken[i] == taken[i - 1] || taken[i] == taken[i - 1] + 1)
        << taken[i - 1] << " then " << taken[i];
  }
  for (const char* type : {"user.reregistration_required", "sessions.revoked",
                           "app_passwords.deleted", "tap.created", "password.reset"}) {
    EXPECT_TRUE(types.contains(type)) << type;
  }
  // The exec hook has them all too, each once or more, in order.
  ASSERT_TRUE(Eventually([&] {
    auto events = ExecEvents();
    return !events.empty() && events.back().at("seq").to_number<uint64_t>() == last;
  }));

  // The actions hold over the socket.
  LineClient after = Client();
  EXPECT_EQ(after.Call(VerifyLine("v1", kAlice, token_.Code(0))),
            "FAIL\tv1\treason=registration_required");
  // Refused: the user must register again first (a revoked session alone answers `revoked`:
  // tests/service/user_actions_test.cc).
  EXPECT_EQ(after.Call("SESSION\tx1\tuser=" + kAlice + "\tsession=" + session),
            "FAIL\tx1\treason=registration_required");
  EXPECT_EQ(after.Call("APP_PASSWORD\ta1\tuser=" + kAlice + "\tpassword=" + app_password_),
            "FAIL\ta1\treason=bad_password");
  EXPECT_EQ(after.Call("TAP\tt2\tuser=" + kAlice + "\tpass=" + tap_),
            "FAIL\tt2\treason=bad_password");
  // The new pass works once: registration at sign-in, then CONFIRM with the app's code.
  const std::string enrol = after.Call("ENROL\te1\tuser=" + kAlice + "\ttap=" + new_tap);
  ASSERT_TRUE(enrol.starts_with("OK\te1")) << enrol;
  EXPECT_TRUE(after.Call("TAP\tt3\tuser=" + kAlice + "\tpass=" + new_tap).starts_with("FAIL"));
  EXPECT_EQ(daemon_.Stop(SIGTERM), 0);
  EXPECT_EQ(daemon_.log().find(new_tap), std::string::npos);
}

}  // namespace
}  // namespace otpd::e2e
