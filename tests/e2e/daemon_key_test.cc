// Where the real otpd takes its master key from: never implicitly from inside the data
// directory; a new key file only with a new database (its first start, --init); a missing,
// misplaced or wrong key refused before anything in the data directory changes.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include "tests/e2e/e2e_env.h"

namespace otpd::e2e {
namespace {

using otpd::testing::Daemon;
using otpd::testing::TempDir;

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

// name -> size and modification time of everything in `dir`.
std::map<std::string, std::string> Listing(const std::string& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    struct stat st;
    if (lstat(e.path().c_str(), &st) != 0) continue;
    out[e.path().filename().string()] = std::to_string(st.st_size) + " " +
                                        std::to_string(st.st_mtim.tv_sec) + "." +
                                        std::to_string(st.st_mtim.tv_nsec);
  }
  return out;
}

std::vector<std::string> Args(const std::string& data, const std::string& key) {
  std::vector<std::string> args = {"--data-dir", data, "--socket", data + "/verify.sock"};
  if (!key.empty()) args.insert(args.end(), {"--key-file", key});
  return args;
}

// Starts otpd expecting it to refuse; returns its log.
std::string Refused(const std::vector<std::string>& args) {
  Daemon daemon;
  EXPECT_FALSE(daemon.Start(OTPD_PATH, args, std::chrono::seconds(10))) << daemon.log();
  return daemon.log();
}

TEST(DaemonKeyTest, FirstStartCreatesTheDatabaseAndAKeyFileOutsideIt) {
  TempDir dir;
  const std::string data = dir.File("data"), key = dir.File("master.key");
  {
    Daemon daemon;
    std::vector<std::string> first = Args(data, key);
    first.push_back("--init");
    ASSERT_TRUE(daemon.Start(OTPD_PATH, first)) << daemon.log();
    EXPECT_EQ(daemon.Stop(SIGTERM), 0);
  }
  struct stat st;
  ASSERT_EQ(stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(Exists(data + "/master.key"));
  Daemon again;
  ASSERT_TRUE(again.Start(OTPD_PATH, Args(data, key))) << again.log();
  EXPECT_EQ(again.Stop(SIGTERM), 0);
}

TEST(DaemonKeyTest, NoKeyAKeyInsideOrAWrongKeyIsRefusedAndChangesNothing) {
  TempDir dir;
  const std::string data = dir.File("data");
  std::string error;
  ASSERT_TRUE(PrepareDataDir(data, {{"K1", "key@example.com", "12345678901234567890", {}}}, &error))
      << error;
  const auto before = Listing(data);

  EXPECT_NE(Refused(Args(data, "")).find("no master key given"), std::string::npos);
  std::filesystem::copy_file(KeyFileFor(data), data + "/master.key");
  const auto with_key_inside = Listing(data);
  // The old default place is named in the refusal, with what to do.
  std::string legacy = Refused(Args(data, ""));
  EXPECT_NE(legacy.find("move it out"), std::string::npos) << legacy;
  std::string inside = Refused(Args(data, data + "/master.key"));
  EXPECT_NE(inside.find("is inside the data directory"), std::string::npos) << inside;
  std::filesystem::remove(data + "/master.key");

  std::string missing = Refused(Args(data, dir.File("missing.key")));
  EXPECT_NE(missing.find("does not exist"), std::string::npos) << missing;
  EXPECT_FALSE(Exists(dir.File("missing.key")));

  otpd::testing::WriteFile(dir.File("wrong.key"), std::string(64, 'a'));
  chmod(dir.File("wrong.key").c_str(), 0600);
  std::string wrong = Refused(Args(data, dir.File("wrong.key")));
  EXPECT_NE(wrong.find("master key does not match"), std::string::npos) << wrong;
  EXPECT_EQ(Listing(data), before);
  EXPECT_NE(with_key_inside, before);  // the check above would have seen a change

  // A fresh directory with no key given, even with --init: nothing is created at all.
  std::vector<std::string> fresh = Args(dir.File("fresh"), "");
  EXPECT_NE(Refused(fresh).find("does not exist"), std::string::npos);
  fresh.push_back("--init");
  EXPECT_NE(Refused(fresh).find("no master key given"), std::string::npos);
  EXPECT_FALSE(Exists(dir.File("fresh")));
}

}  // namespace
}  // namespace otpd::e2e
