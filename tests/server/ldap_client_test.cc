// The directory source's LDAP client against a real OpenLDAP server (tests/testing/
// slapd_server.h) limited as Active Directory is (500 entries a search without paging): paged
// searches see every entry, binds check passwords and refuse an empty one, and a server that is
// gone is "unavailable", never a wrong password.

#include "server/directory/ldap_client.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tests/testing/http_client.h"
#include "tests/testing/slapd_server.h"
#include "tests/testing/subprocess.h"

namespace otpd::server {
namespace {

using otpd::testing::SlapdServer;

constexpr int kUsers = 1200;

class LdapClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (SlapdServer::Binary().empty()) return;
    slapd_ = new SlapdServer();
    std::string ldif;
    for (int i = 0; i < kUsers; ++i) ldif += UserLdif(i);
    // The service account the client searches as (not the administrator, whom no limit binds).
    ldif += "dn: cn=otpd-sync," + std::string("dc=otpd,dc=test") +
            "\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
            "cn: otpd-sync\nuserPassword: sync-secret\n\n";
    std::string error;
    ASSERT_TRUE(slapd_->Load(BaseLdif() + ldif, &error)) << error;
    ASSERT_TRUE(slapd_->Start(&error)) << error;
  }
  static void TearDownTestSuite() {
    delete slapd_;
    slapd_ = nullptr;
  }
  void SetUp() override {
    if (slapd_ == nullptr) GTEST_SKIP() << "slapd is not installed (Debian: slapd, ldap-utils)";
  }

  static std::string BaseLdif() {
    return "dn: dc=otpd,dc=test\nobjectClass: dcObject\nobjectClass: organization\ndc: otpd\n"
           "o: otpd tests\n\ndn: ou=people,dc=otpd,dc=test\nobjectClass: organizationalUnit\n"
           "ou: people\n\n";
  }
  static std::string UserDn(int i) {
    return "uid=user" + std::to_string(i) + ",ou=people,dc=otpd,dc=test";
  }
  static std::string UserLdif(int i) {
    const std::string n = std::to_string(i);
    return "dn: " + UserDn(i) +
           "\nobjectClass: inetOrgPerson\nobjectClass: otpdTestAdUser\nuid: user" + n +
           "\ncn: User " + n + "\nsn: " + n + "\nmail: user" + n +
           "@example.com\nuserPrincipalName: user" + n +
           "@example.com\nuserAccountControl: " + (i % 10 == 0 ? "514" : "512") +
           "\nuserPassword: pw-" + n + "\n\n";
  }

  static LdapOptions Options() {
    LdapOptions o;
    o.urls = {slapd_->url()};
    o.start_tls = false;
    o.allow_plaintext = true;  // loopback
    o.bind_dn = "cn=otpd-sync,dc=otpd,dc=test";
    o.bind_password = base::SecretBytes::FromString("sync-secret");
    o.timeout = std::chrono::milliseconds(3000);
    return o;
  }

  static SlapdServer* slapd_;
};

SlapdServer* LdapClientTest::slapd_ = nullptr;

TEST_F(LdapClientTest, APagedSearchSeesEveryEntryBeyondTheServersLimit) {
  auto client = LdapClient::Connect(Options());
  ASSERT_TRUE(client.ok()) << client.status();
  std::set<std::string> upns;
  int disabled = 0;
  base::Status s = (*client)->SearchPaged(
      "ou=people,dc=otpd,dc=test", "(objectClass=inetOrgPerson)",
      {"userPrincipalName", "userAccountControl", "entryUUID"}, 100,
      [&](const LdapEntry& e) -> base::StatusOr<bool> {
        const std::string* upn = e.First("userprincipalname");
        EXPECT_NE(upn, nullptr) << e.dn;
        EXPECT_NE(e.First("entryuuid"), nullptr) << e.dn;
        if (upn != nullptr) upns.insert(*upn);
        if (const std::string* uac = e.First("useraccountcontrol"); uac && *uac == "514") {
          ++disabled;
        }
        return true;
      });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(upns.size(), size_t{kUsers});
  EXPECT_EQ(disabled, kUsers / 10);
  // The same search without paging stops at the server's limit (ldapsearch exits with 4, "Size
  // limit exceeded"): the pages are what let every entry through.
  otpd::testing::RunResult unpaged =
      otpd::testing::Run({"/usr/bin/ldapsearch", "-x", "-LLL", "-H", slapd_->url(), "-D",
                          "cn=otpd-sync,dc=otpd,dc=test", "-w", "sync-secret", "-b",
                          "ou=people,dc=otpd,dc=test", "(objectClass=inetOrgPerson)", "dn"});
  EXPECT_EQ(unpaged.exit_code, 4) << unpaged.err;
}

TEST_F(LdapClientTest, AStoppedSearchStopsAndErrorsNameTheirPlace) {
  auto client = LdapClient::Connect(Options());
  ASSERT_TRUE(client.ok()) << client.status();
  int seen = 0;
  base::Status s = (*client)->SearchPaged(
      "ou=people,dc=otpd,dc=test", "(uid=*)", {"uid"}, 50,
      [&](const LdapEntry&) -> base::StatusOr<bool> { return ++seen < 120; });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(seen, 120);
  base::Status bad_filter =
      (*client)->SearchPaged("ou=people,dc=otpd,dc=test", "(uid=*", {"uid"}, 50,
                             [](const LdapEntry&) -> base::StatusOr<bool> { return true; });
  EXPECT_TRUE(base::IsInvalidArgument(bad_filter)) << bad_filter;
  EXPECT_NE(bad_filter.message().find("(uid=*"), std::string::npos) << bad_filter;
  base::Status no_base =
      (*client)->SearchPaged("ou=nobody,dc=otpd,dc=test", "(uid=*)", {"uid"}, 50,
                             [](const LdapEntry&) -> base::StatusOr<bool> { return true; });
  EXPECT_TRUE(base::IsNotFound(no_base)) << no_base;
  EXPECT_NE(no_base.message().find("ou=nobody"), std::string::npos) << no_base;
}

