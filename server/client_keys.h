// ClientKeys holds the keys of the TCP clients ([clients.NAME] in the configuration) that the
// verify socket's HELLO and the validate endpoint's HTTP Basic authentication check.
//
// Names and keys are kept and compared as SHA-256 digests, every configured client every time,
// so the time a check takes tells neither which names exist nor how much of a key was right.
//
// Thread-safety: every method may be called from any thread; Replace is atomic for Authenticate.

#ifndef OTPD_SERVER_CLIENT_KEYS_H_
#define OTPD_SERVER_CLIENT_KEYS_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/mac.h"
#include "base/mutex.h"
#include "base/secret_bytes.h"

namespace otpd::server {

using ClientTable = std::map<std::string, base::SecretBytes, std::less<>>;

class ClientKeys {
 public:
  explicit ClientKeys(const ClientTable& clients) { Replace(clients); }
  ClientKeys(const ClientKeys&) = delete;
  ClientKeys& operator=(const ClientKeys&) = delete;

  // Makes `clients` the configured set (a reload).
  void Replace(const ClientTable& clients);
  // True when `client` is configured and `key` is its key.
  bool Authenticate(std::string_view client, std::string_view key) const;
  // True when no client is configured.
  bool empty() const;

 private:
  struct Digest {
    base::Sha256Digest name;
    base::Sha256Digest key;
  };
  mutable base::Mutex mu_;
  std::shared_ptr<const std::vector<Digest>> table_ OTPD_GUARDED_BY(mu_);
};

}  // namespace otpd::server

#endif  // OTPD_SERVER_CLIENT_KEYS_H_
