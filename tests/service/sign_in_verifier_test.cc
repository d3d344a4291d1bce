#include "service/signin/sign_in_verifier.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <thread>

#include "tests/service/service_env.h"

namespace otpd::service {
namespace {

using testing::kAdmin;
using testing::ServiceEnv;

class SignInVerifierTest : public ::testing::Test {
 protected:
  SignInVerifierTest() {
    options_.on_storage_error = [this](const base::Status&) { ++storage_errors_; };
  }

  void SetUp() override {
    verifier_ = std::make_unique<SignInVerifier>(env_.store, *env_.keys, env_.clock, options_);
  }

  // Imports and activates a token for `upn` with `seed`.
  void Activated(const std::string& serial, const std::string& upn,
                 std::string_view seed = "12345678901234567890", engine::OtpParams params = {},
                 ImportOptions import = {}) {
    ImportReport r = env_.Import(ServiceEnv::List(env_.Token(serial, upn, seed, params)), import);
    ASSERT_EQ(r.imported, 1u);
    TokenInventory inv(env_.store, *env_.keys, env_.clock, {}, verifier_.get());
    engine::Credential cred = ServiceEnv::Cred(seed, params);
    std::string code =
        params.type == engine::OtpType::kHotp ? cred.FormatCodeAt(0) : cred.TotpAt(Now());
    auto activated = inv.Activate(serial, code, kAdmin);
    ASSERT_TRUE(activated.ok()) << activated.status();
    ASSERT_EQ(activated->outcome, ActivationOutcome::kActivated);
  }

  int64_t Now() const { return env_.clock.NowUnixSeconds(); }

