// etcd set up as docs/scale-out.md asks for production: members that speak only TLS and want a
// client certificate their CA signed, authentication on, and an otpd user whose role may read and
// write otpd's prefix only. A real otpd node signs in through all of it; each part missing or
// wrong is refused at start with an error that names it, and the password never shows.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/codec.h"
#include "server/config.h"
#include "storage/keyring.h"
#include "tests/e2e/e2e_env.h"
#include "tests/testing/daemon.h"
#include "tests/testing/etcd_cluster.h"
#include "tests/testing/subprocess.h"
#include "tools/open_store.h"

namespace otpd::e2e {
namespace {

using otpd::testing::Daemon;
using otpd::testing::Fields;
using otpd::testing::LineClient;
using otpd::testing::RunResult;

constexpr char kEtcdctl[] = "/usr/bin/etcdctl";
constexpr char kPrefix[] = "/secure/";
// Distinctive, so that a test can look for it in every log and error.
constexpr char kPassword[] = "otpd-etcd-pw-5f2c9e";
constexpr char kRootPassword[] = "root-etcd-pw-a81d07";

class EtcdSecureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (otpd::testing::EtcdCluster::Binary().empty()) GTEST_SKIP() << otpd::testing::kEtcdMissing;
    ASSERT_EQ(access(kEtcdctl, X_OK), 0)
        << "etcdctl is not installed (Debian package etcd-client, which scripts/deps.sh installs)";
    ASSERT_TRUE(MakeCertificates());
    cluster_ = std::make_unique<otpd::testing::EtcdCluster>(
        otpd::testing::EtcdClusterOptions{.members = 1,
                                          .cert_file = File("server.crt"),
                                          .key_file = File("server.key"),
                                          .client_ca_file = File("ca.crt"),
                                          // etcd's authentication tokens last 5 minutes unused
                                          // by default; here 2 s, so that a test sees otpd
                                          // log in again once its token expired.
                                          .extra_args = {"--auth-token-ttl", "2"}});
    std::string error;
    ASSERT_TRUE(cluster_->Start(&error)) << error;
    ASSERT_TRUE(EnableAuthentication());
    otpd::testing::WriteFile(File("etcd.password"), std::string(kPassword) + "\n");
    chmod(File("etcd.password").c_str(), 0600);
    auto key = storage::GenerateMasterKey();
    ASSERT_TRUE(key.ok());
    ASSERT_TRUE(storage::WriteMasterKeyFile(File("master.key"), *key).ok());
  }

  std::string File(const std::string& name) const { return dir_.File(name); }

  // openssl, with its output kept for the failure message.
  bool OpenSsl(std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/openssl");
    RunResult r = otpd::testing::Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0;
  }

