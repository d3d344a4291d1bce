// The authentication administrator's actions (service/admin/user_actions.h) and the factors they
// govern, against a RocksDB data directory: password resets and PASSWORD, re-registration and
// VERIFY, session revocation and SESSION; their role boundaries, audit records and events.

#include "service/admin/user_actions.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

#include "service/admin/audit.h"
#include "tests/service/actions_env.h"

namespace otpd::service {
namespace {

using testing::ActionsEnv;
using testing::kOwner;
using testing::WithRoles;

const std::string kAlice = "alice@example.com";
const std::string kSeed = "alice token seed 20b";

class UserActionsTest : public ::testing::Test {
 protected:
  void MakeUser(const std::string& upn, std::vector<std::string> roles = {}) {
    UserAdmin users(*env_.directory, env_.clock, env_.verifier.get());
    bool created = false;
    ASSERT_TRUE(users.Put(kOwner, upn, "", &created).ok());
    if (!roles.empty()) {
      ASSERT_TRUE(users.Patch(kOwner, upn, std::nullopt, roles).ok());
    }
  }

  std::vector<AuditRecord> Audit(const std::string& action) {
    std::vector<AuditRecord> out;
    EXPECT_TRUE(ListAudit(*env_.store, AuditFilter{.action = action}, "",
                          [&](std::string_view, const AuditRecord& a) {
                            out.push_back(a);
                            return true;
                          })
                    .ok());
    return out;
  }

  std::vector<OutboxEvent> EventsOf(std::string_view type) {
    std::vector<OutboxEvent> out;
    for (auto& e : env_.Events()) {
      if (e.type == type) out.push_back(std::move(e));
    }
    return out;
  }

  ActionsEnv env_;
};

TEST_F(UserActionsTest, AGeneratedPasswordIsShownOnceAndMustBeChanged) {
  MakeUser(kAlice);
  auto reset = env_.actions->ResetPassword(kOwner, kAlice, std::nullopt);
  ASSERT_TRUE(reset.ok()) << reset.status();
  ASSERT_TRUE(reset->generated.has_value());
  const std::string password(reset->generated->view());
  EXPECT_TRUE(CheckPasswordPolicy(password, kAlice).ok());
  EXPECT_TRUE(reset->operation_id.starts_with("op_"));
  EXPECT_EQ(env_.actions->PasswordResetStatus(kOwner, kAlice, reset->operation_id).value(),
            "succeeded");
  EXPECT_TRUE(base::IsNotFound(
      env_.actions->PasswordResetStatus(kOwner, kAlice, "op_0000000000000000").status()));
  auto op = env_.actions->GetPasswordReset(kOwner, kAlice, reset->operation_id);
  ASSERT_TRUE(op.ok()) << op.status();
  EXPECT_EQ(op->id, reset->operation_id);
  EXPECT_EQ(op->status, "succeeded");
  EXPECT_GT(op->time_micros, 0);
  // The operation is this user's only.
  MakeUser("bob@example.com");
  EXPECT_TRUE(base::IsNotFound(
      env_.actions->GetPasswordReset(kOwner, "bob@example.com", reset->operation_id).status()));

  SignInResult ok = env_.Password(kAlice, password);
  EXPECT_EQ(ok.outcome, Outcome::kAccepted);
  EXPECT_TRUE(ok.must_change);
  EXPECT_EQ(env_.Password(kAlice, password + "x").outcome, Outcome::kBadPassword);

  // Only the hash is stored, and neither the audit record nor the event holds the password.
  auto methods = env_.directory->ReadMethods(kAlice);
  ASSERT_TRUE(methods.ok());
  for (const auto& m : *methods) {
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(EncodeMethod(*m).find(password), std::string::npos);
  }
  auto audit = Audit("password.reset");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].actor, "test-owner");
  EXPECT_EQ(audit[0].detail.find(password), std::string::npos);
  auto events = EventsOf(events::kPasswordReset);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].user, kAlice);
  EXPECT_EQ(events[0].data_json.find(password), std::string::npos);
}

TEST_F(UserActionsTest, AGivenPasswordMustMeetThePolicy) {
  MakeUser(kAlice);
  for (const char* weak : {"short", "alice@example.com", "aaaaaaaaaaaaaaaa", "my-alice-password"}) {
    EXPECT_TRUE(base::IsInvalidArgument(env_.actions->ResetPassword(kOwner, kAlice, weak).status()))
        << weak;
  }
  auto reset = env_.actions->ResetPassword(kOwner, kAlice, "correct horse battery");
  ASSERT_TRUE(reset.ok()) << reset.status();
  EXPECT_FALSE(reset->generated.has_value());
  EXPECT_EQ(env_.Password("ALICE@example.com", "correct horse battery").outcome,
            Outcome::kAccepted);
}

