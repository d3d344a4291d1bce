#include "server/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace otpd::server {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("otpd-config-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  std::filesystem::path dir_;
};

base::StatusOr<ServerConfig> Load(std::vector<std::string> args) {
  args.insert(args.begin(), "otpd");
  return LoadServerConfig(args);
}

TEST_F(ConfigTest, DefaultsNeedOnlyADataDir) {
  base::StatusOr<ServerConfig> c = Load({"--data-dir", "/var/lib/otpd"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->socket_path, "/var/lib/otpd/verify.sock");
  EXPECT_EQ(c->listen, "");
  EXPECT_EQ(c->durability, Durability::kSync);
  EXPECT_EQ(c->io_threads, 2u);
  EXPECT_EQ(c->limits.max_line, 4096u);
  EXPECT_EQ(c->log_level, spdlog::level::info);
}

TEST_F(ConfigTest, MissingDataDirIsNamed) {
  base::StatusOr<ServerConfig> c = Load({});
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(base::IsInvalidArgument(c.status()));
  EXPECT_NE(c.status().message().find("--data-dir"), std::string_view::npos);
}

TEST_F(ConfigTest, EtcdStoreNeedsEndpointsButNoDataDir) {
  base::StatusOr<ServerConfig> c =
      Load({"--store", "etcd", "--listen", "127.0.0.1:0", "--allow-unauthenticated-tcp"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("etcd_endpoints"), std::string_view::npos) << c.status();

  c = Load({"--store", "etcd", "--etcd-endpoints", "127.0.0.1:2379,http://10.0.0.2:2379",
            "--listen", "127.0.0.1:0", "--allow-unauthenticated-tcp"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->store, StoreKind::kEtcd);
  EXPECT_EQ(c->etcd_endpoints,
            (std::vector<std::string>{"127.0.0.1:2379", "http://10.0.0.2:2379"}));
  EXPECT_EQ(c->etcd_prefix, "/otpd/");
  EXPECT_EQ(c->socket_path, "");  // no data_dir: no default socket

  // Without a data directory and without a TCP listener there is nowhere to serve.
  c = Load({"--store", "etcd", "--etcd-endpoints", "127.0.0.1:2379"});
  ASSERT_FALSE(c.ok());

  std::string config = Write("etcd.toml", R"(
store = "etcd"
etcd_endpoints = ["https://a:2379", "https://b:2379"]
etcd_prefix = "/site-1/"
etcd_ca_file = "/etc/otpd/ca.pem"
etcd_user = "otpd"
etcd_password_file = "/etc/otpd/etcd.password"
data_dir = "/run/otpd"
)");
  c = Load({"--config", config});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->etcd_endpoints, (std::vector<std::string>{"https://a:2379", "https://b:2379"}));
  EXPECT_EQ(c->etcd_prefix, "/site-1/");
  EXPECT_EQ(c->socket_path, "/run/otpd/verify.sock");

  // A user without a password file, a certificate without its key, a list that is not one.
  EXPECT_FALSE(Load({"--config", config, "--etcd-password-file", ""}).ok());
  EXPECT_FALSE(Load({"--config", config, "--etcd-cert-file", "/c.pem"}).ok());
  c = Load({"--config", Write("bad.toml", "store = \"etcd\"\netcd_endpoints = \"a:1\"\n")});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("array of strings"), std::string_view::npos) << c.status();
}

TEST_F(ConfigTest, FileValuesAndFlagOverrides) {
  std::string key_file = Write("vpn.key", "0123456789abcdef0123\n");
  ::chmod(key_file.c_str(), 0600);  // a key file others may read is refused
  std::string config = Write("otpd.toml", R"(
data_dir = "/srv/otpd"
key_file = "/etc/otpd/master.key"
socket = "/run/otpd/verify.sock"
listen = "127.0.0.1:7733"
admin_listen = "127.0.0.1:7734"
durability = "relaxed"
io_threads = 4
log_level = "debug"
[limits]
max_connections = 10
max_in_flight = 20
pipeline_depth = 5
idle_timeout_seconds = 30
line_timeout_ms = 1500
request_deadline_ms = 250
shutdown_grace_ms = 100
max_line = 1024
[clients.vpn]
key_file = ")" + key_file + R"("
[clients.web]
key = "web-key-0123456789"
)");
  base::StatusOr<ServerConfig> c = Load({"--config", config, "--io-threads", "3", "--durability",
                                         "sync", "--pipeline-depth", "7", "--listen", "[::1]:0"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->config_file, config);
  EXPECT_EQ(c->data_dir, "/srv/otpd");
  EXPECT_EQ(c->key_file, "/etc/otpd/master.key");
  EXPECT_EQ(c->socket_path, "/run/otpd/verify.sock");
  EXPECT_EQ(c->listen, "[::1]:0");  // flag wins
  EXPECT_EQ(c->admin_listen, "127.0.0.1:7734");
  EXPECT_EQ(c->durability, Durability::kSync);  // flag wins
  EXPECT_EQ(c->io_threads, 3u);                 // flag wins
  EXPECT_EQ(c->log_level, spdlog::level::debug);
  EXPECT_EQ(c->limits.max_connections, 10u);
  EXPECT_EQ(c->limits.max_in_flight, 20u);
  EXPECT_EQ(c->limits.pipeline_depth, 7u);  // flag wins
  EXPECT_EQ(c->limits.idle_timeout, std::chrono::seconds(30));
  EXPECT_EQ(c->limits.line_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(c->limits.request_deadline, std::chrono::milliseconds(250));
  EXPECT_EQ(c->limits.shutdown_grace, std::chrono::milliseconds(100));
  EXPECT_EQ(c->limits.max_line, 1024u);
  ASSERT_EQ(c->tcp_clients.size(), 2u);
  EXPECT_EQ(c->tcp_clients.at("vpn").view(), "0123456789abcdef0123");
  EXPECT_EQ(c->tcp_clients.at("web").view(), "web-key-0123456789");
}

TEST_F(ConfigTest, ErrorsNameTheKeyOrFlag) {
  struct Case {
    std::string toml;
    std::vector<std::string> flags;
    std::string expected;  // a substring of the message
  };
  const std::vector<Case> cases = {
      {"data_dir = \"/d\"\ncolour = 1\n", {}, "colour"},
      {"data_dir = \"/d\"\n[limits]\nmax_conections = 1\n", {}, "limits.max_conections"},
      {"data_dir = \"/d\"\n[limits]\npipeline_depth = \"x\"\n", {}, "limits.pipeline_depth"},
      {"data_dir = \"/d\"\n[limits]\nmax_in_flight = -1\n", {}, "limits.max_in_flight"},
      {"data_dir = \"/d\"\ndurability = \"fast\"\n", {}, "durability"},
      {"data_dir = \"/d\"\n", {"--durability", "fast"}, "--durability"},
      {"data_dir = \"/d\"\n", {"--log-level", "loud"}, "--log-level"},
      {"data_dir = \"/d\"\n", {"--io-threads", "0"}, "--io-threads"},
      {"data_dir = \"/d\"\n", {"--pipeline-depth", "0"}, "--pipeline-depth"},
      {"data_dir = \"/d\"\n", {"--listen", "nonsense"}, "--listen"},
      {"data_dir = \"/d\"\n", {"--listen", "127.0.0.1:99999"}, "--listen"},
      {"data_dir = \"/d\"\n", {"--listen", "127.0.0.1:7733"}, "clients"},
      {"data_dir = \"/d\"\nsocket = \"none\"\n", {}, "--socket"},
      {"data_dir = \"/d\"\n[clients.vpn]\nkey = \"short\"\n", {}, "clients.vpn"},
      {"data_dir = \"/d\"\n[clients.vpn]\n", {}, "clients.vpn"},
      {"data_dir = \"/d\"\n[clients.vpn]\nkey_file = \"/nonexistent/k\"\n", {}, "clients.vpn"},
      {"data_dir = \"/d\"\n[clients.\"bad name\"]\nkey = \"0123456789abcdef\"\n", {}, "clients."},
      {"data_dir = [\n", {}, "otpd.toml:"},
      {"data_dir = \"/d\"\n", {"--no-such-flag"}, "command line"},
  };
  for (const Case& c : cases) {
    std::string path = Write("otpd.toml", c.toml);
    std::vector<std::string> args = {"--config", path};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    base::StatusOr<ServerConfig> config = Load(args);
    ASSERT_FALSE(config.ok()) << c.toml << " " << c.expected;
    EXPECT_TRUE(base::IsInvalidArgument(config.status())) << config.status();
    EXPECT_NE(config.status().message().find(c.expected), std::string_view::npos)
        << config.status() << " should mention " << c.expected;
  }
}

TEST_F(ConfigTest, SecretsNeverAppearInErrors) {
  std::string path = Write("otpd.toml", "data_dir = \"/d\"\n[clients.vpn]\nkey = \"hunter2\"\n");
  base::StatusOr<ServerConfig> config = Load({"--config", path});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message().find("hunter2"), std::string_view::npos);
}

TEST_F(ConfigTest, HelpIsCancelledWithTheText) {
  base::StatusOr<ServerConfig> config = Load({"--help"});
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(base::IsCancelled(config.status()));
  EXPECT_NE(config.status().message().find("--data-dir"), std::string_view::npos);
}

TEST_F(ConfigTest, NoneDisablesTheUnixSocketWhenTcpServes) {
  base::StatusOr<ServerConfig> c = Load({"--data-dir", "/d", "--socket", "none", "--listen",
                                         "127.0.0.1:0", "--allow-unauthenticated-tcp"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->socket_path, "");
  EXPECT_TRUE(c->allow_unauthenticated_tcp);
}

TEST_F(ConfigTest, ReloadReturnsRuntimeFieldsAndNamesRestartOnes) {
  std::string path = Write("otpd.toml",
                           "data_dir = \"/d\"\n[limits]\nmax_in_flight = 10\n"
                           "[clients.vpn]\nkey = \"0123456789abcdef\"\n");
  base::StatusOr<ServerConfig> running = Load({"--config", path, "--pipeline-depth", "9"});
  ASSERT_TRUE(running.ok()) << running.status();

  Write("otpd.toml",
        "data_dir = \"/elsewhere\"\nlog_level = \"warn\"\n[limits]\nmax_in_flight = 99\n"
        "max_line = 2048\npipeline_depth = 3\n[clients.web]\nkey = \"fedcba9876543210\"\n");
  base::StatusOr<RuntimeConfig> runtime = ReloadServerConfig(*running);
  ASSERT_TRUE(runtime.ok()) << runtime.status();
  EXPECT_EQ(runtime->limits.max_in_flight, 99u);
  EXPECT_EQ(runtime->limits.pipeline_depth, 9u);  // the command line still overrides
  EXPECT_EQ(runtime->limits.max_line, 4096u);     // fixed at start-up
  EXPECT_EQ(runtime->log_level, spdlog::level::warn);
  ASSERT_EQ(runtime->tcp_clients.size(), 1u);
  EXPECT_EQ(runtime->tcp_clients.count("web"), 1u);
  // The sockets' default paths are in the data directory: they move with it.
  EXPECT_EQ(runtime->needs_restart,
            (std::vector<std::string>{"data_dir", "socket", "admin_socket", "limits.max_line"}));

  Write("otpd.toml", "data_dir = \"/d\"\n[limits]\nmax_in_flight = \"many\"\n");
  EXPECT_FALSE(ReloadServerConfig(*running).ok());
}

// docs/otpd.example.toml is generated from the options' descriptions: it can never go stale, and
// it loads, giving exactly the defaults.
TEST_F(ConfigTest, TheExampleFileIsCurrentAndLoads) {
  std::ifstream in("docs/otpd.example.toml");
  ASSERT_TRUE(in) << "run from the repository root";
  std::string committed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(committed, ExampleConfigToml())
      << "regenerate it: otpd --print-example-config > docs/otpd.example.toml";
  base::StatusOr<ServerConfig> c =
      Load({"--config", "docs/otpd.example.toml", "--data-dir", "/var/lib/otpd"});
  ASSERT_TRUE(c.ok()) << c.status();
  const ServerConfig defaults;
  EXPECT_EQ(c->limits.max_tcp_connections, defaults.limits.max_tcp_connections);
  EXPECT_EQ(c->limits.hello_timeout, defaults.limits.hello_timeout);
  EXPECT_EQ(c->cache_mb, defaults.cache_mb);
  // Every option is in it, and every option with a flag is in --help.
  base::StatusOr<ServerConfig> help = Load({"--help"});
  for (const OptionDoc& d : DescribeOptions()) {
    const std::string key = d.key.substr(d.key.find('.') + 1);
    EXPECT_NE(committed.find(key + " = "), std::string::npos) << d.key;
    if (!d.flag.empty()) {
      EXPECT_NE(help.status().message().find(d.flag), std::string_view::npos) << d.flag;
    }
  }
}

TEST_F(ConfigTest, VersionAndNewLimits) {
  base::StatusOr<ServerConfig> version = Load({"--version"});
  ASSERT_TRUE(base::IsCancelled(version.status()));
  EXPECT_NE(version.status().message().find("otpd "), std::string_view::npos);
  base::StatusOr<ServerConfig> c =
      Load({"--data-dir", "/d", "--max-tcp-connections", "7", "--hello-timeout", "250",
            "--max-failed-hellos", "3", "--cache-mb", "64", "--insecure-key-in-data-dir"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->limits.max_tcp_connections, 7u);
  EXPECT_EQ(c->limits.hello_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(c->limits.max_failed_hellos, 3u);
  EXPECT_EQ(c->cache_mb, 64u);
  EXPECT_TRUE(c->insecure_key_in_data_dir);
  EXPECT_FALSE(Load({"--data-dir", "/d", "--hello-timeout", "1"}).ok());
  EXPECT_FALSE(Load({"--data-dir", "/d", "--cache-mb", "lots"}).ok());
}

// The admin and validate listeners follow one set of rules, each error naming the listener's own
// option and flag.
TEST_F(ConfigTest, TlsListenersNameTheirOwnOptions) {
  const std::string clients =
      Write("clients.toml", "data_dir = \"/d\"\n[clients.radius]\nkey = \"0123456789abcdef\"\n");
  for (const std::string name : {"admin", "validate"}) {
    const std::string flag = "--" + name;
    const auto refusal = [&](std::vector<std::string> args) {
      args.insert(args.begin(), {"--config", clients});
      base::StatusOr<ServerConfig> c = Load(args);
      EXPECT_FALSE(c.ok()) << name;
      return c.ok() ? std::string() : std::string(c.status().message());
    };
    const auto has = [&](const std::string& message, const std::string& text) {
      EXPECT_NE(message.find(text), std::string::npos) << name << ": " << message;
    };
    has(refusal({flag + "-listen", "0.0.0.0:7735", flag + "-tls-cert", "/c.pem"}),
        name + "_tls_key (" + flag + "-tls-key): is needed too: the " + name +
            " listener's certificate and key go together");
    has(refusal({flag + "-listen", "0.0.0.0:7735", flag + "-tls-key", "/k.pem"}),
        name + "_tls_cert (" + flag + "-tls-cert): is needed too");
    has(refusal({flag + "-tls-cert", "/c.pem", flag + "-tls-key", "/k.pem"}),
        name + "_tls_cert (" + flag + "-tls-cert): needs " + name + "_listen");
    has(refusal({flag + "-listen", "0.0.0.0:7735"}),
        name + "_listen (" + flag + "-listen): is not a loopback address: it needs TLS (" + name +
            "_tls_cert, " + name + "_tls_key)");
    has(refusal({flag + "-listen", "nowhere"}), name + "_listen (" + flag + "-listen)");
    EXPECT_TRUE(Load({"--config", clients, flag + "-listen", "127.0.0.1:0"}).ok()) << name;
  }
}

TEST_F(ConfigTest, ValidateListenerNeedsClientsAndTlsOffLoopback) {
  const std::string clients =
      Write("clients.toml", "data_dir = \"/d\"\n[clients.radius]\nkey = \"0123456789abcdef\"\n");
  base::StatusOr<ServerConfig> ok = Load({"--config", clients, "--validate-listen", "127.0.0.1:0"});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->validate_listen, "127.0.0.1:0");
  EXPECT_EQ(ok.value().Clone().validate_listen, "127.0.0.1:0");

  // Without a client nobody could authenticate.
  base::StatusOr<ServerConfig> no_clients =
      Load({"--data-dir", "/d", "--validate-listen", "127.0.0.1:0"});
  ASSERT_FALSE(no_clients.ok());
  EXPECT_NE(no_clients.status().message().find("validate_listen"), std::string::npos);
  // Off loopback it needs TLS; a certificate needs its key and a listener.
  EXPECT_FALSE(Load({"--config", clients, "--validate-listen", "0.0.0.0:7735"}).ok());
  EXPECT_TRUE(Load({"--config", clients, "--validate-listen", "0.0.0.0:7735", "--validate-tls-cert",
                    "/c.pem", "--validate-tls-key", "/k.pem"})
                  .ok());
  EXPECT_FALSE(Load({"--config", clients, "--validate-listen", "0.0.0.0:7735",
                     "--validate-tls-cert", "/c.pem"})
                   .ok());
  EXPECT_FALSE(
      Load({"--config", clients, "--validate-tls-cert", "/c.pem", "--validate-tls-key", "/k.pem"})
          .ok());
  EXPECT_FALSE(Load({"--config", clients, "--validate-listen", "nowhere"}).ok());
}

TEST(HostPortTest, Parses) {
  base::StatusOr<HostPort> v4 = ParseHostPort("127.0.0.1:7733");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 7733);
  base::StatusOr<HostPort> v6 = ParseHostPort("[::1]:0");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  for (const char* bad : {"", ":80", "host", "host:", "host:x", "::1:80", "[::1:80", "h:65536"}) {
    EXPECT_FALSE(ParseHostPort(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace otpd::server
