// otpctl as a client of the admin API: every command against the running daemon (through its
// admin socket as the owner, and over TLS with API keys), the same commands offline once it is
// stopped, role boundaries with a reader's key, and the errors that say what went wrong.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "base/codec.h"
#include "tests/e2e/e2e_env.h"
#include "tests/e2e/suite_daemon.h"
#include "tests/testing/http_client.h"

namespace otpd::e2e {
namespace {

namespace json = boost::json;
using otpd::testing::RunResult;

std::string SeedFor(const std::string& n) {
  std::string seed = n + "-otpctl-online-seed";
  seed.resize(20, '#');
  return seed;
}
std::string Base32Of(const std::string& seed) {
  return base::Base32Encode({reinterpret_cast<const uint8_t*>(seed.data()), seed.size()},
                            /*pad=*/false);
}

json::value Parse(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value() : v;
}

bool Has(const RunResult& r, const std::string& text) {
  return r.out.find(text) != std::string::npos || r.err.find(text) != std::string::npos;
}

// One daemon for the suite (admin socket and a TLS listener); the offline test stops it.
class OtpctlOnlineTest : public SuiteDaemon<OtpctlOnlineTest> {
 public:
  static bool PrepareSuite(std::vector<std::string>* args, std::string* error) {
    if (!PrepareDataDir(DataDir(), {}, error) || !MakeAdminCertificate(error)) return false;
    *args = AdminTlsArgs();
    return true;
  }

 protected:
  // otpctl on the suite's data directory (as the owner, through admin.sock when the daemon runs).
  static RunResult Otpctl(std::vector<std::string> args, const std::string& input = "",
                          std::vector<std::string> env = {}) {
    args.insert(args.begin(), OTPCTL_PATH);
    args.insert(args.end(), {"--data-dir", DataDir(), "--key-file", KeyFileFor(DataDir())});
    env.insert(env.end(), {"OTPD_MASTER_KEY", "OTPD_KEY_FILE", "OTPD_DATA_DIR"});
    if (std::find_if(env.begin(), env.end(), [](const std::string& e) {
          return e.starts_with("OTPD_API_KEY=");
        }) == env.end()) {
      env.push_back("OTPD_API_KEY");
    }
    return otpd::testing::Run(args, env, input);
  }

  // otpctl over the TLS listener with the key in `key_file` ("" for none).
  static RunResult Remote(std::vector<std::string> args, const std::string& key_file,
                          std::vector<std::string> env = {}) {
    args.insert(args.begin(), OTPCTL_PATH);
    args.insert(args.end(),
                {"--admin", "https://localhost:" + std::to_string(daemon_->admin_port()),
                 "--admin-ca-file", dir_->File("admin.crt")});
    if (!key_file.empty()) args.insert(args.end(), {"--api-key-file", key_file});
    if (env.empty()) env.push_back("OTPD_API_KEY");
    env.insert(env.end(), {"OTPD_MASTER_KEY", "OTPD_KEY_FILE", "OTPD_DATA_DIR"});
    return otpd::testing::Run(args, env);
  }

  // A CSV of available TOTP tokens (no user), named `names`.
  static std::string TokenFile(const std::vector<std::string>& names) {
    std::string csv = "upn,serial number,secret key,time interval,manufacturer,model\n";
    for (const std::string& n : names)
      csv += "," + n + "," + Base32Of(SeedFor(n)) + ",30,Acme,K1\n";
    const std::string path = dir_->File("tokens-" + names.front() + ".csv");
    otpd::testing::WriteFile(path, csv);
    return path;
  }

