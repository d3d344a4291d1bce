// The hook sinks (server/hooks/) on their own: the webhook's signatures, URLs and Retry-After, the
// webhook against a receiver on loopback that checks every signature and fails on purpose, the
// exec hook against small programs, and their configuration.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "server/hooks/exec_sink.h"
#include "server/hooks/hook_config.h"
#include "server/hooks/webhook_sink.h"
#include "tests/server/hook_receiver.h"
#include "tests/server/hooks_test_env.h"
#include "tests/testing/http_client.h"
#include "tests/testing/subprocess.h"

namespace otpd::server::hooks {
namespace {

using namespace std::chrono_literals;
using otpd::testing::HookReceiver;
using otpd::testing::ReceiverBase64Decode;
using otpd::testing::TempDir;
using service::DeliveryOutcome;
using testing::Eventually;
using testing::Key;
using testing::kSecretA;
using testing::kSecretB;
using testing::Webhook;

service::OutboxEvent Event(uint64_t seq, std::string type = "user.locked") {
  service::OutboxEvent e;
  e.seq = seq;
  e.id = "evt_test" + std::to_string(seq);
  e.type = std::move(type);
  e.user = "alice@example.com";
  return e;
}

// ---- signing, URLs, Retry-After ---------------------------------------------------------------

TEST(WebhookSigningTest, MatchesTheStandardWebhooksExample) {
  // The example of the Standard Webhooks specification.
  auto key = ParseWebhookSecret(kSecretA);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(
      SignWebhook(*key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})"),
      "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(WebhookSigningTest, SecretsMustBeWellFormedAndErrorsNeverShowThem) {
  for (const std::string& bad :
       std::vector<std::string>{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_not*base64!!",
                                "whsec_c2hvcnQ=", "whsec_" + std::string(120, 'A')}) {
    auto key = ParseWebhookSecret(bad);
    ASSERT_FALSE(key.ok()) << bad;
    EXPECT_TRUE(base::IsInvalidArgument(key.status()));
    if (bad.size() > 8) {
      EXPECT_EQ(key.status().message().find(bad.substr(6)), std::string::npos);
    }
  }
  EXPECT_TRUE(ParseWebhookSecret(kSecretB).ok());
}

TEST(WebhookSigningTest, Urls) {
  auto u = ParseWebhookUrl("https://hooks.example.com/otpd?x=1");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "hooks.example.com");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/otpd?x=1");
  u = ParseWebhookUrl("http://[::1]:8080");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/");
  for (const char* bad :
       {"ftp://x/", "http://", "http://user:pw@host/", "http://host:0/", "http://host:99999/",
        "http://host/a b", "http://host/#frag", "http://[::1/"}) {
    EXPECT_TRUE(base::IsInvalidArgument(ParseWebhookUrl(bad).status())) << bad;
  }
}

TEST(WebhookSigningTest, RetryAfterInSecondsOrAsADate) {
  EXPECT_EQ(ParseRetryAfter("120", 0), 120s);
  EXPECT_EQ(ParseRetryAfter(" 3 ", 0), 3s);
  // Sun, 06 Nov 1994 08:49:37 GMT is 784111777.
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 30), 30s);
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 + 30), 0s);
  EXPECT_FALSE(ParseRetryAfter("soon", 0).has_value());
  EXPECT_FALSE(ParseRetryAfter("-5", 0).has_value());
}

// ---- the webhook against a receiver -----------------------------------------------------------

