// Several otpd nodes on one etcd cluster, end to end: a real 3-member etcd cluster on loopback
// (tests/testing/etcd_cluster.h), tokens imported into it in-process, and two real otpd daemons
// with store = "etcd" spoken to over TCP. Every node's cache is a hint; the commits' fences make
// the cluster's answer the only one that counts (docs/scale-out.md).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "base/clock.h"
#include "service/admin/inventory.h"
#include "service/model/records.h"
#include "storage/keyring.h"
#include "tests/e2e/etcd_nodes_env.h"

namespace otpd::e2e {
namespace {

using engine::OtpType;
using otpd::testing::Daemon;
using otpd::testing::EtcdCluster;
using otpd::testing::Field;
using otpd::testing::Fields;
using otpd::testing::LineClient;
using Clock = std::chrono::steady_clock;

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
  // The watch is asynchronous: give it a moment, but far less than the 30 s lock.
  ExpectAnUnlockElsewhereReaches(b, Token("UNL"), std::chrono::seconds(5));
}

// Faults, one after the other, under a steady load of sign-ins sent to both nodes: kill -9 of the
// etcd leader, then of a follower, SIGSTOP of the leader for 10 s, kill -9 of an otpd node. Every
// answer must be right or `unavailable`: a fresh code is accepted at most once over both nodes,
// a code older than an accepted one never is, and after everything each user's last accepted
// code is still refused (its watermark survived), and no watermark read from etcd during the
// faults was ever lower than one read before it. Prints how long each fault stalled sign-ins.
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

  // The watermarks as etcd holds them, read throughout by a reader of its own: none may ever
  // be lower than a value read before (reads that fail during a fault are skipped).
  auto admin = OpenAdminStore();
  ASSERT_TRUE(admin.ok()) << admin.status();
  std::vector<uint64_t> watermarks(kUsers, 0);
  int watermark_reads = 0;
  auto read_watermark = [&](int u) -> std::optional<uint64_t> {
    auto record = admin->store->Get(storage::Namespace::kState,
                                    service::TokenStateKey("F" + std::to_string(u)));
    if (!record.ok() || !record->has_value()) return std::nullopt;
    auto state = service::DecodeCredentialState((*record)->value);
    if (!state.ok()) return std::nullopt;
    return state->token.watermark;
  };
  // Stopped and joined also when an assertion below returns early.
  std::vector<std::thread> users;
  struct JoinAll {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~JoinAll() {
      stop = true;
      for (auto& th : threads) {
        if (th.joinable()) th.join();
      }
    }
  } join_all{stop, users};
  users.emplace_back([&] {
    while (!stop.load()) {
      for (int u = 0; u < kUsers; ++u) {
        std::optional<uint64_t> w = read_watermark(u);
        if (!w) continue;
        ++watermark_reads;
        if (*w < watermarks[u]) {
          violation("f" + std::to_string(u) + "'s watermark moved back from " +
                    std::to_string(watermarks[u]) + " to " + std::to_string(*w));
        }
        watermarks[u] = std::max(watermarks[u], *w);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

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
  EXPECT_GT(watermark_reads, 100);

  // Every user's last accepted code is still burnt, on both nodes.
  for (int u = 0; u < kUsers; ++u) {
    const TestToken& t = Token("F" + std::to_string(u));
    ASSERT_GT(last_done[u], 0) << t.upn << " never signed in";
    // No acknowledged sign-in's watermark was lost.
    std::optional<uint64_t> w = read_watermark(u);
    ASSERT_TRUE(w.has_value());
    EXPECT_GT(*w, static_cast<uint64_t>(last_done[u])) << t.upn;
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
