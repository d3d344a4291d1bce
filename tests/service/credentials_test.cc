// App passwords, temporary access passes, phone challenges and the self-service verbs
// (service/credentials/app_passwords.h, service/credentials/temporary_access_pass.h,
// service/signin/sign_in_factors.cc, service/signin/self_service.h), against a RocksDB data
// directory.

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <thread>

#include "service/hooks/outbox.h"
#include "tests/service/actions_env.h"
#include "tokenio/otpauth.h"

namespace otpd::service {
namespace {

using testing::ActionsEnv;
using testing::Await;
using testing::kOwner;
using testing::WithRoles;

const std::string kBob = "bob@example.com";

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override { MakeUser(kBob); }

  void MakeUser(const std::string& upn) {
    UserAdmin users(*env_.directory, env_.clock, env_.verifier.get());
    bool created = false;
    ASSERT_TRUE(users.Put(kOwner, upn, "", &created).ok());
  }

  ActionResult Call(std::function<void(ActionCallback)> call) {
    return Await<ActionResult>(std::move(call));
  }

  static std::string Field(const ActionResult& r, std::string_view key) {
    for (const auto& [k, v] : r.fields) {
      if (k == key) return v;
    }
    return {};
  }

  ActionsEnv env_;
};

TEST_F(CredentialsTest, AppPasswordsAreShownOnceAndSurviveAPasswordReset) {
  auto created = env_.app_passwords->Create(kOwner, kBob, "mail client");
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string password(created->password.view());
  EXPECT_EQ(password.size(), 24u);
  EXPECT_EQ(env_.AppPassword(kBob, password).outcome, Outcome::kAccepted);
  EXPECT_EQ(env_.AppPassword(kBob, password).method_id, created->record.id);
  EXPECT_EQ(env_.AppPassword(kBob, "x" + password.substr(1)).outcome, Outcome::kBadPassword);
  // The listing has names and dates, never the hash.
  auto list = env_.app_passwords->List(kOwner, kBob);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].display_name, "mail client");
  EXPECT_TRUE((*list)[0].sha256.empty());
  // Only the SHA-256 is stored.
  auto stored =
      env_.store->Get(storage::Namespace::kAppPasswords, AppPasswordKey(kBob, created->record.id));
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->value.find(password), std::string::npos);
  // A password reset does not revoke them.
  ASSERT_TRUE(env_.actions->ResetPassword(kOwner, kBob, std::nullopt).ok());
  EXPECT_EQ(env_.AppPassword(kBob, password).outcome, Outcome::kAccepted);
  // Deleting one revokes it at once.
  ASSERT_TRUE(env_.app_passwords->Delete(kOwner, kBob, created->record.id).ok());
  EXPECT_EQ(env_.AppPassword(kBob, password).outcome, Outcome::kBadPassword);
  EXPECT_TRUE(base::IsNotFound(env_.app_passwords->Delete(kOwner, kBob, created->record.id)));
}

TEST_F(CredentialsTest, AtMostFortyAppPasswordsAndDeletionForManyUsers) {
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(env_.app_passwords->Create(kOwner, kBob, "app " + std::to_string(i)).ok());
  }
  EXPECT_TRUE(
      base::IsResourceExhausted(env_.app_passwords->Create(kOwner, kBob, "one too many").status()));
  MakeUser("carol@example.com");
  ASSERT_TRUE(env_.app_passwords->Create(kOwner, "carol@example.com", "printer").ok());
  auto deletions = env_.app_passwords->DeleteForUsers(
      kOwner, {kBob, "carol@example.com", "nobody@example.com", "bad address"});
  ASSERT_TRUE(deletions.ok()) << deletions.status();
  const std::vector<AppPasswordDeletion>& results = *deletions;
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].status.ok());
  EXPECT_EQ(results[0].deleted, 40u);
  EXPECT_EQ(results[1].deleted, 1u);
  EXPECT_TRUE(base::IsNotFound(results[2].status));
  EXPECT_TRUE(base::IsInvalidArgument(results[3].status));
  EXPECT_TRUE(env_.app_passwords->List(kOwner, kBob)->empty());
  auto events = env_.Events();
  int deleted_events = 0;
  for (const auto& e : events) deleted_events += e.type == events::kAppPasswordsDeleted;
  EXPECT_EQ(deleted_events, 2);
  EXPECT_TRUE(base::IsPermissionDenied(
      env_.app_passwords->DeleteForUsers(WithRoles("ro", {Role::kReader}), {kBob}).status()));
}

