// Crash under load: many pipelining clients sign in (HOTP over the Unix socket and TCP, TOTP
// once per user per round) while the daemon is killed with SIGKILL at random moments, including
// right after start-up. After every restart:
//   - the data directory opens (the daemon starts),
//   - no code acknowledged before the crash is accepted again,
//   - the last acknowledged HOTP code of every token answers `replayed` (the watermark it
//     advanced was durable before the OK: no acknowledged change is missing).
// tests/e2e/restart_test.cc checks a fixed schedule with one request in flight per token; this
// one pipelines, mixes TOTP, and draws the kill times (the seed is printed to replay a run).
// After the last round the daemon stops cleanly and the offline tool opens the data dir.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "tests/e2e/e2e_env.h"
#include "tests/hardening/hardening_env.h"

namespace otpd::hardening {
namespace {

using e2e::TestToken;
using otpd::testing::Daemon;
using otpd::testing::Field;
using otpd::testing::Fields;
using otpd::testing::LineClient;
using otpd::testing::TempDir;

constexpr int kHotpTokens = 48;
constexpr int kTotpTokens = 16;
constexpr int kThreads = 12;  // each owns kHotpTokens / kThreads HOTP tokens and pipelines them
constexpr int kRounds = 6;

struct Ack {
  size_t token;
  int64_t step;  // HOTP counter, or TOTP offset 0 (the code itself is kept)
  std::string code;
};

TEST(CrashLoadTest, RandomKillNineNeverReacceptsOrLosesAnAcknowledgedCode) {
  TempDir dir;
  std::vector<TestToken> tokens;
  for (int i = 0; i < kHotpTokens; ++i) {
    tokens.push_back({"CH" + std::to_string(i),
                      "hotp" + std::to_string(i) + "@example.com",
                      "crash load seed h" + std::to_string(1000 + i),
                      {.type = engine::OtpType::kHotp}});
  }
  for (int i = 0; i < kTotpTokens; ++i) {
    tokens.push_back({"CT" + std::to_string(i),
                      "totp" + std::to_string(i) + "@example.com",
                      "crash load seed t" + std::to_string(1000 + i),
                      {.type = engine::OtpType::kTotp}});
  }
  std::string error;
  ASSERT_TRUE(e2e::PrepareDataDir(dir.File("data"), tokens, &error)) << error;
  const std::string data = dir.File("data");

  unsigned seed = std::random_device{}();
  std::cout << "crash load seed " << seed << std::endl;
  std::mt19937 rng(seed);

  std::mutex mu;
  std::vector<Ack> acks;                              // guarded by mu
  std::vector<int64_t> next_counter(kHotpTokens, 1);  // each entry owned by one thread
  size_t total_acks = 0;
  for (int round = 0; round < kRounds; ++round) {
    Daemon daemon;
    ASSERT_TRUE(daemon.Start(OTPD_PATH, e2e::DaemonArgs(data))) << "round " << round << "\n"
                                                                << daemon.log();
    // Everything acknowledged before the crash stays burnt. For each token the newest
    // acknowledgement must be `replayed`; a few older ones must at least not be accepted.
    {
      LineClient c = LineClient::Unix(data + "/verify.sock");
      std::map<size_t, int> checked;
      for (auto it = acks.rbegin(); it != acks.rend(); ++it) {
        if (checked[it->token]++ >= 2) continue;
        std::string reply = c.Call(e2e::VerifyLine("c", tokens[it->token].upn, it->code));
        ASSERT_NE(Fields(reply)[0], "OK")
            << "seed " << seed << " round " << round << ": token " << it->token
            << " accepted a code acknowledged before the crash";
        if (checked[it->token] == 1 && it->token < kHotpTokens) {
          EXPECT_EQ(Field(reply, "reason"), "replayed")
              << "seed " << seed << " round " << round << " token " << it->token;
        }
      }
      total_acks += acks.size();
      acks.clear();
    }

    std::atomic<bool> stop{false};
    std::vector<std::thread> workers;
    for (int t = 0; t < kThreads; ++t) {
      workers.emplace_back([&, t] {
        LineClient c = t % 2 == 0 ? LineClient::Unix(data + "/verify.sock")
                                  : LineClient::Tcp(daemon.tcp_port());
        // This thread's TOTP users sign in once per round, with the current code.
        for (size_t k = kHotpTokens + static_cast<size_t>(t); k < tokens.size(); k += kThreads) {
          std::string code = tokens[k].Code(0);
          if (!c.Send(e2e::VerifyLine("t", tokens[k].upn, code) + "\n")) return;
          std::string reply = c.ReadLine(std::chrono::seconds(5));
          if (reply.empty()) return;
          if (Fields(reply)[0] == "OK") {
            std::lock_guard lock(mu);
            acks.push_back({k, 0, code});
          }
        }
        std::vector<size_t> mine;
        for (size_t k = static_cast<size_t>(t); k < kHotpTokens; k += kThreads) mine.push_back(k);
        while (!stop.load()) {
          // One request per owned token, pipelined; replies matched by id (= token index).
          std::string batch;
          for (size_t k : mine) {
            batch +=
                e2e::VerifyLine(std::to_string(k), tokens[k].upn, tokens[k].Code(next_counter[k])) +
                "\n";
          }
          if (!c.Send(batch)) return;
          for (size_t n = 0; n < mine.size(); ++n) {
            std::string reply = c.ReadLine(std::chrono::seconds(5));
            if (reply.empty()) return;  // killed under us
            std::vector<std::string> f = Fields(reply);
            if (f.size() < 2 || f[1] == "-") continue;
            size_t k = std::stoul(f[1]);
            if (f[0] == "OK") {
              std::lock_guard lock(mu);
              acks.push_back({k, next_counter[k], tokens[k].Code(next_counter[k])});
            }
          }
          // Whatever the answers, move on: a code whose answer the crash swallowed may or may
          // not be stored; the look-ahead window covers the gap.
          for (size_t k : mine) ++next_counter[k];
        }
      });
    }
    // Round 0 dies almost at once (clients still connecting); later rounds at random.
    int delay_ms = round == 0 ? static_cast<int>(rng() % 40) : 100 + static_cast<int>(rng() % 900);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    daemon.Stop(SIGKILL);
    stop = true;
    for (auto& w : workers) w.join();
    std::cout << "round " << round << ": killed after " << delay_ms << " ms, " << acks.size()
              << " acknowledged" << std::endl;
  }
  EXPECT_GT(total_acks, 200u) << "the load did not get going";

  // A last start: every HOTP token signs in with the code after the last one sent (one answer
  // per token may have been swallowed), every acknowledged code is still refused, and a clean
  // stop leaves a data dir that the offline tool opens.
  Daemon daemon;
  ASSERT_TRUE(daemon.Start(OTPD_PATH, e2e::DaemonArgs(data))) << daemon.log();
  LineClient c = LineClient::Unix(data + "/verify.sock");
  std::map<size_t, int> checked;
  for (auto it = acks.rbegin(); it != acks.rend(); ++it) {
    if (checked[it->token]++ >= 2) continue;  // stay below the lockout threshold
    EXPECT_NE(Fields(c.Call(e2e::VerifyLine("a", tokens[it->token].upn, it->code)))[0], "OK")
        << "seed " << seed << ": token " << it->token;
  }
  for (size_t k = 0; k < kHotpTokens; ++k) {
    std::string reply =
        c.Call(e2e::VerifyLine("z", tokens[k].upn, tokens[k].Code(next_counter[k] + 1)));
    EXPECT_EQ(Fields(reply)[0], "OK") << "token " << k << " " << Field(reply, "reason");
  }
  EXPECT_EQ(daemon.Stop(SIGTERM), 0);
  otpd::testing::RunResult list = otpd::testing::Run(
      {OTPCTL_PATH, "token", "list", "--data-dir", data, "--key-file", e2e::KeyFileFor(data)});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("CH47"), std::string::npos);
}

}  // namespace
}  // namespace otpd::hardening
