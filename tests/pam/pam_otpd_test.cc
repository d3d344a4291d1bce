// pam_otpd against the real otpd: pamtester authenticates through a PAM service file that loads
// the module by its build path; otpd runs on a Unix socket in a temp dir with users set up by
// otpctl (tests/pam/pam_env.h). Codes come from liboath and go in on pamtester's stdin.

#include <security/pam_appl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <regex>

#include "tests/pam/pam_env.h"

namespace otpd::pam {
namespace {

using otpd::testing::Field;
using otpd::testing::TempDir;

class PamOtpdTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(otpd_.ok()) << otpd_.error(); }

  // "auth required <module> socket=<otpd's> OPTIONS"
  std::string Line(const std::string& options = "") const {
    return "auth required " + Module() + " socket=" + otpd_.socket() +
           (options.empty() ? "" : " " + options) + "\n";
  }

  RealOtpd otpd_;
};

TEST_F(PamOtpdTest, ValidCodeIsAcceptedAndTheSameCodeAgainIsReplayed) {
  PamService service(Line());
  const std::string code = otpd_.NextCode(0);
  PamResult first = Pamtester(service.name(), RealOtpd::User(0), code + "\n");
  EXPECT_TRUE(EndedWith(first, PAM_SUCCESS));
  EXPECT_NE(first.all().find("Verification code: "), std::string::npos) << first.all();
  EXPECT_EQ(first.all().find(code), std::string::npos);

  PamResult again = Pamtester(service.name(), RealOtpd::User(0), code + "\n");
  EXPECT_TRUE(EndedWith(again, PAM_AUTH_ERR));
  EXPECT_NE(again.all().find("already used"), std::string::npos) << again.all();
  EXPECT_EQ(otpd_.Stat("replayed"), 1u);
  EXPECT_EQ(otpd_.Stat("accepted"), 1u);
}

TEST_F(PamOtpdTest, WrongCodeIsRefused) {
  PamService service(Line());
  PamResult r = Pamtester(service.name(), RealOtpd::User(1), otpd_.WrongCode(1) + "\n");
  EXPECT_TRUE(EndedWith(r, PAM_AUTH_ERR));
  EXPECT_NE(r.all().find("Wrong verification code."), std::string::npos) << r.all();
  EXPECT_EQ(otpd_.Stat("bad_code"), 1u);
  // The next right code still works: one failure is not a lockout.
  EXPECT_TRUE(EndedWith(Pamtester(service.name(), RealOtpd::User(1), otpd_.NextCode(1) + "\n"),
                        PAM_SUCCESS));
}

TEST_F(PamOtpdTest, LockedAfterRepeatedFailuresAndTheMessageCarriesTheRetryTime) {
  PamService service(Line());
  const std::string wrong = otpd_.WrongCode(2);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(EndedWith(Pamtester(service.name(), RealOtpd::User(2), wrong + "\n"), PAM_AUTH_ERR))
        << "failure " << i;
  }
  // Locked now: even the right code is not checked.
  PamResult locked = Pamtester(service.name(), RealOtpd::User(2), otpd_.NextCode(2) + "\n");
  EXPECT_TRUE(EndedWith(locked, PAM_MAXTRIES));
  std::smatch m;
  const std::string text = locked.all();
  ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(try again in (\d+) seconds\.)"))) << text;
  const int seconds = std::stoi(m[1]);
  EXPECT_GE(seconds, 1);
  EXPECT_LE(seconds, 30);  // engine default: locked for 30 s after the 5th failure
  // The same number otpd gives a client asking directly.
  const std::string direct = otpd_.Ask("VERIFY\td\tuser=" + RealOtpd::User(2) + "\totp=" + wrong);
  EXPECT_EQ(Field(direct, "reason"), "locked");
  EXPECT_LE(std::stoi(Field(direct, "retry_after")), seconds);
}

TEST_F(PamOtpdTest, OtpdStoppedIsUnavailableNeverSuccess) {
  PamService service(Line("timeout_ms=2000"));
  const std::string code = otpd_.NextCode(0);
  // SIGKILL leaves the socket file behind: connection refused.
  otpd_.Stop(SIGKILL);
  struct stat st;
  ASSERT_EQ(stat(otpd_.socket().c_str(), &st), 0);
  PamResult refused = Pamtester(service.name(), RealOtpd::User(0), code + "\n");
  EXPECT_TRUE(EndedWith(refused, PAM_AUTHINFO_UNAVAIL));
  EXPECT_NE(refused.all().find("unavailable"), std::string::npos) << refused.all();
  // No socket file at all.
  unlink(otpd_.socket().c_str());
  PamResult missing = Pamtester(service.name(), RealOtpd::User(0), code + "\n");
  EXPECT_TRUE(EndedWith(missing, PAM_AUTHINFO_UNAVAIL));
  EXPECT_LT(missing.took, std::chrono::milliseconds(2000));
}

