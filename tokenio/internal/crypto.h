// The cryptography of PSKC (RFC 6030 section 6) on OpenSSL 3: the xmlenc ciphers (AES-CBC with
// the IV prepended and PKCS#5 padding; AES key wrap RFC 3394 and with padding RFC 5649), HMAC
// for MACMethod/ValueMAC, and PBKDF2 for password-derived keys (both from base/mac.h). Ciphers
// are fetched once, on first use, and shared (OpenSSL algorithm objects are thread-safe).
//
// Errors never contain key material; a decryption failure does not say why (padding or
// integrity), as the distinction would help an attacker.

#ifndef OTPD_TOKENIO_INTERNAL_CRYPTO_H_
#define OTPD_TOKENIO_INTERNAL_CRYPTO_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/secret_bytes.h"
#include "base/status.h"
#include "base/statusor.h"
#include "engine/otp_params.h"

namespace otpd::tokenio::internal {

enum class CipherMode { kCbc, kKeyWrap, kKeyWrapPad };

struct Cipher {
  CipherMode mode = CipherMode::kCbc;
  size_t key_size = 16;  // 16, 24 or 32 bytes

  friend bool operator==(const Cipher&, const Cipher&) = default;
};

inline constexpr std::string_view kXmlEncNs = "http://www.w3.org/2001/04/xmlenc#";
inline constexpr std::string_view kXmlEnc11Ns = "http://www.w3.org/2009/xmlenc11#";

// Recognises the xmlenc URIs aes{128,192,256}-cbc, kw-aes{128,192,256} and
// kw-aes{128,192,256}-pad (also spelt kw-aes-128-pad), whatever namespace precedes the '#'.
// InvalidArgument naming the algorithm otherwise.
base::StatusOr<Cipher> ParseCipherUri(std::string_view uri);
// The canonical URI of `cipher`.
std::string CipherUri(const Cipher& cipher);
// "aes128-cbc", "kw-aes256", ... for messages.
std::string CipherName(const Cipher& cipher);

// Decrypts `data`: IV || ciphertext for CBC, the wrapped key for key wrap. InvalidArgument
// "decryption failed" on a wrong key size, a malformed length, bad padding or a failed key-wrap
// integrity check.
base::StatusOr<base::SecretBytes> Decrypt(const Cipher& cipher, const base::SecretBytes& key,
                                          std::span<const uint8_t> data);
// Encrypts `plaintext`; for CBC with a fresh random IV, returned in front of the ciphertext.
// Plain key wrap (RFC 3394) needs a multiple of 8 bytes, at least 16.
base::StatusOr<std::vector<uint8_t>> Encrypt(const Cipher& cipher, const base::SecretBytes& key,
                                             std::span<const uint8_t> plaintext);

// xmldsig hmac-sha1 and xmldsig-more hmac-sha256 / hmac-sha512.
base::StatusOr<engine::HashAlgorithm> ParseMacUri(std::string_view uri);
std::string MacUri(engine::HashAlgorithm hash);

// base::Hmac and base::Pbkdf2 for the hash a PSKC document names.
base::StatusOr<base::SecretBytes> Hmac(engine::HashAlgorithm hash, const base::SecretBytes& key,
                                       std::span<const uint8_t> data);

base::StatusOr<base::SecretBytes> Pbkdf2(engine::HashAlgorithm prf,
                                         const base::SecretBytes& password,
                                         std::span<const uint8_t> salt, uint64_t iterations,
                                         size_t key_length);

}  // namespace otpd::tokenio::internal

#endif  // OTPD_TOKENIO_INTERNAL_CRYPTO_H_
