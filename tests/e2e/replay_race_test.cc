// Replay and ordering against the real daemon: one code through two tokens of one user, a token's
// watermark across unassign and reassign, and the order of requests for a user the daemon has
// not loaded yet when they name it by serial and by UPN in turn.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "base/clock.h"
#include "service/admin/inventory.h"
#include "service/admin/user_admin.h"
#include "tests/e2e/e2e_env.h"

namespace otpd::e2e {
namespace {

using otpd::testing::Daemon;
using otpd::testing::Field;
using otpd::testing::Fields;
using otpd::testing::LineClient;
using otpd::testing::TempDir;

const engine::OtpParams kHotp{.type = engine::OtpType::kHotp};

std::string Outcome(const std::string& reply) {
  return Fields(reply).empty() ? "" : (Fields(reply)[0] == "OK" ? "ok" : Field(reply, "reason"));
}

// Two tokens of one user carry the same seed (imported with duplicates allowed): however many
// connections send one fresh code at once, through the user or through either serial, it is
// accepted exactly once.
TEST(ReplayRaceTest, OneCodeThroughTwoTokensIsAcceptedOnce) {
  TempDir dir;
  const std::vector<TestToken> tokens = {{"D1", "dup@example.com", "shared seed 20 bytes", kHotp},
                                         {"D2", "dup@example.com", "shared seed 20 bytes", kHotp}};
  std::string error;
  ASSERT_TRUE(PrepareDataDir(dir.File("data"), tokens, &error)) << error;
  Daemon daemon;
  ASSERT_TRUE(daemon.Start(OTPD_PATH, DaemonArgs(dir.File("data")))) << daemon.log();
  constexpr int kConnections = 20;
  std::vector<LineClient> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(i % 2 ? LineClient::Tcp(daemon.tcp_port())
                            : LineClient::Unix(dir.File("data") + "/verify.sock"));
  }
  // Counters 1..10: whichever token lags behind (its watermark moves only when it is the one
  // that accepts) still has every code inside its look-ahead window of 10.
  for (int64_t counter = 1; counter <= 10; ++counter) {
    const std::string code = tokens[0].Code(counter);
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kConnections; ++i) {
      threads.emplace_back([&, i] {
        std::string target = i % 3 == 0   ? "user=dup@example.com"
                             : i % 3 == 1 ? "serial=D1"
                                          : "serial=D2";
        std::string reply = clients[i].Call("VERIFY\tv\t" + target + "\totp=" + code);
        std::string outcome = Outcome(reply);
        if (outcome == "ok") ++ok;
        EXPECT_TRUE(outcome == "ok" || outcome == "replayed") << reply;
      });
    }
    for (auto& t : threads) t.join();
    ASSERT_EQ(ok.load(), 1) << "counter " << counter;
  }
  EXPECT_EQ(daemon.Stop(SIGTERM), 0) << daemon.log();
}

// Changes an offline data directory (the daemon stopped) through the service layer.
void Offline(const std::string& data_dir,
             const std::function<void(service::TokenInventory&)>& change,
             const std::vector<std::string>& new_users = {}) {
  auto dir = OpenTestStore(data_dir);
  ASSERT_TRUE(dir.ok()) << dir.status();
  const service::Directory directory(*dir->store, *dir->keys);
  for (const std::string& upn : new_users) {
    bool created = false;
    auto user = service::UserAdmin(directory, *base::RealClock::Get(), nullptr)
                    .Put(kAdmin, upn, "", &created);
    ASSERT_TRUE(user.ok() && created) << upn << ": " << user.status();
  }
  service::TokenInventory inventory(*dir->store, *dir->keys, *base::RealClock::Get(), {});
  change(inventory);
}

