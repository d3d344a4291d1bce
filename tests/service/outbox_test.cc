// The outbox and its delivery (service/hooks/outbox.h, service/hooks/hooks.h): events are written
// with their change or not at all; sinks get every event in order, at least once, through failures,
// a sink that is gone, dead letters and restarts; SUBSCRIBE's feed.

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "service/hooks/hooks.h"
#include "tests/service/actions_env.h"
#include "tests/testing/eventually.h"

namespace otpd::service {
namespace {

using testing::ActionsEnv;
using testing::kOwner;
using namespace std::chrono_literals;

// An in-process sink that records what it takes and can be told to fail.
class RecordingSink final : public EventSink {
 public:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::string> ids;  // in delivery order (with repeats, if any)
    std::vector<uint64_t> seqs;
    std::vector<std::string> bodies;
    int attempts = 0;
    DeliveryOutcome answer = DeliveryOutcome::kDelivered;
    std::optional<std::chrono::milliseconds> retry_after;
  };
  explicit RecordingSink(std::shared_ptr<State> state) : state_(std::move(state)) {}

  DeliveryResult Deliver(const OutboxEvent& event, std::string_view json) override {
    std::lock_guard lock(state_->mu);
    ++state_->attempts;
    DeliveryResult r{
        .outcome = state_->answer, .retry_after = state_->retry_after, .detail = "scripted"};
    if (r.outcome == DeliveryOutcome::kDelivered) {
      state_->ids.push_back(event.id);
      state_->seqs.push_back(event.seq);
      state_->bodies.emplace_back(json);
    }
    state_->cv.notify_all();
    return r;
  }

 private:
  std::shared_ptr<State> state_;
};

bool WaitFor(RecordingSink::State& s, std::function<bool()> done,
             std::chrono::milliseconds timeout = 10s) {
  std::unique_lock lock(s.mu);
  return s.cv.wait_for(lock, timeout, done);
}

// For state no sink notifies about.
using ::otpd::testing::Eventually;

const RetrySchedule kFast{.initial = 10ms, .max = 40ms, .attempts = 4};

class OutboxTest : public ::testing::Test {
 protected:
  std::unique_ptr<HookDispatcher> Dispatcher(std::shared_ptr<RecordingSink::State> state,
                                             RetrySchedule retry = kFast,
                                             std::string name = "rec") {
    auto d = std::make_unique<HookDispatcher>(
        *env_.store, *env_.keys, env_.clock,
        HookOptions{.poll = 50ms, .log = [this](const std::string& line) {
                      std::lock_guard lock(log_mu_);
                      log_.push_back(line);
                    }});
    EXPECT_TRUE(d->AddSink(name, std::make_unique<RecordingSink>(state), retry).ok());
    EXPECT_TRUE(d->Start().ok());
    return d;
  }

  // A change that writes one event: a new user with an app password.
  void Change(int i) {
    const std::string upn = "u" + std::to_string(i % 7) + "@example.com";
    UserAdmin users(*env_.directory, env_.clock, env_.verifier.get());
    bool created;
    ASSERT_TRUE(users.Put(kOwner, upn, "", &created).ok());
    ASSERT_TRUE(env_.app_passwords->Create(kOwner, upn, "app " + std::to_string(i)).ok());
  }

