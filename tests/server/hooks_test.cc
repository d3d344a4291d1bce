// The hook sinks (server/hooks/) behind the HookDispatcher, on a real store: retries with backoff,
// Retry-After, dead letters and their redelivery, a gone receiver, a receiver down across a
// restart, and an exec hook that fails until it is fixed.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "server/hooks/exec_sink.h"
#include "server/hooks/webhook_sink.h"
#include "tests/server/hook_receiver.h"
#include "tests/server/hooks_test_env.h"
#include "tests/service/actions_env.h"

namespace otpd::server::hooks {
namespace {

using namespace std::chrono_literals;
using otpd::testing::HookReceiver;
using otpd::testing::TempDir;
using service::testing::ActionsEnv;
using service::testing::kOwner;
using testing::Eventually;
using testing::Key;
using testing::kSecretA;
using testing::Webhook;

class HookDeliveryTest : public ::testing::Test {
 protected:
  std::unique_ptr<service::HookDispatcher> Start(std::string name,
                                                 std::unique_ptr<service::EventSink> sink,
                                                 service::RetrySchedule retry) {
    auto d = std::make_unique<service::HookDispatcher>(
        *env_.store, *env_.keys, env_.clock,
        service::HookOptions{.poll = 50ms, .log = [this](const std::string& line) {
                               std::lock_guard lock(log_mu_);
                               log_.push_back(line);
                             }});
    EXPECT_TRUE(d->AddSink(std::move(name), std::move(sink), retry).ok());
    EXPECT_TRUE(d->Start().ok());
    return d;
  }

  void MakeUser(const std::string& upn) {
    service::UserAdmin users(*env_.directory, env_.clock, env_.verifier.get());
    bool created;
    ASSERT_TRUE(users.Put(kOwner, upn, "", &created).ok());
  }

  uint64_t Last() { return service::LastEventSequence(*env_.store).value(); }

  ActionsEnv env_;
  std::mutex log_mu_;
  std::vector<std::string> log_;
};

TEST_F(HookDeliveryTest, AFailingReceiverGetsEveryEventAfterRetriesWithTheSameId) {
  MakeUser("carol@example.com");
  HookReceiver receiver({Key(kSecretA)});
  receiver.Script({{.status = 500}, {.status = 503}, {.status = 502}});
  auto d =
      Start("web", std::make_unique<WebhookSink>(Webhook(receiver.url()), *base::RealClock::Get()),
            {.initial = 20ms, .max = 100ms, .attempts = 10});
  const uint64_t first = Last() + 1;
  auto r = env_.actions->RequireReregistration(kOwner, "carol@example.com");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(env_.actions->RevokeMfaSessions(kOwner, "carol@example.com").ok());
  const uint64_t last = Last();
  ASSERT_TRUE(receiver.WaitForCount(3 + (last - first + 1)));
  auto got = receiver.received();
  // The first event three times (failed) then once more (taken), then the rest, in order.
  std::vector<std::string> ids;
  for (const auto& g : got) {
    EXPECT_TRUE(g.signature_valid);
    ids.push_back(g.id);
  }
  EXPECT_EQ(ids[0], ids[1]);
  EXPECT_EQ(ids[1], ids[2]);
  EXPECT_EQ(ids[2], ids[3]);
  uint64_t expected = first;
  for (size_t i = 3; i < got.size(); ++i) {
    auto body = boost::json::parse(got[i].body).as_object();
    EXPECT_EQ(body["seq"].to_number<uint64_t>(), expected++);
    EXPECT_EQ(body["id"].as_string(), got[i].id);
  }
  auto first_body = boost::json::parse(got[3].body).as_object();
  EXPECT_EQ(first_body["type"].as_string(), "user.reregistration_required");
  // Backoff: the waits grew (20, 40, 80 ms at least).
  EXPECT_GE(got[1].at - got[0].at, 20ms);
  EXPECT_GE(got[2].at - got[1].at, 40ms);
  EXPECT_GE(got[3].at - got[2].at, 80ms);
}

TEST_F(HookDeliveryTest, AfterTheAttemptsTheEventIsADeadLetterAndTheNextOneGoes) {
  MakeUser("dave@example.com");
  HookReceiver receiver({Key(kSecretA)});
  receiver.Script({{.status = 500}, {.status = 500}, {.status = 500}});
  auto d =
      Start("web", std::make_unique<WebhookSink>(Webhook(receiver.url()), *base::RealClock::Get()),
            {.initial = 10ms, .max = 10ms, .attempts = 3});
  ASSERT_TRUE(env_.actions->RevokeMfaSessions(kOwner, "dave@example.com").ok());
  const uint64_t dead_seq = Last();
  ASSERT_TRUE(Eventually([&] { return d->Stats()[0].dead_letters == 1; }));
  ASSERT_TRUE(env_.actions->RevokeMfaSessions(kOwner, "dave@example.com").ok());
  ASSERT_TRUE(receiver.WaitForCount(4));
  auto got = receiver.received();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_NE(got[3].id, got[0].id);
  auto dead = service::HookAdmin(*env_.store, d.get()).DeadLetters(kOwner, "web");
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].seq, dead_seq);
  EXPECT_EQ((*dead)[0].attempts, 3u);
  EXPECT_EQ((*dead)[0].last_error, "HTTP 500");
  // Sent again on request: the receiver gets it once more, with its original id.
  ASSERT_EQ(service::HookAdmin(*env_.store, d.get()).RedeliverDeadLetters(kOwner, "web").value(),
            1u);
  ASSERT_TRUE(receiver.WaitForCount(5));
  EXPECT_EQ(receiver.received()[4].id, got[0].id);
  ASSERT_TRUE(Eventually([&] { return d->Stats()[0].dead_letters == 0; }));
}

