// Attacks on the rules that make a node's cache a mere hint (docs/scale-out.md): a node whose
// cache is stale, because it was never told of another node's change or is told too late, must
// still never accept what the cluster would refuse; and a watermark, once moved by either node,
// never moves back.

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "service/admin/inventory.h"
#include "service/model/records.h"
#include "service/signin/sign_in_verifier.h"
#include "tests/e2e/etcd_nodes_env.h"

namespace otpd::e2e {
namespace {

using otpd::testing::Field;
using otpd::testing::Fields;
using otpd::testing::LineClient;
using service::Outcome;

service::SignInResult VerifyNow(service::SignInVerifier& node, const TestToken& t, int64_t steps) {
  std::promise<service::SignInResult> answer;
  std::future<service::SignInResult> future = answer.get_future();
  const std::string code = t.Code(steps);
  node.Verify({.user = t.upn, .otp = code},
              [&answer](service::SignInResult r) { answer.set_value(std::move(r)); });
  return future.get();
}

// A node in this process that never watches the store: its cache learns of other nodes' changes
// only when a commit's condition fails.
struct UnwatchedNode {
  explicit UnwatchedNode(tools::DaemonStore opened)
      : store(std::move(opened)),
        verifier(*store.store, *store.keys, *base::RealClock::Get(), service::SignInOptions{}) {}
  ~UnwatchedNode() { verifier.StopLoading(); }
  tools::DaemonStore store;
  service::SignInVerifier verifier;
};

// An administrator deactivates a token on one node while another node has its user cached and is
// told nothing: the next valid code on that node is refused, because the sign-in's commit is
// conditional on the user's fence, which the deactivation moved. And a code another node
// accepted meanwhile is refused as replayed, because the commit is conditional on the watermark
// record it rewrites.
TEST_F(EtcdNodesTest, ANodeThatMissedEveryChangeStillNeverAcceptsWrongly) {
  auto opened = OpenAdminStore();
  ASSERT_TRUE(opened.ok()) << opened.status();
  UnwatchedNode b(std::move(*opened));
  auto admin = OpenAdminStore();
  ASSERT_TRUE(admin.ok()) << admin.status();

  const TestToken& t = Token("STALE");
  ASSERT_EQ(VerifyNow(b.verifier, t, 1).outcome, Outcome::kAccepted);  // cached on B
  service::TokenInventory inventory(*admin->store, *admin->keys, *base::RealClock::Get(), {});
  ASSERT_TRUE(inventory.Deactivate(t.serial, kAdmin).ok());
  const uint64_t redecided = b.verifier.counters().redecided.load();
  EXPECT_EQ(VerifyNow(b.verifier, t, 2).outcome, Outcome::kNotActivated);
  EXPECT_GT(b.verifier.counters().redecided.load(), redecided)
      << "refused from B's cache, not by the fence: the test proves nothing";
  EXPECT_EQ(VerifyNow(b.verifier, t, 3).outcome, Outcome::kNotActivated);

  // Codes 2..4 accepted by the real node A while B holds watermark 2 in its cache.
  const TestToken& u = Token("STALE2");
  ASSERT_EQ(VerifyNow(b.verifier, u, 1).outcome, Outcome::kAccepted);
  LineClient a = Node(0);
  for (int c = 2; c <= 4; ++c) {
    ASSERT_EQ(Fields(a.Call(VerifyLine("a", u.upn, u.Code(c))))[0], "OK") << c;
  }
  for (int c = 2; c <= 4; ++c) EXPECT_EQ(VerifyNow(b.verifier, u, c).outcome, Outcome::kReplayed);
  EXPECT_EQ(VerifyNow(b.verifier, u, 5).outcome, Outcome::kAccepted);
  EXPECT_EQ(Field(a.Call(VerifyLine("a", u.upn, u.Code(5))), "reason"), "replayed");
}

// The scenario with two real daemons: deactivate through node A's side, then a valid code
// on node B, which has the user cached: refused at once (no waiting for B's watch).
TEST_F(EtcdNodesTest, DeactivateOnOneNodeThenAValidCodeOnTheOtherIsRefused) {
  const TestToken& t = Token("STALE");
  LineClient a = Node(0), b = Node(1);
  ASSERT_EQ(Fields(b.Call(VerifyLine("1", t.upn, t.Code(1))))[0], "OK");
  ASSERT_EQ(Fields(a.Call(VerifyLine("2", t.upn, t.Code(2))))[0], "OK");
  {
    auto admin = OpenAdminStore();
    ASSERT_TRUE(admin.ok()) << admin.status();
    service::TokenInventory inventory(*admin->store, *admin->keys, *base::RealClock::Get(), {});
    ASSERT_TRUE(inventory.Deactivate(t.serial, kAdmin).ok());
  }
  EXPECT_EQ(Field(b.Call(VerifyLine("3", t.upn, t.Code(3))), "reason"), "not_activated");
  EXPECT_EQ(Field(a.Call(VerifyLine("4", t.upn, t.Code(4))), "reason"), "not_activated");
}

// Eight consecutive HOTP codes at once to both nodes, ascending to A and descending to B, round
// after round: every counter is accepted at most once, and the watermark in etcd always ends one
// past the highest code (the last writer never carries it back to a lower code it accepted).
TEST_F(EtcdNodesTest, TheWatermarkNeverMovesBack) {
  constexpr int kRounds = 40;
  constexpr int kCodes = 8;  // within the HOTP look-ahead and look-behind (10)
  const TestToken& t = Token("WM");
  auto admin = OpenAdminStore();
  ASSERT_TRUE(admin.ok()) << admin.status();
  auto watermark = [&]() -> uint64_t {
    auto record = admin->store->Get(storage::Namespace::kState, service::TokenStateKey(t.serial));
    EXPECT_TRUE(record.ok() && record->has_value()) << record.status();
    if (!record.ok() || !record->has_value()) return 0;
    auto state = service::DecodeCredentialState((*record)->value);
    EXPECT_TRUE(state.ok()) << state.status();
    return state.ok() ? state->token.watermark : 0;
  };
  LineClient a = Node(0), b = Node(1);
  uint64_t last = watermark();
  ASSERT_EQ(last, 1u);  // activated at counter 0
  std::map<std::string, int> reasons;
  for (int r = 0; r < kRounds; ++r) {
    const int base = 1 + r * kCodes;
    auto send = [&](LineClient& c, bool ascending) {
      std::string lines;
      for (int i = 0; i < kCodes; ++i) {
        const int code = ascending ? base + i : base + kCodes - 1 - i;
        lines += VerifyLine(std::to_string(code), t.upn, t.Code(code)) + "\n";
      }
      std::vector<std::string> replies;
      if (!c.Send(lines)) return replies;
      for (int i = 0; i < kCodes; ++i) replies.push_back(c.ReadLine());
      return replies;
    };
    auto from_b = std::async(std::launch::async, [&] { return send(b, false); });
    std::vector<std::string> replies = send(a, true);
    for (std::string& reply : from_b.get()) replies.push_back(std::move(reply));
    ASSERT_EQ(replies.size(), 2u * kCodes) << "round " << r;
    std::multiset<int> accepted;
    for (const std::string& reply : replies) {
      ASSERT_FALSE(reply.empty()) << "round " << r << ": no answer";
      if (Fields(reply)[0] == "OK") {
        accepted.insert(std::stoi(Field(reply, "step")));
      } else {
        ++reasons[Field(reply, "reason")];
      }
    }
    for (int c : accepted) {
      EXPECT_EQ(accepted.count(c), 1u) << "round " << r << ": code " << c << [&] {
        std::string all;
        for (const std::string& reply : replies) all += "\n" + reply;
        return all;
      }();
    }
    // The highest code is always accepted by one of them: nothing above it was.
    ASSERT_TRUE(accepted.count(base + kCodes - 1)) << "round " << r;
    const uint64_t now = watermark();
    EXPECT_GE(now, last) << "round " << r << ": the watermark moved back";
    EXPECT_EQ(now, static_cast<uint64_t>(base + kCodes)) << "round " << r;
    last = now;
  }
  // Every refusal was a replay: nothing counted as a failure, nothing unavailable.
  EXPECT_EQ(reasons.size(), 1u);
  EXPECT_TRUE(reasons.count("replayed"));
  // And the last codes stay refused as replays on both nodes (older ones are beyond the
  // look-behind and would count as failures).
  for (int code = kCodes * kRounds; code > kCodes * (kRounds - 1); code -= 3) {
    EXPECT_EQ(Field(a.Call(VerifyLine("o", t.upn, t.Code(code))), "reason"), "replayed") << code;
    EXPECT_EQ(Field(b.Call(VerifyLine("o", t.upn, t.Code(code))), "reason"), "replayed") << code;
  }
}

}  // namespace
}  // namespace otpd::e2e