TEST_F(CredentialsTest, TemporaryAccessPassLifetimeAndUsability) {
  EXPECT_TRUE(
      base::IsInvalidArgument(env_.taps->Create(kOwner, kBob, {.lifetime_minutes = 9}).status()));
  EXPECT_TRUE(base::IsInvalidArgument(
      env_.taps->Create(kOwner, kBob, {.lifetime_minutes = 43201}).status()));
  const int64_t now = env_.clock.NowUnixSeconds();
  auto tap = env_.taps->Create(kOwner, kBob, {.lifetime_minutes = 10, .start = now + 60});
  ASSERT_TRUE(tap.ok()) << tap.status();
  const std::string pass(tap->pass.view());
  EXPECT_EQ(tap->tap.usability, TapUsability::kNotYetValid);
  EXPECT_EQ(env_.Tap(kBob, pass).outcome, Outcome::kNotYetValid);
  env_.clock.Advance(std::chrono::seconds(61));
  EXPECT_EQ(env_.taps->Get(kOwner, kBob)->usability, TapUsability::kEnabled);
  EXPECT_EQ(env_.Tap(kBob, pass).outcome, Outcome::kAccepted);
  EXPECT_EQ(env_.Tap(kBob, pass).outcome, Outcome::kAccepted);  // not usable once: again
  EXPECT_EQ(env_.Tap(kBob, "WRONGPASS123").outcome, Outcome::kBadPassword);
  env_.clock.Advance(std::chrono::minutes(10));
  EXPECT_EQ(env_.Tap(kBob, pass).outcome, Outcome::kExpired);
  EXPECT_EQ(TapUsabilityName(env_.taps->Get(kOwner, kBob)->usability), "expired");
  // The pass itself is never stored, nor shown again.
  EXPECT_TRUE(std::get<TemporaryAccessPassPayload>(env_.taps->Get(kOwner, kBob)->method.payload)
                  .fingerprint.empty());
}

TEST_F(CredentialsTest, AOneTimePassIsUsedOnceEvenByConcurrentRequestsAndANewOneReplacesIt) {
  auto tap = env_.taps->Create(kOwner, kBob, {.usable_once = true});
  ASSERT_TRUE(tap.ok());
  const std::string pass(tap->pass.view());
  std::atomic<int> accepted{0}, replayed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      Outcome o = env_.Tap(kBob, pass).outcome;
      if (o == Outcome::kAccepted) ++accepted;
      if (o == Outcome::kReplayed) ++replayed;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 1);
  EXPECT_EQ(replayed.load(), 5);
  EXPECT_EQ(TapUsabilityName(env_.taps->Get(kOwner, kBob)->usability), "oneTimeUsed");
  // After a restart the use is still known.
  env_.Close();
  env_.Open();
  EXPECT_EQ(env_.Tap(kBob, pass).outcome, Outcome::kReplayed);
  auto next = env_.taps->Create(kOwner, kBob, {.usable_once = true});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(env_.Tap(kBob, pass).outcome, Outcome::kBadPassword);  // the old one is gone
  EXPECT_EQ(env_.Tap(kBob, next->pass.view()).outcome, Outcome::kAccepted);
}

