#include "server/directory/ldap_client.h"

#include <ldap.h>
#include <sys/time.h>

#include <algorithm>
#include <cctype>
#include <utility>

namespace otpd::server {
namespace {

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// libldap's result code as ours, with `what` (the operation and where) and the server's own
// diagnostic message when it sent one.
base::Status FromLdap(int rc, LDAP* ld, std::string_view what) {
  std::string message = std::string(what) + ": " + ldap_err2string(rc);
  char* diagnostic = nullptr;
  if (ld != nullptr && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diagnostic) == 0 &&
      diagnostic != nullptr) {
    if (*diagnostic != '\0') message += std::string(" (") + diagnostic + ")";
    ldap_memfree(diagnostic);
  }
  switch (rc) {
    case LDAP_SERVER_DOWN:
    case LDAP_TIMEOUT:
    case LDAP_CONNECT_ERROR:
    case LDAP_UNAVAILABLE:
    case LDAP_BUSY:
    case LDAP_TIMELIMIT_EXCEEDED:
      return base::UnavailableError(message);
    case LDAP_INVALID_CREDENTIALS:
      return base::PermissionDeniedError(message);
    case LDAP_FILTER_ERROR:
    case LDAP_INVALID_DN_SYNTAX:
    case LDAP_PARAM_ERROR:
    case LDAP_UNDEFINED_TYPE:
    case LDAP_INAPPROPRIATE_MATCHING:
      return base::InvalidArgumentError(message);
    case LDAP_NO_SUCH_OBJECT:
      return base::NotFoundError(message);
    case LDAP_SIZELIMIT_EXCEEDED:
    case LDAP_ADMINLIMIT_EXCEEDED:
      return base::ResourceExhaustedError(message);
    case LDAP_INSUFFICIENT_ACCESS:
    case LDAP_INAPPROPRIATE_AUTH:
      return base::PermissionDeniedError(message);
    case LDAP_STRONG_AUTH_REQUIRED:
    case LDAP_CONFIDENTIALITY_REQUIRED:
    case LDAP_UNWILLING_TO_PERFORM:
      return base::FailedPreconditionError(message);
    default:
      return base::UnknownError(message);
  }
}

}  // namespace

// One libldap connection.
class LdapClient::Handle {
 public:
  explicit Handle(LDAP* ld) : ld_(ld) {}
  ~Handle() { ldap_unbind_ext_s(ld_, nullptr, nullptr); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  LDAP* get() const { return ld_; }

 private:
  LDAP* ld_;
};

const std::string* LdapEntry::First(std::string_view name) const {
  auto it = attributes.find(std::string(name));
  if (it == attributes.end() || it->second.empty()) return nullptr;
  return &it->second.front();
}

LdapClient::LdapClient(LdapOptions options) : options_(std::move(options)) {
  for (const std::string& url : options_.urls) urls_ += (urls_.empty() ? "" : " ") + url;
}

LdapClient::~LdapClient() = default;

base::StatusOr<std::unique_ptr<LdapClient>> LdapClient::Connect(LdapOptions options) {
  if (options.urls.empty()) return base::InvalidArgumentError("no LDAP server URL given");
  const bool ldaps = ldap_is_ldaps_url(options.urls.front().c_str()) != 0;
  for (const std::string& url : options.urls) {
    if (!ldap_is_ldap_url(url.c_str()) && !ldap_is_ldaps_url(url.c_str())) {
      return base::InvalidArgumentError("not an ldap:// or ldaps:// URL: " + url);
    }
    if ((ldap_is_ldaps_url(url.c_str()) != 0) != ldaps) {
      return base::InvalidArgumentError("LDAP URLs mix ldap:// and ldaps://: " + url);
    }
    const bool secure = ldap_is_ldaps_url(url.c_str()) || options.start_tls;
    if (!secure && !options.allow_plaintext) {
      return base::InvalidArgumentError(url + " without StartTLS would send passwords in clear");
    }
  }
  std::unique_ptr<LdapClient> client(new LdapClient(std::move(options)));
  OTPD_ASSIGN_OR_RETURN(std::unique_ptr<Handle> service,
                        client->Open(client->options_.bind_dn, client->options_.bind_password));
  {
    base::MutexLock lock(client->mu_);
    client->service_ = std::move(service);
  }
  return client;
}

base::StatusOr<std::unique_ptr<LdapClient::Handle>> LdapClient::Open(
    std::string_view dn, const base::SecretBytes& password) const {
  LDAP* raw = nullptr;
  int rc = ldap_initialize(&raw, urls_.c_str());
  if (rc != LDAP_SUCCESS) return FromLdap(rc, nullptr, "LDAP servers " + urls_);
  auto handle = std::make_unique<Handle>(raw);
  LDAP* ld = handle->get();
  const int version = LDAP_VERSION3;
  ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
  ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
  const timeval timeout = ToTimeval(options_.timeout);
  ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &timeout);
  ldap_set_option(ld, LDAP_OPT_TIMEOUT, &timeout);
  const int demand = LDAP_OPT_X_TLS_DEMAND;
  ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
  if (!options_.ca_file.empty()) {
    ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, options_.ca_file.c_str());
  }
  const int is_server = 0;
  rc = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server);
  if (rc != LDAP_SUCCESS) return FromLdap(rc, ld, "TLS settings for " + urls_);
  if (options_.start_tls && !ldap_is_ldaps_url(urls_.c_str())) {
    rc = ldap_start_tls_s(ld, nullptr, nullptr);
    if (rc != LDAP_SUCCESS) return FromLdap(rc, ld, "StartTLS with " + urls_);
  }
  berval cred{};
  cred.bv_len = password.size();
  cred.bv_val = const_cast<char*>(reinterpret_cast<const char*>(password.data()));
  const std::string who(dn);
  rc = ldap_sasl_bind_s(ld, who.empty() ? nullptr : who.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr,
                        nullptr, nullptr);
  if (rc != LDAP_SUCCESS) {
    return FromLdap(rc, ld,
                    "bind as " + (who.empty() ? std::string("anonymous") : who) + " at " + urls_);
  }
  return handle;
}