TEST_F(HookDeliveryTest, RetryAfterIsHonouredAndGoneDisablesTheHook) {
  MakeUser("erin@example.com");
  HookReceiver receiver({Key(kSecretA)});
  receiver.Script({{.status = 503, .retry_after = "1"}, {.status = 200}, {.status = 410}});
  auto d =
      Start("web", std::make_unique<WebhookSink>(Webhook(receiver.url()), *base::RealClock::Get()),
            {.initial = 10ms, .max = 5000ms, .attempts = 5});
  ASSERT_TRUE(env_.actions->RevokeMfaSessions(kOwner, "erin@example.com").ok());
  ASSERT_TRUE(receiver.WaitForCount(2));
  auto got = receiver.received();
  EXPECT_GE(got[1].at - got[0].at, 950ms);  // the receiver's 1 s, not the schedule's 10 ms
  ASSERT_TRUE(env_.actions->RevokeMfaSessions(kOwner, "erin@example.com").ok());
  ASSERT_TRUE(receiver.WaitForCount(3));
  ASSERT_TRUE(Eventually([&] { return d->Stats()[0].disabled; }));
  ASSERT_TRUE(env_.actions->RevokeMfaSessions(kOwner, "erin@example.com").ok());
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(receiver.received().size(), 3u);  // nothing while disabled
  ASSERT_TRUE(service::HookAdmin(*env_.store, d.get()).EnableSink(kOwner, "web").ok());
  // The event refused with 410 and the one written meanwhile both arrive.
  ASSERT_TRUE(receiver.WaitForCount(5));
  EXPECT_EQ(receiver.received()[3].id, receiver.received()[2].id);
}

TEST_F(HookDeliveryTest, AReceiverDownAcrossARestartGetsEverythingInOrder) {
  MakeUser("finn@example.com");
  uint16_t port;
  auto d = std::unique_ptr<service::HookDispatcher>();
  {
    HookReceiver down({Key(kSecretA)});
    port = down.port();
    down.SetDefault({.status = 503});
    d = Start("web", std::make_unique<WebhookSink>(Webhook(down.url()), *base::RealClock::Get()),
              {.initial = 10ms, .max = 50ms, .attempts = 1000});
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(env_.actions->RevokeMfaSessions(kOwner, "finn@example.com").ok());
    }
    ASSERT_TRUE(down.WaitForCount(3));
    d.reset();  // the daemon stops while the receiver is down
  }
  env_.Close();
  env_.Open();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(env_.actions->RevokeMfaSessions(kOwner, "finn@example.com").ok());
  }
  HookReceiver up({Key(kSecretA)});
  d = Start("web", std::make_unique<WebhookSink>(Webhook(up.url()), *base::RealClock::Get()),
            {.initial = 10ms, .max = 50ms, .attempts = 1000});
  ASSERT_TRUE(up.WaitForCount(6));
  std::vector<uint64_t> seqs;
  for (const auto& g : up.received()) {
    EXPECT_TRUE(g.signature_valid);
    seqs.push_back(boost::json::parse(g.body).as_object()["seq"].to_number<uint64_t>());
  }
  ASSERT_EQ(seqs.size(), 6u);
  for (size_t i = 1; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], seqs[i - 1] + 1);
  (void)port;
}

TEST_F(HookDeliveryTest, AnExecHookThatFailsUntilFixedGetsEveryEventInOrder) {
  MakeUser("gina@example.com");
  TempDir dir;
  const std::string log = dir.File("events"), ok = dir.File("ok");
  const std::string script = dir.File("hook");
  otpd::testing::WriteFile(script,
                           "#!/bin/sh\n[ -e \"$2\" ] || exit 75\n"
                           "{ cat; echo; } >> \"$1\"\n");
  chmod(script.c_str(), 0700);
  auto d = Start("exec", std::make_unique<ExecSink>(ExecSinkOptions{.argv = {script, log, ok}}),
                 {.initial = 10ms, .max = 50ms, .attempts = 1000});
  const uint64_t first = Last() + 1;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(env_.actions->RevokeMfaSessions(kOwner, "gina@example.com").ok());
  }
  ASSERT_TRUE(Eventually([&] { return d->Stats()[0].failed_attempts >= 3; }));
  otpd::testing::WriteFile(ok, "");
  ASSERT_TRUE(Eventually([&] { return d->Stats()[0].cursor == Last(); }));
  std::istringstream lines(otpd::testing::ReadFile(log));
  std::string line;
  uint64_t expected = first;
  while (std::getline(lines, line)) {
    auto o = boost::json::parse(line).as_object();
    EXPECT_EQ(o["seq"].to_number<uint64_t>(), expected++);
    EXPECT_EQ(o["type"].as_string(), "sessions.revoked");
  }
  EXPECT_EQ(expected, Last() + 1);
  std::lock_guard lock(log_mu_);
  ASSERT_FALSE(log_.empty());
  EXPECT_NE(log_[0].find("exit code 75"), std::string::npos) << log_[0];
}

}  // namespace
}  // namespace otpd::server::hooks