TEST_F(CredentialsTest, DeletingAPassByIdNeverDeletesThePassThatReplacedIt) {
  auto old_tap = env_.taps->Create(kOwner, kBob, {});
  ASSERT_TRUE(old_tap.ok());
  auto replacement = env_.taps->Create(kOwner, kBob, {});
  ASSERT_TRUE(replacement.ok());
  // An administrator who saw the old pass deletes it by its id after it was replaced.
  EXPECT_TRUE(base::IsNotFound(env_.taps->Delete(kOwner, kBob, old_tap->tap.method.id)));
  EXPECT_EQ(env_.Tap(kBob, replacement->pass.view()).outcome, Outcome::kAccepted);
  EXPECT_TRUE(env_.taps->Delete(kOwner, kBob, replacement->tap.method.id).ok());
  EXPECT_TRUE(base::IsNotFound(env_.taps->Get(kOwner, kBob).status()));
}

TEST_F(CredentialsTest, APhoneCodeIsSentThroughTheOutboxAndAcceptedOnce) {
  ASSERT_TRUE(
      env_.methods
          ->Add(kOwner, kBob, PhonePayload{.type = PhoneType::kMobile, .number = "+1 4255551234"})
          .ok());
  ASSERT_TRUE(
      env_.methods
          ->Add(kOwner, kBob, PhonePayload{.type = PhoneType::kOffice, .number = "+1 4255550000"})
          .ok());
  EXPECT_EQ(env_.Challenge(kBob, "office", "sms").outcome, Outcome::kBadRequest);  // voice only
  EXPECT_EQ(env_.Challenge(kBob, "alternateMobile").outcome, Outcome::kNoMethod);
  EXPECT_EQ(env_.Challenge(kBob, "email").outcome, Outcome::kBadRequest);  // never a factor
  const uint64_t before = LastEventSequence(*env_.store).value();
  SignInResult sent = env_.Challenge(kBob, "mobile");
  ASSERT_EQ(sent.outcome, Outcome::kAccepted);
  EXPECT_EQ(sent.channel, "sms");
  EXPECT_EQ(sent.expires_in_seconds, 300);
  auto events = env_.Events(before);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, events::kSmsSend);
  // The stored event holds the code sealed; only a sink that opens secrets sees it.
  EXPECT_EQ(events[0].data_json.find("code"), std::string::npos);
  auto with_code = EventJson(events[0], env_.keys.get());
  ASSERT_TRUE(with_code.ok());
  auto parsed = boost::json::parse(*with_code).as_object();
  const std::string code(parsed["data"].as_object()["code"].as_string());
  EXPECT_EQ(parsed["data"].as_object()["to"].as_string(), "+1 4255551234");
  ASSERT_EQ(code.size(), 6u);
  auto without = EventJson(events[0], nullptr);
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(without->find(code), std::string::npos);

  std::string wrong = code;
  wrong[0] = wrong[0] == '9' ? '0' : static_cast<char>(wrong[0] + 1);
  EXPECT_EQ(env_.Verify(kBob, wrong).outcome, Outcome::kBadCode);
  SignInResult ok = env_.Verify(kBob, code);
  EXPECT_EQ(ok.outcome, Outcome::kAccepted);
  EXPECT_EQ(ok.method_kind, MethodKind::kPhone);
  EXPECT_EQ(ok.method_id, kMobilePhoneId);
  EXPECT_EQ(env_.Verify(kBob, code).outcome, Outcome::kReplayed);
  // Once used, still used after a restart.
  env_.Close();
  env_.Open();
  EXPECT_EQ(env_.Verify(kBob, code).outcome, Outcome::kReplayed);

  // A voice call to the office phone; the code expires after five minutes.
  SignInResult call = env_.Challenge(kBob, "office");
  ASSERT_EQ(call.outcome, Outcome::kAccepted);
  EXPECT_EQ(call.channel, "voice");
  auto voice = env_.Events(before + 1);
  ASSERT_EQ(voice.back().type, events::kVoiceCall);
  auto voice_json =
      boost::json::parse(EventJson(voice.back(), env_.keys.get()).value()).as_object();
  const std::string voice_code(voice_json["data"].as_object()["code"].as_string());
  env_.clock.Advance(std::chrono::seconds(301));
  EXPECT_EQ(env_.Verify(kBob, voice_code).outcome, Outcome::kNoMethod);
}

