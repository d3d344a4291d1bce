// The sign-in decision on its own: no store, no cache, no threads.

#include "service/signin/sign_in_decision.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace otpd::service {
namespace {

constexpr int64_t kNow = 1'800'000'000;

engine::Credential Totp(std::string_view seed) {
  return std::move(
      engine::Credential::Create(
          {}, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(seed.data()), seed.size()))
          .value());
}

class DecisionTest : public ::testing::Test {
 protected:
  SignInDecision Decide(std::string_view otp, std::string_view serial = {}) {
    UserInput user{.exists = true, .lockout = lockout_, .credentials = inputs_};
    return DecideSignIn(user, Attempt{.serial = serial, .otp = otp}, kNow, policy_);
  }
  void Add(const engine::Credential& c, std::string_view serial, bool usable = true,
           engine::TokenState state = {}) {
    inputs_.push_back(CredentialInput{&c, state, serial, usable});
  }

  engine::Credential a_ = Totp("first seed of 20 byt");
  engine::Credential b_ = Totp("other seed of 20 byt");
  std::vector<CredentialInput> inputs_;
  engine::LockoutState lockout_;
  SignInPolicy policy_;
};

TEST_F(DecisionTest, AcceptanceAdvancesTheMatchedCredentialOnly) {
  Add(a_, "A");
  Add(b_, "B");
  SignInDecision d = Decide(b_.TotpAt(kNow));
  ASSERT_EQ(d.outcome, Outcome::kAccepted);
  EXPECT_EQ(d.matched, 1);
  EXPECT_TRUE(d.advances);
  EXPECT_EQ(d.verdict.new_state.watermark, engine::TimeStep(b_.params(), kNow) + 1);
  EXPECT_FALSE(d.lockout.has_value());  // nothing to clear
  // Both credentials tried: B's window (5 steps), A's window and its near-miss band (21).
  EXPECT_EQ(d.hashes, 26u);
}

TEST_F(DecisionTest, AReplayOnAnyCredentialWins) {
  const uint64_t step = engine::TimeStep(a_.params(), kNow);
  Add(a_, "A", true, {.watermark = step + 1});  // the code was used through A
  Add(a_, "A2");                                // the same seed, fresh
  SignInDecision d = Decide(a_.TotpAt(kNow));
  EXPECT_EQ(d.outcome, Outcome::kReplayed);
  EXPECT_FALSE(d.advances);
  EXPECT_FALSE(d.lockout.has_value());
}

TEST_F(DecisionTest, WrongCodeCountsOneFailureForTheUser) {
  Add(a_, "A");
  Add(b_, "B");
  // A code neither token shows anywhere near now.
  const uint64_t step = engine::TimeStep(a_.params(), kNow);
  uint32_t wrong = 0;
  for (bool used = true; used; ++wrong) {
    used = false;
    for (uint64_t s = step - 12; s <= step + 12; ++s) {
      used |= a_.CodeAt(s) == wrong || b_.CodeAt(s) == wrong;
    }
    if (!used) break;
  }
  SignInDecision d = Decide(engine::FormatCode(wrong, 6));
  ASSERT_EQ(d.outcome, Outcome::kBadCode);
  ASSERT_TRUE(d.lockout.has_value());
  EXPECT_EQ(d.lockout->failures, 1u);
  EXPECT_EQ(d.lockout->last_failure, kNow);
}

TEST_F(DecisionTest, TheOrderOfRefusals) {
  Add(a_, "A", /*usable=*/false);
  EXPECT_EQ(Decide(a_.TotpAt(kNow)).outcome, Outcome::kNotActivated);
  EXPECT_EQ(Decide(a_.TotpAt(kNow), "NOPE").outcome, Outcome::kNotActivated);
  inputs_.clear();
  EXPECT_EQ(Decide(a_.TotpAt(kNow)).outcome, Outcome::kNoMethod);
  Add(a_, "A");
  EXPECT_EQ(Decide("12ab56").outcome, Outcome::kBadRequest);
  lockout_ = {.failures = 5, .locked_until = kNow + 30};
  SignInDecision locked = Decide(a_.TotpAt(kNow));
  EXPECT_EQ(locked.outcome, Outcome::kLocked);
  EXPECT_EQ(locked.retry_after_seconds, 30);
  EXPECT_EQ(locked.hashes, 0u);  // no code is checked while locked
  UserInput unknown;
  EXPECT_EQ(DecideSignIn(unknown, Attempt{.otp = "123456"}, kNow, policy_).outcome,
            Outcome::kUnknownUser);
  UserInput reregister{.exists = true, .registration_required = true, .credentials = inputs_};
  EXPECT_EQ(DecideSignIn(reregister, Attempt{.otp = "123456"}, kNow, policy_).outcome,
            Outcome::kRegistrationRequired);
}

TEST_F(DecisionTest, SuccessClearsFailures) {
  Add(a_, "A");
  lockout_ = {.failures = 3, .last_failure = kNow - 10};
  SignInDecision d = Decide(a_.TotpAt(kNow));
  ASSERT_EQ(d.outcome, Outcome::kAccepted);
  ASSERT_TRUE(d.lockout.has_value());
  EXPECT_EQ(*d.lockout, engine::LockoutState{});
}

}  // namespace
}  // namespace otpd::service
