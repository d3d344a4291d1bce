// A real OpenLDAP server for tests: Debian's slapd with a configuration of its own (an mdb
// database under a fresh directory, one suffix, an administrator DN), listening on a loopback
// port picked free at start, stopped and removed by the destructor. slapd dies with the test
// process (PR_SET_PDEATHSIG) even when it crashes.
//
// Besides the standard schemas (core, cosine, inetorgperson) it loads a small test schema with
// Active Directory's userPrincipalName and userAccountControl attributes (auxiliary class
// otpdTestAdUser), so that the AD settings of the directory source run against a real server
// too. Entries are added and changed with Debian's ldapmodify/ldapdelete as the administrator,
// or loaded in bulk with slapadd before Start.

#ifndef OTPD_TESTS_TESTING_SLAPD_SERVER_H_
#define OTPD_TESTS_TESTING_SLAPD_SERVER_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "tests/testing/subprocess.h"

namespace otpd::testing {

struct SlapdOptions {
  std::string suffix = "dc=otpd,dc=test";
  // With both: ldaps:// on a second port and StartTLS on the first, with this certificate and
  // key (PEM).
  std::string cert_file;
  std::string key_file;
};

class SlapdServer {
 public:
  explicit SlapdServer(SlapdOptions options = {});
  ~SlapdServer();
  SlapdServer(const SlapdServer&) = delete;
  SlapdServer& operator=(const SlapdServer&) = delete;

  // slapd's path, or "" when it is not installed (Debian: slapd and ldap-utils).
  static std::string Binary();

  // Writes the configuration, creates the suffix's entry and ou=people below it (unless
  // Load() put data there already), starts slapd and waits until it answers, or fails with
  // `error` (slapd's output included).
  bool Start(std::string* error, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // SIGTERM, then waits for the process; the data stays for Restart().
  void Stop();
  // Starts it again on the same ports and data.
  bool Restart(std::string* error, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  bool running() const { return pid_ > 0; }

  // Adds entries from LDIF to the database before Start (slapadd: fast, for many entries).
  bool Load(const std::string& ldif, std::string* error);
  // Applies LDIF change records (changetype: add / modify / delete / modrdn) as the
  // administrator; true on success, ldapmodify's output in `error` otherwise.
  bool Apply(const std::string& ldif, std::string* error);

  // ldap://127.0.0.1:PORT; ldaps://127.0.0.1:PORT2 with TLS.
  std::string url() const;
  std::string ldaps_url() const;
  const std::string& suffix() const { return options_.suffix; }
  // ou=people,<suffix>: where tests keep their users.
  std::string people() const { return "ou=people," + options_.suffix; }
  std::string admin_dn() const { return "cn=admin," + options_.suffix; }
  const std::string& admin_password() const { return admin_password_; }
  std::string log() const;

 private:
  bool WriteConfig(std::string* error);
  bool Spawn();

  SlapdOptions options_;
  TempDir dir_;
  uint16_t port_ = 0;
  uint16_t ldaps_port_ = 0;
  pid_t pid_ = -1;
  bool configured_ = false;
  bool loaded_ = false;
  std::string admin_password_;
};

}  // namespace otpd::testing

#endif  // OTPD_TESTS_TESTING_SLAPD_SERVER_H_