TEST(WebhookSinkTest, EveryRequestIsSignedWithEverySecretDuringARotation) {
  HookReceiver receiver({Key(kSecretB)});  // the receiver knows only the new secret yet
  auto options = Webhook(receiver.url());
  options.secrets.push_back(ParseWebhookSecret(kSecretB).value());
  WebhookSink sink(std::move(options), *base::RealClock::Get());
  const std::string body = R"({"id":"evt_test1","type":"user.locked"})";
  auto result = sink.Deliver(Event(1), body);
  EXPECT_EQ(result.outcome, DeliveryOutcome::kDelivered) << result.detail;
  ASSERT_EQ(receiver.received().size(), 1u);
  const auto r = receiver.received()[0];
  EXPECT_TRUE(r.signature_valid) << r.signature;
  EXPECT_EQ(r.id, "evt_test1");
  EXPECT_EQ(r.body, body);
  EXPECT_EQ(r.target, "/hook");
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_LE(std::abs(std::stoll(r.timestamp) - base::RealClock::Get()->NowUnixSeconds()), 5);
  // Two signatures, space-separated, each "v1,<base64 of 32 bytes>".
  const size_t space = r.signature.find(' ');
  ASSERT_NE(space, std::string::npos);
  EXPECT_EQ(ReceiverBase64Decode(r.signature.substr(3, space - 3)).size(), 32u);
  EXPECT_TRUE(r.signature.substr(space + 1).starts_with("v1,"));
  // A tampered body or id does not verify: the signature covers them.
  EXPECT_NE(otpd::testing::ReceiverSignature(Key(kSecretA), r.id, r.timestamp, r.body + " "),
            r.signature.substr(3, space - 3));
  EXPECT_NE(otpd::testing::ReceiverSignature(Key(kSecretA), "evt_other", r.timestamp, r.body),
            r.signature.substr(3, space - 3));
}

TEST(WebhookSinkTest, StatusesMapToOutcomes) {
  HookReceiver receiver({Key(kSecretA)});
  receiver.Script({{.status = 204},
                   {.status = 500},
                   {.status = 429, .retry_after = "7"},
                   {.status = 410},
                   {.status = 302},
                   {.status = 400}});
  WebhookSink sink(Webhook(receiver.url()), *base::RealClock::Get());
  auto a = sink.Deliver(Event(1), "{}");
  EXPECT_EQ(a.outcome, DeliveryOutcome::kDelivered);
  auto b = sink.Deliver(Event(2), "{}");
  EXPECT_EQ(b.outcome, DeliveryOutcome::kRetry);
  EXPECT_EQ(b.detail, "HTTP 500");
  EXPECT_FALSE(b.retry_after.has_value());
  auto c = sink.Deliver(Event(3), "{}");
  EXPECT_EQ(c.outcome, DeliveryOutcome::kRetry);
  EXPECT_EQ(c.retry_after, 7s);
  EXPECT_EQ(sink.Deliver(Event(4), "{}").outcome, DeliveryOutcome::kGone);
  EXPECT_EQ(sink.Deliver(Event(5), "{}").outcome, DeliveryOutcome::kRetry);  // no redirects
  EXPECT_EQ(sink.Deliver(Event(6), "{}").outcome, DeliveryOutcome::kRetry);
}

TEST(WebhookSinkTest, AReceiverThatDoesNotAnswerOrIsNotThereIsRetried) {
  HookReceiver receiver({Key(kSecretA)});
  receiver.Script({{.status = 200, .delay = 2s}});
  WebhookSink slow(Webhook(receiver.url(), 300ms), *base::RealClock::Get());
  const auto start = std::chrono::steady_clock::now();
  auto r = slow.Deliver(Event(1), "{}");
  EXPECT_EQ(r.outcome, DeliveryOutcome::kRetry);
  EXPECT_NE(r.detail.find("timed out"), std::string::npos) << r.detail;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);

  // A port nobody listens on.
  uint16_t closed;
  {
    HookReceiver gone({});
    closed = gone.port();
  }
  WebhookSink nobody(Webhook("http://127.0.0.1:" + std::to_string(closed) + "/"),
                     *base::RealClock::Get());
  auto refused = nobody.Deliver(Event(1), "{}");
  EXPECT_EQ(refused.outcome, DeliveryOutcome::kRetry);
  EXPECT_NE(refused.detail.find("cannot connect"), std::string::npos) << refused.detail;
}

TEST(WebhookSinkTest, HttpsChecksTheCertificate) {
  // A plain HTTP receiver on an https:// URL: the handshake fails, nothing is sent in clear.
  HookReceiver receiver({Key(kSecretA)});
  WebhookSink sink(Webhook("https://127.0.0.1:" + std::to_string(receiver.port()) + "/", 2s),
                   *base::RealClock::Get());
  auto r = sink.Deliver(Event(1), R"({"secret":"123456"})");
  EXPECT_EQ(r.outcome, DeliveryOutcome::kRetry);
  EXPECT_NE(r.detail.find("TLS"), std::string::npos) << r.detail;
  EXPECT_TRUE(receiver.received().empty());
}

