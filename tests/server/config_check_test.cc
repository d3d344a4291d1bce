// otpd --check-config: every error of the configuration at once, each naming its key or flag,
// with the nearest known key for an unknown one; and --init, the explicit first start.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "server/config.h"

namespace otpd::server {
namespace {

class ConfigCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("otpd-config-check-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& text) {
    std::string path = (dir_ / "otpd.toml").string();
    std::ofstream(path) << text;
    return path;
  }

  std::filesystem::path dir_;
};

base::StatusOr<ServerConfig> Check(std::vector<std::string> args) {
  args.insert(args.begin(), {"otpd", "--check-config"});
  return LoadServerConfig(args);
}

// The one error that contains `part`, or "" (and a test failure) when none or several do.
std::string ErrorWith(const std::vector<std::string>& errors, const std::string& part) {
  std::vector<std::string> found;
  std::copy_if(errors.begin(), errors.end(), std::back_inserter(found),
               [&](const std::string& e) { return e.find(part) != std::string::npos; });
  EXPECT_EQ(found.size(), 1u) << part;
  return found.size() == 1 ? found[0] : "";
}

TEST_F(ConfigCheckTest, EveryErrorIsReportedAtOnce) {
  const std::string path = Write(
      "data-dir = \"/var/lib/otpd\"\n"
      "durability = \"fast\"\n"
      "io_threads = \"two\"\n"
      "[limits]\n"
      "max_conections = 10\n"
      "pipeline_depth = 0\n"
      "[clients.vpn]\n"
      "key = \"short\"\n");
  base::StatusOr<ServerConfig> c =
      Check({"--config", path, "--listen", "nonsense", "--allow-unauthenticated-tcp"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->check_only);
  const std::vector<std::string>& errors = c->check_errors;
  EXPECT_EQ(errors.size(), 8u) << ::testing::PrintToString(errors);
  EXPECT_NE(ErrorWith(errors, "data-dir:").find("did you mean `data_dir`?"), std::string::npos);
  EXPECT_NE(ErrorWith(errors, "max_conections").find("did you mean `limits.max_connections`?"),
            std::string::npos);
  EXPECT_NE(ErrorWith(errors, "durability:").find("must be one of"), std::string::npos);
  EXPECT_NE(ErrorWith(errors, "io_threads").find("must be an integer"), std::string::npos);
  EXPECT_NE(ErrorWith(errors, "limits.pipeline_depth").find("must be between"), std::string::npos);
  EXPECT_NE(ErrorWith(errors, "clients.vpn").find("at least 16 bytes"), std::string::npos);
  EXPECT_NE(ErrorWith(errors, "--listen").find("HOST:PORT"), std::string::npos);
  // data_dir was misspelt, so it is missing too.
  EXPECT_NE(ErrorWith(errors, "data_dir (--data-dir)").find("is required"), std::string::npos);
  for (const std::string& e : errors) {
    EXPECT_EQ(e.find("short"), std::string::npos) << "a secret in: " << e;
  }
  // Loading the same configuration (no check) still refuses it, naming the first error.
  std::vector<std::string> args = {"otpd", "--config", path};
  EXPECT_FALSE(LoadServerConfig(args).ok());
}

// An error is reported once, not again as the errors it causes.
TEST_F(ConfigCheckTest, AMissingDataDirIsOneError) {
  base::StatusOr<ServerConfig> c = Check({"--config", Write("data-dir = \"/d\"\n")});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->check_errors.size(), 2u) << ::testing::PrintToString(c->check_errors);
}

// A client's key file is checked as the master key file is: one its group or others may read is
// refused, with the same message.
TEST_F(ConfigCheckTest, AClientKeyFileOthersMayReadIsRefused) {
  const std::string key = (dir_ / "vpn.key").string();
  std::ofstream(key) << "0123456789abcdef0123\n";
  ::chmod(key.c_str(), 0644);
  const std::string path = Write("data_dir = \"/d\"\n[clients.vpn]\nkey_file = \"" + key + "\"\n");
  std::vector<std::string> args = {"otpd", "--config", path};
  base::StatusOr<ServerConfig> shared = LoadServerConfig(args);
  ASSERT_FALSE(shared.ok());
  EXPECT_NE(
      shared.status().message().find(
          "clients.vpn.key_file: key file " + key +
          " has mode 0644: it must not be accessible by group or others (chmod 600 " + key + ")"),
      std::string_view::npos)
      << shared.status();
  ::chmod(key.c_str(), 0600);
  base::StatusOr<ServerConfig> private_key = LoadServerConfig(args);
  ASSERT_TRUE(private_key.ok()) << private_key.status();
  EXPECT_EQ(private_key->tcp_clients.at("vpn").view(), "0123456789abcdef0123");
}

TEST_F(ConfigCheckTest, AValidConfigurationHasNoErrors) {
  const std::string path = Write("data_dir = \"/nonexistent/otpd\"\n[limits]\nmax_line = 1024\n");
  base::StatusOr<ServerConfig> c = Check({"--config", path});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->check_only);
  EXPECT_TRUE(c->check_errors.empty()) << ::testing::PrintToString(c->check_errors);
}

TEST_F(ConfigCheckTest, UnknownKeysFarFromAnyAreNotGuessed) {
  const std::string path =
      Write("data_dir = \"/d\"\nzzzzzzzz = 1\n[clients.vpn]\nkeyfile = \"x\"\n");
  base::StatusOr<ServerConfig> c = Check({"--config", path});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(ErrorWith(c->check_errors, "zzzzzzzz").find("did you mean"), std::string::npos);
  EXPECT_NE(ErrorWith(c->check_errors, "keyfile").find("did you mean `key_file`?"),
            std::string::npos);
}

// Only the command line creates a data directory: a configuration file cannot, so that a typo in
// its data_dir is never a new, empty database.
TEST_F(ConfigCheckTest, InitIsACommandLineFlagOnly) {
  std::vector<std::string> args = {"otpd", "--data-dir", "/d"};
  base::StatusOr<ServerConfig> plain = LoadServerConfig(args);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(plain->create_data_dir);
  args.push_back("--init");
  base::StatusOr<ServerConfig> init = LoadServerConfig(args);
  ASSERT_TRUE(init.ok()) << init.status();
  EXPECT_TRUE(init->create_data_dir);
  base::StatusOr<ServerConfig> check =
      Check({"--config", Write("data_dir = \"/d\"\ncreate_data_dir = true\n")});
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_NE(ErrorWith(check->check_errors, "create_data_dir").find("unknown key"),
            std::string::npos);
}

}  // namespace
}  // namespace otpd::server
