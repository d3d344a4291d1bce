// ClientNetworks says which validate client a source address belongs to, for the clients that
// the validate API admits without a key ([clients.NAME] with validate_without_key = true and
// `networks`; docs/validate-api.md). privacyIDEA's own PAM module and FreeRADIUS plugin cannot
// send credentials, so for them the source address is the credential: a request without an
// Authorization header from inside one of a client's networks is that client's.
//
// Networks are written ADDRESS/PREFIX, IPv4 ("10.1.2.0/24") or IPv6 ("fd00:1::/64"), and parsed
// by Boost.Asio. An address inside the networks of several clients belongs to the one with the
// longest prefix (then the first name), so a host can be carved out of a wider network.
//
// Thread-safety: every method may be called from any thread; Replace is atomic for Match.

#ifndef OTPD_SERVER_CLIENT_NETWORKS_H_
#define OTPD_SERVER_CLIENT_NETWORKS_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "base/statusor.h"

namespace otpd::server {

// Client name -> its networks as configured.
using ClientNetworkTable = std::map<std::string, std::vector<std::string>, std::less<>>;

// Checks one configured network: ADDRESS/PREFIX with no host bits set, and not the whole address
// space (0.0.0.0/0, ::/0). InvalidArgument says what is wrong (and, for host bits, which network
// was meant); the message does not repeat the entry, which the caller names.
base::Status CheckClientNetwork(std::string_view text);

class ClientNetworks {
 public:
  // Entries that do not pass CheckClientNetwork (the configuration refused them) are skipped.
  explicit ClientNetworks(const ClientNetworkTable& table) { Replace(table); }
  ClientNetworks(const ClientNetworks&) = delete;
  ClientNetworks& operator=(const ClientNetworks&) = delete;

  // Makes `table` the configured set (a reload).
  void Replace(const ClientNetworkTable& table);
  // The client whose networks hold `address` (a peer address as text; an IPv4-mapped IPv6
  // address is its IPv4 address), or nullopt for any other address or text.
  std::optional<std::string> Match(std::string_view address) const;
  // True when no client is admitted without a key.
  bool empty() const;

 private:
  // One network: the address's bytes (IPv4 in the first 4), how many leading bits count.
  struct Network {
    bool v6 = false;
    std::array<uint8_t, 16> bytes{};
    unsigned prefix = 0;
    std::string client;
  };
  mutable base::Mutex mu_;
  std::shared_ptr<const std::vector<Network>> networks_ OTPD_GUARDED_BY(mu_);
};

}  // namespace otpd::server

#endif  // OTPD_SERVER_CLIENT_NETWORKS_H_
