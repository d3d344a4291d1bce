// An LDAP client for the directory source (docs/directory.md), on OpenLDAP's libldap: the
// service account's connection (LDAPS or StartTLS with a CA, a simple bind) for paged searches
// (RFC 2696, so that any number of users streams through in pages, in bounded memory), and a
// password check by a simple bind as the user on a connection of its own.
//
// Errors say what failed and where (the server's URL, the base or filter of a search), never a
// password. A server that cannot be reached or does not answer in time is UnavailableError;
// wrong credentials PermissionDeniedError; a filter or DN the server refuses
// InvalidArgumentError.
//
// Thread-safety: every method may be called from any thread; searches on one client run one at a
// time (one connection), password checks in parallel (a connection each).

#ifndef OTPD_SERVER_DIRECTORY_LDAP_CLIENT_H_
#define OTPD_SERVER_DIRECTORY_LDAP_CLIENT_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "base/secret_bytes.h"
#include "base/statusor.h"

namespace otpd::server {

struct LdapOptions {
  // ldap:// or ldaps:// URLs, tried in order until one answers.
  std::vector<std::string> urls;
  // Upgrade ldap:// connections with StartTLS (required unless allow_plaintext).
  bool start_tls = true;
  // CA certificates (PEM) that sign the server's certificate; "" for the system's.
  std::string ca_file;
  // Let a password travel without TLS (ldap:// without StartTLS): tests on loopback only.
  bool allow_plaintext = false;
  // The service account the searches run as; an empty DN binds anonymously.
  std::string bind_dn;
  base::SecretBytes bind_password;
  // Deadline of connecting, and of each operation.
  std::chrono::milliseconds timeout{5000};
};

// One entry of a search: its DN and the values of the attributes asked for, by lower-case name
// (binary values such as objectGUID as they are).
struct LdapEntry {
  std::string dn;
  std::map<std::string, std::vector<std::string>> attributes;
  // The first value of `name` (lower-case), nullptr when the entry has none.
  const std::string* First(std::string_view name) const;
};

class LdapClient {
 public:
  // Connects to the first URL that answers and binds as the service account.
  static base::StatusOr<std::unique_ptr<LdapClient>> Connect(LdapOptions options);
  ~LdapClient();
  LdapClient(const LdapClient&) = delete;
  LdapClient& operator=(const LdapClient&) = delete;

  // Every entry below `base` (subtree) that matches `filter`, `page_size` at a time; `fn` sees
  // each and returns false to stop, or an error to stop with it. A connection lost since the
  // last call is made again first.
  using EntryFn = std::function<base::StatusOr<bool>(const LdapEntry&)>;
  base::Status SearchPaged(std::string_view base, std::string_view filter,
                           const std::vector<std::string>& attributes, int page_size,
                           const EntryFn& fn);

  // Checks `password` by a simple bind as `dn` on a new connection, closed at once. An empty
  // password is refused without asking the server (RFC 4513: an empty password is an
  // unauthenticated bind, which servers answer with success).
  base::Status CheckPassword(std::string_view dn, const base::SecretBytes& password) const;

 private:
  class Handle;
  explicit LdapClient(LdapOptions options);
  // A connection to the first URL that answers, TLS set up, bound as `dn`.
  base::StatusOr<std::unique_ptr<Handle>> Open(std::string_view dn,
                                               const base::SecretBytes& password) const;

  LdapOptions options_;
  std::string urls_;  // space-separated, for libldap
  base::Mutex mu_;
  std::unique_ptr<Handle> service_ OTPD_GUARDED_BY(mu_);
};

}  // namespace otpd::server

#endif  // OTPD_SERVER_DIRECTORY_LDAP_CLIENT_H_
