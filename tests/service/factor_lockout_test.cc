// CONFIRM (an authenticator app's enrolment confirmed with a code from the app) against the
// user's lockout and the audit log: its wrong codes count toward the same lockout as VERIFY's,
// a locked user's right code is refused, and a flood of wrong codes leaves a bounded number of
// audit records that carry the count (service/signin/self_service.h, service/admin/audit.h).
// Against a RocksDB data directory.

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "service/admin/audit.h"
#include "tests/service/actions_env.h"
#include "tests/testing/pending_app.h"

namespace otpd::service {
namespace {

using testing::ActionsEnv;
using testing::Await;
using testing::kOwner;

const std::string kBob = "bob@example.com";
const std::string kBobSeed = "bob's hardware seed.";

class FactorLockoutTest : public ::testing::Test {
 protected:
  void SetUp() override { Prepare(); }

  // Bob with an activated hardware token and an app enrolled, waiting for its code.
  void Prepare() {
    UserAdmin users(*env_.directory, env_.clock, env_.verifier.get());
    bool created = false;
    ASSERT_TRUE(users.Put(kOwner, kBob, "", &created).ok());
    hardware_ = env_.HardwareToken("B1", kBob, kBobSeed);
    env_.clock.Advance(std::chrono::seconds(30));  // past the code the activation used
    auto app = otpd::testing::EnrolPendingApp(*env_.methods, kOwner, kBob);
    ASSERT_TRUE(app.ok()) << app.status();
    method_ = app->method_id;
    app_ = std::move(app->credential);
  }

  // Reopens with `threshold` failures before a lock and failures committed without an fsync
  // each (the floods below would otherwise wait for thousands).
  void Reopen(uint32_t threshold) {
    env_.Close();
    env_.sign_in.lockout.threshold = threshold;
    env_.sign_in.failure_durability = storage::Durability::kRelaxed;
    env_.Open();
  }

  ActionResult Confirm(const std::string& code) {
    return Await<ActionResult>([&](ActionCallback done) {
      env_.self_service->Confirm(ConfirmRequest{.user = kBob, .method = method_, .otp = code},
                                 std::move(done));
    });
  }

  std::string AppCode() const { return app_->TotpAt(env_.clock.NowUnixSeconds()); }
  std::string HardwareCode() const { return hardware_->TotpAt(env_.clock.NowUnixSeconds()); }

  // The i-th six-digit code that is not one the app would accept around now: what someone
  // walking the code space tries.
  std::string WrongCode(int i) const {
    return otpd::testing::WrongAppCode(*app_, env_.clock.NowUnixSeconds(), i);
  }

  // The audit records of `action` on Bob.
  std::vector<AuditRecord> Audit(const std::string& action) {
    std::vector<AuditRecord> out;
    base::Status s = ListAudit(*env_.store, {.target = "user/" + kBob, .action = action}, "",
                               [&](std::string_view, const AuditRecord& a) {
                                 out.push_back(a);
                                 return true;
                               });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }

