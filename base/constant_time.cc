#include "base/constant_time.h"

#include <openssl/crypto.h>

#include "base/mac.h"

namespace otpd::base {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  const Sha256Digest da = Sha256(a);
  const Sha256Digest db = Sha256(b);
  // Equal digests of different lengths would need a SHA-256 collision; the length check after
  // the comparison keeps the answer exact regardless.
  const bool same = ConstantTimeEqualsPublicLength(da, db);
  return same && a.size() == b.size();
}

bool ConstantTimeEquals(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return ConstantTimeEquals(std::string_view(reinterpret_cast<const char*>(a.data()), a.size()),
                            std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

bool ConstantTimeEqualsPublicLength(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool ConstantTimeEqualsPublicLength(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace otpd::base