TEST_F(LdapClientTest, PasswordsAreCheckedByABindAndAnEmptyOneNeverPasses) {
  auto client = LdapClient::Connect(Options());
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE((*client)->CheckPassword(UserDn(7), base::SecretBytes::FromString("pw-7")).ok());
  base::Status wrong = (*client)->CheckPassword(UserDn(7), base::SecretBytes::FromString("pw-8"));
  EXPECT_TRUE(base::IsPermissionDenied(wrong)) << wrong;
  EXPECT_EQ(wrong.message().find("pw-8"), std::string::npos);
  // An empty password would be an unauthenticated bind, which the server answers with success.
  base::Status empty = (*client)->CheckPassword(UserDn(7), base::SecretBytes());
  EXPECT_TRUE(base::IsPermissionDenied(empty)) << empty;
  // The service account's own password is checked at Connect.
  LdapOptions wrong_service = Options();
  wrong_service.bind_password = base::SecretBytes::FromString("not-it");
  auto refused = LdapClient::Connect(std::move(wrong_service));
  EXPECT_TRUE(base::IsPermissionDenied(refused.status())) << refused.status();
}

TEST_F(LdapClientTest, PlaintextIsRefusedUnlessAllowed) {
  LdapOptions o = Options();
  o.allow_plaintext = false;
  auto refused = LdapClient::Connect(std::move(o));
  EXPECT_TRUE(base::IsInvalidArgument(refused.status())) << refused.status();
  LdapOptions mixed = Options();
  mixed.urls.push_back("ldaps://127.0.0.1:1");
  EXPECT_TRUE(base::IsInvalidArgument(LdapClient::Connect(std::move(mixed)).status()));
}

TEST(LdapClientTlsTest, LdapsAndStartTlsCheckTheServersCertificate) {
  if (SlapdServer::Binary().empty()) GTEST_SKIP() << "slapd is not installed";
  otpd::testing::TempDir dir;
  ASSERT_TRUE(otpd::testing::MakeTestCertificate(dir.File("server.crt"), dir.File("server.key")));
  ASSERT_TRUE(otpd::testing::MakeTestCertificate(dir.File("other.crt"), dir.File("other.key")));
  SlapdServer slapd({.cert_file = dir.File("server.crt"), .key_file = dir.File("server.key")});
  std::string error;
  ASSERT_TRUE(slapd.Start(&error)) << error;
  auto options = [&](std::string url, bool start_tls, std::string ca) {
    LdapOptions o;
    o.urls = {std::move(url)};
    o.start_tls = start_tls;
    o.ca_file = std::move(ca);
    o.bind_dn = slapd.admin_dn();
    o.bind_password = base::SecretBytes::FromString(slapd.admin_password());
    o.timeout = std::chrono::milliseconds(3000);
    return o;
  };
  auto ldaps = LdapClient::Connect(options(slapd.ldaps_url(), false, dir.File("server.crt")));
  EXPECT_TRUE(ldaps.ok()) << ldaps.status();
  auto start_tls = LdapClient::Connect(options(slapd.url(), true, dir.File("server.crt")));
  EXPECT_TRUE(start_tls.ok()) << start_tls.status();
  // A certificate the CA file does not vouch for: no connection, and no password sent.
  auto untrusted = LdapClient::Connect(options(slapd.ldaps_url(), false, dir.File("other.crt")));
  EXPECT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.status().message().find(slapd.admin_password()), std::string::npos);
  auto untrusted_start_tls = LdapClient::Connect(options(slapd.url(), true, dir.File("other.crt")));
  EXPECT_FALSE(untrusted_start_tls.ok());
}

// Last: it stops the server (and starts it again for nothing after it).
TEST_F(LdapClientTest, AServerThatIsGoneIsUnavailableNeverAWrongPassword) {
  auto client = LdapClient::Connect(Options());
  ASSERT_TRUE(client.ok()) << client.status();
  slapd_->Stop();
  base::Status check = (*client)->CheckPassword(UserDn(3), base::SecretBytes::FromString("pw-3"));
  EXPECT_TRUE(base::IsUnavailable(check)) << check;
  base::Status search =
      (*client)->SearchPaged("ou=people,dc=otpd,dc=test", "(uid=*)", {"uid"}, 50,
                             [](const LdapEntry&) -> base::StatusOr<bool> { return true; });
  EXPECT_TRUE(base::IsUnavailable(search)) << search;
  // Back: the same client searches again on a new connection.
  std::string error;
  ASSERT_TRUE(slapd_->Restart(&error)) << error;
  int seen = 0;
  search = (*client)->SearchPaged("ou=people,dc=otpd,dc=test", "(uid=user1)", {"uid"}, 50,
                                  [&](const LdapEntry&) -> base::StatusOr<bool> {
                                    ++seen;
                                    return true;
                                  });
  EXPECT_TRUE(search.ok()) << search;
  EXPECT_EQ(seen, 1);
}

}  // namespace
}  // namespace otpd::server
