// Validate clients admitted without a key ([clients.NAME] validate_without_key with networks):
// the configuration's checks (each error names the client and the entry, never a key), reload
// and copy, and which client an address belongs to (server/client_networks.h): IPv4, IPv6,
// IPv4-mapped IPv6, the most specific network first, and nothing for any other address.

#include "server/client_networks.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "server/config.h"

namespace otpd::server {
namespace {

class KeylessClientConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("otpd-keyless-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  base::StatusOr<ServerConfig> Load(const std::string& toml, std::vector<std::string> flags = {}) {
    path_ = (dir_ / "otpd.toml").string();
    std::ofstream(path_) << "data_dir = \"/d\"\n" << toml;
    std::vector<std::string> args = {"otpd", "--config", path_};
    args.insert(args.end(), flags.begin(), flags.end());
    return LoadServerConfig(args);
  }
  std::string Refusal(const std::string& toml) {
    base::StatusOr<ServerConfig> c = Load(toml);
    EXPECT_FALSE(c.ok()) << toml;
    if (c.ok()) return "";
    EXPECT_TRUE(base::IsInvalidArgument(c.status()));
    return std::string(c.status().message());
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(KeylessClientConfigTest, NetworksAreReadForTheValidateApiOnly) {
  base::StatusOr<ServerConfig> c = Load(
      "[clients.pam]\nvalidate_without_key = true\n"
      "networks = [\"127.0.0.1/32\", \"10.1.2.0/24\", \"fd00:1::/64\", \"::1/128\"]\n"
      "[clients.radius]\nkey = \"0123456789abcdef\"\n",
      {"--validate-listen", "127.0.0.1:0"});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->validate_keyless_clients.size(), 1u);
  EXPECT_EQ(c->validate_keyless_clients.at("pam"),
            (std::vector<std::string>{"127.0.0.1/32", "10.1.2.0/24", "fd00:1::/64", "::1/128"}));
  // A keyless client has no key: the verify socket's HELLO does not know it.
  EXPECT_EQ(c->tcp_clients.count("pam"), 0u);
  EXPECT_EQ(c->tcp_clients.count("radius"), 1u);
  EXPECT_EQ(c->Clone().validate_keyless_clients, c->validate_keyless_clients);
}

TEST_F(KeylessClientConfigTest, AClientMayHaveAKeyAndNetworksToo) {
  base::StatusOr<ServerConfig> c = Load(
      "[clients.both]\nkey = \"0123456789abcdef\"\nvalidate_without_key = true\n"
      "networks = [\"192.0.2.0/24\"]\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tcp_clients.count("both"), 1u);
  EXPECT_EQ(c->validate_keyless_clients.count("both"), 1u);
}

TEST_F(KeylessClientConfigTest, OnlyKeylessClientsAreEnoughForTheValidateListener) {
  base::StatusOr<ServerConfig> c =
      Load("[clients.pam]\nvalidate_without_key = true\nnetworks = [\"127.0.0.1/32\"]\n",
           {"--validate-listen", "127.0.0.1:0"});
  ASSERT_TRUE(c.ok()) << c.status();
  // They are no TCP clients of the verify socket.
  base::StatusOr<ServerConfig> tcp =
      Load("[clients.pam]\nvalidate_without_key = true\nnetworks = [\"127.0.0.1/32\"]\n",
           {"--listen", "127.0.0.1:0"});
  ASSERT_FALSE(tcp.ok());
  EXPECT_NE(tcp.status().message().find("listen (--listen)"), std::string::npos);
}

TEST_F(KeylessClientConfigTest, NeverByDefault) {
  base::StatusOr<ServerConfig> c = Load("[clients.radius]\nkey = \"0123456789abcdef\"\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->validate_keyless_clients.empty());
  const std::string off =
      Refusal("[clients.pam]\nvalidate_without_key = false\nnetworks = [\"127.0.0.1/32\"]\n");
  EXPECT_NE(off.find("clients.pam"), std::string::npos) << off;
}

TEST_F(KeylessClientConfigTest, BadEntriesNameTheClientAndTheEntry) {
  struct Case {
    std::string toml;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"[clients.pam]\nvalidate_without_key = true\n",
       {"clients.pam", "networks", "validate_without_key"}},
      {"[clients.pam]\nvalidate_without_key = true\nnetworks = []\n",
       {"clients.pam.networks", "empty"}},
      {"[clients.pam]\nvalidate_without_key = true\nnetworks = [\"10.1.2.0/24\", "
       "\"10.1.2.300/24\"]\n",
       {"clients.pam.networks", "\"10.1.2.300/24\""}},
      {"[clients.pam]\nvalidate_without_key = true\nnetworks = [\"10.1.2.0\"]\n",
       {"clients.pam.networks", "\"10.1.2.0\"", "/PREFIX"}},
      {"[clients.pam]\nvalidate_without_key = true\nnetworks = [\"10.1.2.0/33\"]\n",
       {"clients.pam.networks", "\"10.1.2.0/33\""}},
      {"[clients.pam]\nvalidate_without_key = true\nnetworks = [\"10.1.2.7/24\"]\n",
       {"clients.pam.networks", "\"10.1.2.7/24\"", "10.1.2.0/24"}},
      {"[clients.pam]\nvalidate_without_key = true\nnetworks = [\"fd00::1/64\"]\n",
       {"clients.pam.networks", "\"fd00::1/64\"", "fd00::/64"}},
      {"[clients.pam]\nvalidate_without_key = true\nnetworks = [\"fd00::/129\"]\n",
       {"clients.pam.networks", "\"fd00::/129\""}},
      {"[clients.pam]\nvalidate_without_key = true\nnetworks = [\"host.example.com/32\"]\n",
       {"clients.pam.networks", "\"host.example.com/32\""}},
      {"[clients.pam]\nvalidate_without_key = true\nnetworks = [\"0.0.0.0/0\"]\n",
       {"clients.pam.networks", "\"0.0.0.0/0\""}},
      {"[clients.pam]\nvalidate_without_key = true\nnetworks = \"10.1.2.0/24\"\n",
       {"clients.pam.networks", "array"}},
      {"[clients.pam]\nvalidate_without_key = \"yes\"\nnetworks = [\"10.1.2.0/24\"]\n",
       {"clients.pam.validate_without_key", "true or false"}},
      {"[clients.pam]\nnetworks = [\"10.1.2.0/24\"]\n", {"clients.pam", "validate_without_key"}},
      {"[clients.pam]\nvalidate_without_key = true\nnetwork = [\"10.1.2.0/24\"]\n",
       {"clients.pam.network", "networks"}},
  };
  for (const Case& c : cases) {
    const std::string message = Refusal(c.toml);
    for (const std::string& part : c.expected) {
      EXPECT_NE(message.find(part), std::string::npos) << c.toml << "\n" << message;
    }
  }
}

TEST_F(KeylessClientConfigTest, ReloadCarriesTheNetworks) {
  base::StatusOr<ServerConfig> running =
      Load("[clients.pam]\nvalidate_without_key = true\nnetworks = [\"10.1.2.0/24\"]\n");
  ASSERT_TRUE(running.ok()) << running.status();
  std::ofstream(path_) << "data_dir = \"/d\"\n[clients.pam]\nvalidate_without_key = true\n"
                          "networks = [\"10.9.0.0/16\"]\n";
  base::StatusOr<RuntimeConfig> runtime = ReloadServerConfig(*running);
  ASSERT_TRUE(runtime.ok()) << runtime.status();
  ASSERT_EQ(runtime->validate_keyless_clients.count("pam"), 1u);
  EXPECT_EQ(runtime->validate_keyless_clients.at("pam"), (std::vector<std::string>{"10.9.0.0/16"}));
}

TEST(ClientNetworksTest, MatchesIpv4AndIpv6AndTheMostSpecificWins) {
  ClientNetworks networks(ClientNetworkTable{{"office", {"10.1.0.0/16", "fd00:1::/64"}},
                                             {"radius", {"10.1.2.0/24"}},
                                             {"local", {"127.0.0.1/32", "::1/128"}}});
  EXPECT_EQ(networks.Match("10.1.9.9"), "office");
  EXPECT_EQ(networks.Match("10.1.2.3"), "radius");  // inside both: the /24 wins
  EXPECT_EQ(networks.Match("10.1.2.0"), "radius");
  EXPECT_EQ(networks.Match("10.1.2.255"), "radius");
  EXPECT_EQ(networks.Match("fd00:1::abcd"), "office");
  EXPECT_EQ(networks.Match("127.0.0.1"), "local");
  EXPECT_EQ(networks.Match("::1"), "local");
  // A dual-stack listener sees IPv4 peers as IPv4-mapped IPv6 addresses.
  EXPECT_EQ(networks.Match("::ffff:10.1.2.3"), "radius");
  EXPECT_EQ(networks.Match("::ffff:127.0.0.1"), "local");
  for (const char* outside : {"10.2.0.1", "10.0.255.255", "127.0.0.2", "fd00:2::1", "::2",
                              "::ffff:10.2.0.1", "", "unix", "10.1.2.3.4", "fd00:1::/64"}) {
    EXPECT_EQ(networks.Match(outside), std::nullopt) << outside;
  }
}

TEST(ClientNetworksTest, ReplaceAppliesANewTable) {
  ClientNetworks networks(ClientNetworkTable{{"a", {"10.0.0.0/8"}}});
  EXPECT_FALSE(networks.empty());
  EXPECT_EQ(networks.Match("10.2.3.4"), "a");
  networks.Replace({{"b", {"192.0.2.0/24"}}});
  EXPECT_EQ(networks.Match("10.2.3.4"), std::nullopt);
  EXPECT_EQ(networks.Match("192.0.2.1"), "b");
  networks.Replace({});
  EXPECT_TRUE(networks.empty());
  EXPECT_EQ(networks.Match("192.0.2.1"), std::nullopt);
}

}  // namespace
}  // namespace otpd::server
