// The fixture of the tests of several otpd nodes on one etcd cluster (etcd_nodes_test.cc,
// etcd_fence_test.cc): a real 3-member etcd cluster on loopback (tests/testing/etcd_cluster.h),
// tokens imported into it in-process, and two real otpd daemons with store = "etcd" spoken to
// over TCP. Skipped, with a message saying so, only when etcd is not installed.

#ifndef OTPD_TESTS_E2E_ETCD_NODES_ENV_H_
#define OTPD_TESTS_E2E_ETCD_NODES_ENV_H_

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/clock.h"
#include "server/config.h"
#include "service/admin/user_admin.h"
#include "service/model/directory.h"
#include "storage/keyring.h"
#include "tests/e2e/e2e_env.h"
#include "tests/testing/daemon.h"
#include "tests/testing/etcd_cluster.h"
#include "tests/testing/eventually.h"
#include "tests/testing/http_client.h"
#include "tests/testing/subprocess.h"
#include "tools/open_store.h"

namespace otpd::e2e {

inline constexpr char kPrefix[] = "/e2e/";

inline std::vector<TestToken> Tokens() {
  std::vector<TestToken> t = {
      {"T1", "t1@example.com", "12345678901234567890", {}},
      {"H1", "h1@example.com", "hotp seed 0000000001", {.type = engine::OtpType::kHotp}},
      {"RACE", "race@example.com", "race seed 0000000001", {.type = engine::OtpType::kHotp}},
      {"LOCK", "lock@example.com", "lockout seed 0000001", {}},
      {"ADM", "admin@example.com", "admin seed 000000001", {.type = engine::OtpType::kHotp}},
      {"UNL", "unlock@example.com", "unlock seed 00000001", {}},
      {"STALE", "stale@example.com", "stale seed 000000001", {.type = engine::OtpType::kHotp}},
      {"STALE2", "stale2@example.com", "stale seed 000000002", {.type = engine::OtpType::kHotp}},
      {"WM", "watermark@example.com", "watermark seed 00001", {.type = engine::OtpType::kHotp}},
  };
  for (int i = 0; i < 6; ++i) {
    t.push_back({"F" + std::to_string(i),
                 "f" + std::to_string(i) + "@example.com",
                 "fault seed 00000000" + std::to_string(i),
                 {.type = engine::OtpType::kHotp}});
  }
  return t;
}

inline const TestToken& Token(const std::string& serial) {
  static const std::vector<TestToken> tokens = Tokens();
  for (const auto& t : tokens) {
    if (t.serial == serial) return t;
  }
  std::abort();
}

// Two otpd nodes (nodes_[0] is "A", nodes_[1] "B") on a fresh cluster for every test.
class EtcdNodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (otpd::testing::EtcdCluster::Binary().empty()) GTEST_SKIP() << otpd::testing::kEtcdMissing;
    std::string error;
    ASSERT_TRUE(cluster_.Start(&error)) << error;
    key_file_ = dir_.File("master.key");
    auto key = storage::GenerateMasterKey();
    ASSERT_TRUE(key.ok());
    ASSERT_TRUE(storage::WriteMasterKeyFile(key_file_, *key).ok());
    auto store = OpenAdminStore();
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(PrepareStore(*store->store, *store->keys, Tokens(), &error)) << error;
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(StartNode(i)) << nodes_[i].log();
  }

  std::vector<std::string> StoreArgs() const {
    return {"--store", "etcd",       "--etcd-endpoints", cluster_.endpoint_list(), "--etcd-prefix",
            kPrefix,   "--key-file", key_file_,          "--etcd-timeout",         "1000"};
  }

  // The store as an administrator's process sees it (what otpctl or an admin API on any node
  // would use).
  base::StatusOr<tools::DaemonStore> OpenAdminStore() {
    std::vector<std::string> args = {"otpd", "--listen", "127.0.0.1:0",
                                     "--allow-unauthenticated-tcp"};
    for (const auto& a : StoreArgs()) args.push_back(a);
    OTPD_ASSIGN_OR_RETURN(server::ServerConfig config, server::LoadServerConfig(args));
    return tools::OpenDaemonStore(config);
  }

  bool StartNode(int i) {
    std::vector<std::string> args = StoreArgs();
    for (const char* a : {"--socket", "none", "--listen", "127.0.0.1:0",
                          "--allow-unauthenticated-tcp", "--request-deadline", "4000"}) {
      args.emplace_back(a);
    }
    // Node B may have several etcd transactions in flight, node A one at a time: every race
    // between the two nodes runs over both commit paths.
    if (i == 1) {
      args.emplace_back("--etcd-commits-in-flight");
      args.emplace_back("4");
    }
    for (std::string& a : ExtraArgs(i)) args.push_back(std::move(a));
    return nodes_[i].Start(OTPD_PATH, args);
  }

  // More arguments for node `i` (a test's configuration file, an admin socket).
  virtual std::vector<std::string> ExtraArgs(int) { return {}; }

  otpd::testing::LineClient Node(int i) {
    return otpd::testing::LineClient::Tcp(nodes_[i].tcp_port());
  }

  // Locks `u` on the node behind `node` (five wrong codes; the node then answers "locked" from
  // memory, without a commit whose fence could fail), unlocks it through an administrator's
  // store, and expects the node to accept u's next code within `wait`: the unlock reaches the
  // node only through its watch of the cluster.
  void ExpectAnUnlockElsewhereReaches(otpd::testing::LineClient& node, const TestToken& u,
                                      std::chrono::milliseconds wait) {
    using otpd::testing::Field;
    const std::string wrong = u.Code(0) == "000000" ? "000001" : "000000";
    for (int i = 0; i < 5; ++i) node.Call(VerifyLine("w", u.upn, wrong));
    ASSERT_EQ(Field(node.Call(VerifyLine("l", u.upn, u.Code(1))), "reason"), "locked");
    {
      auto admin = OpenAdminStore();
      ASSERT_TRUE(admin.ok()) << admin.status();
      service::Directory directory(*admin->store, *admin->keys);
      auto unlocked =
          service::UnlockUser(directory, *base::RealClock::Get(), u.upn, kAdmin, nullptr);
      ASSERT_TRUE(unlocked.ok()) << unlocked.status();
    }
    std::string after;
    otpd::testing::Eventually(
        [&] {
          after = node.Call(VerifyLine("u", u.upn, u.Code(1)));
          return Field(after, "reason") != "locked";
        },
        wait, std::chrono::milliseconds(100));
    EXPECT_EQ(otpd::testing::Fields(after)[0], "OK")
        << "the unlock did not reach the node through its watch: " << after;
  }

  void TearDown() override {
    for (otpd::testing::Daemon& d : nodes_) {
      if (d.running()) {
        EXPECT_EQ(d.Stop(SIGTERM), 0) << d.log();
      }
    }
  }

  otpd::testing::TempDir dir_;
  otpd::testing::EtcdCluster cluster_;
  std::string key_file_;
  otpd::testing::Daemon nodes_[2];
};

// Two nodes with an admin socket each, which the test reaches as the owner.
class EtcdAdminNodesTest : public EtcdNodesTest {
 protected:
  std::vector<std::string> ExtraArgs(int i) override {
    sockets_[i] = dir_.File(i == 0 ? "admin-a.sock" : "admin-b.sock");
    std::vector<std::string> args = {"--admin-socket", sockets_[i]};
    if (admin_tcp_) args.insert(args.end(), {"--admin-listen", "127.0.0.1:0"});
    return args;
  }

  // Node i's admin API as the owner (its admin socket).
  otpd::testing::HttpClient Owner(int i) { return otpd::testing::HttpClient::Unix(sockets_[i]); }

  bool admin_tcp_ = false;  // each node serves its admin API on a TCP port too
  std::string sockets_[2];
};

}  // namespace otpd::e2e

#endif  // OTPD_TESTS_E2E_ETCD_NODES_ENV_H_