// A token's codes, once accepted, are never accepted again, whoever the token goes to next and
// whatever code it is activated with.
TEST(ReplayRaceTest, AReassignedTokenNeverAcceptsItsOldCodes) {
  TempDir dir;
  const TestToken token{"W1", "amy@example.com", "reassigned seed 0001", kHotp};
  std::string error;
  ASSERT_TRUE(PrepareDataDir(dir.File("data"), {token}, &error)) << error;
  const std::string socket = dir.File("data") + "/verify.sock";
  {
    Daemon daemon;
    ASSERT_TRUE(daemon.Start(OTPD_PATH, DaemonArgs(dir.File("data")))) << daemon.log();
    LineClient c = LineClient::Unix(socket);
    for (int64_t counter = 1; counter <= 5; ++counter) {
      ASSERT_EQ(Outcome(c.Call(VerifyLine("v", token.upn, token.Code(counter)))), "ok");
    }
    ASSERT_EQ(daemon.Stop(SIGTERM), 0) << daemon.log();
  }
  Offline(dir.File("data"),
          [&](service::TokenInventory& inv) {
            ASSERT_TRUE(inv.Unassign("W1", kAdmin).ok());
            ASSERT_TRUE(inv.Assign("W1", "ben@example.com", kAdmin).ok());
            // An old code cannot activate it (nor move its watermark back)...
            auto old = inv.Activate("W1", token.Code(3), kAdmin);
            ASSERT_TRUE(old.ok());
            EXPECT_EQ(old->outcome, service::ActivationOutcome::kWrongCode);
            // ...a code after them can.
            auto fresh = inv.Activate("W1", token.Code(8), kAdmin);
            ASSERT_TRUE(fresh.ok());
            EXPECT_EQ(fresh->outcome, service::ActivationOutcome::kActivated);
          },
          {"ben@example.com"});
  Daemon daemon;
  ASSERT_TRUE(daemon.Start(OTPD_PATH, DaemonArgs(dir.File("data")))) << daemon.log();
  LineClient c = LineClient::Unix(socket);
  for (int64_t counter = 1; counter <= 8; ++counter) {
    EXPECT_NE(Outcome(c.Call(VerifyLine("v", "ben@example.com", token.Code(counter)))), "ok")
        << counter;
  }
  EXPECT_EQ(Outcome(c.Call(VerifyLine("v", "ben@example.com", token.Code(9)))), "ok");
  EXPECT_EQ(Outcome(c.Call(VerifyLine("v", "amy@example.com", token.Code(10)))), "no_method");
  EXPECT_EQ(daemon.Stop(SIGTERM), 0) << daemon.log();
}

// Requests for a user the daemon has not loaded yet are decided in arrival order, also when they
// alternate between the token's serial and the user's UPN: consecutive HOTP codes pipelined on
// one connection are all accepted.
TEST(ReplayRaceTest, ColdUserRequestsKeepTheirOrderAcrossSerialAndUser) {
  TempDir dir;
  std::vector<TestToken> tokens;
  for (int i = 0; i < 4; ++i) {
    tokens.push_back({"C" + std::to_string(i), "cold" + std::to_string(i) + "@example.com",
                      "cold order seed 000" + std::to_string(i), kHotp});
  }
  std::string error;
  ASSERT_TRUE(PrepareDataDir(dir.File("data"), tokens, &error)) << error;
  std::vector<int64_t> next(tokens.size(), 1);
  for (int round = 0; round < 6; ++round) {
    Daemon daemon;  // a fresh start: nobody is loaded
    ASSERT_TRUE(daemon.Start(OTPD_PATH, DaemonArgs(dir.File("data")))) << daemon.log();
    LineClient c = LineClient::Unix(dir.File("data") + "/verify.sock");
    std::string batch;
    int requests = 0;
    for (int step = 0; step < 6; ++step) {
      for (size_t t = 0; t < tokens.size(); ++t) {
        const std::string target =
            (step + round) % 2 ? "serial=" + tokens[t].serial : "user=" + tokens[t].upn;
        batch += "VERIFY\t" + std::to_string(t) + "-" + std::to_string(step) + "\t" + target +
                 "\totp=" + tokens[t].Code(next[t]++) + "\n";
        ++requests;
      }
    }
    ASSERT_TRUE(c.Send(batch));
    for (int i = 0; i < requests; ++i) {
      std::string reply = c.ReadLine();
      EXPECT_EQ(Outcome(reply), "ok") << "round " << round << ": " << reply;
    }
    ASSERT_EQ(daemon.Stop(SIGTERM), 0) << daemon.log();
  }
}

}  // namespace
}  // namespace otpd::e2e