base::Status LdapClient::CheckPassword(std::string_view dn,
                                       const base::SecretBytes& password) const {
  if (dn.empty()) return base::InvalidArgumentError("no DN to check a password against");
  if (password.size() == 0) {
    return base::PermissionDeniedError("empty password for " + std::string(dn));
  }
  return Open(dn, password).status();
}

base::Status LdapClient::SearchPaged(std::string_view base, std::string_view filter,
                                     const std::vector<std::string>& attributes, int page_size,
                                     const EntryFn& fn) {
  base::MutexLock lock(mu_);
  if (service_ == nullptr) {
    OTPD_ASSIGN_OR_RETURN(service_, Open(options_.bind_dn, options_.bind_password));
  }
  LDAP* ld = service_->get();
  const std::string base_dn(base);
  const std::string filter_text(filter);
  std::vector<char*> attrs;
  for (const std::string& a : attributes) attrs.push_back(const_cast<char*>(a.c_str()));
  attrs.push_back(nullptr);
  const std::string where = "search of " + base_dn + " for " + filter_text + " at " + urls_;
  timeval timeout = ToTimeval(options_.timeout);
  berval* cookie = nullptr;
  base::Status result;
  bool more = true;
  while (more && result.ok()) {
    LDAPControl* page = nullptr;
    int rc = ldap_create_page_control(ld, static_cast<ber_int_t>(page_size), cookie,
                                      /*iscritical=*/1, &page);
    if (rc != LDAP_SUCCESS) {
      result = FromLdap(rc, ld, where);
      break;
    }
    LDAPControl* controls[] = {page, nullptr};
    LDAPMessage* res = nullptr;
    rc = ldap_search_ext_s(ld, base_dn.c_str(), LDAP_SCOPE_SUBTREE, filter_text.c_str(),
                           attrs.data(), 0, controls, nullptr, &timeout, 0, &res);
    ldap_control_free(page);
    if (rc != LDAP_SUCCESS) {
      result = FromLdap(rc, ld, where);
      ldap_msgfree(res);
      // A connection that went away is made again at the next search.
      if (rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT) service_.reset();
      break;
    }
    for (LDAPMessage* e = ldap_first_entry(ld, res); e != nullptr && more;
         e = ldap_next_entry(ld, e)) {
      LdapEntry entry;
      if (char* dn = ldap_get_dn(ld, e); dn != nullptr) {
        entry.dn = dn;
        ldap_memfree(dn);
      }
      BerElement* ber = nullptr;
      for (char* name = ldap_first_attribute(ld, e, &ber); name != nullptr;
           name = ldap_next_attribute(ld, e, ber)) {
        std::vector<std::string>& values = entry.attributes[Lower(name)];
        if (berval** vals = ldap_get_values_len(ld, e, name); vals != nullptr) {
          for (berval** v = vals; *v != nullptr; ++v)
            values.emplace_back((*v)->bv_val, (*v)->bv_len);
          ldap_value_free_len(vals);
        }
        ldap_memfree(name);
      }
      if (ber != nullptr) ber_free(ber, 0);
      base::StatusOr<bool> go_on = fn(entry);
      if (!go_on.ok()) {
        result = go_on.status();
        more = false;
      } else if (!*go_on) {
        more = false;
      }
    }
    LDAPControl** returned = nullptr;
    int code = LDAP_SUCCESS;
    rc = ldap_parse_result(ld, res, &code, nullptr, nullptr, nullptr, &returned, /*freeit=*/1);
    if (result.ok() && rc == LDAP_SUCCESS && code != LDAP_SUCCESS)
      result = FromLdap(code, ld, where);
    if (cookie != nullptr) ber_bvfree(cookie);
    cookie = nullptr;
    if (more && result.ok()) {
      LDAPControl* answer = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, returned, nullptr);
      berval next{};
      ber_int_t estimate = 0;
      if (answer == nullptr) {
        result = base::FailedPreconditionError(where +
                                               ": the server did not page the results (RFC 2696)");
      } else if (ldap_parse_pageresponse_control(ld, answer, &estimate, &next) == LDAP_SUCCESS) {
        if (next.bv_len > 0) cookie = ber_bvdup(&next);
        ber_memfree(next.bv_val);
      }
      more = cookie != nullptr;
    }
    ldap_controls_free(returned);
  }
  if (cookie != nullptr) ber_bvfree(cookie);
  return result;
}

}  // namespace otpd::server
