// otpctl against what the real daemon did: `user unlock` clears a lockout the daemon imposed (with
// an audit record in the data directory), and `verify --json` reports the daemon's answer.

#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "service/model/records.h"
#include "tests/e2e/e2e_env.h"
#include "tools/data_dir.h"

namespace otpd::e2e {
namespace {

using otpd::testing::Daemon;
using otpd::testing::Field;
using otpd::testing::LineClient;
using otpd::testing::RunResult;
using otpd::testing::TempDir;

constexpr char kSeed[] = "12345678901234567890";

RunResult Otpctl(std::vector<std::string> args, const std::string& data) {
  args.insert(args.begin(), OTPCTL_PATH);
  args.insert(args.end(), {"--data-dir", data, "--key-file", KeyFileFor(data)});
  return otpd::testing::Run(args, {"OTPD_MASTER_KEY", "OTPD_KEY_FILE", "OTPD_DATA_DIR"});
}

TEST(OtpctlDaemonTest, UserUnlockClearsALockoutAndIsAudited) {
  TempDir dir;
  const std::string data = dir.File("data");
  const TestToken t{"UL1", "locked@example.com", kSeed, {}};
  std::string error;
  ASSERT_TRUE(PrepareDataDir(data, {t}, &error)) << error;
  const std::string wrong = t.Code(1) == "000000" ? "000001" : "000000";
  {
    Daemon daemon;
    ASSERT_TRUE(daemon.Start(OTPD_PATH, DaemonArgs(data))) << daemon.log();
    LineClient c = LineClient::Unix(data + "/verify.sock");
    for (int i = 0; i < 5; ++i) c.Call(VerifyLine("w", t.upn, wrong));
    EXPECT_EQ(Field(c.Call(VerifyLine("l", t.upn, t.Code(1))), "reason"), "locked");
    EXPECT_EQ(daemon.Stop(SIGTERM), 0);
  }

  // A malformed UPN is a usage error; an unknown user is refused.
  EXPECT_EQ(Otpctl({"user", "unlock", "not-an-address"}, data).exit_code, 2);
  RunResult unknown = Otpctl({"user", "unlock", "nobody@example.com"}, data);
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no user"), std::string::npos) << unknown.err;

  RunResult unlock = Otpctl({"user", "unlock", "Locked@Example.com"}, data);
  ASSERT_EQ(unlock.exit_code, 0) << unlock.err;
  EXPECT_NE(unlock.out.find("unlocked: cleared 5 consecutive failed sign-ins"), std::string::npos)
      << unlock.out;
  RunResult again = Otpctl({"user", "unlock", t.upn}, data);
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("no failed sign-ins to clear"), std::string::npos) << again.out;

  // The audit record went in with the change.
  {
    auto dir_open = tools::OpenDataDir({.data_dir = data,
                                        .key_file = KeyFileFor(data),
                                        .access = tools::DataDirAccess::kReadOnly});
    ASSERT_TRUE(dir_open.ok()) << dir_open.status();
    int unlocks = 0;
    ASSERT_TRUE(dir_open->store
                    ->Scan(storage::Namespace::kAudit, "",
                           [&](std::string_view, const storage::Record& r) {
                             auto audit = service::DecodeAudit(r.value);
                             if (audit.ok() && audit->action == "user.unlock") {
                               ++unlocks;
                               EXPECT_EQ(audit->actor, "otpctl");
                               EXPECT_EQ(audit->target, "user/" + t.upn);
                               EXPECT_EQ(audit->result, "ok");
                             }
                             return true;
                           })
                    .ok());
    EXPECT_EQ(unlocks, 1);
  }

  // The daemon checks codes for the user again at once.
  Daemon daemon;
  ASSERT_TRUE(daemon.Start(OTPD_PATH, DaemonArgs(data))) << daemon.log();
  RunResult verify = otpd::testing::Run({OTPCTL_PATH, "verify", "--socket", data + "/verify.sock",
                                         "--user", t.upn, "--json", t.Code(1)});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  boost::system::error_code ec;
  boost::json::value reply = boost::json::parse(verify.out, ec);
  ASSERT_FALSE(ec) << verify.out;
  EXPECT_EQ(reply.as_object()["result"], "OK") << verify.out;
  EXPECT_EQ(reply.as_object()["accepted"], true) << verify.out;
  EXPECT_EQ(verify.out.find(t.Code(1)), std::string::npos);  // the code is not repeated
  EXPECT_EQ(daemon.Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace otpd::e2e
