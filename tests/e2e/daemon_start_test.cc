// How the real otpd starts: it refuses a data directory that holds no database unless told to
// create one (--init), creating nothing; and `otpd --check-config` reports every error of a
// configuration without starting anything or touching the data directory.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/e2e/e2e_env.h"

namespace otpd::e2e {
namespace {

using otpd::testing::Daemon;
using otpd::testing::RunResult;
using otpd::testing::TempDir;

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

std::vector<std::string> Args(const std::string& data, const std::string& key) {
  return {"--data-dir", data, "--key-file", key, "--socket", data + "/verify.sock"};
}

TEST(DaemonStartTest, AMissingOrEmptyDataDirectoryIsRefusedAndNothingIsCreated) {
  TempDir dir;
  const std::string typo = dir.File("typo"), empty = dir.File("empty");
  const std::string key = dir.File("new.key");
  std::filesystem::create_directory(empty);
  for (const std::string& data : {typo, empty}) {
    Daemon daemon;
    EXPECT_FALSE(daemon.Start(OTPD_PATH, Args(data, key), std::chrono::seconds(10)));
    const std::string log = daemon.log();
    EXPECT_NE(log.find(data), std::string::npos) << log;
    EXPECT_NE(log.find("otpctl init"), std::string::npos) << log;
    EXPECT_NE(log.find("--init"), std::string::npos) << log;
    EXPECT_FALSE(Exists(typo));
    EXPECT_TRUE(std::filesystem::is_empty(empty));
    EXPECT_FALSE(Exists(key));
  }
}

TEST(DaemonStartTest, InitCreatesTheDataDirectoryOnce) {
  TempDir dir;
  const std::string data = dir.File("data"), key = dir.File("master.key");
  std::vector<std::string> args = Args(data, key);
  args.push_back("--init");
  {
    Daemon daemon;
    ASSERT_TRUE(daemon.Start(OTPD_PATH, args)) << daemon.log();
    EXPECT_EQ(daemon.Stop(SIGTERM), 0);
  }
  EXPECT_TRUE(Exists(key));
  // Later starts need no flag; with it, an existing database is opened as it is.
  for (const auto& again_args : {Args(data, key), args}) {
    Daemon again;
    ASSERT_TRUE(again.Start(OTPD_PATH, again_args)) << again.log();
    EXPECT_EQ(again.Stop(SIGTERM), 0);
  }
  // An existing database never gets a new key file, --init or not.
  const std::string other_key = dir.File("other.key");
  for (bool init : {false, true}) {
    std::vector<std::string> with_new_key = Args(data, other_key);
    if (init) with_new_key.push_back("--init");
    Daemon refused;
    EXPECT_FALSE(refused.Start(OTPD_PATH, with_new_key, std::chrono::seconds(10)));
    EXPECT_NE(refused.log().find("does not exist"), std::string::npos) << refused.log();
    EXPECT_FALSE(Exists(other_key));
  }
}

// The etcd user's password file is checked as every key file is, before any connection.
TEST(DaemonStartTest, AnEtcdPasswordFileOthersMayReadIsRefused) {
  TempDir dir;
  const std::string password = dir.File("etcd.password"), key = dir.File("master.key");
  otpd::testing::WriteFile(password, "not a real password\n");
  chmod(password.c_str(), 0644);
  otpd::testing::WriteFile(key, std::string(64, 'a'));
  chmod(key.c_str(), 0600);
  Daemon daemon;
  EXPECT_FALSE(daemon.Start(
      OTPD_PATH,
      {"--store", "etcd", "--etcd-endpoints", "127.0.0.1:1", "--etcd-user", "otpd",
       "--etcd-password-file", password, "--key-file", key, "--socket", "none", "--listen",
       "127.0.0.1:0", "--allow-unauthenticated-tcp", "--etcd-timeout", "100"},
      std::chrono::seconds(10)));
  const std::string log = daemon.log();
  if (log.find("built without the etcd store") != std::string::npos) GTEST_SKIP() << log;
  EXPECT_NE(log.find("password file " + password +
                     " has mode 0644: it must not be accessible by group or others (chmod 600 " +
                     password + ")"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("not a real password"), std::string::npos) << log;
}

TEST(DaemonStartTest, CheckConfigReportsEveryErrorAndStartsNothing) {
  TempDir dir;
  const std::string data = dir.File("data");
  const std::string good = dir.File("good.toml"), bad = dir.File("bad.toml");
  otpd::testing::WriteFile(
      good, "data_dir = \"" + data + "\"\nkey_file = \"" + dir.File("master.key") + "\"\n");
  RunResult ok = otpd::testing::Run({OTPD_PATH, "--check-config", "--config", good});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_EQ(ok.out, "configuration OK\n");
  EXPECT_FALSE(Exists(data));
  EXPECT_FALSE(Exists(dir.File("master.key")));

  otpd::testing::WriteFile(bad, "data_dir = \"" + data +
                                    "\"\nlog_levl = \"debug\"\n[limits]\nline_timeout_ms = 0\n"
                                    "[hooks.sms]\ntype = \"carrier-pigeon\"\n");
  RunResult refused =
      otpd::testing::Run({OTPD_PATH, "--check-config", "--config", bad, "--io-threads", "0"});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("4 errors"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("did you mean `log_level`?"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("limits.line_timeout_ms"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--io-threads"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("hooks.sms"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.out.find("configuration OK"), std::string::npos) << refused.out;
  EXPECT_FALSE(Exists(data));
}

}  // namespace
}  // namespace otpd::e2e