TEST_F(PamOtpdTest, CleanStopIsUnavailable) {
  PamService service(Line());
  otpd_.Stop(SIGTERM);
  EXPECT_TRUE(EndedWith(Pamtester(service.name(), RealOtpd::User(0), otpd_.NextCode(0) + "\n"),
                        PAM_AUTHINFO_UNAVAIL));
}

TEST_F(PamOtpdTest, UnknownUser) {
  PamService service(Line());
  PamResult r = Pamtester(service.name(), "nobody@example.com", "123456\n");
  EXPECT_TRUE(EndedWith(r, PAM_USER_UNKNOWN));
  EXPECT_EQ(otpd_.Stat("unknown_user"), 1u);
}

// sshd and sudo give PAM the login name ("pam0"), otpd knows the user by address: domain= makes
// one from the other; a name that is an address already is sent as it is.
TEST_F(PamOtpdTest, LoginNamesBecomeAddressesWithTheDomainOption) {
  const std::string login = RealOtpd::User(0).substr(0, RealOtpd::User(0).find('@'));
  PamService mapped(Line("domain=example.com"));
  EXPECT_TRUE(EndedWith(Pamtester(mapped.name(), login, otpd_.NextCode(0) + "\n"), PAM_SUCCESS));
  EXPECT_TRUE(EndedWith(Pamtester(mapped.name(), RealOtpd::User(0), otpd_.NextCode(0) + "\n"),
                        PAM_SUCCESS));
  EXPECT_EQ(otpd_.Stat("accepted"), 2u);

  // Without it the bare name is nobody's; with another domain it is someone else's.
  PamService bare(Line());
  EXPECT_TRUE(EndedWith(Pamtester(bare.name(), login, otpd_.NextCode(0) + "\n"), PAM_USER_UNKNOWN));
  PamService other(Line("domain=example.org"));
  EXPECT_TRUE(
      EndedWith(Pamtester(other.name(), login, otpd_.NextCode(0) + "\n"), PAM_USER_UNKNOWN));
  EXPECT_EQ(otpd_.Stat("unknown_user"), 2u);

  // A domain that is not one is a configuration error, refused before anything is asked.
  for (const char* bad : {"domain=", "domain=example", "domain=a@b.com", "domain=exa_mple.com",
                          "domain=example.com."}) {
    PamService wrong(Line(bad));
    EXPECT_TRUE(EndedWith(Pamtester(wrong.name(), login, "123456\n"), PAM_SERVICE_ERR)) << bad;
  }
  EXPECT_EQ(otpd_.Stat("unknown_user"), 2u);
}

// pam_exec with expose_authtok asks "Password: " and leaves the answer in PAM_AUTHTOK; the module
// after it takes the code from there.
TEST_F(PamOtpdTest, UseFirstPassTakesTheCodeAnEarlierModuleCollected) {
  PamService service("auth required pam_exec.so expose_authtok quiet /usr/bin/cat\n" +
                     Line("use_first_pass"));
  PamResult r = Pamtester(service.name(), RealOtpd::User(3), otpd_.NextCode(3) + "\n");
  EXPECT_TRUE(EndedWith(r, PAM_SUCCESS));
  EXPECT_NE(r.all().find("Password: "), std::string::npos) << r.all();
  EXPECT_EQ(r.all().find("Verification code: "), std::string::npos) << r.all();
}

TEST_F(PamOtpdTest, UseFirstPassWithoutAnEarlierTokenFailsWithoutAsking) {
  PamService service(Line("use_first_pass"));
  const std::string code = otpd_.NextCode(3);
  PamResult r = Pamtester(service.name(), RealOtpd::User(3), code + "\n");
  EXPECT_TRUE(EndedWith(r, PAM_AUTH_ERR));
  EXPECT_EQ(r.all().find("Verification code: "), std::string::npos) << r.all();
  EXPECT_EQ(otpd_.Stat("accepted") + otpd_.Stat("bad_code"), 0u);
  // The code never went anywhere: it still signs in.
  PamService prompting(Line());
  EXPECT_TRUE(EndedWith(Pamtester(prompting.name(), RealOtpd::User(3), code + "\n"), PAM_SUCCESS));
}