  ActionsEnv env_;
  std::mutex log_mu_;
  std::vector<std::string> log_;
};

TEST_F(OutboxTest, ExistingAdministrativePathsWriteTheirEvents) {
  engine::Credential cred = env_.HardwareToken("HW1", "dana@example.com", "dana token seed 20b.");
  ASSERT_TRUE(env_.Inventory().Deactivate("HW1", kOwner).ok());
  ASSERT_TRUE(env_.methods
                  ->Add(kOwner, "dana@example.com",
                        PhonePayload{.type = PhoneType::kMobile, .number = "+44 2071234567"})
                  .ok());
  ASSERT_TRUE(env_.methods->DeleteMethod(kOwner, "dana@example.com", kMobilePhoneId).ok());
  ASSERT_TRUE(env_.Inventory().Unassign("HW1", kOwner).ok());
  std::vector<std::string> types;
  for (const auto& e : env_.Events()) {
    types.push_back(e.type);
    EXPECT_EQ(e.user, "dana@example.com");
    EXPECT_TRUE(e.id.starts_with("evt_"));
  }
  EXPECT_EQ(types, (std::vector<std::string>{"method.added", "token.activated", "token.deactivated",
                                             "method.added", "method.deleted", "method.deleted"}));
  // A change that fails writes nothing, event included.
  const uint64_t last = LastEventSequence(*env_.store).value();
  env_.store->FailNextWrites(1);
  EXPECT_FALSE(env_.methods
                   ->Add(kOwner, "dana@example.com",
                         PhonePayload{.type = PhoneType::kMobile, .number = "+44 2071234567"})
                   .ok());
  EXPECT_EQ(LastEventSequence(*env_.store).value(), last);
  ASSERT_TRUE(env_.methods
                  ->Add(kOwner, "dana@example.com",
                        PhonePayload{.type = PhoneType::kMobile, .number = "+44 2071234567"})
                  .ok());
  EXPECT_EQ(LastEventSequence(*env_.store).value(), last + 1);
  (void)cred;
}

// Changing a phone or the email address tells the hooks (method.updated), the address
// normalised as it was stored.
TEST_F(OutboxTest, UpdatingAPhoneOrTheEmailWritesMethodUpdated) {
  const std::string upn = "erin@example.com";
  UserAdmin users(*env_.directory, env_.clock, env_.verifier.get());
  bool created = false;
  ASSERT_TRUE(users.Put(kOwner, upn, "", &created).ok());
  ASSERT_TRUE(
      env_.methods
          ->Add(kOwner, upn, PhonePayload{.type = PhoneType::kMobile, .number = "+1 4255551234"})
          .ok());
  ASSERT_TRUE(env_.methods->Add(kOwner, upn, EmailPayload{.address = "erin@home.example"}).ok());
  ASSERT_TRUE(env_.methods
                  ->Update(kOwner, upn, kMobilePhoneId,
                           PhonePayload{.type = PhoneType::kMobile, .number = "+1 4255550000"})
                  .ok());
  auto email = env_.methods->Update(kOwner, upn, kEmailMethodId,
                                    EmailPayload{.address = "Erin@Work.Example"});
  ASSERT_TRUE(email.ok()) << email.status();
  EXPECT_EQ(std::get<EmailPayload>(email->payload).address, "erin@work.example");
  // A change a kind's rules refuse writes nothing.
  const uint64_t last = LastEventSequence(*env_.store).value();
  EXPECT_FALSE(env_.methods
                   ->Update(kOwner, upn, kMobilePhoneId,
                            PhonePayload{.type = PhoneType::kOffice, .number = "+1 4255550000"})
                   .ok());
  EXPECT_EQ(LastEventSequence(*env_.store).value(), last);
  std::vector<std::string> seen;
  for (const auto& e : env_.Events()) {
    if (e.user != upn) continue;
    const bool phone = e.data_json.find("\"kind\":\"phone\"") != std::string::npos;
    seen.push_back(e.type + (phone ? " phone" : " other"));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"method.added phone", "method.added other",
                                            "method.updated phone", "method.updated other"}));
}