TEST_F(UserActionsTest, RoleBoundariesAreKeptAndRefusalsAudited) {
  MakeUser(kAlice);
  MakeUser("boss@example.com", {"privileged_authentication_administrator"});
  const Principal helpdesk =
      WithRoles("apikey:helpdesk", {Role::kAuthenticationAdministrator}, "helper@example.com");
  const Principal privileged =
      WithRoles("apikey:priv", {Role::kPrivilegedAuthenticationAdministrator}, "boss@example.com");
  const Principal reader = WithRoles("apikey:ro", {Role::kReader});

  EXPECT_TRUE(env_.actions->ResetPassword(helpdesk, kAlice, std::nullopt).ok());
  // An authentication administrator cannot act on a user holding an administrative role.
  EXPECT_TRUE(base::IsPermissionDenied(
      env_.actions->ResetPassword(helpdesk, "boss@example.com", std::nullopt).status()));
  EXPECT_TRUE(base::IsPermissionDenied(
      env_.actions->RequireReregistration(helpdesk, "boss@example.com").status()));
  EXPECT_TRUE(base::IsPermissionDenied(
      env_.actions->RevokeMfaSessions(helpdesk, "boss@example.com").status()));
  // Nobody resets their own password through the administrator's reset, however privileged.
  EXPECT_TRUE(base::IsPermissionDenied(
      env_.actions->ResetPassword(privileged, "Boss@Example.com", std::nullopt).status()));
  EXPECT_TRUE(env_.actions->RevokeMfaSessions(privileged, "boss@example.com").ok());
  // A reader changes nothing.
  EXPECT_TRUE(
      base::IsPermissionDenied(env_.actions->ResetPassword(reader, kAlice, std::nullopt).status()));
  EXPECT_TRUE(
      base::IsPermissionDenied(env_.actions->RequireReregistration(reader, kAlice).status()));
  EXPECT_TRUE(
      base::IsPermissionDenied(env_.app_passwords->Create(reader, kAlice, "mail").status()));
  EXPECT_TRUE(base::IsPermissionDenied(env_.taps->Create(reader, kAlice, {}).status()));
  // A user acting for themselves is no administrator: they sign their own remembered sessions
  // out (Security info), nobody else's, and require nothing.
  EXPECT_TRUE(base::IsPermissionDenied(
      env_.actions->RevokeMfaSessions(Principal::SelfService(kAlice), "boss@example.com")
          .status()));
  EXPECT_TRUE(base::IsPermissionDenied(
      env_.actions->RequireReregistration(Principal::SelfService(kAlice), kAlice).status()));
  EXPECT_TRUE(env_.actions->RevokeMfaSessions(Principal::SelfService(kAlice), kAlice).ok());
  // Every refusal is in the audit log, with who tried.
  int refused = 0;
  for (const auto& a : Audit("password.reset")) refused += a.result != "ok";
  EXPECT_EQ(refused, 3);
  EXPECT_TRUE(base::IsNotFound(
      env_.actions->ResetPassword(kOwner, "nobody@example.com", std::nullopt).status()));
  EXPECT_TRUE(base::IsInvalidArgument(
      env_.actions->ResetPassword(kOwner, "not an address", std::nullopt).status()));
}