TEST(WebhookSinkTest, HttpsDeliversToAReceiverWhoseCertificateIsTrusted) {
  TempDir dir;
  ASSERT_TRUE(otpd::testing::MakeTestCertificate(dir.File("hook.crt"), dir.File("hook.key")));
  HookReceiver receiver({Key(kSecretA)},
                        HookReceiver::Tls{dir.File("hook.crt"), dir.File("hook.key")});
  WebhookSinkOptions options = Webhook(receiver.url("/secure"), 5s);
  options.ca_file = dir.File("hook.crt");
  WebhookSink sink(std::move(options), *base::RealClock::Get());
  auto r = sink.Deliver(Event(1), R"({"type":"user.locked"})");
  EXPECT_EQ(r.outcome, DeliveryOutcome::kDelivered) << r.detail;
  auto got = receiver.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].target, "/secure");
  EXPECT_TRUE(got[0].signature_valid);
  EXPECT_EQ(got[0].body, R"({"type":"user.locked"})");
}

TEST(WebhookSinkTest, HttpsRefusesAReceiverWhoseCertificateIsNotTrusted) {
  TempDir dir;
  ASSERT_TRUE(otpd::testing::MakeTestCertificate(dir.File("hook.crt"), dir.File("hook.key")));
  ASSERT_TRUE(otpd::testing::MakeTestCertificate(dir.File("other.crt"), dir.File("other.key")));
  HookReceiver receiver({Key(kSecretA)},
                        HookReceiver::Tls{dir.File("hook.crt"), dir.File("hook.key")});
  // Trusting another certificate, and then the system's CAs: neither vouches for the receiver.
  for (const std::string& ca : {dir.File("other.crt"), std::string()}) {
    WebhookSinkOptions options = Webhook(receiver.url(), 5s);
    options.ca_file = ca;
    WebhookSink sink(std::move(options), *base::RealClock::Get());
    auto r = sink.Deliver(Event(1), R"({"secret":"123456"})");
    EXPECT_EQ(r.outcome, DeliveryOutcome::kRetry);
    EXPECT_NE(r.detail.find("TLS"), std::string::npos) << r.detail;
    EXPECT_EQ(r.detail.find("123456"), std::string::npos);
  }
  EXPECT_TRUE(receiver.received().empty());
  // The receiver learns of a refused handshake a moment after the client gave up.
  EXPECT_TRUE(Eventually([&] { return receiver.failed_handshakes() == 2u; }, 5s))
      << receiver.failed_handshakes();
}

TEST(WebhookSinkTest, HttpsChecksTheNameInTheCertificate) {
  // The certificate names localhost and 127.0.0.1; a URL naming another address of the loopback
  // reaches the same receiver but must not be accepted under that certificate.
  TempDir dir;
  ASSERT_TRUE(otpd::testing::MakeTestCertificate(dir.File("hook.crt"), dir.File("hook.key")));
  HookReceiver receiver({Key(kSecretA)},
                        HookReceiver::Tls{dir.File("hook.crt"), dir.File("hook.key")});
  WebhookSinkOptions options =
      Webhook("https://[::ffff:127.0.0.1]:" + std::to_string(receiver.port()) + "/", 5s);
  options.ca_file = dir.File("hook.crt");
  WebhookSink sink(std::move(options), *base::RealClock::Get());
  auto r = sink.Deliver(Event(1), "{}");
  if (r.detail.find("cannot connect") != std::string::npos) {
    GTEST_SKIP() << "this machine cannot reach IPv4 through an IPv6 socket: " << r.detail;
  }
  EXPECT_EQ(r.outcome, DeliveryOutcome::kRetry) << r.detail;
  EXPECT_NE(r.detail.find("TLS"), std::string::npos) << r.detail;
  EXPECT_TRUE(Eventually([&] { return receiver.failed_handshakes() == 1u; }, 5s))
      << receiver.failed_handshakes();
  EXPECT_TRUE(receiver.received().empty());
}

// ---- exec ---------------------------------------------------------------------------------------

