// CONFIRM through the real daemon's verify socket on loopback: someone walking a pending app's
// code space is locked out after the lockout's threshold on every door (CONFIRM and VERIFY), the
// app's right code is then refused, and the flood leaves the audit log grown by a bounded number
// of records, counted through the Store once the daemon has stopped.

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <string>

#include "base/clock.h"
#include "service/admin/audit.h"
#include "service/admin/method_admin.h"
#include "tests/e2e/e2e_env.h"
#include "tests/testing/pending_app.h"

namespace otpd::e2e {
namespace {

using otpd::testing::Daemon;
using otpd::testing::Fields;
using otpd::testing::LineClient;
using otpd::testing::TempDir;

const std::string kCarol = "carol@example.com";

class ConfirmLockoutE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.File("data");
    token_ = TestToken{"CL1", kCarol, "carol's token seed..", {}};
    std::string error;
    ASSERT_TRUE(PrepareDataDir(data_, {token_}, &error)) << error;
    {
      auto dir = OpenTestStore(data_);
      ASSERT_TRUE(dir.ok()) << dir.status();
      service::MethodAdmin methods(*dir->store, *dir->keys, *base::RealClock::Get(), {}, nullptr);
      auto app = otpd::testing::EnrolPendingApp(methods, kAdmin, kCarol);
      ASSERT_TRUE(app.ok()) << app.status();
      method_ = app->method_id;
      app_ = std::move(app->credential);
      audit_before_ = CountAudit(*dir->store);
    }
    ASSERT_TRUE(daemon_.Start(OTPD_PATH, DaemonArgs(data_))) << daemon_.log();
  }

  static size_t CountAudit(const storage::Store& store) {
    size_t n = 0;
    EXPECT_TRUE(service::ListAudit(store, {}, "", [&](std::string_view, const auto&) {
                  ++n;
                  return true;
                }).ok());
    return n;
  }

  std::string AppCode() const { return app_->TotpAt(base::RealClock::Get()->NowUnixSeconds()); }

  // The i-th six-digit code that the app would not accept around now.
  std::string WrongCode(int i) const {
    return otpd::testing::WrongAppCode(*app_, base::RealClock::Get()->NowUnixSeconds(), i);
  }

  std::string ConfirmLine(const std::string& id, const std::string& code) const {
    return "CONFIRM\t" + id + "\tuser=" + kCarol + "\tmethod=" + method_ + "\totp=" + code;
  }

  TempDir dir_;
  std::string data_, method_;
  TestToken token_;
  std::optional<engine::Credential> app_;
  size_t audit_before_ = 0;
  Daemon daemon_;
};

TEST_F(ConfirmLockoutE2eTest, WalkingAPendingAppsCodesLocksTheUserAndLeavesABoundedAudit) {
  constexpr int kWrong = 2000;
  LineClient c = LineClient::Unix(data_ + "/verify.sock");
  int bad_code = 0, locked = 0;
  for (int i = 0; i < kWrong; ++i) {
    const std::string id = "c" + std::to_string(i);
    const std::string reply = c.Call(ConfirmLine(id, WrongCode(i)));
    if (reply == "FAIL\t" + id + "\treason=bad_code") {
      ++bad_code;
    } else if (reply.starts_with("FAIL\t" + id + "\treason=locked\tretry_after=")) {
      ++locked;
    } else {
      ADD_FAILURE() << reply;
      break;
    }
  }
  // The default lockout: 5 failures, then a lock of 30 s and more. The walk is over long before
  // a lock could end twice.
  EXPECT_GE(bad_code, 5);
  EXPECT_LE(bad_code, 7);
  EXPECT_EQ(bad_code + locked, kWrong);
  // The app's right code is refused like VERIFY's, and VERIFY is locked too.
  const std::string right = c.Call(ConfirmLine("r1", AppCode()));
  EXPECT_TRUE(right.starts_with("FAIL\tr1\treason=locked\tretry_after=")) << right;
  const std::string verify = c.Call(VerifyLine("v1", kCarol, token_.Code(1)));
  EXPECT_TRUE(verify.starts_with("FAIL\tv1\treason=locked\tretry_after=")) << verify;
  EXPECT_EQ(daemon_.Stop(SIGTERM), 0) << daemon_.log();

  // The audit log grew by a few records (the first refusal and the count of the rest), not by
  // one per wrong code.
  auto dir = OpenTestStore(data_);
  ASSERT_TRUE(dir.ok()) << dir.status();
  const size_t grown = CountAudit(*dir->store) - audit_before_;
  EXPECT_LE(grown, 4u);
}

}  // namespace
}  // namespace otpd::e2e
