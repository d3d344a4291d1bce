// pam_otpd at the protocol level: pamtester drives the module against a scripted peer on a Unix
// socket that plays otpd's part line by line. It checks what the module sends, what every answer
// becomes, the PASSWORD verb (whose daemon side does not exist yet), and peers that misbehave.

#include <security/pam_appl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "tests/pam/pam_env.h"

namespace otpd::pam {
namespace {

using otpd::testing::TempDir;
using std::chrono::milliseconds;

class PamProtocolTest : public ::testing::Test {
 protected:
  std::string SocketPath() const { return dir_.File("peer.sock"); }
  std::string Line(const std::string& options = "") const {
    return "auth required " + Module() + " socket=" + SocketPath() +
           (options.empty() ? "" : " " + options) + "\n";
  }
  // One sign-in against a peer that answers HELLO and then `reply` to the request.
  PamResult SignIn(const std::string& reply, const std::string& options = "",
                   const std::string& input = "123456\n", const std::string& user = "carol") {
    ScriptedPeer peer(SocketPath(), ScriptedPeer::Replies(ScriptedPeer::HelloOk(), reply));
    PamService service(Line(options));
    return Pamtester(service.name(), user, input);
  }

  TempDir dir_;
};

TEST_F(PamProtocolTest, SendsHelloThenVerifyWithTheUserEscaped) {
  ScriptedPeer peer(SocketPath(),
                    ScriptedPeer::Replies(ScriptedPeer::HelloOk(), "OK\t2\tmethod=m\tstep=1\n"));
  PamService service(Line());
  PamResult r = Pamtester(service.name(), "we\\ird\tname\nx", "12345678\n");
  EXPECT_TRUE(EndedWith(r, PAM_SUCCESS));
  EXPECT_EQ(peer.lines(), (std::vector<std::string>{
                              "HELLO\t1\tversion=1",
                              "VERIFY\t2\tuser=we\\\\ird\\tname\\nx\totp=12345678",
                          }));
}

TEST_F(PamProtocolTest, RepliesAreMatchedByIdInAnyOrder) {
  ScriptedPeer peer(SocketPath(),
                    ScriptedPeer::Replies("", "OK\t2\tdrift=0\n" + ScriptedPeer::HelloOk()));
  PamService service(Line());
  EXPECT_TRUE(EndedWith(Pamtester(service.name(), "carol", "123456\n"), PAM_SUCCESS));
}

struct ReasonCase {
  std::string reply;
  std::string options;
  int code;
  std::string message;  // "" for none
};

TEST_F(PamProtocolTest, EveryVerifyAnswerBecomesItsPamCode) {
  const std::vector<ReasonCase> cases = {
      {"OK\t2\tmethod=m\ttype=software_oath\tstep=9\tdrift=0\tfuture=yes\n", "", PAM_SUCCESS, ""},
      {"FAIL\t2\treason=bad_code\n", "", PAM_AUTH_ERR, "Wrong verification code."},
      {"FAIL\t2\treason=replayed\n", "", PAM_AUTH_ERR, "already used"},
      {"FAIL\t2\treason=drift\tdrift=40\n", "", PAM_AUTH_ERR, "resynchronise"},
      {"FAIL\t2\treason=locked\tretry_after=120\n", "", PAM_MAXTRIES, "try again in 120 seconds."},
      {"FAIL\t2\treason=locked\n", "", PAM_MAXTRIES, "try again later."},
      {"FAIL\t2\treason=locked\tretry_after=soon\n", "", PAM_MAXTRIES, "try again later."},
      {"FAIL\t2\treason=registration_required\n", "", PAM_AUTH_ERR, "register"},
      {"FAIL\t2\treason=registration_required\n", "nomethod=ignore", PAM_PERM_DENIED, ""},
      {"FAIL\t2\treason=no_method\n", "", PAM_AUTH_ERR, "No verification method"},
      {"FAIL\t2\treason=no_method\n", "nomethod=ignore", PAM_PERM_DENIED, ""},
      {"FAIL\t2\treason=no_method\n", "nomethod=fail", PAM_AUTH_ERR, "No verification method"},
      {"FAIL\t2\treason=not_activated\n", "nomethod=ignore", PAM_AUTH_ERR, "not activated"},
      {"FAIL\t2\treason=unknown_user\n", "", PAM_USER_UNKNOWN, ""},
      {"FAIL\t2\treason=bad_request\n", "", PAM_AUTH_ERR, ""},
      {"FAIL\t2\treason=unavailable\n", "", PAM_AUTHINFO_UNAVAIL, "unavailable"},
      {"FAIL\t2\treason=unauthorized\n", "", PAM_AUTHINFO_UNAVAIL, "unavailable"},
      {"FAIL\t2\treason=solar_flare\n", "", PAM_AUTHINFO_UNAVAIL, "unavailable"},
      {"FAIL\t2\treason=" + std::string(40, 'x') + "\n", "", PAM_AUTHINFO_UNAVAIL, ""},
      {"FAIL\t2\n", "", PAM_AUTHINFO_UNAVAIL, ""},
      {"FAIL\t-\treason=unavailable\n", "", PAM_AUTHINFO_UNAVAIL, ""},
      {"FAIL\t-\treason=bad_request\n", "", PAM_AUTH_ERR, ""},
  };
  for (const ReasonCase& c : cases) {
    SCOPED_TRACE(c.reply + " " + c.options);
    PamResult r = SignIn(c.reply, c.options);
    EXPECT_TRUE(EndedWith(r, c.code));
    if (!c.message.empty()) {
      EXPECT_NE(r.all().find(c.message), std::string::npos) << r.all();
    }
  }
}

TEST_F(PamProtocolTest, PamSilentKeepsTheMessagesBack) {
  ScriptedPeer peer(SocketPath(),
                    ScriptedPeer::Replies(ScriptedPeer::HelloOk(), "FAIL\t2\treason=bad_code\n"));
  PamService service(Line());
  PamResult r = Pamtester(service.name(), "carol", "123456\n", "authenticate(PAM_SILENT)");
  EXPECT_TRUE(EndedWith(r, PAM_AUTH_ERR));
  EXPECT_EQ(r.all().find("Wrong verification code."), std::string::npos) << r.all();
}

TEST_F(PamProtocolTest, UnsendableUserOrBadOptionsNeverReachTheSocket) {
  ScriptedPeer peer(SocketPath(), ScriptedPeer::Replies(ScriptedPeer::HelloOk(), "OK\t2\n"));
  {
    PamService service(Line());
    EXPECT_TRUE(EndedWith(Pamtester(service.name(), "bad\x01user", "123456\n"), PAM_USER_UNKNOWN));
    EXPECT_TRUE(
        EndedWith(Pamtester(service.name(), std::string(600, 'u'), "123456\n"), PAM_USER_UNKNOWN));
  }
  for (const std::string& options : std::vector<std::string>{
           "frobnicate", "timeout_ms=", "timeout_ms=0", "timeout_ms=12x", "timeout_ms=600000",
           "nomethod=maybe", "socket=relative.sock", "socket=/" + std::string(200, 's')}) {
    SCOPED_TRACE(options);
    PamService service(Line(options));
    EXPECT_TRUE(EndedWith(Pamtester(service.name(), "carol", "123456\n"), PAM_SERVICE_ERR));
  }
  EXPECT_EQ(peer.connections(), 0);
}

// A code collected by this module is not left for the modules after it.
TEST_F(PamProtocolTest, ACodeIsNotOfferedToLaterModules) {
  ScriptedPeer peer(SocketPath(), ScriptedPeer::Replies(ScriptedPeer::HelloOk(), "OK\t2\n"));
  PamService service(Line() + Line("use_first_pass"));
  EXPECT_TRUE(EndedWith(Pamtester(service.name(), "carol", "123456\n"), PAM_AUTH_ERR));
  EXPECT_EQ(peer.connections(), 1);
}

// --- password mode ---------------------------------------------------------------------------

TEST_F(PamProtocolTest, PasswordModeSendsThePasswordVerbEscaped) {
  ScriptedPeer peer(SocketPath(), ScriptedPeer::Replies(ScriptedPeer::HelloOk(), "OK\t2\n"));
  PamService service(Line("password"));
  PamResult r = Pamtester(service.name(), "carol", "pa\tss\\w\xc3\xb6rd\n");
  EXPECT_TRUE(EndedWith(r, PAM_SUCCESS));
  EXPECT_NE(r.all().find("Password: "), std::string::npos) << r.all();
  EXPECT_EQ(r.all().find("Verification code"), std::string::npos) << r.all();
  EXPECT_EQ(peer.lines(), (std::vector<std::string>{
                              "HELLO\t1\tversion=1",
                              "PASSWORD\t2\tuser=carol\tpassword=pa\\tss\\\\w\xc3\xb6rd",
                          }));
}

TEST_F(PamProtocolTest, EveryPasswordAnswerBecomesItsPamCode) {
  const std::vector<ReasonCase> cases = {
      {"OK\t2\n", "password", PAM_SUCCESS, ""},
      {"OK\t2\tmust_change=0\n", "password", PAM_SUCCESS, ""},
      {"OK\t2\tmust_change=1\n", "password", PAM_NEW_AUTHTOK_REQD, "must be changed"},
      {"OK\t2\tmust_change=yes\n", "password", PAM_AUTHINFO_UNAVAIL, ""},
      {"FAIL\t2\treason=bad_password\n", "password", PAM_AUTH_ERR, "Wrong password."},
      {"FAIL\t2\treason=locked\tretry_after=60\n", "password", PAM_MAXTRIES,
       "try again in 60 seconds."},
      {"FAIL\t2\treason=unknown_user\n", "password", PAM_USER_UNKNOWN, ""},
      {"FAIL\t2\treason=bad_request\n", "password", PAM_AUTH_ERR, ""},
      {"FAIL\t2\treason=unavailable\n", "password", PAM_AUTHINFO_UNAVAIL, "unavailable"},
      // A VERIFY reason is not an answer to PASSWORD.
      {"FAIL\t2\treason=bad_code\n", "password", PAM_AUTHINFO_UNAVAIL, ""},
      {"FAIL\t2\treason=no_method\n", "password nomethod=ignore", PAM_AUTHINFO_UNAVAIL, ""},
  };
  for (const ReasonCase& c : cases) {
    SCOPED_TRACE(c.reply + " " + c.options);
    PamResult r = SignIn(c.reply, c.options, "s3cret\n");
    EXPECT_TRUE(EndedWith(r, c.code));
    if (!c.message.empty()) {
      EXPECT_NE(r.all().find(c.message), std::string::npos) << r.all();
    }
  }
}

// Unlike a code, a password the module asked for is left in PAM_AUTHTOK for the modules after it
// (the second instance here uses it without asking).
TEST_F(PamProtocolTest, PasswordModeOffersThePasswordToLaterModules) {
  ScriptedPeer peer(SocketPath(), ScriptedPeer::Replies(ScriptedPeer::HelloOk(), "OK\t2\n"));
  PamService service(Line("password") + Line("password use_first_pass"));
  PamResult r = Pamtester(service.name(), "carol", "s3cret\n");
  EXPECT_TRUE(EndedWith(r, PAM_SUCCESS));
  EXPECT_EQ(peer.connections(), 2);
  const std::vector<std::string> lines = peer.lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[1], lines[3]);
}

TEST_F(PamProtocolTest, UnsendablePasswordIsRefusedLocally) {
  ScriptedPeer peer(SocketPath(), ScriptedPeer::Replies(ScriptedPeer::HelloOk(), "OK\t2\n"));
  PamService service(Line("password"));
  EXPECT_TRUE(EndedWith(Pamtester(service.name(), "carol", "bad\x01pw\n"), PAM_AUTH_ERR));
  EXPECT_TRUE(EndedWith(Pamtester(service.name(), "carol", "\n"), PAM_AUTH_ERR));
  EXPECT_EQ(peer.connections(), 0);
}

// --- hostile or broken peers: never success, always within timeout_ms --------------------------

constexpr int kTimeoutMs = 1500;
// pamtester's own start-up and exit (about 50 ms), on a machine shared with other builds.
constexpr milliseconds kSlack{1000};

struct HostileCase {
  std::string name;
  ScriptedPeer::Script script;
  // The peer stays silent (or too slow): the module gives up at timeout_ms. Otherwise the module
  // sees at once that the answer is no good and stops well before the timeout.
  bool waits_for_timeout;
};

std::vector<HostileCase> HostileCases() {
  using C = PeerConnection;
  using P = ScriptedPeer;
  return {
      {"garbage",
       [](C& c, P& p) {
         p.ReadRequest(c);
         c.Send("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
         c.WaitClosed();
       },
       false},
      {"binary garbage",
       [](C& c, P& p) {
         p.ReadRequest(c);
         c.Send(std::string("OK\t1\tversion=1\n\x00\xff\xfe\n", 19));
         c.WaitClosed();
       },
       false},
      {"never-ending line",
       [](C& c, P& p) {
         p.ReadRequest(c);
         const std::string chunk(4096, 'x');
         const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
         c.Send("OK\t1\tversion=1\nOK\t2\tmethod=");
         while (std::chrono::steady_clock::now() < until && c.Send(chunk)) {
         }
       },
       false},
      {"closes at once", [](C&, P&) {}, false},
      {"closes after reading", [](C& c, P& p) { p.ReadRequest(c); }, false},
      {"closes in the middle of the answer",
       [](C& c, P& p) {
         p.ReadRequest(c);
         c.Send("OK\t1\tversion=1\nOK\t2\tmeth");
       },
       false},
      {"OK without the HELLO answer, then closes",
       [](C& c, P& p) {
         p.ReadRequest(c);
         c.Send("OK\t2\n");
       },
       false},
      {"HELLO refused, request OK",
       [](C& c, P& p) {
         p.ReadRequest(c);
         c.Send("FAIL\t1\treason=bad_request\tversion=1\nOK\t2\n");
         c.WaitClosed();
       },
       false},
      {"another protocol version",
       [](C& c, P& p) {
         p.ReadRequest(c);
         c.Send("OK\t1\tversion=2\nOK\t2\n");
         c.WaitClosed();
       },
       false},
      {"OK for an id that was never sent",
       [](C& c, P& p) {
         p.ReadRequest(c);
         c.Send(P::HelloOk() + "OK\t3\n");
         c.WaitClosed();
       },
       false},
      {"OK for id -",
       [](C& c, P& p) {
         p.ReadRequest(c);
         c.Send(P::HelloOk() + "OK\t-\n");
         c.WaitClosed();
       },
       false},
      {"request answered twice",
       [](C& c, P& p) {
         p.ReadRequest(c);
         c.Send("OK\t2\nOK\t2\nOK\t1\tversion=1\n");
         c.WaitClosed();
       },
       false},
      {"bad escape in the answer",
       [](C& c, P& p) {
         p.ReadRequest(c);
         c.Send(P::HelloOk() + "OK\t2\tmethod=a\\qb\n");
         c.WaitClosed();
       },
       false},
      {"silent",
       [](C& c, P& p) {
         p.ReadRequest(c);
         c.WaitClosed();
       },
       true},
      {"answers OK one byte at a time, too slowly",
       [](C& c, P& p) {
         p.ReadRequest(c);
         for (char ch : P::HelloOk() + "OK\t2\tmethod=m\n") {
           if (!c.Send(std::string(1, ch))) return;
           std::this_thread::sleep_for(milliseconds(100));
         }
         c.WaitClosed();
       },
       true},
  };
}

TEST_F(PamProtocolTest, HostilePeersAreUnavailableWithinTheTimeout) {
  for (const HostileCase& c : HostileCases()) {
    SCOPED_TRACE(c.name);
    ScriptedPeer peer(SocketPath(), c.script);
    PamService service(Line("timeout_ms=" + std::to_string(kTimeoutMs)));
    PamResult r = Pamtester(service.name(), "carol", "123456\n");
    EXPECT_TRUE(EndedWith(r, PAM_AUTHINFO_UNAVAIL));
    EXPECT_EQ(peer.connections(), 1);
    if (c.waits_for_timeout) {
      EXPECT_GE(r.took, milliseconds(kTimeoutMs - 50));
      EXPECT_LT(r.took, milliseconds(kTimeoutMs) + kSlack);
    } else {
      EXPECT_LT(r.took, milliseconds(kTimeoutMs) - kSlack / 2);
    }
  }
}

// A listener whose backlog is full (nobody accepts): the connect itself must give up in time.
TEST_F(PamProtocolTest, ConnectToAStuckListenerIsBoundedByTheTimeout) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, SocketPath().c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 0), 0);
  // Fill the backlog.
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    fillers.push_back(c);
  }
  PamService service(Line("timeout_ms=" + std::to_string(kTimeoutMs)));
  PamResult r = Pamtester(service.name(), "carol", "123456\n");
  EXPECT_TRUE(EndedWith(r, PAM_AUTHINFO_UNAVAIL));
  EXPECT_GE(r.took, milliseconds(kTimeoutMs - 50));
  EXPECT_LT(r.took, milliseconds(kTimeoutMs) + kSlack);
  for (int c : fillers) close(c);
  close(fd);
}

}  // namespace
}  // namespace otpd::pam