class ExecSinkTest : public ::testing::Test {
 protected:
  std::string Script(const std::string& name, const std::string& body) {
    const std::string path = dir_.File(name);
    otpd::testing::WriteFile(path, "#!/bin/sh\n" + body);
    chmod(path.c_str(), 0700);
    return path;
  }
  TempDir dir_;
};

TEST_F(ExecSinkTest, TheProgramGetsTheEventOnStdinAndItsIdInTheEnvironment) {
  const std::string out = dir_.File("out");
  ExecSink sink({.argv = {Script("hook",
                                 "cat > \"$1\"; echo \"$OTPD_EVENT_ID $OTPD_EVENT_SEQ "
                                 "$OTPD_EVENT_TYPE\" > \"$1.env\"\n"),
                          out}});
  const std::string body = R"({"id":"evt_test7","seq":7})";
  auto r = sink.Deliver(Event(7), body);
  EXPECT_EQ(r.outcome, DeliveryOutcome::kDelivered) << r.detail;
  EXPECT_EQ(otpd::testing::ReadFile(out), body);
  EXPECT_EQ(otpd::testing::ReadFile(out + ".env"), "evt_test7 7 user.locked\n");
  // A large event is written whole, even to a program that reads slowly.
  std::string large = "{\"pad\":\"" + std::string(1 << 20, 'x') + "\"}";
  ExecSink slow({.argv = {Script("slow", "sleep 0.2; cat > \"$1\"\n"), out}});
  EXPECT_EQ(slow.Deliver(Event(8), large).outcome, DeliveryOutcome::kDelivered);
  EXPECT_EQ(otpd::testing::ReadFile(out).size(), large.size());
}

TEST_F(ExecSinkTest, ArgumentsAreNeverInterpretedByAShell) {
  const std::string out = dir_.File("args.out");
  const std::string pwned = dir_.File("pwned");
  ExecSink sink(
      {.argv = {Script("args", "for a in \"$@\"; do echo \"$a\"; done > \"$1\"\n"), out,
                "; touch " + pwned, "$(touch " + pwned + ")", "`touch " + pwned + "`", "a b  c"}});
  EXPECT_EQ(sink.Deliver(Event(1), "{}").outcome, DeliveryOutcome::kDelivered);
  EXPECT_EQ(otpd::testing::ReadFile(out), out + "\n; touch " + pwned + "\n$(touch " + pwned +
                                              ")\n`touch " + pwned + "`\na b  c\n");
  struct stat st {};
  EXPECT_NE(stat(pwned.c_str(), &st), 0);
}

TEST_F(ExecSinkTest, FailuresAndTimeoutsAreRetriesAndTheProgramIsKilled) {
  ExecSink failing({.argv = {Script("fail", "exit 3\n")}});
  auto r = failing.Deliver(Event(1), "{}");
  EXPECT_EQ(r.outcome, DeliveryOutcome::kRetry);
  EXPECT_EQ(r.detail, "exit code 3");
  ExecSink crashing({.argv = {Script("crash", "kill -SEGV $$\n")}});
  EXPECT_EQ(crashing.Deliver(Event(1), "{}").detail, "killed by signal 11");

  // A program that hangs, with a child of its own: both are killed at the timeout.
  const std::string pidfile = dir_.File("pid");
  ExecSink hanging(
      {.argv = {Script("hang", "sleep 30 & echo $! > \"$1\"; wait\n"), pidfile}, .timeout = 300ms});
  const auto start = std::chrono::steady_clock::now();
  r = hanging.Deliver(Event(1), "{}");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_EQ(r.outcome, DeliveryOutcome::kRetry);
  EXPECT_EQ(r.detail, "timed out after 300 ms");
  const pid_t child = std::stoi(otpd::testing::ReadFile(pidfile));
  EXPECT_TRUE(Eventually([&] { return kill(child, 0) != 0; }, 3s)) << "the program's child lives";
}