  // A certificate `name` for `subject`, signed by the CA `ca` with the extensions `ext`.
  bool Signed(const std::string& name, const std::string& subject, const std::string& ca,
              const std::string& ext) {
    otpd::testing::WriteFile(File(name + ".ext"), ext);
    return OpenSsl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-subj", subject, "-keyout", File(name + ".key"), "-out",
                    File(name + ".csr")}) &&
           OpenSsl({"x509", "-req", "-in", File(name + ".csr"), "-CA", File(ca + ".crt"), "-CAkey",
                    File(ca + ".key"), "-CAcreateserial", "-days", "2", "-extfile",
                    File(name + ".ext"), "-out", File(name + ".crt")});
  }

  bool Authority(const std::string& name) {
    return OpenSsl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=" + name, "-addext",
                    "basicConstraints=critical,CA:TRUE", "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign", "-keyout", File(name + ".key"), "-out",
                    File(name + ".crt")});
  }

  // The cluster's CA, the member's certificate for 127.0.0.1, otpd's client certificate, and a
  // second CA that signed neither.
  bool MakeCertificates() {
    return Authority("ca") && Authority("other-ca") &&
           Signed("server", "/CN=etcd", "ca",
                  "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n") &&
           Signed("client", "/CN=otpd", "ca", "extendedKeyUsage=clientAuth\n");
  }

  RunResult Etcdctl(std::vector<std::string> args, bool as_root) {
    args.insert(args.begin(),
                {kEtcdctl, "--endpoints", cluster_->endpoint_list(), "--cacert", File("ca.crt"),
                 "--cert", File("client.crt"), "--key", File("client.key")});
    if (as_root) args.insert(args.end(), {"--user", std::string("root:") + kRootPassword});
    return otpd::testing::Run(args);
  }

  // root, and the user otpd whose role may read and write kPrefix only; then authentication on.
  bool EnableAuthentication() {
    const std::vector<std::vector<std::string>> steps = {
        {"user", "add", "root", "--new-user-password", kRootPassword, "--interactive=false"},
        {"role", "add", "otpd"},
        {"role", "grant-permission", "otpd", "--prefix=true", "readwrite", kPrefix},
        {"user", "add", "otpd", "--new-user-password", kPassword, "--interactive=false"},
        {"user", "grant-role", "otpd", "otpd"},
        {"auth", "enable"}};
    for (const auto& step : steps) {
      RunResult r = Etcdctl(step, /*as_root=*/false);
      if (r.exit_code != 0) {
        ADD_FAILURE() << "etcdctl " << step[0] << " " << step[1] << ": " << r.err;
        return false;
      }
    }
    return true;
  }

  // The store arguments of a node set up as the docs say, with `replace` (flag, value) pairs
  // changed and the flags in `drop` left out.
  std::vector<std::string> StoreArgs(
      const std::vector<std::pair<std::string, std::string>>& replace = {},
      const std::vector<std::string>& drop = {}) const {
    std::vector<std::pair<std::string, std::string>> flags = {
        {"--store", "etcd"},
        {"--etcd-endpoints", cluster_->endpoint_list()},
        {"--etcd-prefix", kPrefix},
        {"--etcd-ca-file", File("ca.crt")},
        {"--etcd-cert-file", File("client.crt")},
        {"--etcd-key-file", File("client.key")},
        {"--etcd-user", "otpd"},
        {"--etcd-password-file", File("etcd.password")},
        // TLS handshakes on a loaded machine: more than the tests' usual second.
        {"--etcd-timeout", "3000"},
        {"--key-file", File("master.key")}};
    std::vector<std::string> args;
    for (auto& [flag, value] : flags) {
      if (std::find(drop.begin(), drop.end(), flag) != drop.end()) continue;
      for (const auto& [f, v] : replace) {
        if (f == flag) value = v;
      }
      args.insert(args.end(), {flag, value});
    }
    return args;
  }

  std::vector<std::string> NodeArgs(std::vector<std::string> store_args) const {
    store_args.insert(store_args.end(), {"--socket", "none", "--listen", "127.0.0.1:0",
                                         "--allow-unauthenticated-tcp"});
    return store_args;
  }

  // Starts a node that must refuse to start; returns what it said.
  std::string RefusedStart(const std::vector<std::string>& store_args) {
    Daemon node;
    EXPECT_FALSE(node.Start(OTPD_PATH, NodeArgs(store_args))) << node.log();
    if (node.running()) node.Stop(SIGKILL);
    const std::string log = node.log();
    EXPECT_EQ(log.find(kPassword), std::string::npos) << "the password is in the log";
    return log;
  }

  otpd::testing::TempDir dir_;
  std::unique_ptr<otpd::testing::EtcdCluster> cluster_;
};