TEST_F(OutboxTest, ASinkGetsEveryEventInOrderWithItsIdAndSequence) {
  auto state = std::make_shared<RecordingSink::State>();
  auto dispatcher = Dispatcher(state);
  for (int i = 0; i < 20; ++i) Change(i);
  const uint64_t last = LastEventSequence(*env_.store).value();
  ASSERT_TRUE(WaitFor(*state, [&] { return !state->seqs.empty() && state->seqs.back() == last; }));
  for (size_t i = 1; i < state->seqs.size(); ++i) EXPECT_EQ(state->seqs[i], state->seqs[i - 1] + 1);
  auto body = boost::json::parse(state->bodies[0]).as_object();
  EXPECT_EQ(body["seq"].to_number<uint64_t>(), state->seqs[0]);
  EXPECT_EQ(body["id"].as_string(), state->ids[0]);
  EXPECT_TRUE(body.contains("time") && body.contains("type") && body.contains("data"));
  // The cursor moves once the delivery is recorded, just after the sink took it.
  for (int i = 0; i < 200 && dispatcher->Stats()[0].cursor != last; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  auto stats = dispatcher->Stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].cursor, last);
  EXPECT_EQ(stats[0].backlog, 0u);
}

TEST_F(OutboxTest, ASinkThatIsDownGetsEverythingWhenItComesBackAlsoAfterARestart) {
  auto state = std::make_shared<RecordingSink::State>();
  state->answer = DeliveryOutcome::kRetry;
  const RetrySchedule patient{.initial = 10ms, .max = 50ms, .attempts = 1000};
  auto dispatcher = Dispatcher(state, patient);
  for (int i = 0; i < 10; ++i) Change(i);
  ASSERT_TRUE(WaitFor(*state, [&] { return state->attempts >= 3; }));
  // The daemon stops while the sink is down, more events are written meanwhile.
  dispatcher.reset();
  env_.Close();
  env_.Open();
  for (int i = 10; i < 20; ++i) Change(i);
  {
    std::lock_guard lock(state->mu);
    state->answer = DeliveryOutcome::kDelivered;
  }
  dispatcher = Dispatcher(state, patient);
  const uint64_t last = LastEventSequence(*env_.store).value();
  ASSERT_TRUE(WaitFor(*state, [&] { return !state->seqs.empty() && state->seqs.back() == last; }));
  // Every event once, in order: the cursor was where the first dispatcher left it.
  std::set<std::string> unique(state->ids.begin(), state->ids.end());
  EXPECT_EQ(unique.size(), state->ids.size());
  EXPECT_EQ(state->seqs.front(), 1u);
  EXPECT_EQ(state->seqs.size(), last);
}

TEST_F(OutboxTest, RetriesThenDeadLettersThenMovesOn) {
  auto state = std::make_shared<RecordingSink::State>();
  state->answer = DeliveryOutcome::kRetry;
  auto dispatcher = Dispatcher(state);
  Change(1);
  const uint64_t first = LastEventSequence(*env_.store).value();
  ASSERT_TRUE(WaitFor(*state, [&] { return state->attempts >= 4; }));
  // Four attempts (waits of 10, 20, 40 ms between them), then a dead letter: the sink's stats and
  // the service call show it.
  ASSERT_TRUE(Eventually([&] { return dispatcher->Stats()[0].dead_letters == 1; }));
  auto dead = HookAdmin(*env_.store, dispatcher.get()).DeadLetters(kOwner, "rec");
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].seq, first);
  EXPECT_EQ((*dead)[0].attempts, 4u);
  EXPECT_EQ((*dead)[0].last_error, "scripted");
  EXPECT_EQ(state->attempts, 4);
  // The next event is delivered once the sink works again.
  {
    std::lock_guard lock(state->mu);
    state->answer = DeliveryOutcome::kDelivered;
  }
  Change(2);
  const uint64_t second = LastEventSequence(*env_.store).value();
  ASSERT_TRUE(
      WaitFor(*state, [&] { return !state->seqs.empty() && state->seqs.back() == second; }));
  EXPECT_TRUE(std::find(state->seqs.begin(), state->seqs.end(), first) == state->seqs.end());
  // The owner sends the dead letter again.
  EXPECT_TRUE(base::IsPermissionDenied(
      HookAdmin(*env_.store, dispatcher.get())
          .RedeliverDeadLetters(testing::WithRoles("ro", {Role::kReader}), "rec")
          .status()));
  ASSERT_EQ(HookAdmin(*env_.store, dispatcher.get()).RedeliverDeadLetters(kOwner, "rec").value(),
            1u);
  ASSERT_TRUE(WaitFor(*state, [&] { return state->seqs.back() == first; }));
  ASSERT_TRUE(Eventually([&] { return dispatcher->Stats()[0].dead_letters == 0; }));
  EXPECT_TRUE(HookAdmin(*env_.store, dispatcher.get()).DeadLetters(kOwner, "rec")->empty());
}

