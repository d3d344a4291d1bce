// FreeRADIUS 3.2 with the shipped configuration (contrib/freeradius/, docs/radius.md) in front of
// the real otpd: the test writes a minimal radiusd.conf in a temp dir that includes the shipped
// module and site (their address, port and client key filled in), starts `freeradius -f` on a
// loopback port and sends PAP Access-Requests with radclient, and phone challenges (an empty
// password gets an Access-Challenge, the code read from otpd's exec hook is sent back with the
// State). Skipped only when the freeradius, radclient or rlm_rest binaries are missing
// (scripts/deps.sh installs them).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <set>
#include <sstream>
#include <thread>

#include "base/clock.h"
#include "service/admin/method_admin.h"
#include "tests/e2e/e2e_env.h"
#include "tests/e2e/suite_daemon.h"
#include "tests/testing/http_client.h"

namespace otpd::e2e {
namespace {

using engine::OtpType;
using otpd::testing::ReadFile;
using otpd::testing::WriteFile;

constexpr char kFreeradius[] = "/usr/sbin/freeradius";
constexpr char kRadclient[] = "/usr/bin/radclient";
constexpr char kRlmRest[] = "/usr/lib/freeradius/rlm_rest.so";
constexpr char kClientKey[] = "freeradius-client-key-0123456789";
constexpr char kSecret[] = "testing123";
constexpr char kRegisterUrl[] = "https://mfa.example.com/security-info";

TestToken Totp(const std::string& name) {
  std::string seed = "radius-seed-" + name;
  seed.resize(20, '#');
  return TestToken{"RT-" + name, name + "@example.com", seed, {.type = OtpType::kTotp}};
}

std::string WrongCode(const TestToken& t) {
  std::set<std::string> near;
  for (int64_t s = -20; s <= 20; ++s) near.insert(t.Code(s));
  for (int n = 246810;; n += 13579) {
    std::string code = std::to_string(n % 1000000);
    code.insert(0, 6 - code.size(), '0');
    if (!near.contains(code)) return code;
  }
}

// A UDP port on 127.0.0.1 that was free a moment ago.
uint16_t FreeUdpPort() {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) close(fd);
    return 0;
  }
  close(fd);
  return ntohs(a.sin_port);
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  if (at == std::string::npos) {
    ADD_FAILURE() << "the shipped configuration has no \"" << from << "\"";
    return text;
  }
  return text.replace(at, from.size(), to);
}

// radiusd.conf for a server run by an ordinary user from `dir`: no root-owned paths, logs on
// stdout, the stock `always` (ok, reject, handled) and `expr` modules the shipped site and module
// use.
std::string RadiusdConf(const std::string& dir) {
  return "prefix = /usr\nexec_prefix = /usr\nsysconfdir = /etc\nlocalstatedir = " + dir +
         "\nsbindir = /usr/sbin\nlogdir = " + dir + "\nraddbdir = " + dir +
         "/raddb\nradacctdir = " + dir +
         "\nname = freeradius\nconfdir = ${raddbdir}\nmodconfdir = ${confdir}/mods-config\n"
         "run_dir = " +
         dir + "\ndb_dir = " + dir +
         "\nlibdir = /usr/lib/freeradius\npidfile = ${run_dir}/freeradius.pid\n"
         "max_request_time = 30\ncleanup_delay = 5\nmax_requests = 16384\n"
         "hostname_lookups = no\n"
         "log {\n\tdestination = stdout\n\tauth = no\n}\n"
         "security {\n\tallow_core_dumps = no\n\tmax_attributes = 200\n\treject_delay = 0\n"
         "\tstatus_server = no\n}\n"
         "thread pool {\n\tstart_servers = 4\n\tmax_servers = 32\n\tmin_spare_servers = 2\n"
         "\tmax_spare_servers = 8\n\tmax_requests_per_server = 0\n\tauto_limit_acct = no\n}\n"
         "client localhost {\n\tipaddr = 127.0.0.1\n\tsecret = " +
         kSecret +
         "\n}\n"
         "modules {\n\texpr {\n\t}\n\talways reject {\n\t\trcode = reject\n\t}\n"
         "\talways ok {\n\t\trcode = ok\n\t}\n\talways handled {\n\t\trcode = handled\n\t}\n"
         "\t$INCLUDE mods-enabled/\n}\n"
         "instantiate {\n}\npolicy {\n}\n$INCLUDE sites-enabled/\n";
}

struct Reply {
  std::string code;  // "Access-Accept", "Access-Reject", "Access-Challenge", "" (no answer)
  std::string message;
  std::string state;  // as radclient prints it: 0x and hex
  std::string output;
};

// Gives `upn` a mobile phone in the stopped daemon's data directory.
bool AddMobile(const std::string& data, const std::string& upn, std::string* error) {
  auto dir = OpenTestStore(data);
  if (!dir.ok()) {
    *error = std::string(dir.status().message());
    return false;
  }
  service::MethodAdmin methods(*dir->store, *dir->keys, *base::RealClock::Get(), {}, nullptr);
  auto added = methods.Add(
      kAdmin, upn,
      service::PhonePayload{.type = service::PhoneType::kMobile, .number = "+1 4255550100"});
  if (!added.ok()) *error = std::string(added.status().message());
  return added.ok();
}

