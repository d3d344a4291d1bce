#include "server/client_keys.h"

#include "base/constant_time.h"

namespace otpd::server {

void ClientKeys::Replace(const ClientTable& clients) {
  auto table = std::make_shared<std::vector<Digest>>();
  for (const auto& [name, key] : clients) {
    table->push_back(Digest{base::Sha256(name), base::Sha256(key.view())});
  }
  base::MutexLock lock(mu_);
  table_ = std::move(table);
}

bool ClientKeys::empty() const {
  base::MutexLock lock(mu_);
  return table_->empty();
}

bool ClientKeys::Authenticate(std::string_view client, std::string_view key) const {
  std::shared_ptr<const std::vector<Digest>> table;
  {
    base::MutexLock lock(mu_);
    table = table_;
  }
  const base::Sha256Digest name = base::Sha256(client);
  base::Sha256Digest given = base::Sha256(key);
  unsigned matches = 0;
  for (const Digest& c : *table) {
    // Both compared for every entry, with `&` rather than `&&`: the time taken names no client.
    const unsigned same_name = base::ConstantTimeEqualsPublicLength(c.name, name);
    const unsigned same_key = base::ConstantTimeEqualsPublicLength(c.key, given);
    matches |= same_name & same_key;
  }
  base::Wipe(given.data(), given.size());
  return matches != 0;
}

}  // namespace otpd::server