  // Creates an API key with `role` into a new file; returns its path.
  static std::string KeyWithRole(const std::string& name, const std::string& role) {
    const std::string path = dir_->File(name + ".apikey");
    RunResult r = Otpctl({"apikey", "create", name, "--role", role, "--out", path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return path;
  }
};

TEST_F(OtpctlOnlineTest, TokenCommandsGoThroughTheDaemon) {
  RunResult import = Otpctl({"import", TokenFile({"ON1", "ON2"})});
  ASSERT_EQ(import.exit_code, 0) << import.err;
  EXPECT_TRUE(Has(import, "2 imported")) << import.out;
  RunResult again = Otpctl({"import", TokenFile({"ON1", "ON2"}), "--dry-run", "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Parse(again.out).at("unchanged"), 2) << again.out;

  ASSERT_EQ(Otpctl({"user", "add", "tina@example.com", "--display-name", "Tina"}).exit_code, 0);
  RunResult assign = Otpctl({"token", "assign", "ON1", "tina@example.com"});
  ASSERT_EQ(assign.exit_code, 0) << assign.err;
  RunResult show = Otpctl({"token", "show", "ON1", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(Parse(show.out).at("status"), "assigned") << show.out;
  EXPECT_EQ(Parse(show.out).at("user"), "tina@example.com") << show.out;

  const TestToken t{"ON1", "tina@example.com", SeedFor("ON1"), {}};
  RunResult wrong = Otpctl({"token", "activate", "ON1", "-"}, "000000\n");
  if (t.Code(0) != "000000") {
    EXPECT_EQ(wrong.exit_code, 1);
    EXPECT_TRUE(Has(wrong, "the code is not right for token ON1")) << wrong.err;
  }
  RunResult activate = Otpctl({"token", "activate", "ON1"}, t.Code(0) + "\n");
  ASSERT_EQ(activate.exit_code, 0) << activate.err;
  EXPECT_FALSE(Has(activate, t.Code(0)));

  RunResult list = Otpctl({"token", "list", "--status", "activated"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(Has(list, "ON1\tactivated\ttina@example.com\ttotp/SHA1/6")) << list.out;
  EXPECT_FALSE(Has(list, "ON2")) << list.out;

  RunResult methods = Otpctl({"method", "list", "tina@example.com"});
  ASSERT_EQ(methods.exit_code, 0) << methods.err;
  EXPECT_TRUE(Has(methods, "hardwareOath")) << methods.out;
  EXPECT_TRUE(Has(methods, "serial ON1 (activated)")) << methods.out;

  EXPECT_EQ(Otpctl({"token", "deactivate", "ON1"}).exit_code, 0);
  EXPECT_EQ(Otpctl({"token", "unassign", "ON1"}).exit_code, 0);
  EXPECT_EQ(Parse(Otpctl({"token", "show", "ON1", "--json"}).out).at("status"), "available");
  EXPECT_EQ(Otpctl({"token", "delete", "ON2"}).exit_code, 0);
  RunResult gone = Otpctl({"token", "show", "ON2"});
  EXPECT_EQ(gone.exit_code, 1);

  // Secrets never reach the output.
  EXPECT_FALSE(Has(import, Base32Of(SeedFor("ON1"))));
  EXPECT_FALSE(Has(show, Base32Of(SeedFor("ON1"))));
  EXPECT_EQ(daemon_->log().find(t.Code(0)), std::string::npos);
}

TEST_F(OtpctlOnlineTest, MethodAddAndDeleteByIdAndTokenUpdate) {
  const std::string upn = "vera@example.com";
  ASSERT_EQ(Otpctl({"user", "add", upn}).exit_code, 0);
  RunResult phone = Otpctl({"method", "add-phone", upn, "+44 2071234567", "--type", "office"});
  ASSERT_EQ(phone.exit_code, 0) << phone.err;
  RunResult email = Otpctl({"method", "add-email", upn, "vera@example.org"});
  ASSERT_EQ(email.exit_code, 0) << email.err;
  RunResult bad_type = Otpctl({"method", "add-phone", upn, "+1 4255551234", "--type", "pager"});
  EXPECT_EQ(bad_type.exit_code, 2) << bad_type.err;
  json::value methods = Parse(Otpctl({"method", "list", upn, "--json"}).out);
  ASSERT_TRUE(methods.is_array());
  ASSERT_EQ(methods.as_array().size(), 2u);
  for (const json::value& m : methods.as_array()) {
    const std::string id(m.at("id").as_string());
    RunResult del = Otpctl({"method", "delete", upn, id});
    EXPECT_EQ(del.exit_code, 0) << del.err;
    EXPECT_TRUE(Has(del, "deleted")) << del.out;
  }
  EXPECT_TRUE(Parse(Otpctl({"method", "list", upn, "--json"}).out).as_array().empty());
  RunResult unknown = Otpctl({"method", "delete", upn, "no-such-id"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(Has(unknown, "has no method")) << unknown.err;

  ASSERT_EQ(Otpctl({"import", TokenFile({"UP1"})}).exit_code, 0);
  RunResult nothing = Otpctl({"token", "update", "UP1"});
  EXPECT_EQ(nothing.exit_code, 2) << nothing.err;
  RunResult update = Otpctl({"token", "update", "UP1", "--display-name", "Desk drawer",
                             "--manufacturer", "Acme", "--model", "K9"});
  ASSERT_EQ(update.exit_code, 0) << update.err;
  json::value shown = Parse(Otpctl({"token", "show", "UP1", "--json"}).out);
  EXPECT_EQ(shown.at("manufacturer"), "Acme");
  EXPECT_EQ(shown.at("model"), "K9");
  // Entra changes only tokens nobody holds.
  ASSERT_EQ(Otpctl({"token", "assign", "UP1", upn}).exit_code, 0);
  RunResult held = Otpctl({"token", "update", "UP1", "--model", "K10"});
  EXPECT_EQ(held.exit_code, 1) << held.out;
  EXPECT_EQ(Parse(Otpctl({"token", "show", "UP1", "--json"}).out).at("model"), "K9");
}

TEST_F(OtpctlOnlineTest, UserAndMethodCommandsGoThroughTheDaemon) {
  const std::string upn = "uma@example.com";
  ASSERT_EQ(Otpctl({"user", "add", upn, "--display-name", "Uma"}).exit_code, 0);
  RunResult dup = Otpctl({"user", "add", upn});
  EXPECT_EQ(dup.exit_code, 1);
  EXPECT_TRUE(Has(dup, "exists already")) << dup.err;
  ASSERT_EQ(Otpctl({"user", "rename", upn, "Uma B."}).exit_code, 0);
  RunResult show = Otpctl({"user", "show", upn});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_TRUE(Has(show, "Uma B.")) << show.out;
  RunResult list = Otpctl({"user", "list", "--prefix", "uma"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(Has(list, "USER")) << list.out;
  EXPECT_TRUE(Has(list, upn)) << list.out;

  ASSERT_EQ(Otpctl({"phone", "add", upn, "+1 4255551234"}).exit_code, 0);
  RunResult bad_phone = Otpctl({"phone", "add", upn, "4255551234", "--type", "office"});
  EXPECT_EQ(bad_phone.exit_code, 1);
  EXPECT_EQ(Otpctl({"phone", "enable-sms", upn}).exit_code, 0);
  EXPECT_EQ(Otpctl({"phone", "update", upn, "mobile", "+1 4255550000"}).exit_code, 0);
  ASSERT_EQ(Otpctl({"email", "add", upn, "uma.private@example.org"}).exit_code, 0);
  RunResult methods = Otpctl({"method", "list", upn, "--json"});
  ASSERT_EQ(methods.exit_code, 0) << methods.err;
  EXPECT_TRUE(Has(methods, "+1 4255550000")) << methods.out;
  EXPECT_TRUE(Has(methods, "\"smsSignInState\":\"ready\"")) << methods.out;
  EXPECT_TRUE(Has(methods, "uma.private@example.org")) << methods.out;

  // An authenticator app: the URI is shown once, a code from it confirms the enrolment.
  RunResult enrol = Otpctl({"software-token", "enrol", upn, "--name", "Phone", "--json"});
  ASSERT_EQ(enrol.exit_code, 0) << enrol.err;
  json::value e = Parse(enrol.out);
  ASSERT_TRUE(e.is_object()) << enrol.out;
  EXPECT_FALSE(e.as_object().contains("qrCodeSvg"));
  auto seed = base::Base32Decode(e.at("secretKey").as_string());
  ASSERT_TRUE(seed.ok());
  const std::string id(e.at("id").as_string());
  const TestToken app{"app", upn, std::string(seed->view()), {}};
  RunResult confirm = Otpctl({"software-token", "confirm", upn, id}, app.Code(0) + "\n");
  ASSERT_EQ(confirm.exit_code, 0) << confirm.err;
  RunResult listed = Otpctl({"method", "list", upn});
  EXPECT_TRUE(Has(listed, "softwareOath")) << listed.out;
  EXPECT_TRUE(Has(listed, "Phone (active)")) << listed.out;
  EXPECT_FALSE(Has(listed, std::string(e.at("secretKey").as_string())));
  // Text output draws the QR code on the terminal and leaves the confirmation for later.
  RunResult text = Otpctl({"software-token", "enrol", upn, "--name", "Tablet"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_TRUE(Has(text, "otpauth://totp/")) << text.out;
  EXPECT_TRUE(Has(text, "\u2580") || Has(text, "\u2584") || Has(text, "\u2588")) << text.out;
  EXPECT_TRUE(Has(text, "otpctl software-token confirm")) << text.out;

  EXPECT_EQ(Otpctl({"software-token", "delete", upn, id}).exit_code, 0);
  EXPECT_EQ(Otpctl({"email", "delete", upn}).exit_code, 0);
  EXPECT_EQ(Otpctl({"phone", "delete", upn, "mobile"}).exit_code, 0);
  RunResult after = Otpctl({"method", "list", upn, "--json"});
  EXPECT_FALSE(Has(after, "4255550000")) << after.out;
  EXPECT_FALSE(Has(after, "uma.private")) << after.out;

  RunResult unlock = Otpctl({"user", "unlock", upn});
  ASSERT_EQ(unlock.exit_code, 0) << unlock.err;
  EXPECT_TRUE(Has(unlock, "no failed sign-ins to clear")) << unlock.out;
  RunResult roles = Otpctl({"user", "roles", upn, "reader"});
  ASSERT_EQ(roles.exit_code, 0) << roles.err;
  EXPECT_TRUE(Has(roles, "roles: reader")) << roles.out;

  // Changes made online are audited with the socket's owner as the actor; pages are followed.
  RunResult audit = Otpctl({"audit", "--target", "user/" + upn, "--json"});
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  json::value records = Parse(audit.out);
  ASSERT_TRUE(records.is_array()) << audit.out;
  EXPECT_GE(records.as_array().size(), 8u) << audit.out;
  EXPECT_TRUE(Has(audit, "uid:")) << audit.out;
  RunResult paged = Otpctl({"audit", "--target", "user/" + upn, "--json", "--page-size", "2"});
  ASSERT_EQ(paged.exit_code, 0) << paged.err;
  EXPECT_EQ(Parse(paged.out).as_array().size(), records.as_array().size());

  EXPECT_EQ(Otpctl({"user", "delete", upn}).exit_code, 0);
  EXPECT_EQ(Otpctl({"user", "show", upn}).exit_code, 1);
}

TEST_F(OtpctlOnlineTest, ApiKeysAndRoleBoundaries) {
  const std::string reader = KeyWithRole("reader-key", "reader");
  struct stat st {};
  ASSERT_EQ(stat(reader.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string key = otpd::testing::ReadFile(reader);
  ASSERT_GT(key.size(), 10u);

  RunResult keys = Otpctl({"apikey", "list"});
  ASSERT_EQ(keys.exit_code, 0) << keys.err;
  EXPECT_TRUE(Has(keys, "reader-key")) << keys.out;
  EXPECT_FALSE(Has(keys, key.substr(0, key.size() - 1))) << keys.out;

  // The reader may read, over TLS, with the key from a file or from the environment...
  RunResult users = Remote({"user", "list"}, reader);
  EXPECT_EQ(users.exit_code, 0) << users.err;
  RunResult env_list =
      Remote({"token", "list"}, "", {"OTPD_API_KEY=" + key.substr(0, key.size() - 1)});
  EXPECT_EQ(env_list.exit_code, 0) << env_list.err;
  // ...but not write: refused with the role it would take, and nothing changes.
  RunResult add = Remote({"user", "add", "rita@example.com"}, reader);
  EXPECT_EQ(add.exit_code, 1);
  EXPECT_TRUE(Has(add, "access denied")) << add.err;
  EXPECT_TRUE(Has(add, "administrator")) << add.err;
  EXPECT_EQ(Otpctl({"user", "show", "rita@example.com"}).exit_code, 1);
  RunResult mint =
      Remote({"apikey", "create", "escalate", "--role", "privileged_authentication_administrator"},
             reader);
  EXPECT_EQ(mint.exit_code, 1);
  EXPECT_FALSE(Has(Otpctl({"apikey", "list"}), "escalate"));

  // A wrong key, a key file that cannot be read, no key at all.
  otpd::testing::WritePrivateFile(dir_->File("wrong.apikey"), "otpd_not_a_real_key\n");
  RunResult wrong = Remote({"user", "list"}, dir_->File("wrong.apikey"));
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_TRUE(Has(wrong, "not authenticated")) << wrong.err;
  EXPECT_FALSE(Has(wrong, "otpd_not_a_real_key")) << wrong.err;
  RunResult missing = Remote({"user", "list"}, dir_->File("missing.apikey"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(Has(missing, "--api-key-file")) << missing.err;
  RunResult none = Remote({"user", "list"}, "");
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_TRUE(Has(none, "OTPD_API_KEY")) << none.err;
  // TLS without the private CA fails its check and says how to fix it.
  RunResult untrusted = otpd::testing::Run(
      {OTPCTL_PATH, "user", "list", "--admin",
       "https://localhost:" + std::to_string(daemon_->admin_port()), "--api-key-file", reader});
  EXPECT_EQ(untrusted.exit_code, 1);
  EXPECT_TRUE(Has(untrusted, "--admin-ca-file")) << untrusted.err;

  // Plain HTTP only on loopback; nothing listening there is "not running".
  RunResult clear = otpd::testing::Run(
      {OTPCTL_PATH, "user", "list", "--admin", "http://192.0.2.1:7734", "--api-key-file", reader});
  EXPECT_EQ(clear.exit_code, 1);
  EXPECT_TRUE(Has(clear, "loopback only")) << clear.err;
  RunResult closed = otpd::testing::Run(
      {OTPCTL_PATH, "user", "list", "--admin", "http://127.0.0.1:1", "--api-key-file", reader});
  EXPECT_EQ(closed.exit_code, 1);
  EXPECT_TRUE(Has(closed, "not running at http://127.0.0.1:1")) << closed.err;

  // Revoked, the key opens nothing.
  ASSERT_EQ(Otpctl({"apikey", "revoke", "reader-key"}).exit_code, 0);
  EXPECT_EQ(Remote({"user", "list"}, reader).exit_code, 1);
}

TEST_F(OtpctlOnlineTest, OnlineBackup) {
  const std::string dest = dir_->File("online-backup");
  RunResult backup = Otpctl({"backup", dest});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  EXPECT_TRUE(Has(backup, "backup written to")) << backup.out;
  struct stat st {};
  EXPECT_EQ(stat((dest + "/otpd-backup.json").c_str(), &st), 0);
  RunResult again = Otpctl({"backup", dest});
  EXPECT_EQ(again.exit_code, 1);
}

// Last in the suite: stops the daemon, then the same commands work on the data directory.
TEST_F(OtpctlOnlineTest, ZzOfflineOnceTheDaemonStops) {
  ASSERT_EQ(daemon_->Stop(SIGTERM), 0) << daemon_->log();

  RunResult forced = Otpctl({"user", "list", "--online"});
  EXPECT_EQ(forced.exit_code, 1);
  EXPECT_TRUE(Has(forced, "is not running")) << forced.err;
  EXPECT_TRUE(Has(forced, "admin.sock")) << forced.err;

  RunResult import = Otpctl({"import", TokenFile({"OFF1"})});
  ASSERT_EQ(import.exit_code, 0) << import.err;
  ASSERT_EQ(Otpctl({"user", "add", "olga@example.com"}).exit_code, 0);
  ASSERT_EQ(Otpctl({"token", "assign", "OFF1", "olga@example.com"}).exit_code, 0);
  ASSERT_EQ(Otpctl({"phone", "add", "olga@example.com", "+44 2071234567"}).exit_code, 0);
  ASSERT_EQ(Otpctl({"email", "add", "olga@example.com", "olga@example.net"}).exit_code, 0);
  RunResult methods = Otpctl({"method", "list", "olga@example.com"});
  ASSERT_EQ(methods.exit_code, 0) << methods.err;
  EXPECT_TRUE(Has(methods, "serial OFF1 (assigned)")) << methods.out;
  EXPECT_TRUE(Has(methods, "+44 2071234567")) << methods.out;
  RunResult offline_key = Otpctl({"apikey", "create", "offline-key", "--role", "reader"});
  ASSERT_EQ(offline_key.exit_code, 0) << offline_key.err;
  EXPECT_TRUE(Has(offline_key, "shown this once")) << offline_key.out;
  RunResult audit = Otpctl({"audit", "--actor", "otpctl", "--json"});
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  EXPECT_TRUE(Has(audit, "user/olga@example.com")) << audit.out;
  EXPECT_EQ(Otpctl({"user", "show", "olga@example.com", "--offline"}).exit_code, 0);
  RunResult remote = Remote({"user", "list"}, dir_->File("missing-too.apikey"));
  EXPECT_EQ(remote.exit_code, 1);

  // The daemon starts on what otpctl wrote and serves it.
  ASSERT_TRUE(daemon_->Start(OTPD_PATH, DaemonArgs(DataDir()))) << daemon_->log();
  RunResult online = Otpctl({"user", "show", "olga@example.com", "--online"});
  EXPECT_EQ(online.exit_code, 0) << online.err;
}

}  // namespace
}  // namespace otpd::e2e