class FreeradiusTest : public SuiteDaemon<FreeradiusTest> {
 public:
  static bool PrepareSuite(std::vector<std::string>* args, std::string* error) {
    for (const char* binary : {kFreeradius, kRadclient, kRlmRest}) {
      if (access(binary, F_OK) != 0) {
        skip_ = std::string(binary) + " is not installed (scripts/deps.sh installs it)";
        return false;
      }
    }
    const std::string data = DataDir();
    if (!PrepareDataDir(data, {Totp("alice"), Totp("carol"), Totp("pat"), Totp("dora")}, error) ||
        !AddMobile(data, Totp("pat").upn, error)) {
      return false;
    }
    // The delivery hook: appends each event (an SMS with its code) to a file.
    const std::string script = dir_->File("exec-hook");
    WriteFile(script, "#!/bin/sh\n{ cat; echo; } >> \"$1\"\n");
    chmod(script.c_str(), 0700);
    WriteFile(dir_->File("otpd.toml"),
              std::string("[clients.freeradius]\nkey = \"") + kClientKey +
                  "\"\n[hooks.sms]\ntype = \"exec\"\ncommand = [\"" + script + "\", \"" +
                  dir_->File("exec-events") + "\"]\nretry_initial_ms = 50\nretry_max_ms = 200\n" +
                  "[actions]\nregistration_url = \"" + kRegisterUrl + "\"\n");
    *args = {"--config", dir_->File("otpd.toml"), "--validate-listen", "127.0.0.1:0"};
    return true;
  }

  static bool SuiteStarted(std::string* error) {
    port_ = FreeUdpPort();
    if (port_ == 0) {
      *error = "no free UDP port";
      return false;
    }
    WriteConfig();
    return StartFreeradius(error);
  }

  static void SuiteStopping() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

 protected:
  static void WriteConfig() {
    const std::string raddb = dir_->File("raddb");
    mkdir(raddb.c_str(), 0700);
    mkdir((raddb + "/mods-enabled").c_str(), 0700);
    mkdir((raddb + "/sites-enabled").c_str(), 0700);
    WriteFile(raddb + "/radiusd.conf", RadiusdConf(dir_->path()));
    WriteFile(raddb + "/dictionary", "");
    const std::string contrib = std::string(OTPD_SOURCE_DIR) + "/contrib/freeradius/";
    std::string module = ReadFile(contrib + "mods-available/otpd");
    module = Replace(module, "http://127.0.0.1:7735",
                     "http://127.0.0.1:" + std::to_string(daemon_->validate_port()));
    module = Replace(module, "CHANGE-ME-otpd-client-key", kClientKey);
    WriteFile(raddb + "/mods-enabled/otpd", module);
    std::string site = ReadFile(contrib + "sites-available/otpd");
    site = Replace(site, "ipaddr = *", "ipaddr = 127.0.0.1");
    site = Replace(site, "port = 0", "port = " + std::to_string(port_));
    WriteFile(raddb + "/sites-enabled/otpd", site);
  }

  static bool StartFreeradius(std::string* error) {
    const std::string log = dir_->File("freeradius.log");
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(fd, 1);
      dup2(fd, 2);
      execl(kFreeradius, kFreeradius, "-f", "-d", dir_->File("raddb").c_str(), "-l", "stdout",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (ReadFile(log).find("Ready to process requests") != std::string::npos) return true;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    *error = "freeradius did not start:\n" + ReadFile(log);
    return false;
  }

  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    SuiteDaemon::SetUp();
  }

  // One PAP Access-Request through radclient (with a State when `state` is not empty).
  static Reply Authenticate(const std::string& user, const std::string& code,
                            const std::string& state = "") {
    std::string attrs = "User-Name = \"" + user + "\", User-Password = \"" + code + "\"";
    if (!state.empty()) attrs += ", State = " + state;
    return Send(attrs);
  }
  // One Access-Request with the attributes `attrs` (radclient's syntax).
  static Reply Send(const std::string& attrs) {
    otpd::testing::RunResult r =
        otpd::testing::Run({kRadclient, "-x", "-r", "1", "-t", "8",
                            "127.0.0.1:" + std::to_string(port_), "auth", kSecret},
                           {}, attrs + "\n");
    Reply reply;
    reply.output = r.out + r.err;
    for (const char* code : {"Access-Accept", "Access-Reject", "Access-Challenge"}) {
      if (r.out.find(std::string("Received ") + code) != std::string::npos) reply.code = code;
    }
    const std::string key = "Reply-Message = \"";
    if (size_t at = r.out.find(key); at != std::string::npos) {
      at += key.size();
      reply.message = r.out.substr(at, r.out.find('"', at) - at);
    }
    // The State of the reply (radclient prints the request's attributes first).
    const size_t received = r.out.find("Received ");
    const std::string state_key = "State = ";
    if (size_t at = r.out.find(state_key, received == std::string::npos ? 0 : received);
        received != std::string::npos && at != std::string::npos) {
      at += state_key.size();
      reply.state = r.out.substr(at, r.out.find_first_of(" \n", at) - at);
    }
    return reply;
  }

