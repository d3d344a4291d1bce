// The verify socket end to end: the real otpd on loopback (ephemeral TCP port and a Unix socket
// in a temp dir), a real RocksDB data directory, and the protocol spoken over the real sockets.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "tests/e2e/e2e_env.h"
#include "tests/e2e/suite_daemon.h"

namespace otpd::e2e {
namespace {

using engine::HashAlgorithm;
using engine::OtpParams;
using engine::OtpType;
using otpd::testing::Daemon;
using otpd::testing::Field;
using otpd::testing::Fields;
using otpd::testing::LineClient;
using otpd::testing::TempDir;

const char kSeed20[] = "12345678901234567890";
const char kSeed32[] = "12345678901234567890123456789012";
const char kSeed64[] = "1234567890123456789012345678901234567890123456789012345678901234";

std::vector<TestToken> Tokens() {
  std::vector<TestToken> t = {
      {"TS1", "t1@example.com", kSeed20, {}},
      {"TS256", "t256@example.com", kSeed32, {.algorithm = HashAlgorithm::kSha256, .digits = 8}},
      {"TS512",
       "t512@example.com",
       kSeed64,
       {.algorithm = HashAlgorithm::kSha512, .digits = 8, .period = 60}},
      {"HS1", "h1@example.com", kSeed20, {.type = OtpType::kHotp}},
      {"HS256",
       "h256@example.com",
       kSeed32,
       {.type = OtpType::kHotp, .algorithm = HashAlgorithm::kSha256, .digits = 8}},
      {"HS512",
       "h512@example.com",
       kSeed64,
       {.type = OtpType::kHotp, .algorithm = HashAlgorithm::kSha512, .digits = 7}},
      {"CC1", "cc@example.com", "concurrency seed 001", {.type = OtpType::kHotp}},
      {"LK1", "lock@example.com", "lockout seed 0000001", {}},
      {"DR1", "drift@example.com", "drift seed 000000001", {}},
      {"NM1", "near@example.com", "near miss seed 00001", {}},
      {"RS1", "resync@example.com", "resync seed 00000001", {}},
  };
  for (int i = 0; i < 10; ++i) {
    t.push_back({"P" + std::to_string(i),
                 "p" + std::to_string(i) + "@example.com",
                 "pipeline seed 0000" + std::to_string(i),
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

class VerifySocketTest : public SuiteDaemon<VerifySocketTest> {
 public:
  static bool PrepareSuite(std::vector<std::string>*, std::string* error) {
    return PrepareDataDir(DataDir(), Tokens(), error);
  }

 protected:
  static LineClient Tcp() { return LineClient::Tcp(daemon_->tcp_port()); }
  static LineClient Unix() { return LineClient::Unix(DataDir() + "/verify.sock"); }
};

TEST_F(VerifySocketTest, HelloPingStats) {
  LineClient c = Unix();
  ASSERT_TRUE(c.connected());
  std::string hello = c.Call("HELLO\th1\tversion=1");
  EXPECT_EQ(Fields(hello)[0], "OK") << hello;
  EXPECT_EQ(Field(hello, "version"), "1");
  EXPECT_EQ(Field(hello, "server").rfind("otpd/", 0), 0u);
  EXPECT_EQ(c.Call("PING\tp1"), "OK\tp1");
  std::string stats = c.Call("STATS\ts1");
  EXPECT_EQ(Fields(stats)[0], "OK");
  EXPECT_FALSE(Field(stats, "requests").empty());
  EXPECT_FALSE(Field(stats, "p99_us").empty());
}

TEST_F(VerifySocketTest, EveryAlgorithmAcceptsOnceThenReplays) {
  LineClient c = Tcp();
  ASSERT_TRUE(c.connected());
  for (const char* serial : {"TS1", "TS256", "TS512", "HS1", "HS256", "HS512"}) {
    const TestToken& t = Token(serial);
    const std::string code = t.Code(1);
    std::string ok = c.Call(VerifyLine("a", t.upn, code));
    ASSERT_EQ(Fields(ok)[0], "OK") << serial << ": " << ok;
    EXPECT_EQ(Field(ok, "serial"), serial);
    EXPECT_EQ(Field(ok, "type"), "hardware_oath");
    EXPECT_FALSE(Field(ok, "method").empty());
    EXPECT_FALSE(Field(ok, "step").empty());
    EXPECT_EQ(c.Call(VerifyLine("b", t.upn, code)), "FAIL\tb\treason=replayed") << serial;
    // By serial, the same answer.
    EXPECT_EQ(c.Call("VERIFY\tc\tserial=" + t.serial + "\totp=" + code),
              "FAIL\tc\treason=replayed");
  }
}

TEST_F(VerifySocketTest, UnknownUserAndWrongLength) {
  LineClient c = Unix();
  EXPECT_EQ(c.Call(VerifyLine("u", "nobody@example.com", "123456")),
            "FAIL\tu\treason=unknown_user");
  EXPECT_EQ(c.Call("VERIFY\tv\tserial=NOPE\totp=123456"), "FAIL\tv\treason=unknown_user");
  // An 8-digit token never sees a 6-digit code: a bad request, not a guess.
  EXPECT_EQ(c.Call(VerifyLine("w", "t256@example.com", "123456")), "FAIL\tw\treason=bad_request");
}

TEST_F(VerifySocketTest, MalformedLinesGetBadRequestAndTheConnectionStaysUsable) {
  LineClient c = Unix();
  const std::vector<std::string> bad = {
      "VERIFY",                                                    // no id
      "VERIFY\t",                                                  // empty id
      "VERIFY\tbad id\tuser=t1@example.com\totp=123456",           // space in id
      "VERIFY\t" + std::string(65, 'a') + "\tuser=x\totp=123456",  // id too long
      "VERIFY\tm1\tuser=t1@example.com",                           // no otp
      "VERIFY\tm2\totp=123456",                                    // no user or serial
      "VERIFY\tm3\tuser=t1@example.com\tserial=TS1\totp=123456",   // both
      "VERIFY\tm4\tuser=t1@example.com\totp=1\totp=2",             // duplicate key
      "VERIFY\tm5\tuser=t1@example.com\totp=123456\tcolour=red",   // unknown key
      "VERIFY\tm6\tuser=\totp=123456",                             // empty value
      "VERIFY\tm7\tusert1@example.com\totp=123456",                // no '='
      "VERIFY\tm8\tuser=t1@example.com\totp=12\\q456",             // bad escape
      "FROB\tm9",                                                  // unknown verb
      "PASSWORD\tm10\tuser=t1@example.com",                        // no password
      "verify\tm11\tuser=t1@example.com\totp=123456",              // verbs are upper case
      "",                                                          // empty line
  };
  for (const std::string& line : bad) {
    std::string reply = c.Call(line);
    EXPECT_EQ(Fields(reply)[0], "FAIL") << "line: " << line << " reply: " << reply;
    EXPECT_EQ(Field(reply, "reason"), "bad_request") << "line: " << line;
    EXPECT_FALSE(c.closed());
  }
  EXPECT_EQ(c.Call("PING\tstill-here"), "OK\tstill-here");
  // A CR before the LF is ignored.
  EXPECT_EQ(c.Call("PING\tcr\r"), "OK\tcr");
}

TEST_F(VerifySocketTest, OversizedLineClosesTheConnection) {
  LineClient c = Tcp();
  ASSERT_TRUE(c.Send("VERIFY\tbig\tuser=" + std::string(5000, 'x') + "\totp=123456\n"));
  EXPECT_EQ(c.ReadLine(), "FAIL\t-\treason=bad_request");
  c.ReadLine(std::chrono::seconds(2));
  EXPECT_TRUE(c.closed());
  // The daemon is fine.
  EXPECT_EQ(Tcp().Call("PING\tafter"), "OK\tafter");
}

TEST_F(VerifySocketTest, PipelinedRequestsAllAnswered) {
  LineClient c = Tcp();
  std::string batch;
  std::map<std::string, std::string> expected;
  for (int i = 0; i < 10; ++i) {
    const TestToken& t = Token("P" + std::to_string(i));
    batch += VerifyLine("r" + std::to_string(i), t.upn, t.Code(1)) + "\n";
    expected["r" + std::to_string(i)] = "OK";
    // A second code for the same token in the same burst: the next counter.
    batch += VerifyLine("s" + std::to_string(i), t.upn, t.Code(2)) + "\n";
    expected["s" + std::to_string(i)] = "OK";
    batch += "PING\tq" + std::to_string(i) + "\n";
    expected["q" + std::to_string(i)] = "OK";
  }
  ASSERT_TRUE(c.Send(batch));
  std::set<std::string> seen;
  for (size_t i = 0; i < expected.size(); ++i) {
    std::string reply = c.ReadLine();
    ASSERT_FALSE(reply.empty()) << "missing replies after " << seen.size();
    auto f = Fields(reply);
    ASSERT_GE(f.size(), 2u);
    EXPECT_TRUE(seen.insert(f[1]).second) << "duplicate reply for " << f[1];
    EXPECT_EQ(f[0], expected[f[1]]) << reply;
  }
}

TEST_F(VerifySocketTest, ConcurrentReplayGetsExactlyOneOk) {
  const TestToken& t = Token("CC1");
  for (int counter = 1; counter <= 5; ++counter) {
    const std::string line = VerifyLine("c", t.upn, t.Code(counter)) + "\n";
    std::vector<LineClient> clients;
    for (int i = 0; i < 16; ++i) clients.push_back(i % 2 ? Tcp() : Unix());
    std::atomic<int> ok{0}, replayed{0};
    std::vector<std::thread> threads;
    for (auto& client : clients) {
      threads.emplace_back([&] {
        client.Send(line);
        std::string reply = client.ReadLine();
        if (Fields(reply)[0] == "OK") ++ok;
        if (Field(reply, "reason") == "replayed") ++replayed;
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(ok.load(), 1) << "counter " << counter;
    EXPECT_EQ(replayed.load(), 15) << "counter " << counter;
  }
}

TEST_F(VerifySocketTest, DriftIsLearntOverSuccessiveSignIns) {
  const TestToken& t = Token("DR1");
  LineClient c = Unix();
  int64_t last_drift = 0;
  // The token runs ever further ahead; each code is outside the +/-2 window of the one before
  // unless the window follows the learnt drift.
  for (int steps : {2, 4, 6, 8}) {
    std::string reply = c.Call(VerifyLine("d", t.upn, t.Code(steps)));
    ASSERT_EQ(Fields(reply)[0], "OK") << "at +" << steps << ": " << reply;
    int64_t drift = std::stoll(Field(reply, "drift"));
    EXPECT_GE(drift, steps - 1);  // a step boundary may pass between computing and checking
    EXPECT_GT(drift, last_drift);
    last_drift = drift;
  }
}

TEST_F(VerifySocketTest, NearMissIsReportedAsDriftNotFailure) {
  const TestToken& t = Token("NM1");
  LineClient c = Unix();
  for (int i = 0; i < 6; ++i) {
    std::string reply = c.Call(VerifyLine("n", t.upn, t.Code(7)));
    EXPECT_EQ(Field(reply, "reason"), "drift") << reply;
    EXPECT_GE(std::stoll(Field(reply, "drift")), 6);
  }
  // Six near misses did not lock the user out.
  std::string reply = c.Call(VerifyLine("n", t.upn, t.Code(1)));
  EXPECT_EQ(Fields(reply)[0], "OK") << reply;
}

TEST_F(VerifySocketTest, ResyncRecentresTheWindow) {
  const TestToken& t = Token("RS1");
  LineClient c = Tcp();
  // The token's clock jumped 300 steps (2.5 hours) ahead.
  std::string far = c.Call(VerifyLine("x", t.upn, t.Code(300)));
  EXPECT_EQ(Field(far, "reason"), "bad_code") << far;
  std::string reply =
      c.Call("RESYNC\tr\tuser=" + t.upn + "\totp=" + t.Code(300) + "\totp2=" + t.Code(301));
  ASSERT_EQ(Fields(reply)[0], "OK") << reply;
  EXPECT_GE(std::stoll(Field(reply, "drift")), 300);
  EXPECT_EQ(Fields(c.Call(VerifyLine("y", t.upn, t.Code(302))))[0], "OK");
}

TEST_F(VerifySocketTest, LockoutAndItsExpiry) {
  const TestToken& t = Token("LK1");
  LineClient c = Unix();
  const std::string right = t.Code(0);
  const std::string wrong = right == "000000" ? "000001" : "000000";
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(c.Call(VerifyLine("w", t.upn, wrong)), "FAIL\tw\treason=bad_code");
  }
  std::string locked = c.Call(VerifyLine("l", t.upn, right));
  EXPECT_EQ(Field(locked, "reason"), "locked") << locked;
  int retry = std::stoi(Field(locked, "retry_after"));
  EXPECT_GT(retry, 0);
  EXPECT_LE(retry, 30);
  std::this_thread::sleep_for(std::chrono::seconds(retry + 1));
  std::string reply = c.Call(VerifyLine("ok", t.upn, t.Code(1)));
  EXPECT_EQ(Fields(reply)[0], "OK") << reply;
}

// A separate daemon whose TCP listener requires HELLO with a configured client key.
TEST(VerifySocketAuthTest, TcpClientsMustHello) {
  TempDir dir;
  std::string error;
  ASSERT_TRUE(PrepareDataDir(dir.File("data"), {{"A1", "auth@example.com", kSeed20, {}}}, &error))
      << error;
  otpd::testing::WriteFile(dir.File("otpd.toml"), "[clients.web]\nkey = \"s3cret-client-key\"\n");
  Daemon daemon;
  std::vector<std::string> args = StoreArgs(dir.File("data"));
  args.insert(args.end(), {"--config", dir.File("otpd.toml"), "--listen", "127.0.0.1:0"});
  ASSERT_TRUE(daemon.Start(OTPD_PATH, args)) << daemon.log();
  LineClient anonymous = LineClient::Tcp(daemon.tcp_port());
  EXPECT_EQ(Field(anonymous.Call("PING\tp"), "reason"), "unauthorized");
  anonymous.ReadLine(std::chrono::seconds(2));
  EXPECT_TRUE(anonymous.closed());

  LineClient wrong = LineClient::Tcp(daemon.tcp_port());
  EXPECT_EQ(Field(wrong.Call("HELLO\th\tversion=1\tclient=web\tkey=guess"), "reason"),
            "unauthorized");

  LineClient web = LineClient::Tcp(daemon.tcp_port());
  EXPECT_EQ(Fields(web.Call("HELLO\th\tversion=1\tclient=web\tkey=s3cret-client-key"))[0], "OK");
  TestToken t{"A1", "auth@example.com", kSeed20, {}};
  EXPECT_EQ(Fields(web.Call(VerifyLine("v", t.upn, t.Code(1))))[0], "OK");
  // The Unix socket needs no HELLO: its file permissions are the control.
  LineClient local = LineClient::Unix(dir.File("data") + "/verify.sock");
  EXPECT_EQ(local.Call("PING\tp"), "OK\tp");
  EXPECT_EQ(daemon.log().find("s3cret"), std::string::npos);
  EXPECT_EQ(daemon.Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace otpd::e2e