TEST_F(PamOtpdTest, TryFirstPassUsesAnEarlierTokenOrAsks) {
  PamService stacked("auth required pam_exec.so expose_authtok quiet /usr/bin/cat\n" +
                     Line("try_first_pass"));
  PamResult r = Pamtester(stacked.name(), RealOtpd::User(3), otpd_.NextCode(3) + "\n");
  EXPECT_TRUE(EndedWith(r, PAM_SUCCESS));
  EXPECT_EQ(r.all().find("Verification code: "), std::string::npos) << r.all();

  PamService alone(Line("try_first_pass"));
  r = Pamtester(alone.name(), RealOtpd::User(3), otpd_.NextCode(3) + "\n");
  EXPECT_TRUE(EndedWith(r, PAM_SUCCESS));
  EXPECT_NE(r.all().find("Verification code: "), std::string::npos) << r.all();

  // An earlier module's token that is not a code at all (a password meant for another module)
  // is not sent: the module asks for the code.
  // (pamtester reads each answer with one read() of its stdin, so the second prompt finds only
  // the end of the input: a conversation error. What matters is the prompt, and that the
  // password never went to otpd.)
  r = Pamtester(stacked.name(), RealOtpd::User(3), "hunter2\n");
  EXPECT_TRUE(EndedWith(r, PAM_CONV_ERR));
  EXPECT_NE(r.all().find("Verification code: "), std::string::npos) << r.all();
  EXPECT_EQ(otpd_.Stat("bad_request") + otpd_.Stat("bad_code"), 0u);
}

TEST_F(PamOtpdTest, NoMethodFailsUnlessIgnored) {
  ASSERT_EQ(Field(otpd_.Ask("VERIFY\tn\tuser=nomethod@example.com\totp=123456"), "reason"),
            "no_method");
  PamService fail(Line() + "auth required pam_permit.so\n");
  PamResult r = Pamtester(fail.name(), "nomethod@example.com", "123456\n");
  EXPECT_TRUE(EndedWith(r, PAM_AUTH_ERR));
  EXPECT_NE(r.all().find("No verification method"), std::string::npos) << r.all();

  // Ignored, the next module decides.
  PamService ignore(Line("nomethod=ignore") + "auth required pam_permit.so\n");
  EXPECT_TRUE(EndedWith(Pamtester(ignore.name(), "nomethod@example.com", "123456\n"), PAM_SUCCESS));
  // Alone in the stack an ignored module decides nothing, and libpam refuses.
  PamService alone(Line("nomethod=ignore"));
  EXPECT_TRUE(
      EndedWith(Pamtester(alone.name(), "nomethod@example.com", "123456\n"), PAM_PERM_DENIED));

  // A token that is assigned but not activated is not "no method": it is never ignored.
  ASSERT_EQ(Field(otpd_.Ask("VERIFY\ti\tuser=inactive@example.com\totp=123456"), "reason"),
            "not_activated");
  r = Pamtester(ignore.name(), "inactive@example.com", "123456\n");
  EXPECT_TRUE(EndedWith(r, PAM_AUTH_ERR));
  EXPECT_NE(r.all().find("not activated"), std::string::npos) << r.all();
}

TEST_F(PamOtpdTest, CodeOfTheWrongLengthNeverReachesOtpd) {
  PamService service(Line());
  const std::string before = otpd_.Ask("STATS\tb");
  for (const std::string bad : {"12345", "1234567890", "12a456", "", " 123456", "123456 "}) {
    PamResult r = Pamtester(service.name(), RealOtpd::User(0), bad + "\n");
    EXPECT_TRUE(EndedWith(r, PAM_AUTH_ERR)) << "'" << bad << "'";
    EXPECT_NE(r.all().find("6 to 9 digits"), std::string::npos) << r.all();
  }
  // Nothing but this test's second STATS reached otpd.
  const std::string after = otpd_.Ask("STATS\ta");
  EXPECT_EQ(std::stoull(Field(after, "requests")), std::stoull(Field(before, "requests")) + 1);
  EXPECT_EQ(std::stoull(Field(after, "connections_accepted")),
            std::stoull(Field(before, "connections_accepted")) + 1);
  EXPECT_TRUE(EndedWith(Pamtester(service.name(), RealOtpd::User(0), otpd_.NextCode(0) + "\n"),
                        PAM_SUCCESS));
}