  // The codes of the SMS the hook got for `upn`, waiting until there are `count`.
  static std::vector<std::string> SentCodes(const std::string& upn, size_t count) {
    return WaitForHookCodes(dir_->File("exec-events"), upn, count);
  }

  static inline pid_t pid_ = -1;
  static inline uint16_t port_ = 0;
  static inline std::string skip_;
};

TEST_F(FreeradiusTest, ValidCodeAcceptedWrongAndReplayedRejected) {
  const TestToken t = Totp("alice");
  const std::string code = t.Code(1);
  Reply wrong = Authenticate(t.upn, WrongCode(t));
  EXPECT_EQ(wrong.code, "Access-Reject") << wrong.output;
  EXPECT_EQ(wrong.message, "Wrong or already used code") << wrong.output;

  Reply ok = Authenticate(t.upn, code);
  EXPECT_EQ(ok.code, "Access-Accept") << ok.output;

  Reply replayed = Authenticate(t.upn, code);
  EXPECT_EQ(replayed.code, "Access-Reject") << replayed.output;
  EXPECT_EQ(replayed.message, "Wrong or already used code") << replayed.output;
}

TEST_F(FreeradiusTest, LockedUserGetsAReplyMessage) {
  const TestToken t = Totp("carol");
  const std::string wrong = WrongCode(t);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Authenticate(t.upn, wrong).code, "Access-Reject");
  Reply locked = Authenticate(t.upn, t.Code(1));
  EXPECT_EQ(locked.code, "Access-Reject") << locked.output;
  EXPECT_NE(locked.message.find("locked"), std::string::npos) << locked.output;
}

TEST_F(FreeradiusTest, EmptyPasswordGetsAnAccessChallengeAndTheCodeWithItsStateIsAccepted) {
  const std::string upn = Totp("pat").upn;
  Reply challenge = Authenticate(upn, "");
  ASSERT_EQ(challenge.code, "Access-Challenge") << challenge.output;
  EXPECT_EQ(challenge.message, "Enter the code sent to your phone") << challenge.output;
  // The State is otpd's transaction id (64 hex digits, 32 bytes as text).
  ASSERT_EQ(challenge.state.size(), 2u + 2 * 64) << challenge.output;
  const std::vector<std::string> codes = SentCodes(upn, 1);
  ASSERT_EQ(codes.size(), 1u) << daemon_->log();
  const std::string code = codes[0];

  // A wrong code with the State, the right code with a forged State, the right code without a
  // State: all refused, and none uses the code up.
  Reply wrong = Authenticate(upn, code == "000000" ? "000001" : "000000", challenge.state);
  EXPECT_EQ(wrong.code, "Access-Reject") << wrong.output;
  std::string forged = challenge.state;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(Authenticate(upn, code, forged).code, "Access-Reject");

  Reply ok = Authenticate(upn, code, challenge.state);
  EXPECT_EQ(ok.code, "Access-Accept") << ok.output << ReadFile(dir_->File("freeradius.log"));
  Reply replayed = Authenticate(upn, code, challenge.state);
  EXPECT_EQ(replayed.code, "Access-Reject") << replayed.output;
  EXPECT_EQ(replayed.message, "Wrong or already used code") << replayed.output;

  // A user without a phone gets no challenge; nor does a CHAP request (it has no password).
  Reply none = Authenticate(Totp("alice").upn, "");
  EXPECT_EQ(none.code, "Access-Reject") << none.output;
  Reply chap = Send("User-Name = \"" + upn + "\", CHAP-Password = \"123456\"");
  EXPECT_EQ(chap.code, "Access-Reject") << chap.output;
  EXPECT_EQ(chap.message, "Send the one-time code as the password (PAP)") << chap.output;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(SentCodes(upn, 0).size(), 1u);  // no code was sent for either
}

TEST_F(FreeradiusTest, AUserWhoMustRegisterIsToldWhereAndRejected) {
  const TestToken t = Totp("dora");
  otpd::testing::HttpReply marked = Owner().Post(
      "/v1.0/users/" + t.upn + "/authentication/requireReregistration", boost::json::object{});
  ASSERT_EQ(marked.status, 200) << marked.body;
  // Neither the old token's code nor an empty password lets the user in; both say where to go.
  for (const std::string& password : {t.Code(1), std::string()}) {
    Reply r = Authenticate(t.upn, password);
    EXPECT_EQ(r.code, "Access-Reject") << r.output;
    EXPECT_EQ(r.message, std::string("Register an authenticator app first, at ") + kRegisterUrl)
        << r.output;
  }
}

TEST_F(FreeradiusTest, UnknownUserIsRejected) {
  Reply r = Authenticate("nobody@example.com", "123456");
  EXPECT_EQ(r.code, "Access-Reject") << r.output;
}

}  // namespace
}  // namespace otpd::e2e