  ActionsEnv env_;
  std::optional<engine::Credential> hardware_;
  std::optional<engine::Credential> app_;
  std::string method_;
};

TEST_F(FactorLockoutTest, WrongConfirmCodesLockTheUserOnEveryDoor) {
  const uint32_t threshold = env_.sign_in.lockout.threshold;
  for (uint32_t i = 0; i < threshold; ++i) {
    EXPECT_EQ(Confirm(WrongCode(static_cast<int>(i))).outcome, Outcome::kBadCode) << i;
  }
  // The right code now is refused like VERIFY's, and VERIFY is locked too.
  ActionResult right = Confirm(AppCode());
  EXPECT_EQ(right.outcome, Outcome::kLocked);
  EXPECT_GT(right.retry_after_seconds, 0);
  SignInResult verify = env_.Verify(kBob, HardwareCode());
  EXPECT_EQ(verify.outcome, Outcome::kLocked);
  EXPECT_GT(verify.retry_after_seconds, 0);
  EXPECT_EQ(env_.Password(kBob, "any password at all").outcome, Outcome::kLocked);
  // Once the lock is over the app is confirmed with its code, and the failures are cleared.
  env_.clock.Advance(std::chrono::seconds(verify.retry_after_seconds + 1));
  EXPECT_EQ(Confirm(AppCode()).outcome, Outcome::kAccepted);
  env_.clock.Advance(std::chrono::seconds(30));
  EXPECT_EQ(env_.Verify(kBob, AppCode()).outcome, Outcome::kAccepted);
}

TEST_F(FactorLockoutTest, FailuresOnOtherDoorsLockConfirm) {
  const uint32_t threshold = env_.sign_in.lockout.threshold;
  ASSERT_GE(threshold, 2u);
  // Wrong codes at VERIFY, then one more at CONFIRM: the lock starts there.
  for (uint32_t i = 0; i + 1 < threshold; ++i) {
    EXPECT_EQ(env_.Verify(kBob, "000000").outcome, Outcome::kBadCode);
  }
  EXPECT_EQ(Confirm(WrongCode(1)).outcome, Outcome::kBadCode);
  EXPECT_EQ(Confirm(AppCode()).outcome, Outcome::kLocked);
  EXPECT_EQ(env_.Verify(kBob, HardwareCode()).outcome, Outcome::kLocked);
}

TEST_F(FactorLockoutTest, ARightConfirmClearsTheFailuresAsVerifyDoes) {
  const uint32_t threshold = env_.sign_in.lockout.threshold;
  for (uint32_t i = 0; i + 1 < threshold; ++i) {
    EXPECT_EQ(Confirm(WrongCode(static_cast<int>(i))).outcome, Outcome::kBadCode);
  }
  EXPECT_EQ(Confirm(AppCode()).outcome, Outcome::kAccepted);
  // The count starts again: one more failure does not lock.
  EXPECT_EQ(env_.Verify(kBob, "000000").outcome, Outcome::kBadCode);
  EXPECT_EQ(env_.Verify(kBob, HardwareCode()).outcome, Outcome::kAccepted);
}

// Whoever knows the password must not be able to walk the code space by signing in with it
// between guesses: the password is the first factor, and only a second factor's success clears
// the count of wrong codes.
TEST_F(FactorLockoutTest, ARightPasswordBetweenWrongCodesDoesNotClearThem) {
  ASSERT_TRUE(env_.actions->ResetPassword(kOwner, kBob, "temporary password 1").ok());
  const uint32_t threshold = env_.sign_in.lockout.threshold;
  for (uint32_t i = 0; i < threshold; ++i) {
    EXPECT_EQ(env_.Verify(kBob, WrongCode(static_cast<int>(i))).outcome, Outcome::kBadCode) << i;
    if (i + 1 < threshold) {
      EXPECT_EQ(env_.Password(kBob, "temporary password 1").outcome, Outcome::kAccepted) << i;
    }
  }
  EXPECT_EQ(env_.Verify(kBob, HardwareCode()).outcome, Outcome::kLocked);
}

TEST_F(FactorLockoutTest, AFloodOfWrongConfirmCodesLeavesABoundedAudit) {
  // No lock gets in the way: every code is checked, as if the threshold were set very high.
  Reopen(1'000'000);
  constexpr int kWrong = 1000;
  for (int i = 0; i < kWrong; ++i) {
    ASSERT_EQ(Confirm(WrongCode(i)).outcome, Outcome::kBadCode) << i;
  }
  std::vector<AuditRecord> refused = Audit("software_oath.confirm");
  // The first refusal of the period, as it happened; the rest are only counted so far.
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].actor, "user:" + kBob);
  EXPECT_NE(refused[0].result, "ok");
  // Once the period is over, the count is written with the next refusal of anyone.
  env_.clock.Advance(std::chrono::seconds(61));
  ASSERT_EQ(Confirm(WrongCode(0)).outcome, Outcome::kBadCode);
  refused = Audit("software_oath.confirm");
  ASSERT_EQ(refused.size(), 3u);
  int counted = 0;
  for (const AuditRecord& a : refused) {
    if (a.detail.find(std::to_string(kWrong - 1) + " more") != std::string::npos) ++counted;
  }
  EXPECT_EQ(counted, 1) << refused[0].detail << " | " << refused[1].detail << " | "
                        << refused[2].detail;
  // No record holds a code.
  for (const AuditRecord& a : refused) {
    EXPECT_EQ(a.detail.find(WrongCode(5)), std::string::npos);
    EXPECT_EQ(a.result.find(WrongCode(5)), std::string::npos);
  }
  // A success is still audited on its own.
  EXPECT_EQ(Confirm(AppCode()).outcome, Outcome::kAccepted);
  refused = Audit("software_oath.confirm");
  ASSERT_EQ(refused.size(), 4u);
  int ok = 0;
  for (const AuditRecord& a : refused) ok += a.result == "ok" ? 1 : 0;
  EXPECT_EQ(ok, 1);
}

