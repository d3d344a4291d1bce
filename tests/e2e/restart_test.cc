// Crash and restart: kill -9 the daemon in the middle of a stream of sign-ins, start it again,
// and check that no code it acknowledged before the crash is accepted again.

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "tests/e2e/e2e_env.h"

namespace otpd::e2e {
namespace {

using otpd::testing::Daemon;
using otpd::testing::Field;
using otpd::testing::Fields;
using otpd::testing::LineClient;
using otpd::testing::TempDir;

TEST(RestartTest, AcceptedCodesStayBurntAcrossKillNine) {
  TempDir dir;
  std::vector<TestToken> tokens;
  for (int i = 0; i < 8; ++i) {
    tokens.push_back({"L" + std::to_string(i),
                      "load" + std::to_string(i) + "@example.com",
                      "restart seed 0000000" + std::to_string(i),
                      {.type = engine::OtpType::kHotp}});
  }
  std::string error;
  ASSERT_TRUE(PrepareDataDir(dir.File("data"), tokens, &error)) << error;

  std::mutex mu;
  std::vector<std::pair<size_t, uint64_t>> acknowledged;  // token index, counter
  std::vector<uint64_t> next_counter(tokens.size(), 1);
  for (int round = 0; round < 3; ++round) {
    Daemon daemon;
    ASSERT_TRUE(daemon.Start(OTPD_PATH, DaemonArgs(dir.File("data")))) << daemon.log();
    // The last codes acknowledged for each token before the crash are replays now: the
    // watermark they advanced was durable before the OK was sent. (Older ones lie below the
    // look-behind window and are refused as plain bad codes; checking a few keeps the users
    // below the lockout threshold.)
    {
      LineClient c = LineClient::Unix(dir.File("data") + "/verify.sock");
      std::vector<int> checked(tokens.size(), 0);
      for (auto it = acknowledged.rbegin(); it != acknowledged.rend(); ++it) {
        auto [index, counter] = *it;
        if (checked[index]++ >= 3) continue;
        std::string reply = c.Call(
            VerifyLine("r", tokens[index].upn, tokens[index].Code(static_cast<int64_t>(counter))));
        ASSERT_EQ(Field(reply, "reason"), "replayed")
            << "round " << round << " token " << index << " counter " << counter << ": " << reply;
      }
    }
    std::atomic<bool> stop{false};
    std::vector<std::thread> workers;
    for (size_t i = 0; i < tokens.size(); ++i) {
      workers.emplace_back([&, i] {
        LineClient c = LineClient::Tcp(daemon.tcp_port());
        while (!stop.load()) {
          uint64_t counter = next_counter[i];
          if (!c.Send(
                  VerifyLine("v", tokens[i].upn, tokens[i].Code(static_cast<int64_t>(counter))) +
                  "\n")) {
            return;
          }
          std::string reply = c.ReadLine(std::chrono::seconds(5));
          if (reply.empty()) return;  // the daemon died under us
          if (Fields(reply)[0] == "OK") {
            std::lock_guard lock(mu);
            acknowledged.emplace_back(i, counter);
          }
          // Whatever the answer, move on: a code whose answer was lost may or may not have been
          // stored, and the look-ahead window covers the gap.
          next_counter[i] = counter + 1;
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(400 + 300 * round));
    daemon.Stop(SIGKILL);
    stop = true;
    for (auto& w : workers) w.join();
  }
  EXPECT_GT(acknowledged.size(), 50u);

  // A last start: the data directory opens cleanly and every token still signs in (with the
  // code after the one whose answer the crash may have swallowed).
  Daemon daemon;
  ASSERT_TRUE(daemon.Start(OTPD_PATH, DaemonArgs(dir.File("data")))) << daemon.log();
  LineClient c = LineClient::Unix(dir.File("data") + "/verify.sock");
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string reply = c.Call(
        VerifyLine("z", tokens[i].upn, tokens[i].Code(static_cast<int64_t>(next_counter[i] + 1))));
    EXPECT_EQ(Fields(reply)[0], "OK") << reply;
  }
  EXPECT_EQ(daemon.Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace otpd::e2e
