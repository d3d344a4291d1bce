#include "base/constant_time.h"

#include <openssl/crypto.h>

#include "base/mac.h"

namespace otpd::base {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  const Sha256Digest da = Sha256(a);
  const Sha256Digest db = Sha256(b);
  // Equal digests of different lengths would need a SHA-256 collision; the length check after
  // the comparison keeps the answer exact regardless.
  const bool same = CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
  return same && a.size() == b.size();
}

bool ConstantTimeEquals(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return ConstantTimeEquals(std::string_view(reinterpret_cast<const char*>(a.data()), a.size()),
                            std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

}  // namespace otpd::base