TEST_F(UserActionsTest, PasswordFailuresCountTowardTheSameLockoutAsCodes) {
  engine::Credential cred = env_.HardwareToken("HW1", kAlice, kSeed);
  ASSERT_TRUE(env_.actions->ResetPassword(kOwner, kAlice, "correct horse battery").ok());
  // Two wrong codes and three wrong passwords: five failures lock the user.
  EXPECT_EQ(env_.Verify(kAlice, "000000").outcome, Outcome::kBadCode);
  EXPECT_EQ(env_.Verify(kAlice, "000001").outcome, Outcome::kBadCode);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(env_.Password(kAlice, "wrong password " + std::to_string(i)).outcome,
              Outcome::kBadPassword);
  }
  SignInResult locked = env_.Password(kAlice, "correct horse battery");
  EXPECT_EQ(locked.outcome, Outcome::kLocked);
  EXPECT_GT(locked.retry_after_seconds, 0);
  env_.clock.Advance(std::chrono::seconds(31));
  EXPECT_EQ(env_.Verify(kAlice, cred.TotpAt(env_.clock.NowUnixSeconds())).outcome,
            Outcome::kAccepted);
  // The lock was an event, with the failure count.
  auto locks = EventsOf(events::kUserLocked);
  ASSERT_EQ(locks.size(), 1u);
  EXPECT_NE(locks[0].data_json.find("\"failures\":5"), std::string::npos);
  // A success cleared the count: four more wrong passwords do not lock.
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(env_.Password(kAlice, "nope nope nope").outcome, Outcome::kBadPassword);
  EXPECT_EQ(env_.Password(kAlice, "correct horse battery").outcome, Outcome::kAccepted);
}

TEST_F(UserActionsTest, UnknownUsersAndUsersWithoutAPassword) {
  MakeUser(kAlice);
  EXPECT_EQ(env_.Password("nobody@example.com", "whatever it is").outcome, Outcome::kUnknownUser);
  EXPECT_EQ(env_.Password(kAlice, "whatever it is").outcome, Outcome::kBadPassword);
}

TEST_F(UserActionsTest, ReregistrationDeactivatesTokensAndDeletesPhonesAndApps) {
  env_.HardwareToken("HW1", kAlice, kSeed);
  env_.HardwareToken("HW2", kAlice, "a second token seed..");
  ASSERT_TRUE(env_.Inventory().Deactivate("HW2", kOwner).ok());  // already not active
  ASSERT_TRUE(
      env_.methods
          ->Add(kOwner, kAlice, PhonePayload{.type = PhoneType::kMobile, .number = "+1 4255551234"})
          .ok());
  ASSERT_TRUE(
      env_.methods
          ->Add(kOwner, kAlice, PhonePayload{.type = PhoneType::kOffice, .number = "+1 4255550000"})
          .ok());
  auto app = env_.methods->EnrolSoftwareToken(kOwner, kAlice, "phone app");
  ASSERT_TRUE(app.ok());
  ASSERT_TRUE(
      env_.methods->Add(kOwner, kAlice, EmailPayload{.address = "alice@home.example"}).ok());
  ASSERT_TRUE(env_.actions->ResetPassword(kOwner, kAlice, "correct horse battery").ok());
  auto tap = env_.taps->Create(kOwner, kAlice, {});
  ASSERT_TRUE(tap.ok());

  auto result = env_.actions->RequireReregistration(kOwner, kAlice);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->deactivated_tokens, std::vector<std::string>{"HW1"});
  std::set<std::string> deleted;
  for (const auto& m : result->deleted_methods) deleted.insert(m.id);
  EXPECT_EQ(deleted, (std::set<std::string>{std::string(kMobilePhoneId),
                                            std::string(kOfficePhoneId), app->method.id}));
  // The tokens stay assigned; what else the user had stays.
  EXPECT_EQ(env_.Inventory().Get("HW1")->status, TokenStatus::kAssigned);
  EXPECT_EQ(env_.Inventory().Get("HW1")->assigned_to, kAlice);
  std::set<MethodKind> kinds;
  auto listed = env_.methods->List(kOwner, kAlice);
  ASSERT_TRUE(listed.ok());
  for (const auto& m : *listed) kinds.insert(m.kind());
  EXPECT_EQ(kinds, (std::set<MethodKind>{MethodKind::kHardwareOath, MethodKind::kEmail,
                                         MethodKind::kPassword, MethodKind::kTemporaryAccessPass}));
  EXPECT_TRUE(env_.directory->GetUser(kAlice).value()->record.mfa_registration_required);
  EXPECT_EQ(env_.Verify(kAlice, "123456").outcome, Outcome::kRegistrationRequired);
  EXPECT_EQ(env_.Password(kAlice, "correct horse battery").outcome, Outcome::kAccepted);

  auto events = EventsOf(events::kUserReregistrationRequired);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].data_json.find("\"deactivated_tokens\":[\"HW1\"]"), std::string::npos)
      << events[0].data_json;
  EXPECT_NE(events[0].data_json.find(app->method.id), std::string::npos);
  ASSERT_EQ(Audit("user.require_reregistration").size(), 1u);
}

