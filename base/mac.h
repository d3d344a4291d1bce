// HMAC (SHA-1, SHA-256, SHA-512), PBKDF2-HMAC and SHA-256 through OpenSSL 3, with the algorithms
// fetched once per process. Every keyed hash outside the engine's prepared-key fast path
// (engine/prepared_key.h) goes through here.
//
// Thread-safety: plain functions; safe from any thread.

#ifndef OTPD_BASE_MAC_H_
#define OTPD_BASE_MAC_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

#include "base/secret_bytes.h"
#include "base/statusor.h"

namespace otpd::base {

inline constexpr size_t kSha256Bytes = 32;
using Sha256Digest = std::array<uint8_t, kSha256Bytes>;

// The hash under an HMAC or PBKDF2.
enum class MacHash : uint8_t { kSha1, kSha256, kSha512 };

// HMAC-SHA256 under `key` of the concatenation of `parts`. Fails with InternalError only when
// OpenSSL cannot provide HMAC or SHA-256. The caller wipes the result if it is secret.
StatusOr<Sha256Digest> HmacSha256(std::span<const uint8_t> key,
                                  std::initializer_list<std::string_view> parts);

// HMAC-`hash` under `key` (any length, empty included) of `data`: 20, 32 or 64 bytes, wiped when
// dropped. Fails with InternalError only when OpenSSL cannot provide the algorithm.
StatusOr<SecretBytes> Hmac(MacHash hash, std::span<const uint8_t> key,
                           std::span<const uint8_t> data);

// PBKDF2 (RFC 8018) with HMAC-`prf`: `key_length` bytes derived from `password` and `salt`.
// InvalidArgument when the iterations are 0 or above INT_MAX, the length is 0 or above 64, or an
// input is too large for OpenSSL; InternalError when OpenSSL fails.
StatusOr<SecretBytes> Pbkdf2(MacHash prf, std::span<const uint8_t> password,
                             std::span<const uint8_t> salt, uint64_t iterations, size_t key_length);

// SHA-256 of `data`.
Sha256Digest Sha256(std::string_view data);

}  // namespace otpd::base

#endif  // OTPD_BASE_MAC_H_
