// Several otpd nodes on one etcd cluster, end to end: a real 3-member etcd cluster on loopback
// (tests/testing/etcd_cluster.h), tokens imported into it in-process, and two real otpd daemons
// with store = "etcd" spoken to over TCP. Every node's cache is a hint; the commits' fences make
// the cluster's answer the only one that counts (docs/etcd.md).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "base/clock.h"
#include "service/directory.h"
#include "service/inventory.h"
#include "service/user_admin.h"
#include "storage/keyring.h"
#include "tests/e2e/e2e_env.h"
#include "tests/testing/etcd_cluster.h"
#include "tools/open_store.h"

namespace otpd::e2e {
namespace {

using engine::OtpType;
using otpd::testing::Daemon;
using otpd::testing::EtcdCluster;
using otpd::testing::Field;
using otpd::testing::Fields;
using otpd::testing::LineClient;
using otpd::testing::TempDir;
using Clock = std::chrono::steady_clock;

constexpr char kPrefix[] = "/e2e/";

std::vector<TestToken> Tokens() {
  std::vector<TestToken> t = {
      {"T1", "t1@example.com", "12345678901234567890", {}},
      {"H1", "h1@example.com", "hotp seed 0000000001", {.type = OtpType::kHotp}},
      {"RACE", "race@example.com", "race seed 0000000001", {.type = OtpType::kHotp}},
      {"LOCK", "lock@example.com", "lockout seed 0000001", {}},
      {"ADM", "admin@example.com", "admin seed 000000001", {.type = OtpType::kHotp}},
      {"UNL", "unlock@example.com", "unlock seed 00000001", {}},
  };
  for (int i = 0; i < 6; ++i) {
    t.push_back({"F" + std::to_string(i),
                 "f" + std::to_string(i) + "@example.com",
                 "fault seed 00000000" + std::to_string(i),
                 {.type = OtpType::kHotp}});
  }
  return t;
}

const TestToken& Token(const std::string& serial) {
  static const std::vector<TestToken> tokens = Tokens();
  for (const auto& t : tokens) {
    if (t.serial == serial) return t;
  }
  std::abort();
}

class EtcdNodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
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
    return {"--store", "etcd", "--etcd-endpoints", cluster_.endpoint_list(), "--etcd-prefix",
            kPrefix,   "--key-file", key_file_,      "--etcd-timeout",         "1000"};
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
    return nodes_[i].Start(OTPD_PATH, args);
  }

  LineClient Node(int i) { return LineClient::Tcp(nodes_[i].tcp_port()); }

  void TearDown() override {
    for (Daemon& d : nodes_) {
      if (d.running()) EXPECT_EQ(d.Stop(SIGTERM), 0) << d.log();
    }
  }

  TempDir dir_;
  EtcdCluster cluster_;
  std::string key_file_;
  Daemon nodes_[2];
};

// A subset of the sign-in suite (verify_socket_test.cc), on each node.
TEST_F(EtcdNodesTest, SignInsOnEitherNode) {
  LineClient a = Node(0), b = Node(1);
  const TestToken& totp = Token("T1");
  const std::string code = totp.Code(1);
  EXPECT_EQ(Fields(a.Call(VerifyLine("1", totp.upn, code)))[0], "OK");
  EXPECT_EQ(Field(b.Call(VerifyLine("2", totp.upn, code)), "reason"), "replayed");
  EXPECT_EQ(Field(a.Call(VerifyLine("3", totp.upn, code)), "reason"), "replayed");

  const TestToken& hotp = Token("H1");
  EXPECT_EQ(Fields(b.Call(VerifyLine("4", hotp.upn, hotp.Code(1))))[0], "OK");
  EXPECT_EQ(Fields(a.Call(VerifyLine("5", hotp.upn, hotp.Code(2))))[0], "OK");
  EXPECT_EQ(Field(b.Call(VerifyLine("6", hotp.upn, hotp.Code(2))), "reason"), "replayed");
  EXPECT_EQ(Field(b.Call(VerifyLine("7", hotp.upn, hotp.Code(1))), "reason"), "replayed");
  EXPECT_EQ(Fields(b.Call(VerifyLine("8", hotp.upn, hotp.Code(3))))[0], "OK");

  EXPECT_EQ(Field(a.Call(VerifyLine("9", "nobody@example.com", "123456")), "reason"),
            "unknown_user");
  const std::string wrong = code == "000000" ? "000001" : "000000";
  EXPECT_EQ(Field(b.Call(VerifyLine("10", totp.upn, wrong)), "reason"), "bad_code");
}