TEST_F(CredentialsTest, ChallengesAreRateLimitedPerUser) {
  ASSERT_TRUE(
      env_.methods
          ->Add(kOwner, kBob, PhonePayload{.type = PhoneType::kMobile, .number = "+1 4255551234"})
          .ok());
  for (int i = 0; i < 5; ++i) ASSERT_EQ(env_.Challenge(kBob, "mobile").outcome, Outcome::kAccepted);
  SignInResult limited = env_.Challenge(kBob, "mobile", "voice");
  EXPECT_EQ(limited.outcome, Outcome::kRateLimited);
  EXPECT_GT(limited.retry_after_seconds, 0);
  EXPECT_LE(limited.retry_after_seconds, 900);
  env_.clock.Advance(std::chrono::seconds(limited.retry_after_seconds));
  EXPECT_EQ(env_.Challenge(kBob, "mobile").outcome, Outcome::kAccepted);
}

TEST_F(CredentialsTest, SetPasswordChecksTheCurrentOneAndThePolicy) {
  ASSERT_TRUE(env_.actions->ResetPassword(kOwner, kBob, "temporary password 1").ok());
  auto set = [&](std::string old_password, std::string new_password) {
    return Call([&](ActionCallback done) {
      env_.self_service->SetPassword(
          SetPasswordRequest{
              .user = kBob, .old_password = old_password, .new_password = new_password},
          std::move(done));
    });
  };
  EXPECT_EQ(set("wrong password!!", "a brand new secret").outcome, Outcome::kBadPassword);
  ActionResult weak = set("temporary password 1", "short");
  EXPECT_EQ(weak.outcome, Outcome::kPolicy);
  EXPECT_NE(Field(weak, "detail").find("12 characters"), std::string::npos);
  EXPECT_EQ(set("temporary password 1", "temporary password 1").outcome, Outcome::kPolicy);
  EXPECT_EQ(set("temporary password 1", "a brand new secret").outcome, Outcome::kAccepted);
  SignInResult now = env_.Password(kBob, "a brand new secret");
  EXPECT_EQ(now.outcome, Outcome::kAccepted);
  EXPECT_FALSE(now.must_change);
  EXPECT_EQ(env_.Password(kBob, "temporary password 1").outcome, Outcome::kBadPassword);
}

