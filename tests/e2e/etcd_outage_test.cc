// A total outage of the etcd cluster: every member killed at once, then started again on its
// data. The otpd nodes are not restarted; they must answer sign-ins again on their own within a
// bounded time, and their watch of other nodes' changes must work again.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "tests/e2e/etcd_nodes_env.h"

namespace otpd::e2e {
namespace {

using otpd::testing::Field;
using otpd::testing::Fields;
using otpd::testing::LineClient;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Signs `t` in on `c` with its HOTP code `*counter` until OK or `until`; a code the cluster took
// before the answer was lost is refused as replayed, and the next one is tried.
bool SignInUntil(LineClient& c, const TestToken& t, int64_t* counter, Clock::time_point until,
                 std::string* last) {
  while (Clock::now() < until) {
    *last = c.Call(VerifyLine("c" + std::to_string(*counter), t.upn, t.Code(*counter)));
    if (!last->empty() && Fields(*last)[0] == "OK") {
      ++*counter;
      return true;
    }
    if (Field(*last, "reason") == "replayed") ++*counter;
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

TEST_F(EtcdNodesTest, NodesComeBackByThemselvesAfterEveryMemberWasDown) {
  const TestToken& ta = Token("F0");
  const TestToken& tb = Token("F1");
  LineClient a = Node(0), b = Node(1);
  int64_t ca = 1, cb = 1;
  std::string reply;
  ASSERT_TRUE(SignInUntil(a, ta, &ca, Clock::now() + 10s, &reply)) << reply;
  ASSERT_TRUE(SignInUntil(b, tb, &cb, Clock::now() + 10s, &reply)) << reply;

  for (int i = 0; i < cluster_.size(); ++i) cluster_.Kill(i);
  // While nothing answers: never OK.
  for (int i = 0; i < 3; ++i) {
    reply = a.Call(VerifyLine("x", ta.upn, ta.Code(ca)));
    EXPECT_NE(Fields(reply)[0], "OK") << reply;
    reply = b.Call(VerifyLine("x", tb.upn, tb.Code(cb)));
    EXPECT_NE(Fields(reply)[0], "OK") << reply;
  }
  std::this_thread::sleep_for(3s);
  for (int i = 0; i < cluster_.size(); ++i) ASSERT_TRUE(cluster_.Revive(i)) << cluster_.log(i);
  ASSERT_TRUE(cluster_.WaitHealthy(30s)) << cluster_.log(0);
  const auto back = Clock::now();

  // Both nodes sign in again within 15 s of the cluster's return, without a restart.
  const bool a_back = SignInUntil(a, ta, &ca, back + 15s, &reply);
  EXPECT_TRUE(a_back) << "node A: " << reply << "\n" << nodes_[0].log();
  const bool b_back = SignInUntil(b, tb, &cb, back + 15s, &reply);
  EXPECT_TRUE(b_back) << "node B: " << reply << "\n" << nodes_[1].log();
  std::printf(
      "sign-ins on both nodes again %lld ms after the cluster was healthy\n",
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - back).count()));
  if (!a_back || !b_back) return;

  // The watch works again: B holds UNL as locked (from memory, without a commit); an unlock made
  // elsewhere reaches it only through the watch.
  ExpectAnUnlockElsewhereReaches(b, Token("UNL"), 10s);
}

}  // namespace
}  // namespace otpd::e2e