// The same fresh code sent to both nodes at once over many connections: exactly one OK, round
// after round.
TEST_F(EtcdNodesTest, OneFreshCodeSentToBothNodesAtOnceIsAcceptedExactlyOnce) {
  constexpr int kPerNode = 4;
  constexpr int kMaxRounds = 1000;
  const auto budget = std::chrono::seconds(50);
  const TestToken& t = Token("RACE");
  std::vector<LineClient> clients;
  for (int i = 0; i < 2 * kPerNode; ++i) clients.push_back(Node(i % 2));
  const auto start = Clock::now();
  int rounds = 0;
  std::map<std::string, int> reasons;
  for (int r = 1; r <= kMaxRounds && Clock::now() - start < budget; ++r, ++rounds) {
    const std::string line = VerifyLine("r" + std::to_string(r), t.upn, t.Code(r));
    for (auto& c : clients) ASSERT_TRUE(c.Send(line + "\n"));
    int ok = 0;
    for (auto& c : clients) {
      std::string reply = c.ReadLine();
      ASSERT_FALSE(reply.empty()) << "no answer in round " << r;
      if (Fields(reply)[0] == "OK") {
        ++ok;
      } else {
        ++reasons[Field(reply, "reason")];
      }
    }
    ASSERT_EQ(ok, 1) << "round " << r;
  }
  std::printf("rounds: %d in %.1f s; other answers:", rounds,
              std::chrono::duration<double>(Clock::now() - start).count());
  for (const auto& [reason, n] : reasons) std::printf(" %s=%d", reason.c_str(), n);
  std::printf("\n");
  EXPECT_GE(rounds, 100);
  EXPECT_EQ(reasons.size(), 1u);  // every loser: replayed
}

// Failures counted on both nodes add up to one lockout, seen by both.
TEST_F(EtcdNodesTest, LockoutCountsFailuresFromBothNodes) {
  const TestToken& t = Token("LOCK");
  const std::string wrong = t.Code(1) == "000000" ? "000001" : "000000";
  LineClient a = Node(0), b = Node(1);
  for (int i = 0; i < 5; ++i) {
    LineClient& c = i % 2 ? b : a;
    EXPECT_EQ(Field(c.Call(VerifyLine("w", t.upn, wrong)), "reason"), "bad_code") << i;
  }
  EXPECT_EQ(Field(a.Call(VerifyLine("l", t.upn, t.Code(1))), "reason"), "locked");
  EXPECT_EQ(Field(b.Call(VerifyLine("l", t.upn, t.Code(2))), "reason"), "locked");
}

