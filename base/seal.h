// Sealing of secrets at rest: AES-256-GCM with a random 96-bit nonce, authenticated associated
// data, and a small self-describing blob format:
//
//   byte 0      format (kSealFormatV1 = 0x01)
//   bytes 1-4   key version, big-endian (which key sealed it)
//   bytes 5-16  nonce (12 random bytes)
//   bytes 17-   ciphertext (same length as the plaintext)
//   last 16     GCM tag
//
// The header (format and key version) is authenticated together with the caller's associated
// data, so neither can be altered without Open() failing. Errors never contain key material or
// plaintext.
//
// Thread-safety: a Sealer is immutable after Create(); Seal and Open may run concurrently.

#ifndef OTPD_BASE_SEAL_H_
#define OTPD_BASE_SEAL_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/secret_bytes.h"
#include "base/statusor.h"

namespace otpd::base {

inline constexpr uint8_t kSealFormatV1 = 0x01;
inline constexpr size_t kSealKeyBytes = 32;
inline constexpr size_t kSealNonceBytes = 12;
inline constexpr size_t kSealTagBytes = 16;
inline constexpr size_t kSealHeaderBytes = 1 + 4 + kSealNonceBytes;
// Bytes a sealed blob adds to its plaintext.
inline constexpr size_t kSealOverheadBytes = kSealHeaderBytes + kSealTagBytes;

class Sealer {
 public:
  // `key` must be 32 bytes (InvalidArgumentError otherwise). Fails with InternalError when
  // OpenSSL cannot provide AES-256-GCM.
  static StatusOr<Sealer> Create(SecretBytes key, uint32_t key_version);

  Sealer(Sealer&&) noexcept = default;
  Sealer& operator=(Sealer&&) noexcept = default;

  // Encrypts `plaintext` and authenticates it with `aad`. The blob is binary.
  StatusOr<std::string> Seal(std::span<const uint8_t> plaintext, std::string_view aad) const;

  // Decrypts a blob made by Seal() with the same key and `aad`. Fails with InvalidArgumentError
  // when the blob is malformed, FailedPreconditionError when it names another key version, and
  // DataLossError when authentication fails (wrong key, wrong aad, or tampering).
  StatusOr<SecretBytes> Open(std::string_view blob, std::string_view aad) const;

  uint32_t key_version() const { return key_version_; }

 private:
  Sealer(std::unique_ptr<SecretBytes> key, uint32_t key_version)
      : key_(std::move(key)), key_version_(key_version) {}

  std::unique_ptr<SecretBytes> key_;
  uint32_t key_version_;
};

// The key version recorded in a sealed blob's header; InvalidArgumentError when `blob` is not a
// blob this format describes.
StatusOr<uint32_t> SealedKeyVersion(std::string_view blob);

// Fills `out` with cryptographically secure random bytes (OpenSSL RAND_bytes).
Status RandomBytes(std::span<uint8_t> out);

// A uniformly drawn 6-digit code ("000000" to "999999"), for a code sent to a phone.
StatusOr<std::string> RandomSixDigits();

}  // namespace otpd::base

#endif  // OTPD_BASE_SEAL_H_