TEST_F(CredentialsTest, RegistrationWithAPassThenConfirmEndsRegistrationRequired) {
  ASSERT_TRUE(env_.actions->RequireReregistration(kOwner, kBob).ok());
  auto enrol = [&](std::string tap) {
    return Call([&](ActionCallback done) {
      env_.self_service->Enrol(EnrolRequest{.user = kBob, .tap = tap, .name = "my phone"},
                               std::move(done));
    });
  };
  EXPECT_EQ(enrol("").outcome, Outcome::kTapRequired);
  EXPECT_EQ(enrol("NOTTHEPASS12").outcome, Outcome::kBadPassword);
  auto tap = env_.taps->Create(kOwner, kBob, {.usable_once = true});
  ASSERT_TRUE(tap.ok());
  ActionResult enrolled = enrol(std::string(tap->pass.view()));
  ASSERT_EQ(enrolled.outcome, Outcome::kAccepted);
  const std::string method = Field(enrolled, "method");
  auto key = tokenio::ParseOtpauthUri(Field(enrolled, "uri"));
  ASSERT_TRUE(key.ok());
  // The pass was for one use.
  EXPECT_EQ(enrol(std::string(tap->pass.view())).outcome, Outcome::kReplayed);
  auto cred = engine::Credential::Create(key->params, key->secret.span());
  ASSERT_TRUE(cred.ok());
  auto confirm = [&](std::string code) {
    return Call([&](ActionCallback done) {
      env_.self_service->Confirm(ConfirmRequest{.user = kBob, .method = method, .otp = code},
                                 std::move(done));
    });
  };
  const std::string code = cred->TotpAt(env_.clock.NowUnixSeconds());
  std::string wrong = code;
  wrong[5] = wrong[5] == '9' ? '0' : static_cast<char>(wrong[5] + 1);
  EXPECT_EQ(confirm(wrong).outcome, Outcome::kBadCode);
  EXPECT_EQ(env_.Verify(kBob, code).outcome, Outcome::kRegistrationRequired);
  EXPECT_EQ(confirm(code).outcome, Outcome::kAccepted);
  EXPECT_FALSE(env_.directory->GetUser(kBob).value()->record.mfa_registration_required);
  env_.clock.Advance(std::chrono::seconds(30));
  EXPECT_EQ(env_.Verify(kBob, cred->TotpAt(env_.clock.NowUnixSeconds())).outcome,
            Outcome::kAccepted);
  // The confirmation is an event that says so.
  bool confirmed = false;
  for (const auto& e : env_.Events()) {
    if (e.type == events::kMethodConfirmed) {
      confirmed = e.data_json.find("\"registration_completed\":true") != std::string::npos;
    }
  }
  EXPECT_TRUE(confirmed);
  // The user's own changes, and only those, say so for the user to be told; the administrator's
  // re-registration does not.
  std::vector<std::string> told;
  for (const auto& e : env_.Events()) {
    if (e.type == events::kSecurityInfoChanged) {
      EXPECT_EQ(e.user, kBob);
      told.push_back(boost::json::parse(e.data_json).at("change").as_string().c_str());
    }
  }
  EXPECT_EQ(told, (std::vector<std::string>{"software_oath.enrol", "software_oath.confirm"}));
}

TEST_F(CredentialsTest, RegistrationWithoutAPassOnlyWhenAllowedAndRequired) {
  env_.Close();
  env_.self_options.registration_without_tap = true;
  env_.Open();
  auto enrol = [&]() {
    return Call([&](ActionCallback done) {
      env_.self_service->Enrol(EnrolRequest{.user = kBob}, std::move(done));
    });
  };
  EXPECT_EQ(enrol().outcome, Outcome::kTapRequired);  // not registration_required
  ASSERT_TRUE(env_.actions->RequireReregistration(kOwner, kBob).ok());
  EXPECT_EQ(enrol().outcome, Outcome::kAccepted);
}

TEST_F(CredentialsTest, RememberedSessionsAreTokensOfTheirUserOnly) {
  MakeUser("eve@example.com");
  ActionResult made = Call([&](ActionCallback done) {
    env_.self_service->Remember(RememberRequest{.user = kBob, .days = 30}, std::move(done));
  });
  ASSERT_EQ(made.outcome, Outcome::kAccepted);
  const std::string token = Field(made, "session");
  EXPECT_EQ(std::stoll(Field(made, "expires")), env_.clock.NowUnixSeconds() + 30 * 86400);
  EXPECT_EQ(env_.Session(kBob, token).outcome, Outcome::kAccepted);
  EXPECT_EQ(env_.Session("eve@example.com", token).outcome, Outcome::kUnknownSession);
  EXPECT_EQ(Call([&](ActionCallback done) {
              env_.self_service->Remember(RememberRequest{.user = kBob, .days = 366},
                                          std::move(done));
            }).outcome,
            Outcome::kBadRequest);
  // Stored: the SHA-256 of the secret part only.
  bool leaked = false;
  ASSERT_TRUE(env_.store
                  ->Scan(storage::Namespace::kSessions, "",
                         [&](std::string_view, const storage::Record& r) {
                           leaked |= r.value.find(token.substr(17)) != std::string::npos;
                           return true;
                         })
                  .ok());
  EXPECT_FALSE(leaked);
}

}  // namespace
}  // namespace otpd::service