// The guarantee, attacked: a stream of valid codes races the re-registration, over many rounds.
// Once RequireReregistration has returned, no code is accepted: neither one sent afterwards nor
// one decided before whose commit would land after it.
TEST_F(UserActionsTest, NoCodeIsAcceptedAfterReregistrationReturned) {
  const std::string upn = "race@example.com";
  const engine::OtpParams hotp{.type = engine::OtpType::kHotp};
  Importer importer(*env_.store, *env_.keys, env_.clock, {}, {.file_name = "race"});
  tokenio::TokenRecord t;
  t.position = 1;
  t.serial = "RR1";
  t.upn = upn;
  t.params = hotp;
  t.seed = base::SecretBytes::FromString(kSeed);
  ASSERT_TRUE(importer.OnToken(std::move(t)).ok());
  ASSERT_TRUE(importer.Finish().ok());
  auto s = base::SecretBytes::FromString(kSeed);
  engine::Credential cred = std::move(engine::Credential::Create(hotp, s.span()).value());
  std::atomic<uint64_t> next{0};
  // The highest counter accepted (activation included): the token's next counter is one above.
  // Codes tried after the change and refused do not move it, however many there were.
  std::atomic<uint64_t> last_accepted{0};
  auto accepted = [&](uint64_t counter) {
    uint64_t seen = last_accepted.load();
    while (seen < counter && !last_accepted.compare_exchange_weak(seen, counter)) {
    }
  };
  auto activate = [&] {
    auto r = env_.Inventory().Activate("RR1", cred.FormatCodeAt(next.load()), kOwner);
    ASSERT_TRUE(r.ok() && r->outcome == ActivationOutcome::kActivated);
    accepted(next.load());
    next = next.load() + 1;
  };
  activate();
  // Up to 2000 rounds, within 45 s (a sanitized build on a busy machine does fewer).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(45);
  std::mt19937 random(11);
  int accepted_total = 0, violations = 0, rounds = 0;
  for (; rounds < 2000 && std::chrono::steady_clock::now() < deadline; ++rounds) {
    std::atomic<bool> returned{false};
    std::mutex mu;
    std::vector<bool> accepted_after;
    auto signer = [&] {
      for (;;) {
        const bool after = returned.load();
        const uint64_t counter = next.fetch_add(1);
        if (env_.Verify(upn, cred.FormatCodeAt(counter)).outcome == Outcome::kAccepted) {
          accepted(counter);
          std::lock_guard lock(mu);
          accepted_after.push_back(after);
        }
        if (after) return;
      }
    };
    std::thread a(signer), b(signer);
    // The change lands while the signers are at it: once one of their codes was accepted (so the
    // race is run whatever the machine's speed), after a varying delay.
    for (int wait = 0; wait < 20'000; ++wait) {
      {
        std::lock_guard lock(mu);
        if (!accepted_after.empty()) break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 500));
    auto r = env_.actions->RequireReregistration(kOwner, upn);
    ASSERT_TRUE(r.ok()) << r.status();
    // The re-registration reports the token it deactivated.
    ASSERT_EQ(r->deactivated_tokens.size(), 1u);
    returned = true;
    a.join();
    b.join();
    for (bool after : accepted_after) violations += after;
    accepted_total += static_cast<int>(accepted_after.size());
    // The user registers again: the token is activated with its next code (ending
    // registration_required).
    next = last_accepted.load() + 1;
    activate();
    ASSERT_FALSE(env_.directory->GetUser(upn).value()->record.mfa_registration_required);
  }
  std::printf("[figure] re-registration race: %d rounds, %d codes accepted around them\n", rounds,
              accepted_total);
  EXPECT_EQ(violations, 0);
  EXPECT_GE(rounds, 300);
  EXPECT_GT(accepted_total, rounds / 4);  // the race was run
}