TEST_F(ExecSinkTest, TheCommandIsChecked) {
  EXPECT_TRUE(CheckExecSinkOptions({.argv = {Script("ok", "exit 0\n")}}, "hooks.x").ok());
  auto relative = CheckExecSinkOptions({.argv = {"send-sms"}}, "hooks.x");
  EXPECT_TRUE(base::IsInvalidArgument(relative));
  EXPECT_NE(relative.message().find("hooks.x.command"), std::string::npos);
  EXPECT_TRUE(base::IsInvalidArgument(CheckExecSinkOptions({.argv = {}}, "hooks.x")));
  EXPECT_TRUE(
      base::IsInvalidArgument(CheckExecSinkOptions({.argv = {dir_.File("missing")}}, "hooks.x")));
  const std::string plain = dir_.File("plain");
  otpd::testing::WriteFile(plain, "not executable");
  EXPECT_TRUE(base::IsInvalidArgument(CheckExecSinkOptions({.argv = {plain}}, "hooks.x")));
}

// ---- configuration ------------------------------------------------------------------------------

class HookConfigTest : public ::testing::Test {
 protected:
  base::StatusOr<std::vector<HookConfig>> Load(const std::string& toml) {
    const std::string path = dir_.File("otpd.toml");
    otpd::testing::WriteFile(path, toml);
    return LoadHookConfig(path);
  }
  std::string Exe() {
    const std::string path = dir_.File("send");
    otpd::testing::WriteFile(path, "#!/bin/sh\nexit 0\n");
    chmod(path.c_str(), 0700);
    return path;
  }
  TempDir dir_;
};

TEST_F(HookConfigTest, ReadsExecAndWebhookHooks) {
  const std::string secret_file = dir_.File("web.secret");
  otpd::testing::WriteFile(secret_file, "# rotation\n" + kSecretA + "\n\n" + kSecretB + "\n");
  ASSERT_EQ(chmod(secret_file.c_str(), 0600), 0);
  auto hooks = Load("data_dir = \"/x\"\n[hooks.sms]\ntype = \"exec\"\ncommand = [\"" + Exe() +
                    "\", \"--flag\"]\ntimeout_ms = 2000\nattempts = 4\n"
                    "[hooks.web]\ntype = \"webhook\"\nurl = \"https://h.example/x\"\n"
                    "secret_file = \"" +
                    secret_file +
                    "\"\nevent_secrets = false\n"
                    "retry_initial_ms = 100\nretry_max_ms = 1000\n");
  ASSERT_TRUE(hooks.ok()) << hooks.status();
  ASSERT_EQ(hooks->size(), 2u);
  const HookConfig& sms = (*hooks)[0].name == "sms" ? (*hooks)[0] : (*hooks)[1];
  const HookConfig& web = (*hooks)[0].name == "sms" ? (*hooks)[1] : (*hooks)[0];
  EXPECT_EQ(sms.type, HookType::kExec);
  EXPECT_EQ(sms.exec.argv.size(), 2u);
  EXPECT_EQ(sms.exec.timeout, 2000ms);
  EXPECT_EQ(sms.retry.attempts, 4u);
  EXPECT_TRUE(sms.exec.secrets);
  EXPECT_EQ(web.type, HookType::kWebhook);
  EXPECT_EQ(web.webhook.secrets.size(), 2u);
  EXPECT_FALSE(web.webhook.event_secrets);
  EXPECT_EQ(web.retry.initial, 100ms);
  EXPECT_EQ(web.retry.max, 1000ms);
  EXPECT_TRUE(LoadHookConfig("").value().empty());
  EXPECT_TRUE(Load("data_dir = \"/x\"\n").value().empty());
}

