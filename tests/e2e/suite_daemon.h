// The base of end-to-end suites whose tests share one otpd: a temporary directory, a data
// directory the suite prepares, the daemon started on it before the first test and stopped with
// SIGTERM (exit code 0 expected) after the last.
//
// A suite derives as `class FooTest : public SuiteDaemon<FooTest>` and defines
//   static bool PrepareSuite(std::vector<std::string>* args, std::string* error);
// which fills DataDir() (PrepareDataDir), writes what its daemon needs into dir_, and adds the
// daemon's arguments beyond DaemonArgs' (a configuration file, listeners). Returning false with
// *error set fails every test of the suite; returning false with *error empty starts nothing
// (a suite that skips itself says why in its own SetUp). It may also define
//   static bool SuiteStarted(std::string* error);  // after the daemon started (a peer process)
//   static void SuiteStopping();                   // before the daemon stops (stop that peer)
//   static void SuiteStopped();                    // after it stopped (free what the suite made)
// A listener asked for in the arguments (--admin-listen, --validate-listen) that the daemon does
// not report fails the suite.

#ifndef OTPD_TESTS_E2E_SUITE_DAEMON_H_
#define OTPD_TESTS_E2E_SUITE_DAEMON_H_

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/e2e/e2e_env.h"
#include "tests/testing/daemon.h"
#include "tests/testing/http_client.h"
#include "tests/testing/subprocess.h"

namespace otpd::e2e {

template <typename Suite>
class SuiteDaemon : public ::testing::Test {
 protected:
  // A failure here must fail every test (a failed SetUpTestSuite would only mark them skipped):
  // it is kept in setup_error_ and reported by SetUp.
  static void SetUpTestSuite() {
    dir_ = new otpd::testing::TempDir();
    std::vector<std::string> args;
    if (!Suite::PrepareSuite(&args, &setup_error_)) return;
    daemon_ = new otpd::testing::Daemon();
    if (!daemon_->Start(OTPD_PATH, DaemonArgs(DataDir(), args))) {
      setup_error_ = "otpd did not start: " + daemon_->log();
      return;
    }
    auto asked = [&](const char* flag) {
      return std::find(args.begin(), args.end(), flag) != args.end();
    };
    if ((asked("--admin-listen") && daemon_->admin_port() == 0) ||
        (asked("--validate-listen") && daemon_->validate_port() == 0)) {
      setup_error_ =
          "the daemon did not report a port it was asked to listen on: " + daemon_->log();
      return;
    }
    (void)Suite::SuiteStarted(&setup_error_);
  }

  void SetUp() override { ASSERT_TRUE(setup_error_.empty()) << setup_error_; }

  static void TearDownTestSuite() {
    Suite::SuiteStopping();
    if (daemon_ != nullptr && daemon_->running()) {
      EXPECT_EQ(daemon_->Stop(SIGTERM), 0) << daemon_->log();
    }
    Suite::SuiteStopped();
    delete daemon_;
    delete dir_;
    daemon_ = nullptr;
    dir_ = nullptr;
    setup_error_.clear();
  }

  // The defaults of the optional steps.
  static bool SuiteStarted(std::string*) { return true; }
  static void SuiteStopping() {}
  static void SuiteStopped() {}

  static std::string DataDir() { return dir_->File("data"); }

  // For suites with an admin listener over TLS: a test certificate in dir_ (false with *error
  // when openssl could not make one) and the arguments that use it.
  static bool MakeAdminCertificate(std::string* error) {
    if (otpd::testing::MakeTestCertificate(dir_->File("admin.crt"), dir_->File("admin.key"))) {
      return true;
    }
    *error = "openssl could not make a test certificate";
    return false;
  }
  static std::vector<std::string> AdminTlsArgs() {
    return {"--admin-listen",        "127.0.0.1:0",     "--admin-tls-cert",
            dir_->File("admin.crt"), "--admin-tls-key", dir_->File("admin.key")};
  }
  // The owner, through the admin socket in the data directory.
  static otpd::testing::HttpClient Owner() {
    return otpd::testing::HttpClient::Unix(DataDir() + "/admin.sock");
  }
  // A caller of the TLS admin listener (AdminTlsArgs) holding `key` ("" for none).
  static otpd::testing::HttpClient Remote(const std::string& key = "") {
    otpd::testing::HttpClient c =
        otpd::testing::HttpClient::Tls(daemon_->admin_port(), dir_->File("admin.crt"));
    c.set_bearer(key);
    return c;
  }
  // An API key with `roles` (for `user`, when given), made by the owner; "" (and a test failure)
  // when it is refused.
  static std::string MakeKey(const std::string& name, const std::vector<std::string>& roles,
                             const std::string& user = "") {
    boost::json::array r;
    for (const auto& role : roles) r.emplace_back(role);
    boost::json::object body{{"name", name}, {"roles", r}};
    if (!user.empty()) body["user"] = user;
    otpd::testing::HttpReply reply = Owner().Post("/v1.0/admin/apiKeys", body);
    EXPECT_EQ(reply.status, 201) << reply.body;
    return reply.status == 201 ? std::string(reply.Json().at("key").as_string()) : std::string();
  }

  static inline otpd::testing::TempDir* dir_ = nullptr;
  static inline otpd::testing::Daemon* daemon_ = nullptr;
  static inline std::string setup_error_;
};

}  // namespace otpd::e2e

#endif  // OTPD_TESTS_E2E_SUITE_DAEMON_H_
