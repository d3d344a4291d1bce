// Which data directory and which master key otpctl opens: only `otpctl init` creates a data
// directory and a key file; every other command refuses a path that holds no otpd database and
// creates nothing; the master key never comes implicitly from inside the data directory; a wrong
// or missing key leaves the directory exactly as it was.

#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/tools/otpctl_env.h"

namespace otpd::tools {
namespace {

using otpd::testing::RunResult;

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

// Every command that opens a data directory, with the arguments it needs besides the data dir
// and key options.
std::vector<std::vector<std::string>> DataDirCommands(const std::string& tmp) {
  return {
      {"import", "fixtures/demo/tokens.csv"},
      {"import", "fixtures/demo/tokens.csv", "--dry-run"},
      {"token", "list"},
      {"token", "show", "DEMO0001"},
      {"token", "assign", "DEMO0003", "zoe@example.com"},
      {"token", "activate", "DEMO0001", "123456"},
      {"token", "delete", "DEMO0003"},
      {"batch", "list"},
      {"export", tmp + "/out.pskc", "--psk-file", PrivateCopy("fixtures/tokenio/psk_aes128.hex")},
      {"backup", tmp + "/backup"},
      {"key", "rotate-data"},
      {"key", "reseal"},
      {"key", "rotate-master", "--new-key-file", tmp + "/new.key"},
      {"seed-load", "--count", "2", "--tokens-out", tmp + "/tokens.csv"}};
}

class DataDirTest : public OtpctlEnv {};

TEST_F(DataDirTest, OnlyInitCreatesADataDirectory) {
  const std::string missing = dir_.File("typo");
  const std::string empty = dir_.File("empty");
  std::filesystem::create_directory(empty);
  const std::string key = dir_.File("fresh.key");  // does not exist either
  for (const std::string& path : {missing, empty, std::string("/etc")}) {
    for (std::vector<std::string> args : DataDirCommands(dir_.File("out"))) {
      const std::string command = args[0] + (args.size() > 1 ? " " + args[1] : "");
      args.insert(args.end(), {"--data-dir", path, "--key-file", key});
      RunResult r = Raw(args);
      EXPECT_EQ(r.exit_code, 1) << command << " " << path << ": " << r.out << r.err;
      EXPECT_NE(r.err.find(path), std::string::npos) << command << ": " << r.err;
      EXPECT_NE(r.err.find("otpctl init"), std::string::npos) << command << ": " << r.err;
      EXPECT_FALSE(Exists(missing)) << command;
      EXPECT_TRUE(std::filesystem::is_empty(empty)) << command;
      EXPECT_FALSE(Exists(key)) << command;
      EXPECT_FALSE(Exists(dir_.File("out"))) << command;
    }
  }
  RunResult init = Raw({"init", "--data-dir", missing, "--key-file", key});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_NE(init.out.find("created data directory"), std::string::npos) << init.out;
  struct stat st;
  ASSERT_EQ(stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  RunResult list = Raw({"token", "list", "--data-dir", missing, "--key-file", key});
  EXPECT_EQ(list.exit_code, 0) << list.err;

  // A second init changes nothing.
  auto before = Snapshot(missing);
  RunResult again = Raw({"init", "--data-dir", missing, "--key-file", dir_.File("other.key")});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already holds an otpd database"), std::string::npos) << again.err;
  EXPECT_EQ(Snapshot(missing), before);
  EXPECT_FALSE(Exists(dir_.File("other.key")));
}

TEST_F(DataDirTest, DataDirIsRequiredOrTakenFromTheEnvironment) {
  InitDataDir();
  RunResult none = Raw({"token", "list", "--key-file", KeyFile()});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("--data-dir"), std::string::npos) << none.err;
  RunResult env =
      Raw({"token", "list"}, {"OTPD_DATA_DIR=" + DataDir(), "OTPD_KEY_FILE=" + KeyFile()});
  EXPECT_EQ(env.exit_code, 0) << env.err;
  RunResult help = Raw({"token", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("OTPD_DATA_DIR"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("OTPD_KEY_FILE"), std::string::npos) << help.out;
}

TEST_F(DataDirTest, TheMasterKeyNeverComesImplicitlyFromTheDataDirectory) {
  // No key given at all.
  RunResult no_key = Raw({"init", "--data-dir", DataDir()});
  EXPECT_EQ(no_key.exit_code, 1);
  EXPECT_NE(no_key.err.find("no master key given"), std::string::npos) << no_key.err;
  EXPECT_FALSE(Exists(DataDir()));

  // A key file inside the data directory is refused unless asked for, and nothing is created.
  const std::string inside = DataDir() + "/master.key";
  RunResult refused = Raw({"init", "--data-dir", DataDir(), "--key-file", inside});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("is inside the data directory"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--insecure-key-in-data-dir"), std::string::npos) << refused.err;
  EXPECT_FALSE(Exists(DataDir()));
  // Also through a path that only resolves into it.
  std::filesystem::create_directory(DataDir());
  RunResult dotdot =
      Raw({"init", "--data-dir", DataDir(), "--key-file", dir_.File("x/../data/./master.key")});
  EXPECT_EQ(dotdot.exit_code, 1) << dotdot.out;
  EXPECT_TRUE(std::filesystem::is_empty(DataDir()));

  RunResult insecure =
      Raw({"init", "--data-dir", DataDir(), "--key-file", inside, "--insecure-key-in-data-dir"});
  ASSERT_EQ(insecure.exit_code, 0) << insecure.err;

  // A data directory from before (its key inside): told exactly what to do.
  RunResult legacy = Raw({"token", "list", "--data-dir", DataDir()});
  EXPECT_EQ(legacy.exit_code, 1);
  EXPECT_NE(legacy.err.find("move it out"), std::string::npos) << legacy.err;
  EXPECT_NE(legacy.err.find("--key-file"), std::string::npos) << legacy.err;
  EXPECT_NE(legacy.err.find("--insecure-key-in-data-dir"), std::string::npos) << legacy.err;
  RunResult named = Raw({"token", "list", "--data-dir", DataDir(), "--key-file", inside});
  EXPECT_EQ(named.exit_code, 1);
  EXPECT_NE(named.err.find("is inside the data directory"), std::string::npos) << named.err;
  EXPECT_EQ(Raw({"token", "list", "--data-dir", DataDir(), "--key-file", inside,
                 "--insecure-key-in-data-dir"})
                .exit_code,
            0);
  // Following the advice works.
  std::filesystem::rename(inside, KeyFile());
  EXPECT_EQ(Otpctl({"token", "list"}).exit_code, 0);
  // So do the environment variables.
  EXPECT_EQ(
      Raw({"token", "list", "--data-dir", DataDir()}, {"OTPD_KEY_FILE=" + KeyFile()}).exit_code, 0);
}

TEST_F(DataDirTest, AWrongOrMissingKeyChangesNothing) {
  InitDataDir();
  ASSERT_EQ(Otpctl({"import", "fixtures/demo/tokens.csv"}).exit_code, 0);
  otpd::testing::WriteFile(dir_.File("wrong.key"), std::string(64, 'a'));
  chmod(dir_.File("wrong.key").c_str(), 0600);
  const auto before = Snapshot(DataDir());
  for (const std::string& key : {dir_.File("wrong.key"), dir_.File("missing.key")}) {
    for (std::vector<std::string> args : DataDirCommands(dir_.File("out"))) {
      const std::string command = args[0] + (args.size() > 1 ? " " + args[1] : "");
      args.insert(args.end(), {"--data-dir", DataDir(), "--key-file", key});
      RunResult r = Raw(args);
      EXPECT_EQ(r.exit_code, 1) << command << ": " << r.out;
      EXPECT_EQ(Snapshot(DataDir()), before) << command << " with " << key;
    }
  }
  EXPECT_FALSE(Exists(dir_.File("missing.key")));
  EXPECT_FALSE(Exists(dir_.File("out")));
  // The environment variable's key, when wrong, is just as harmless.
  RunResult env =
      Raw({"token", "list", "--data-dir", DataDir()}, {"OTPD_MASTER_KEY=" + std::string(64, 'b')});
  EXPECT_EQ(env.exit_code, 1);
  EXPECT_NE(env.err.find("master key does not match"), std::string::npos) << env.err;
  EXPECT_NE(env.err.find("OTPD_MASTER_KEY"), std::string::npos) << env.err;
  EXPECT_EQ(Snapshot(DataDir()), before);
}

// A master key of the wrong shape in the environment: the message says which encodings are
// accepted, and never repeats the value.
TEST_F(DataDirTest, AMalformedMasterKeyInTheEnvironmentNamesTheEncodings) {
  InitDataDir();
  for (const std::string& key : {std::string("abcd"), std::string("not-a-key-at-all!")}) {
    RunResult r = Raw({"token", "list", "--data-dir", DataDir()}, {"OTPD_MASTER_KEY=" + key});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("OTPD_MASTER_KEY"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("64 hex digits or 44 base64 characters"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find(key), std::string::npos) << r.err;
  }
}

// Every key file is checked as the master key is: the master key, a transfer key (export and
// import --psk-file), with one message naming the mode and the fix.
TEST_F(DataDirTest, EveryKeyFileOthersMayReadIsRefusedAlike) {
  InitDataDir();
  ASSERT_EQ(Otpctl({"import", "fixtures/demo/tokens.csv"}).exit_code, 0);
  const std::string transfer = dir_.File("transfer.key");
  otpd::testing::WriteFile(transfer, otpd::testing::ReadFile("fixtures/tokenio/psk_aes128.hex"));
  const std::string pskc = dir_.File("out.pskc");
  auto expect_refused = [](const RunResult& r, const std::string& path) {
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(
        r.err.find("key file " + path +
                   " has mode 0644: it must not be accessible by group or others (chmod 600 " +
                   path + ")"),
        std::string::npos)
        << r.err;
  };
  chmod(transfer.c_str(), 0644);
  expect_refused(Otpctl({"export", pskc, "--psk-file", transfer}), transfer);
  EXPECT_FALSE(Exists(pskc));
  chmod(transfer.c_str(), 0600);
  ASSERT_EQ(Otpctl({"export", pskc, "--psk-file", transfer}).exit_code, 0);
  chmod(transfer.c_str(), 0644);
  expect_refused(Otpctl({"import", pskc, "--psk-file", transfer, "--dry-run"}), transfer);
  chmod(KeyFile().c_str(), 0644);
  expect_refused(Otpctl({"token", "list"}), KeyFile());
}

// Password and API key files are key files too: one its group or others may read is refused,
// named with what it is, before it is used.
TEST_F(DataDirTest, PasswordAndApiKeyFilesOthersMayReadAreRefused) {
  InitDataDir();
  ASSERT_EQ(Otpctl({"user", "add", "pat@example.com"}).exit_code, 0);
  const auto refused = [](const RunResult& r, const std::string& what, const std::string& path) {
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_NE(r.err.find(what + " " + path + " has mode 0644"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("chmod 600 " + path), std::string::npos) << r.err;
  };
  const std::string pskc_password = dir_.File("pskc.password");
  otpd::testing::WriteFile(pskc_password, otpd::testing::ReadFile("fixtures/tokenio/password.txt"));
  chmod(pskc_password.c_str(), 0644);
  refused(Otpctl({"import", "fixtures/tokenio/pskc_password.xml", "--password-file", pskc_password,
                  "--dry-run"}),
          "password file", pskc_password);

  const std::string new_password = dir_.File("new.password");
  otpd::testing::WriteFile(new_password, "a long enough password 42\n");
  chmod(new_password.c_str(), 0644);
  refused(Otpctl({"user", "reset-password", "pat@example.com", "--password-file", new_password}),
          "password file", new_password);

  const std::string api_key = dir_.File("reader.apikey");
  otpd::testing::WriteFile(api_key, "otpd_not_a_real_key\n");
  chmod(api_key.c_str(), 0644);
  refused(Raw({"user", "list", "--admin", "https://127.0.0.1:1", "--api-key-file", api_key}),
          "API key file", api_key);

  // Private, the same files are used.
  chmod(pskc_password.c_str(), 0600);
  EXPECT_EQ(Otpctl({"import", "fixtures/tokenio/pskc_password.xml", "--password-file",
                    pskc_password, "--dry-run"})
                .exit_code,
            0);
  chmod(new_password.c_str(), 0600);
  RunResult reset =
      Otpctl({"user", "reset-password", "pat@example.com", "--password-file", new_password});
  EXPECT_EQ(reset.exit_code, 0) << reset.err;
}

TEST_F(DataDirTest, ReadingCommandsWriteNothing) {
  InitDataDir();
  ASSERT_EQ(Otpctl({"import", "fixtures/demo/tokens.csv"}).exit_code, 0);
  const auto before = Snapshot(DataDir());
  EXPECT_EQ(Otpctl({"token", "list"}).exit_code, 0);
  EXPECT_EQ(Otpctl({"token", "show", "DEMO0001"}).exit_code, 0);
  EXPECT_EQ(Otpctl({"batch", "list"}).exit_code, 0);
  EXPECT_EQ(Otpctl({"import", "fixtures/demo/tokens.csv", "--dry-run"}).exit_code, 0);
  EXPECT_EQ(Otpctl({"export", dir_.File("out.pskc"), "--psk-file",
                    PrivateCopy("fixtures/tokenio/psk_aes128.hex")})
                .exit_code,
            0);
  EXPECT_EQ(Snapshot(DataDir()), before);
}

}  // namespace
}  // namespace otpd::tools