// Password mode against the real otpd, for a user who has no password there: otpd answers
// bad_password (a failure toward the lockout), and the module refuses, never accepts.
TEST_F(PamOtpdTest, PasswordModeForAUserWithoutAPasswordRefuses) {
  PamService service(Line("password"));
  PamResult r = Pamtester(service.name(), RealOtpd::User(0), "correct horse\n");
  EXPECT_TRUE(EndedWith(r, PAM_AUTH_ERR));
  EXPECT_NE(r.all().find("Password: "), std::string::npos) << r.all();
  EXPECT_EQ(otpd_.Stat("bad_password"), 1u);
  EXPECT_EQ(otpd_.Stat("bad_request"), 0u);
}

// The module's syslog lines name the user and the outcome and never the code: pamtester runs in
// a private mount namespace whose /dev/log is a datagram socket of this test.
TEST_F(PamOtpdTest, SyslogHasTheUserAndTheOutcomeNeverTheCode) {
  TempDir dev;
  const std::string log_path = dev.File("log");
  int log_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, log_path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(log_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  otpd::testing::WriteFile(dev.File("null"), "");
  const std::vector<std::string> in_namespace = {
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "/bin/sh",
      "-c",
      R"(mount --bind /dev/null "$0/null" && mount --bind "$0" /dev && exec "$@")",
      dev.path()};
  auto read_log = [&] {
    std::string all;
    char buf[2048];
    ssize_t n;
    while ((n = recv(log_fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
      all.append(buf, static_cast<size_t>(n));
      all += "\n";
    }
    return all;
  };

  PamService service(Line());
  const std::string good = otpd_.NextCode(0);
  const std::string wrong = otpd_.WrongCode(0);
  ASSERT_TRUE(EndedWith(
      Pamtester(service.name(), RealOtpd::User(0), good + "\n", "authenticate", in_namespace),
      PAM_SUCCESS));
  std::string log = read_log();
  EXPECT_NE(log.find("user " + RealOtpd::User(0) + ": code accepted"), std::string::npos) << log;
  EXPECT_EQ(log.find(good), std::string::npos);

  EXPECT_TRUE(EndedWith(
      Pamtester(service.name(), RealOtpd::User(0), wrong + "\n", "authenticate", in_namespace),
      PAM_AUTH_ERR));
  EXPECT_TRUE(EndedWith(
      Pamtester(service.name(), RealOtpd::User(0), "9876543210\n", "authenticate", in_namespace),
      PAM_AUTH_ERR));
  log = read_log();
  EXPECT_NE(log.find("user " + RealOtpd::User(0) + ": code refused, reason=bad_code"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("user " + RealOtpd::User(0) + ": code not 6 to 9 digits"), std::string::npos)
      << log;
  EXPECT_EQ(log.find(wrong), std::string::npos);
  EXPECT_EQ(log.find("9876543210"), std::string::npos);
  // Without debug, one line per sign-in; with it, one more with the socket and the time taken.
  EXPECT_EQ(log.find("timeout_ms="), std::string::npos) << log;
  PamService debug(Line("debug timeout_ms=2500"));
  const std::string next = otpd_.NextCode(0);
  EXPECT_TRUE(EndedWith(
      Pamtester(debug.name(), RealOtpd::User(0), next + "\n", "authenticate", in_namespace),
      PAM_SUCCESS));
  log = read_log();
  EXPECT_TRUE(std::regex_search(log, std::regex("user " + RealOtpd::User(0) + ": socket " +
                                                otpd_.socket() + ", \\d+ ms of timeout_ms=2500")))
      << log;
  EXPECT_EQ(log.find(next), std::string::npos);
  close(log_fd);
}

TEST(PamInstallTest, InstallPutsTheModuleInThePamModuleDirectory) {
  const std::string dir = OTPD_PAM_MODULE_DIR;
  ASSERT_FALSE(dir.empty()) << "no PAM module directory was found at configure time";
  // The system's own modules live there.
  EXPECT_EQ(access((dir + "/pam_unix.so").c_str(), F_OK), 0) << dir;
  TempDir dest;
  otpd::testing::RunResult r =
      otpd::testing::Run({CMAKE_COMMAND, "--install", OTPD_BUILD_DIR, "--component", "pam"},
                         {"DESTDIR=" + dest.path()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string installed = dest.path() + dir + "/pam_otpd.so";
  // (Compared as a whole; on failure only the path is printed, not the binary.)
  EXPECT_TRUE(otpd::testing::ReadFile(installed) == otpd::testing::ReadFile(Module()))
      << installed << " is missing or differs from " << Module();
}

}  // namespace
}  // namespace otpd::pam