  SignInResult Verify(std::string_view user, std::string_view otp, std::string_view serial = {}) {
    std::promise<SignInResult> p;
    verifier_->Verify(VerifyRequest{.user = user, .serial = serial, .otp = otp},
                      [&](SignInResult r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

  std::string Wrong(const engine::Credential& c) {
    // A code no step near now matches.
    for (uint32_t guess = 0;; ++guess) {
      bool used = false;
      uint64_t current = engine::TimeStep(c.params(), Now());
      for (uint64_t s = current - 12; s <= current + 12; ++s) used |= c.CodeAt(s) == guess;
      if (!used) return engine::FormatCode(guess, 6);
    }
  }

  uint64_t StoredWatermark(const std::string& serial) {
    auto r = env_.store.Get(storage::Namespace::kState, TokenStateKey(serial));
    EXPECT_TRUE(r.ok() && r->has_value());
    return DecodeCredentialState((*r)->value)->token.watermark;
  }

  ServiceEnv env_;
  SignInOptions options_;
  std::atomic<int> storage_errors_{0};
  std::unique_ptr<SignInVerifier> verifier_;
};

TEST_F(SignInVerifierTest, AcceptsOnceAndPersistsTheWatermark) {
  Activated("S1", "alice@example.com");
  env_.clock.Advance(std::chrono::seconds(60));
  engine::Credential cred = ServiceEnv::Cred();
  const std::string code = cred.TotpAt(Now());
  SignInResult r = Verify("Alice@Example.com", code);
  ASSERT_EQ(r.outcome, Outcome::kAccepted);
  EXPECT_EQ(r.serial, "S1");
  EXPECT_EQ(r.method_kind, MethodKind::kHardwareOath);
  EXPECT_FALSE(r.method_id.empty());
  EXPECT_EQ(r.step, engine::TimeStep(cred.params(), Now()));
  EXPECT_EQ(StoredWatermark("S1"), r.step + 1);
  EXPECT_EQ(Verify("alice@example.com", code).outcome, Outcome::kReplayed);
  // A fresh verifier (a restart) reads the watermark back: still a replay.
  SignInVerifier restarted(env_.store, *env_.keys, env_.clock, options_);
  std::promise<SignInResult> p;
  restarted.Verify({.user = "alice@example.com", .otp = code},
                   [&](SignInResult res) { p.set_value(res); });
  EXPECT_EQ(p.get_future().get().outcome, Outcome::kReplayed);
}

TEST_F(SignInVerifierTest, UnknownNoMethodNotActivated) {
  EXPECT_EQ(Verify("nobody@example.com", "123456").outcome, Outcome::kUnknownUser);
  env_.Import(ServiceEnv::List(env_.Token("S1", "bob@example.com")));  // assigned, not activated
  EXPECT_EQ(Verify("bob@example.com", "123456").outcome, Outcome::kNotActivated);
  EXPECT_EQ(Verify("", "123456", "S1").outcome, Outcome::kNotActivated);
  env_.Import(ServiceEnv::List(env_.Token("S2", "", ServiceEnv::SeedFor(2))));  // unassigned
  EXPECT_EQ(Verify("", "123456", "S2").outcome, Outcome::kNotActivated);
  EXPECT_EQ(Verify("", "123456", "NOPE").outcome, Outcome::kUnknownUser);
  // A user with no OATH method at all.
  TokenInventory inv(env_.store, *env_.keys, env_.clock, {}, verifier_.get());
  ASSERT_TRUE(inv.Unassign("S1", kAdmin).ok());
  EXPECT_EQ(Verify("bob@example.com", "123456").outcome, Outcome::kNoMethod);
}

TEST_F(SignInVerifierTest, MalformedCodeIsABadRequestNotAFailure) {
  Activated("S1", "carol@example.com");
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Verify("carol@example.com", "12ab56").outcome, Outcome::kBadRequest);
  }
  EXPECT_EQ(Verify("carol@example.com", ServiceEnv::Cred().TotpAt(Now() + 30)).outcome,
            Outcome::kAccepted);
}

TEST_F(SignInVerifierTest, LockoutAndExpiry) {
  Activated("S1", "dan@example.com");
  engine::Credential cred = ServiceEnv::Cred();
  const std::string wrong = Wrong(cred);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(Verify("dan@example.com", wrong).outcome, Outcome::kBadCode);
  EXPECT_EQ(Verify("dan@example.com", wrong).outcome, Outcome::kBadCode);  // 5th: now locked
  SignInResult locked = Verify("dan@example.com", cred.TotpAt(Now() + 30));
  EXPECT_EQ(locked.outcome, Outcome::kLocked);
  EXPECT_EQ(locked.retry_after_seconds, 30);
  env_.clock.Advance(std::chrono::seconds(30));
  // The lock has expired; a right code is accepted and clears the failures.
  ASSERT_EQ(Verify("dan@example.com", cred.TotpAt(Now())).outcome, Outcome::kAccepted);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(Verify("dan@example.com", Wrong(cred)).outcome, Outcome::kBadCode);
  // The lockout survives a restart.
  EXPECT_EQ(Verify("dan@example.com", Wrong(cred)).outcome, Outcome::kBadCode);
  SignInVerifier restarted(env_.store, *env_.keys, env_.clock, options_);
  std::promise<SignInResult> p;
  restarted.Verify({.user = "dan@example.com", .otp = cred.TotpAt(Now() + 30)},
                   [&](SignInResult res) { p.set_value(res); });
  EXPECT_EQ(p.get_future().get().outcome, Outcome::kLocked);
}

TEST_F(SignInVerifierTest, OneWrongCodeCountsOnceForManyTokens) {
  Activated("S1", "erin@example.com", "12345678901234567890");
  Activated("S2", "erin@example.com", "abcdefghijklmnopqrst");
  Activated("S3", "erin@example.com", "ABCDEFGHIJKLMNOPQRST");
  const std::string wrong = "000000";
  for (int i = 0; i < 4; ++i) Verify("erin@example.com", wrong);
  // Four wrong codes across three tokens: four failures, not twelve, so not locked yet.
  SignInResult r =
      Verify("erin@example.com", ServiceEnv::Cred("abcdefghijklmnopqrst").TotpAt(Now() + 30));
  EXPECT_EQ(r.outcome, Outcome::kAccepted);
  EXPECT_EQ(r.serial, "S2");
}

// Two tokens of one user with the same seed (imported with --allow-duplicate-seeds): a code
// accepted through one is refused as replayed through the other, however it is asked (the
// UPN's case does not matter) and however many ask at once.
TEST_F(SignInVerifierTest, ACodeUsedThroughOneTokenIsRefusedThroughAnother) {
  Activated("S1", "hal@example.com");
  // The second token starts where the first stands (a seed's watermark follows it), so it is
  // activated with the next code.
  env_.clock.Advance(std::chrono::seconds(30));
  Activated("S2", "hal@example.com", "12345678901234567890", {}, {.allow_duplicate_seeds = true});
  engine::Credential cred = ServiceEnv::Cred();
  for (int round = 0; round < 10; ++round) {
    env_.clock.Advance(std::chrono::seconds(30));
    const std::string code = cred.TotpAt(Now());
    std::atomic<int> accepted{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        const char* spelling[] = {"hal@example.com", "Hal@Example.COM", "HAL@example.com"};
        SignInResult r = Verify(spelling[t % 3], code);
        if (r.outcome == Outcome::kAccepted) ++accepted;
        if (r.outcome != Outcome::kAccepted) {
          EXPECT_EQ(r.outcome, Outcome::kReplayed);
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(accepted.load(), 1) << "round " << round;
    // Sequentially too: through either token, the code is used.
    EXPECT_EQ(Verify("hal@example.com", code).outcome, Outcome::kReplayed);
    EXPECT_EQ(Verify("hal@example.com", code, "S2").outcome, Outcome::kReplayed);
  }
}

// Two different seeds can give the same 6-digit code in the window: a code one credential has
// already accepted is refused through the other, never accepted a second time.
TEST_F(SignInVerifierTest, ACollidingCodeOfAnotherSeedIsNotAcceptedTwice) {
  // Two seeds (found by search) whose HOTP codes at counter 1 are both 975186.
  const engine::OtpParams hotp{.type = engine::OtpType::kHotp};
  const std::string seed_a = ServiceEnv::SeedFor(0), seed_b = "seed-of-token-1566750";
  const std::string code = ServiceEnv::Cred(seed_a, hotp).FormatCodeAt(1);
  ASSERT_EQ(code, "975186");
  ASSERT_EQ(ServiceEnv::Cred(seed_b, hotp).FormatCodeAt(1), code);
  Activated("A", "ivy@example.com", seed_a, hotp);  // both at counter 0
  Activated("B", "ivy@example.com", seed_b, hotp);
  SignInResult first = Verify("ivy@example.com", code);
  ASSERT_EQ(first.outcome, Outcome::kAccepted);
  EXPECT_EQ(Verify("ivy@example.com", code).outcome, Outcome::kReplayed);
  EXPECT_EQ(Verify("ivy@example.com", code).outcome, Outcome::kReplayed);
}

TEST_F(SignInVerifierTest, NearMissReportsDrift) {
  Activated("S1", "fay@example.com");
  engine::Credential cred = ServiceEnv::Cred();
  SignInResult r = Verify("fay@example.com", cred.TotpAt(Now() + 6 * 30));
  EXPECT_EQ(r.outcome, Outcome::kDrift);
  EXPECT_EQ(r.drift, 6);
  // Drift is not a failure: five near misses do not lock.
  for (int i = 0; i < 5; ++i) Verify("fay@example.com", cred.TotpAt(Now() + 6 * 30));
  EXPECT_EQ(Verify("fay@example.com", cred.TotpAt(Now() + 30)).outcome, Outcome::kAccepted);
}

TEST_F(SignInVerifierTest, ResyncRecentresDrift) {
  Activated("S1", "gus@example.com");
  engine::Credential cred = ServiceEnv::Cred();
  const int64_t ahead = 4 * 3600;  // the token's clock jumped 4 hours ahead
  std::promise<SignInResult> p;
  verifier_->Resync({.user = "gus@example.com",
                     .otp = cred.TotpAt(Now() + ahead),
                     .otp2 = cred.TotpAt(Now() + ahead + 30)},
                    [&](SignInResult r) { p.set_value(r); });
  SignInResult r = p.get_future().get();
  ASSERT_EQ(r.outcome, Outcome::kAccepted);
  EXPECT_EQ(r.drift, ahead / 30 + 1);
  env_.clock.Advance(std::chrono::seconds(60));
  EXPECT_EQ(Verify("gus@example.com", cred.TotpAt(Now() + ahead)).outcome, Outcome::kAccepted);
}

TEST_F(SignInVerifierTest, HotpTokens) {
  engine::OtpParams hotp{
      .type = engine::OtpType::kHotp, .algorithm = engine::HashAlgorithm::kSha512, .digits = 8};
  Activated("H1", "hal@example.com", "12345678901234567890123456789012", hotp);
  engine::Credential cred = ServiceEnv::Cred("12345678901234567890123456789012", hotp);
  EXPECT_EQ(Verify("hal@example.com", cred.FormatCodeAt(1)).outcome, Outcome::kAccepted);
  EXPECT_EQ(Verify("hal@example.com", cred.FormatCodeAt(5)).outcome, Outcome::kAccepted);
  EXPECT_EQ(Verify("hal@example.com", cred.FormatCodeAt(3)).outcome, Outcome::kReplayed);
  EXPECT_EQ(StoredWatermark("H1"), 6u);
}

TEST_F(SignInVerifierTest, ConcurrentReplayGetsExactlyOneAcceptance) {
  Activated("S1", "ida@example.com");
  engine::Credential cred = ServiceEnv::Cred();
  for (int round = 0; round < 20; ++round) {
    env_.clock.Advance(std::chrono::seconds(30));
    const std::string code = cred.TotpAt(Now());
    std::atomic<int> accepted{0}, replayed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&] {
        SignInResult r = Verify("ida@example.com", code);
        if (r.outcome == Outcome::kAccepted) ++accepted;
        if (r.outcome == Outcome::kReplayed) ++replayed;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(accepted.load(), 1) << "round " << round;
    EXPECT_EQ(replayed.load(), 7) << "round " << round;
  }
}

TEST_F(SignInVerifierTest, StorageFailureAnswersUnavailableAndNeverRewinds) {
  Activated("S1", "jo@example.com");
  engine::Credential cred = ServiceEnv::Cred();
  env_.clock.Advance(std::chrono::seconds(30));
  const uint64_t before = StoredWatermark("S1");
  env_.store.SetFailSync(true);
  const std::string code = cred.TotpAt(Now());
  EXPECT_EQ(Verify("jo@example.com", code).outcome, Outcome::kUnavailable);
  // Nothing was written, and the same code is still refused: the cache kept the stricter state.
  EXPECT_EQ(StoredWatermark("S1"), before);
  EXPECT_EQ(Verify("jo@example.com", code).outcome, Outcome::kReplayed);
  EXPECT_EQ(Verify("jo@example.com", Wrong(cred)).outcome, Outcome::kUnavailable);
  EXPECT_EQ(storage_errors_.load(), 2);  // both failed commits were reported for the log
  env_.store.ClearFaults();
  // Recovers when the fault clears.
  const std::string next = cred.TotpAt(Now() + 30);
  EXPECT_EQ(Verify("jo@example.com", next).outcome, Outcome::kAccepted);
  EXPECT_GT(StoredWatermark("S1"), before);
}

TEST_F(SignInVerifierTest, InvalidationSeesAdminChanges) {
  Activated("S1", "kim@example.com");
  engine::Credential cred = ServiceEnv::Cred();
  EXPECT_EQ(Verify("kim@example.com", cred.TotpAt(Now() + 30)).outcome, Outcome::kAccepted);
  TokenInventory inv(env_.store, *env_.keys, env_.clock, {}, verifier_.get());
  ASSERT_TRUE(inv.Deactivate("S1", kAdmin).ok());
  EXPECT_EQ(Verify("kim@example.com", cred.TotpAt(Now() + 60)).outcome, Outcome::kNotActivated);
}

}  // namespace
}  // namespace otpd::service