TEST_F(UserActionsTest, RevokingSessionsIsOneWriteAndEndsEverySession) {
  MakeUser(kAlice);
  auto one = RememberSession(*env_.directory, env_.clock, kAlice, 90, 50);
  auto two = RememberSession(*env_.directory, env_.clock, kAlice, 1, 50);
  ASSERT_TRUE(one.ok() && two.ok());
  EXPECT_EQ(env_.Session(kAlice, one->token.view()).outcome, Outcome::kAccepted);
  EXPECT_EQ(env_.Session(kAlice, two->token.view()).outcome, Outcome::kAccepted);
  std::string forged(one->token.view());
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(env_.Session(kAlice, forged).outcome, Outcome::kUnknownSession);
  EXPECT_EQ(env_.Session(kAlice, "0123456789abcdef.nothing").outcome, Outcome::kUnknownSession);
  EXPECT_EQ(env_.Session(kAlice, "garbage").outcome, Outcome::kUnknownSession);
  EXPECT_EQ(env_.Session("nobody@example.com", one->token.view()).outcome, Outcome::kUnknownUser);

  env_.clock.Advance(std::chrono::hours(25));
  EXPECT_EQ(env_.Session(kAlice, two->token.view()).outcome, Outcome::kExpired);

  const auto groups_before = env_.store->pipeline_stats().committed;
  auto epoch = env_.actions->RevokeMfaSessions(kOwner, kAlice);
  ASSERT_TRUE(epoch.ok());
  EXPECT_EQ(*epoch, 1u);
  EXPECT_EQ(env_.store->pipeline_stats().committed, groups_before + 1);  // one batch
  EXPECT_EQ(env_.Session(kAlice, one->token.view()).outcome, Outcome::kRevoked);
  // A session remembered after the revocation works.
  auto three = RememberSession(*env_.directory, env_.clock, kAlice, 90, 50);
  ASSERT_TRUE(three.ok());
  EXPECT_EQ(three->record.epoch, 1u);
  EXPECT_EQ(env_.Session(kAlice, three->token.view()).outcome, Outcome::kAccepted);
  EXPECT_EQ(EventsOf(events::kSessionsRevoked).size(), 1u);
}

// A SESSION decided while the revocation lands is either answered before the revocation
// returned or refused: after it returned, no OK for an old session.
TEST_F(UserActionsTest, NoSessionIsAcceptedAfterTheRevocationReturned) {
  MakeUser(kAlice);
  int violations = 0, accepted = 0;
  for (int round = 0; round < 150; ++round) {
    auto session = RememberSession(*env_.directory, env_.clock, kAlice, 90, 50);
    ASSERT_TRUE(session.ok());
    const std::string token(session->token.view());
    std::atomic<bool> returned{false};
    std::atomic<int> bad{0}, ok{0};
    auto checker = [&] {
      for (;;) {
        const bool after = returned.load();
        if (env_.Session(kAlice, token).outcome == Outcome::kAccepted) {
          ++ok;
          if (after) ++bad;
        }
        if (after) return;
      }
    };
    std::thread a(checker), b(checker);
    // The revocation lands while the checkers are at it: once one of them has had an answer (so
    // the race is run whatever the machine's speed), after a varying delay.
    for (int wait = 0; ok.load() == 0 && wait < 20'000; ++wait) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(round % 200));
    ASSERT_TRUE(env_.actions->RevokeMfaSessions(kOwner, kAlice).ok());
    returned = true;
    a.join();
    b.join();
    violations += bad.load();
    accepted += ok.load();
  }
  EXPECT_EQ(violations, 0);
  EXPECT_GT(accepted, 50);  // the race was run
}

// An administrator's reset that lands while a PASSWORD with the old password is being checked:
// after the reset returned, the old password is never accepted.
TEST_F(UserActionsTest, NoOldPasswordIsAcceptedAfterTheResetReturned) {
  MakeUser(kAlice);
  std::string current = "initial password 0";
  ASSERT_TRUE(env_.actions->ResetPassword(kOwner, kAlice, current).ok());
  int violations = 0, accepted = 0;
  for (int round = 1; round <= 60; ++round) {
    std::atomic<bool> returned{false};
    std::atomic<bool> started{false};
    std::atomic<int> bad{0}, ok{0};
    const std::string old = current;
    auto checker = [&] {
      for (;;) {
        const bool after = returned.load();
        if (env_.Password(kAlice, old).outcome == Outcome::kAccepted) {
          ++ok;
          if (after) ++bad;
        }
        started = true;
        if (after) return;
      }
    };
    std::thread a(checker);
    // The reset starts once a check has been decided (scrypt is slow on a loaded machine), so
    // that every round has checks before, during and after it.
    while (!started.load()) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::microseconds(200 + (round * 37) % 800));
    current = "rotated password " + std::to_string(round);
    ASSERT_TRUE(env_.actions->ResetPassword(kOwner, kAlice, current).ok());
    returned = true;
    a.join();
    violations += bad.load();
    accepted += ok.load();
  }
  EXPECT_EQ(violations, 0);
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace otpd::service