TEST_F(OutboxTest, RetryAfterIsHonouredAndTheScheduleDoubles) {
  EXPECT_EQ(RetrySchedule{}.Delay(1), 5s);
  EXPECT_EQ(RetrySchedule{}.Delay(2), 10s);
  EXPECT_EQ(RetrySchedule{}.Delay(10), 2560s);
  EXPECT_EQ(RetrySchedule{}.Delay(11), 3600s);
  EXPECT_EQ(RetrySchedule{}.Delay(14), 3600s);
  auto state = std::make_shared<RecordingSink::State>();
  state->answer = DeliveryOutcome::kRetry;
  state->retry_after = 400ms;
  auto dispatcher =
      Dispatcher(state, RetrySchedule{.initial = 10ms, .max = 1000ms, .attempts = 50});
  const auto start = std::chrono::steady_clock::now();
  Change(1);
  ASSERT_TRUE(WaitFor(*state, [&] { return state->attempts >= 3; }));
  // Two waits of the sink's 400 ms, not of the schedule's 10-20 ms.
  EXPECT_GE(std::chrono::steady_clock::now() - start, 790ms);
}

TEST_F(OutboxTest, AGoneSinkIsDisabledUntilEnabledAndLosesNothing) {
  auto state = std::make_shared<RecordingSink::State>();
  state->answer = DeliveryOutcome::kGone;
  auto dispatcher = Dispatcher(state);
  Change(1);
  ASSERT_TRUE(WaitFor(*state, [&] { return state->attempts >= 1; }));
  for (int i = 0; i < 50 && !dispatcher->Stats()[0].disabled; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(dispatcher->Stats()[0].disabled);
  Change(2);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(state->attempts, 1);  // nothing is tried while disabled
  // Disabled survives a restart.
  dispatcher.reset();
  dispatcher = Dispatcher(state);
  std::this_thread::sleep_for(150ms);
  EXPECT_TRUE(dispatcher->Stats()[0].disabled);
  EXPECT_EQ(state->attempts, 1);
  {
    std::lock_guard lock(state->mu);
    state->answer = DeliveryOutcome::kDelivered;
  }
  ASSERT_TRUE(HookAdmin(*env_.store, dispatcher.get()).EnableSink(kOwner, "rec").ok());
  const uint64_t last = LastEventSequence(*env_.store).value();
  ASSERT_TRUE(WaitFor(*state, [&] { return !state->seqs.empty() && state->seqs.back() == last; }));
  EXPECT_EQ(state->seqs.size(), 2u);
}

TEST_F(OutboxTest, SmsCodesReachSinksThatWantSecretsOnly) {
  UserAdmin users(*env_.directory, env_.clock, env_.verifier.get());
  bool created;
  ASSERT_TRUE(users.Put(kOwner, "sam@example.com", "", &created).ok());
  ASSERT_TRUE(env_.methods
                  ->Add(kOwner, "sam@example.com",
                        PhonePayload{.type = PhoneType::kMobile, .number = "+1 4255551234"})
                  .ok());
  auto state = std::make_shared<RecordingSink::State>();
  auto dispatcher = Dispatcher(state);
  ASSERT_EQ(env_.Challenge("sam@example.com", "mobile").outcome, Outcome::kAccepted);
  const uint64_t last = LastEventSequence(*env_.store).value();
  ASSERT_TRUE(WaitFor(*state, [&] { return !state->seqs.empty() && state->seqs.back() == last; }));
  auto body = boost::json::parse(state->bodies.back()).as_object();
  EXPECT_EQ(body["type"].as_string(), "sms.send");
  const std::string code(body["data"].as_object()["code"].as_string());
  EXPECT_EQ(code.size(), 6u);
  EXPECT_EQ(env_.Verify("sam@example.com", code).outcome, Outcome::kAccepted);
  // Never in the log.
  std::lock_guard lock(log_mu_);
  for (const auto& line : log_) EXPECT_EQ(line.find(code), std::string::npos);
}

TEST_F(OutboxTest, OldEventsArePrunedOnlyBehindEveryCursor) {
  auto state = std::make_shared<RecordingSink::State>();
  state->answer = DeliveryOutcome::kRetry;
  const RetrySchedule patient{.initial = 10ms, .max = 20ms, .attempts = 100000};
  auto d = std::make_unique<HookDispatcher>(
      *env_.store, *env_.keys, env_.clock,
      HookOptions{.poll = 20ms, .retention = 1h, .prune_every = 50ms});
  ASSERT_TRUE(d->AddSink("rec", std::make_unique<RecordingSink>(state), patient).ok());
  ASSERT_TRUE(d->Start().ok());
  for (int i = 0; i < 5; ++i) Change(i);
  env_.clock.Advance(2h);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(env_.Events().size(), 5u);  // the sink has taken none: all kept
  {
    std::lock_guard lock(state->mu);
    state->answer = DeliveryOutcome::kDelivered;
  }
  ASSERT_TRUE(WaitFor(*state, [&] { return state->seqs.size() == 5; }));
  for (int i = 0; i < 100 && !env_.Events().empty(); ++i) std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(env_.Events().empty());
  EXPECT_EQ(LastEventSequence(*env_.store).value(), 5u);  // numbering goes on
}

TEST_F(OutboxTest, TheFeedStreamsFromASequenceAndDropsASubscriberThatFallsBehind) {
  for (int i = 0; i < 5; ++i) Change(i);
  OutboxFeed feed(*env_.store, FeedOptions{.poll = 20ms, .batch = 2});
  std::mutex mu;
  std::condition_variable cv;
  std::vector<uint64_t> got;
  auto sub = feed.Subscribe(2, [&](std::vector<FeedEvent> events) {
    std::lock_guard lock(mu);
    for (auto& e : events) {
      EXPECT_TRUE(e.id.starts_with("evt_"));
      got.push_back(e.seq);
    }
    cv.notify_all();
    return true;
  });
  ASSERT_NE(sub, nullptr);
  Change(5);
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return got.size() == 5; }));
    EXPECT_EQ(got, (std::vector<uint64_t>{2, 3, 4, 5, 6}));
  }
  std::atomic<int> calls{0};
  auto slow = feed.Subscribe(1, [&](std::vector<FeedEvent>) { return ++calls < 2; });
  for (int i = 0; i < 100 && feed.subscribers() > 1; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(feed.subscribers(), 1u);
  sub->Cancel();
  for (int i = 0; i < 100 && feed.subscribers() > 0; ++i) {
    Change(i);
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(feed.subscribers(), 0u);
}

// No password, app password, pass, session token or one-time code is in an event's stored form,
// in what SUBSCRIBE or a sink without secrets gets, in an audit record, or in the hook log; the
// one-time code reaches a sink that asks for secrets only, and only in the event's data.
TEST_F(OutboxTest, NoSecretIsInAnEventAnAuditRecordOrTheLog) {
  const std::string upn = "sec@example.com";
  UserAdmin users(*env_.directory, env_.clock, env_.verifier.get());
  bool created;
  ASSERT_TRUE(users.Put(kOwner, upn, "", &created).ok());
  ASSERT_TRUE(
      env_.methods
          ->Add(kOwner, upn, PhonePayload{.type = PhoneType::kMobile, .number = "+1 4255551234"})
          .ok());
  auto state = std::make_shared<RecordingSink::State>();
  state->answer = DeliveryOutcome::kRetry;  // every event also goes through a failure, logged
  auto dispatcher = Dispatcher(state, RetrySchedule{.initial = 5ms, .max = 5ms, .attempts = 2});
  const uint64_t first = LastEventSequence(*env_.store).value();  // the hook starts after it

  std::vector<std::string> secrets;
  secrets.push_back("given password 1234");
  ASSERT_TRUE(env_.actions->ResetPassword(kOwner, upn, secrets.back()).ok());
  auto generated = env_.actions->ResetPassword(kOwner, upn, std::nullopt);
  ASSERT_TRUE(generated.ok() && generated->generated);
  secrets.emplace_back(generated->generated->view());
  auto app = env_.app_passwords->Create(kOwner, upn, "mail");
  ASSERT_TRUE(app.ok());
  secrets.emplace_back(app->password.view());
  auto tap = env_.taps->Create(kOwner, upn, {});
  ASSERT_TRUE(tap.ok());
  secrets.emplace_back(tap->pass.view());
  auto session = RememberSession(*env_.directory, env_.clock, upn, 30, 50);
  ASSERT_TRUE(session.ok());
  secrets.emplace_back(session->token.view());
  // The secret half of the token alone, too.
  secrets.push_back(secrets.back().substr(secrets.back().find('.') + 1));
  ASSERT_EQ(env_.Challenge(upn, "mobile").outcome, Outcome::kAccepted);
  ASSERT_TRUE(env_.actions->RequireReregistration(kOwner, upn).ok());

  // The code is found through the one sink entitled to it.
  const uint64_t last = LastEventSequence(*env_.store).value();
  ASSERT_TRUE(Eventually([&] { return dispatcher->Stats()[0].dead_letters == last - first; }));
  {
    std::lock_guard lock(state->mu);
    state->answer = DeliveryOutcome::kDelivered;
  }
  ASSERT_EQ(HookAdmin(*env_.store, dispatcher.get()).RedeliverDeadLetters(kOwner, "rec").value(),
            last - first);
  ASSERT_TRUE(WaitFor(*state, [&] { return state->seqs.size() == last - first; }));
  std::string code;
  for (const auto& body : state->bodies) {
    auto o = boost::json::parse(body).as_object();
    if (o["type"].as_string() == "sms.send") {
      code = std::string(o["data"].as_object()["code"].as_string());
    } else {
      for (const auto& s : secrets) EXPECT_EQ(body.find(s), std::string::npos) << body;
    }
  }
  ASSERT_EQ(code.size(), 6u);
  secrets.push_back(code);

  auto contains_secret = [&](std::string_view text) {
    for (const auto& s : secrets) {
      if (text.find(s) != std::string_view::npos) return true;
    }
    return false;
  };
  for (const auto& e : env_.Events()) {
    EXPECT_FALSE(contains_secret(e.data_json)) << e.type;
    for (const auto& [name, blob] : e.sealed) EXPECT_FALSE(contains_secret(blob)) << e.type;
    auto plain = EventJson(e, nullptr);
    ASSERT_TRUE(plain.ok());
    EXPECT_FALSE(contains_secret(*plain)) << *plain;
    EXPECT_FALSE(contains_secret(ToFeedEvent(e).data_json));
  }
  // Nothing stored anywhere in the outbox or the audit log holds one in clear.
  for (auto ns : {storage::Namespace::kOutbox, storage::Namespace::kAudit}) {
    ASSERT_TRUE(env_.store
                    ->Scan(ns, "",
                           [&](std::string_view key, const storage::Record& r) {
                             EXPECT_FALSE(contains_secret(r.value)) << key;
                             return true;
                           })
                    .ok());
  }
  std::lock_guard lock(log_mu_);
  EXPECT_FALSE(log_.empty());
  for (const auto& line : log_) EXPECT_FALSE(contains_secret(line)) << line;
}

}  // namespace
}  // namespace otpd::service