// An administrator's change made elsewhere (here through the store, as any node's admin path
// would) reaches a node that has the user cached.
TEST_F(EtcdNodesTest, AChangeMadeElsewhereIsSeenByEveryNode) {
  const TestToken& t = Token("ADM");
  LineClient b = Node(1);
  ASSERT_EQ(Fields(b.Call(VerifyLine("1", t.upn, t.Code(1))))[0], "OK");  // cached on B
  {
    auto admin = OpenAdminStore();
    ASSERT_TRUE(admin.ok()) << admin.status();
    service::TokenInventory inventory(*admin->store, *admin->keys, *base::RealClock::Get(), {});
    ASSERT_TRUE(inventory.Unassign(t.serial, kAdmin).ok());
  }
  std::string reply = b.Call(VerifyLine("2", t.upn, t.Code(2)));
  EXPECT_NE(Fields(reply)[0], "OK") << reply;

  // Unlocking is only seen through the watch: a node that has the user cached as locked answers
  // "locked" from memory, without a commit whose fence could fail.
  const TestToken& u = Token("UNL");
  const std::string wrong = u.Code(0) == "000000" ? "000001" : "000000";
  for (int i = 0; i < 5; ++i) b.Call(VerifyLine("w", u.upn, wrong));
  ASSERT_EQ(Field(b.Call(VerifyLine("l", u.upn, u.Code(1))), "reason"), "locked");
  {
    auto admin = OpenAdminStore();
    ASSERT_TRUE(admin.ok()) << admin.status();
    service::Directory directory(*admin->store, *admin->keys);
    auto unlocked =
        service::UnlockUser(directory, *base::RealClock::Get(), u.upn, kAdmin, nullptr);
    ASSERT_TRUE(unlocked.ok()) << unlocked.status();
  }
  // The watch is asynchronous: give it a moment, but far less than the 30 s lock.
  std::string after;
  for (int i = 0; i < 50; ++i) {
    after = b.Call(VerifyLine("u", u.upn, u.Code(1)));
    if (Field(after, "reason") != "locked") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(Fields(after)[0], "OK") << after;
}

// Faults, one after the other, under a steady load of sign-ins sent to both nodes: kill -9 of the
// etcd leader, then of a follower, SIGSTOP of the leader for 10 s, kill -9 of an otpd node. Every
// answer must be right or `unavailable`: a fresh code is accepted at most once over both nodes,
// a code older than an accepted one never is, and after everything each user's last accepted
// code is still refused (its watermark survived). Prints how long each fault stalled sign-ins.
TEST_F(EtcdNodesTest, FaultsNeverAcceptACodeTwiceNorLoseAnAcceptedOne) {
  constexpr int kUsers = 6;
  std::atomic<uint16_t> ports[2];
  for (int i = 0; i < 2; ++i) ports[i] = nodes_[i].tcp_port();
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> violations;
  std::vector<std::pair<Clock::time_point, int>> oks;  // when, which node
  std::map<std::string, int> answers;
  std::vector<int64_t> last_done(kUsers, 0);
  auto violation = [&](std::string what) {
    std::lock_guard lock(mu);
    if (violations.size() < 20) violations.push_back(std::move(what));
  };

  std::vector<std::thread> users;
  for (int u = 0; u < kUsers; ++u) {
    users.emplace_back([&, u] {
      const TestToken& t = Token("F" + std::to_string(u));
      std::optional<LineClient> conns[2];
      auto conn = [&](int node) -> LineClient* {
        if (conns[node] && conns[node]->connected() && !conns[node]->closed()) {
          return &*conns[node];
        }
        conns[node].reset();
        uint16_t port = ports[node].load();
        if (port == 0) return nullptr;
        conns[node].emplace(LineClient::Tcp(port));
        return conns[node]->connected() ? &*conns[node] : nullptr;
      };
      int64_t c = 1, done = 0;
      int ok_for_c = 0;
      for (int iteration = 0; !stop.load(); ++iteration) {
        const std::string line = VerifyLine("c" + std::to_string(c), t.upn, t.Code(c));
        LineClient* sent[2] = {nullptr, nullptr};
        for (int n = 0; n < 2; ++n) {
          LineClient* cl = conn(n);
          if (cl != nullptr && cl->Send(line + "\n")) sent[n] = cl;
        }
        bool replayed = false;
        for (int n = 0; n < 2; ++n) {
          if (sent[n] == nullptr) continue;
          std::string reply = sent[n]->ReadLine(std::chrono::seconds(8));
          std::string reason = reply.empty() ? "no_answer" : Field(reply, "reason");
          if (!reply.empty() && Fields(reply)[0] == "OK") {
            reason = "ok";
            ++ok_for_c;
            std::lock_guard lock(mu);
            oks.emplace_back(Clock::now(), n);
          } else if (reason == "replayed") {
            replayed = true;
          } else if (reason != "unavailable" && reason != "no_answer") {
            violation(t.upn + " code " + std::to_string(c) + ": " + reply);
          }
          if (reply.empty()) conns[n].reset();
          std::lock_guard lock(mu);
          ++answers[reason];
        }
        if (ok_for_c > 1) violation(t.upn + " code " + std::to_string(c) + " accepted twice");
        if (ok_for_c > 0 || replayed) {
          done = c++;
          ok_for_c = 0;
          std::lock_guard lock(mu);
          last_done[u] = done;
        } else if (sent[0] == nullptr && sent[1] == nullptr) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        if (iteration % 5 == 4 && done > 0) {
          // A code at or below the watermark must never pass, on either node.
          LineClient* cl = conn(iteration % 2);
          if (cl != nullptr) {
            std::string reply = cl->Call(VerifyLine("old", t.upn, t.Code(done)));
            if (!reply.empty() && Fields(reply)[0] == "OK") {
              violation(t.upn + " old code " + std::to_string(done) + " accepted again");
            }
            if (reply.empty()) conns[iteration % 2].reset();
          }
        }
      }
    });
  }

  struct Phase {
    std::string fault;
    Clock::time_point start, end;
    int node = -1;  // for an otpd node's fault: whose answers tell the recovery
  };
  std::vector<Phase> phases;
  auto wait = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  wait(std::chrono::seconds(3));

  int leader = cluster_.Leader();
  ASSERT_GE(leader, 0);
  phases.push_back({"kill -9 of the etcd leader", Clock::now(), {}});
  cluster_.Kill(leader);
  wait(std::chrono::seconds(4));
  ASSERT_TRUE(cluster_.Restart(leader)) << cluster_.log(leader);
  phases.back().end = Clock::now();
  wait(std::chrono::seconds(1));

  leader = cluster_.Leader();
  ASSERT_GE(leader, 0);
  const int follower = (leader + 1) % cluster_.size();
  phases.push_back({"kill -9 of an etcd follower", Clock::now(), {}});
  cluster_.Kill(follower);
  wait(std::chrono::seconds(4));
  ASSERT_TRUE(cluster_.Restart(follower)) << cluster_.log(follower);
  phases.back().end = Clock::now();
  wait(std::chrono::seconds(1));

  leader = cluster_.Leader();
  ASSERT_GE(leader, 0);
  phases.push_back({"SIGSTOP of the etcd leader for 10 s", Clock::now(), {}});
  cluster_.Pause(leader);
  wait(std::chrono::seconds(10));
  cluster_.Resume(leader);
  wait(std::chrono::seconds(2));
  phases.back().end = Clock::now();

  phases.push_back({"kill -9 of otpd node B, restarted after 2 s", Clock::now(), {}, 1});
  ports[1] = 0;
  nodes_[1].Stop(SIGKILL);
  wait(std::chrono::seconds(2));
  ASSERT_TRUE(StartNode(1)) << nodes_[1].log();
  ports[1] = nodes_[1].tcp_port();
  wait(std::chrono::seconds(3));
  phases.back().end = Clock::now();

  stop = true;
  for (auto& th : users) th.join();

  // Every user's last accepted code is still burnt, on both nodes.
  for (int u = 0; u < kUsers; ++u) {
    const TestToken& t = Token("F" + std::to_string(u));
    ASSERT_GT(last_done[u], 0) << t.upn << " never signed in";
    for (int n = 0; n < 2; ++n) {
      std::string reply = Node(n).Call(VerifyLine("final", t.upn, t.Code(last_done[u])));
      EXPECT_EQ(Field(reply, "reason"), "replayed") << t.upn << " on node " << n << ": " << reply;
    }
  }
  EXPECT_TRUE(violations.empty()) << [&] {
    std::string all;
    for (const auto& v : violations) all += v + "\n";
    return all;
  }();

  // How long each fault kept sign-ins from being accepted: the longest time without an OK (from
  // the node concerned, for a node's fault) between the fault and the end of its phase.
  std::printf("answers:");
  for (const auto& [reason, n] : answers) std::printf(" %s=%d", reason.c_str(), n);
  std::printf("\n");
  for (const Phase& p : phases) {
    Clock::time_point last = p.start;
    Clock::duration longest{0};
    int count = 0;
    for (const auto& [when, node] : oks) {
      if (when < p.start || when > p.end || (p.node >= 0 && node != p.node)) continue;
      longest = std::max(longest, when - last);
      last = when;
      ++count;
    }
    longest = std::max(longest, p.end - last);
    std::printf("%-48s longest stall %6.0f ms, %d sign-ins accepted in %.1f s\n", p.fault.c_str(),
                std::chrono::duration<double, std::milli>(longest).count(), count,
                std::chrono::duration<double>(p.end - p.start).count());
    EXPECT_GT(count, 0) << p.fault << ": no sign-in accepted during or after the fault";
  }
}

}  // namespace
}  // namespace otpd::e2e