TEST_F(EtcdSecureTest, ANodeSignsInThroughTlsAClientCertificateAndAuthentication) {
  const TestToken t{
      "SEC1", "secure@example.com", "secure seed 00000001", {.type = engine::OtpType::kHotp}};
  {
    std::vector<std::string> args = NodeArgs(StoreArgs());
    args.insert(args.begin(), "otpd");
    auto config = server::LoadServerConfig(args);
    ASSERT_TRUE(config.ok()) << config.status();
    auto store = tools::OpenDaemonStore(*config);
    ASSERT_TRUE(store.ok()) << store.status();
    std::string error;
    ASSERT_TRUE(PrepareStore(*store->store, *store->keys, {t}, &error)) << error;
  }
  Daemon node;
  ASSERT_TRUE(node.Start(OTPD_PATH, NodeArgs(StoreArgs()))) << node.log();
  LineClient c = LineClient::Tcp(node.tcp_port());
  const std::string code = t.Code(1);
  EXPECT_EQ(Fields(c.Call(VerifyLine("1", t.upn, code)))[0], "OK");
  const std::string again = c.Call(VerifyLine("2", t.upn, code));
  EXPECT_EQ(otpd::testing::Field(again, "reason"), "replayed") << again;
  // Once etcd forgot the node's token, the node logs in again by itself.
  std::this_thread::sleep_for(std::chrono::seconds(4));
  const std::string later = c.Call(VerifyLine("3", t.upn, t.Code(2)));
  EXPECT_EQ(Fields(later)[0], "OK") << later << node.log();
  EXPECT_EQ(node.Stop(SIGTERM), 0) << node.log();
  EXPECT_EQ(node.log().find(kPassword), std::string::npos) << "the password is in the log";

  // Everything otpd wrote is under its prefix: the root user sees nothing elsewhere.
  // (Keys are bytes, newlines included: read them from the JSON form, base64-encoded.)
  RunResult all = Etcdctl({"get", "", "--prefix", "--keys-only", "-w", "json"}, /*as_root=*/true);
  ASSERT_EQ(all.exit_code, 0) << all.err;
  boost::json::value listing = boost::json::parse(all.out);
  ASSERT_TRUE(listing.as_object().contains("kvs")) << all.out;
  int under_prefix = 0;
  for (const boost::json::value& kv : listing.at("kvs").as_array()) {
    auto key = base::Base64Decode(kv.at("key").as_string());
    ASSERT_TRUE(key.ok()) << kv;
    EXPECT_TRUE(key->view().starts_with(kPrefix)) << kv;
    ++under_prefix;
  }
  EXPECT_GT(under_prefix, 0);
}

TEST_F(EtcdSecureTest, EachMissingOrWrongPartIsRefusedAtStartAndNamed) {
  // A wrong password.
  otpd::testing::WriteFile(File("wrong.password"), "not-the-password\n");
  chmod(File("wrong.password").c_str(), 0600);
  std::string log = RefusedStart(StoreArgs({{"--etcd-password-file", File("wrong.password")}}));
  EXPECT_NE(log.find("authenticating as otpd"), std::string::npos) << log;
  EXPECT_EQ(log.find("not-the-password"), std::string::npos) << log;

  // A prefix the otpd user's role does not cover.
  log = RefusedStart(StoreArgs({{"--etcd-prefix", "/elsewhere/"}}));
  EXPECT_NE(log.find("permission denied"), std::string::npos) << log;

  // No client certificate: the member refuses the connection.
  log = RefusedStart(StoreArgs({}, {"--etcd-cert-file", "--etcd-key-file"}));
  EXPECT_NE(log.find(cluster_->endpoint(0).substr(8)), std::string::npos)
      << "the error does not name the member: " << log;

  // A CA that did not sign the member's certificate: otpd refuses the member.
  log = RefusedStart(StoreArgs({{"--etcd-ca-file", File("other-ca.crt")}}));
  EXPECT_NE(log.find(cluster_->endpoint(0).substr(8)), std::string::npos)
      << "the error does not name the member: " << log;
  EXPECT_NE(log.find("certificate verify failed"), std::string::npos) << log;

  // A certificate without its key.
  log = RefusedStart(StoreArgs({}, {"--etcd-key-file"}));
  EXPECT_NE(log.find("etcd_key_file"), std::string::npos) << log;
}

}  // namespace
}  // namespace otpd::e2e
