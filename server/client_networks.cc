#include "server/client_networks.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <utility>

namespace otpd::server {
namespace {

namespace ip = boost::asio::ip;

// A parsed network: the address's bytes (IPv4 in the first 4) and its prefix length.
struct Parsed {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
  unsigned prefix = 0;
};

base::StatusOr<Parsed> Parse(std::string_view text) {
  if (text.find('/') == std::string_view::npos) {
    return base::InvalidArgumentError(
        "write a network as ADDRESS/PREFIX (\"/32\" or \"/128\" for one host)");
  }
  boost::system::error_code ec;
  Parsed out;
  out.v6 = text.find(':') != std::string_view::npos;
  if (out.v6) {
    const ip::network_v6 net = ip::make_network_v6(text, ec);
    if (ec) return base::InvalidArgumentError("is not an IPv6 network ADDRESS/PREFIX (0..128)");
    if (net != net.canonical()) {
      return base::InvalidArgumentError("has host bits set; the network is " +
                                        net.canonical().to_string());
    }
    const ip::address_v6::bytes_type b = net.address().to_bytes();
    std::copy(b.begin(), b.end(), out.bytes.begin());
    out.prefix = net.prefix_length();
  } else {
    const ip::network_v4 net = ip::make_network_v4(text, ec);
    if (ec) return base::InvalidArgumentError("is not an IPv4 network ADDRESS/PREFIX (0..32)");
    if (net != net.canonical()) {
      return base::InvalidArgumentError("has host bits set; the network is " +
                                        net.canonical().to_string());
    }
    const ip::address_v4::bytes_type b = net.address().to_bytes();
    std::copy(b.begin(), b.end(), out.bytes.begin());
    out.prefix = net.prefix_length();
  }
  if (out.prefix == 0) {
    return base::InvalidArgumentError(
        "admits every address; name the networks the client's hosts are in");
  }
  return out;
}

// Whether the first `prefix` bits of `a` and `b` are equal.
bool SamePrefix(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b,
                unsigned prefix) {
  const unsigned whole = prefix / 8;
  if (!std::equal(a.begin(), a.begin() + whole, b.begin())) return false;
  const unsigned rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

base::Status CheckClientNetwork(std::string_view text) { return Parse(text).status(); }

void ClientNetworks::Replace(const ClientNetworkTable& table) {
  auto networks = std::make_shared<std::vector<Network>>();
  for (const auto& [client, entries] : table) {
    for (const std::string& entry : entries) {
      base::StatusOr<Parsed> parsed = Parse(entry);
      if (!parsed.ok()) continue;
      networks->push_back(Network{parsed->v6, parsed->bytes, parsed->prefix, client});
    }
  }
  // The longest prefix first (a stable sort keeps the names' order among equals), so the first
  // match is the most specific.
  std::stable_sort(networks->begin(), networks->end(),
                   [](const Network& a, const Network& b) { return a.prefix > b.prefix; });
  base::MutexLock lock(mu_);
  networks_ = std::move(networks);
}

bool ClientNetworks::empty() const {
  base::MutexLock lock(mu_);
  return networks_->empty();
}

std::optional<std::string> ClientNetworks::Match(std::string_view address) const {
  std::shared_ptr<const std::vector<Network>> networks;
  {
    base::MutexLock lock(mu_);
    networks = networks_;
  }
  boost::system::error_code ec;
  ip::address parsed = ip::make_address(std::string(address), ec);
  if (ec) return std::nullopt;
  if (parsed.is_v6() && parsed.to_v6().is_v4_mapped()) {
    parsed = ip::make_address_v4(ip::v4_mapped, parsed.to_v6());
  }
  std::array<uint8_t, 16> bytes{};
  if (parsed.is_v4()) {
    const ip::address_v4::bytes_type b = parsed.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), bytes.begin());
  } else {
    const ip::address_v6::bytes_type b = parsed.to_v6().to_bytes();
    std::copy(b.begin(), b.end(), bytes.begin());
  }
  for (const Network& n : *networks) {
    if (n.v6 == parsed.is_v6() && SamePrefix(n.bytes, bytes, n.prefix)) return n.client;
  }
  return std::nullopt;
}

}  // namespace otpd::server