TEST_F(HookConfigTest, ErrorsNameTheKeyAndNeverTheSecret) {
  struct Case {
    std::string toml;
    std::string where;
  };
  const std::string exe = Exe();
  const std::vector<Case> cases = {
      {"[hooks.a]\ncommand = [\"" + exe + "\"]\n", "hooks.a.type"},
      {"[hooks.a]\ntype = \"carrier-pigeon\"\n", "hooks.a.type"},
      {"[hooks.a]\ntype = \"exec\"\n", "hooks.a.command"},
      {"[hooks.a]\ntype = \"exec\"\ncommand = [\"send-sms\"]\n", "hooks.a.command"},
      {"[hooks.a]\ntype = \"exec\"\ncommand = [\"" + exe + "\", 3]\n", "hooks.a.command[1]"},
      {"[hooks.a]\ntype = \"exec\"\ncommand = [\"" + exe + "\"]\nurl = \"http://x/\"\n",
       "hooks.a.url"},
      {"[hooks.a]\ntype = \"exec\"\ncommand = [\"" + exe + "\"]\ntimeout_ms = 0\n",
       "hooks.a.timeout_ms"},
      {"[hooks.a]\ntype = \"exec\"\ncommand = [\"" + exe + "\"]\nretry_max_ms = 50\n",
       "hooks.a.retry_max_ms"},
      {"[hooks.a]\ntype = \"exec\"\ncommand = [\"" + exe + "\"]\ncolour = 1\n", "hooks.a.colour"},
      {"[hooks.a]\ntype = \"webhook\"\nurl = \"http://x/\"\n", "hooks.a"},
      {"[hooks.a]\ntype = \"webhook\"\nurl = \"gopher://x/\"\nsecrets = [\"" + kSecretA + "\"]\n",
       "hooks.a.url"},
      {"[hooks.a]\ntype = \"webhook\"\nurl = \"http://x/\"\nsecrets = [\"" + kSecretA +
           "\", \"whsec_c2hvcnRzZWNyZXQ=\"]\n",
       "hooks.a.secrets[1]"},
      {"[hooks.a]\ntype = \"webhook\"\nurl = \"http://x/\"\nsecret_file = \"/nonexistent\"\n",
       "hooks.a.secret_file"},
      {"[hooks.\"bad name\"]\ntype = \"exec\"\n", "hooks.bad name"},
      {"hooks = 3\n", "hooks"},
  };
  for (const auto& c : cases) {
    auto r = Load(c.toml);
    ASSERT_FALSE(r.ok()) << c.toml;
    EXPECT_TRUE(base::IsInvalidArgument(r.status()));
    const std::string message(r.status().message());
    EXPECT_NE(message.find(c.where + ":"), std::string::npos) << message;
    EXPECT_NE(message.find("otpd.toml"), std::string::npos) << message;
    EXPECT_EQ(message.find("c2hvcnRzZWNyZXQ"), std::string::npos) << message;
    EXPECT_EQ(message.find(kSecretA.substr(6)), std::string::npos) << message;
  }
  // A bad line of a secret file is named by its number, not shown.
  const std::string secret_file = dir_.File("bad.secret");
  otpd::testing::WriteFile(secret_file, kSecretA + "\nwhsec_c2hvcnRzZWNyZXQ=\n");
  ASSERT_EQ(chmod(secret_file.c_str(), 0600), 0);
  auto r = Load("[hooks.a]\ntype = \"webhook\"\nurl = \"http://x/\"\nsecret_file = \"" +
                secret_file + "\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 2"), std::string::npos) << r.status();
  EXPECT_EQ(r.status().message().find("c2hvcnRzZWNyZXQ"), std::string::npos);
}

// A webhook's signing secrets are a key file like any other: one its group or others may read is
// refused, with the message every key file gets, and its content is never shown.
TEST_F(HookConfigTest, ASecretFileOthersMayReadIsRefused) {
  const std::string secret_file = dir_.File("open.secret");
  otpd::testing::WriteFile(secret_file, kSecretA + "\n");
  ASSERT_EQ(chmod(secret_file.c_str(), 0644), 0);
  auto r = Load("[hooks.a]\ntype = \"webhook\"\nurl = \"http://x/\"\nsecret_file = \"" +
                secret_file + "\"\n");
  ASSERT_FALSE(r.ok());
  const std::string message(r.status().message());
  EXPECT_NE(message.find("hooks.a.secret_file"), std::string::npos) << message;
  EXPECT_NE(message.find("mode 0644"), std::string::npos) << message;
  EXPECT_NE(message.find("chmod 600"), std::string::npos) << message;
  EXPECT_EQ(message.find(kSecretA.substr(6)), std::string::npos) << message;
  ASSERT_EQ(chmod(secret_file.c_str(), 0600), 0);
  EXPECT_TRUE(Load("[hooks.a]\ntype = \"webhook\"\nurl = \"http://x/\"\nsecret_file = \"" +
                   secret_file + "\"\n")
                  .ok());
}

}  // namespace
}  // namespace otpd::server::hooks