TEST_F(FactorLockoutTest, AdministratorsWrongConfirmCodesAreAuditedInBoundedFormToo) {
  // Through the admin API's confirmation (an administrator, who was shown the secret: not a
  // guess at the user's factor, so not counted toward the user's lockout).
  constexpr int kWrong = 200;
  for (int i = 0; i < kWrong; ++i) {
    base::Status s = env_.methods->ConfirmSoftwareToken(kOwner, kBob, method_, WrongCode(i));
    ASSERT_TRUE(base::IsInvalidArgument(s)) << s;
  }
  EXPECT_EQ(Audit("software_oath.confirm").size(), 1u);
  EXPECT_EQ(env_.Verify(kBob, HardwareCode()).outcome, Outcome::kAccepted);
  ASSERT_TRUE(env_.methods->ConfirmSoftwareToken(kOwner, kBob, method_, AppCode()).ok());
  EXPECT_EQ(Audit("software_oath.confirm").size(), 2u);
}

TEST(RefusalAuditTest, KeysBeyondTheLimitShareOneCountAndFlushWritesTheRest) {
  ActionsEnv env;
  RefusalAudit refusals(*env.store, env.clock, /*period_seconds=*/60, /*max_keys=*/2);
  const base::Status why = base::InvalidArgumentError("wrong");
  for (int round = 0; round < 3; ++round) {
    for (int user = 0; user < 10; ++user) {
      const std::string upn = "u" + std::to_string(user) + "@example.com";
      AuditRecord a =
          MakeAudit(env.clock, Principal::SelfService(upn), "test.refused", "user/" + upn);
      EXPECT_EQ(refusals.Record(std::move(a), why).message(), "wrong");
    }
  }
  auto all = [&] {
    std::vector<AuditRecord> out;
    EXPECT_TRUE(ListAudit(*env.store, {.action = "test.refused"}, "",
                          [&](std::string_view, const AuditRecord& a) {
                            out.push_back(a);
                            return true;
                          })
                    .ok());
    return out;
  };
  // Two users followed one by one, the other eight under "*": three first refusals.
  std::vector<AuditRecord> written = all();
  ASSERT_EQ(written.size(), 3u);
  EXPECT_EQ(written[0].result, "wrong");
  refusals.Flush();
  written = all();
  ASSERT_EQ(written.size(), 6u);
  uint64_t counted = 0;
  for (const AuditRecord& a : written) {
    if (a.detail.empty()) continue;
    counted += std::stoull(a.detail.substr(0, a.detail.find(' ')));
    if (a.actor == "*") {
      EXPECT_EQ(a.target, "*");
    }
  }
  EXPECT_EQ(counted, 30u - 3u);
}

}  // namespace
}  // namespace otpd::service
