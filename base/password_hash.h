// Password hashing with scrypt (RFC 7914) through OpenSSL 3's EVP_KDF "SCRYPT", for the passwords
// users type (service/credentials/passwords.h). Each hash has a random salt of its own and records
// the cost it was made with, so raising the cost later affects new hashes only and old ones still
// verify.
//
// scrypt is slow and memory-hard on purpose (about 128 * N * r bytes and tens of milliseconds
// per hash at the default cost): callers run it on a worker pool of its own, never on an io
// thread and never under a lock.
//
// Thread-safety: plain functions; safe from any thread.

#ifndef OTPD_BASE_PASSWORD_HASH_H_
#define OTPD_BASE_PASSWORD_HASH_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/statusor.h"

namespace otpd::base {

// scrypt's cost: N = 2^log2_n (CPU and memory), r (block size), p (parallelism).
struct ScryptParams {
  uint32_t log2_n = 15;  // N = 32768: 32 MiB with r = 8
  uint32_t r = 8;
  uint32_t p = 1;

  // InvalidArgument unless 10 <= log2_n <= 22, 1 <= r <= 32, 1 <= p <= 16 and the memory it needs
  // (128 * N * r) is at most 1 GiB.
  Status Validate() const;
  // Bytes of memory one hash takes, approximately.
  uint64_t MemoryBytes() const;
  friend bool operator==(const ScryptParams&, const ScryptParams&) = default;
};

// A stored password hash: the cost, the salt and the derived key.
struct PasswordHash {
  ScryptParams params;
  std::string salt;  // 16 random bytes
  std::string key;   // 32 bytes of scrypt output
  friend bool operator==(const PasswordHash&, const PasswordHash&) = default;
};

inline constexpr size_t kPasswordSaltBytes = 16;
inline constexpr size_t kPasswordKeyBytes = 32;

// Hashes `password` with a fresh random salt.
StatusOr<PasswordHash> HashPassword(std::string_view password, const ScryptParams& params);

// scrypt of `password` with the given salt and cost, `key_bytes` long (for tests against RFC 7914's
// vectors and for VerifyPassword).
StatusOr<std::string> Scrypt(std::string_view password, std::string_view salt,
                             const ScryptParams& params, size_t key_bytes);

// True when `password` hashes to `hash.key` under its salt and cost (compared in constant time).
// An error only when scrypt itself fails (a malformed stored hash, no memory).
StatusOr<bool> VerifyPassword(std::string_view password, const PasswordHash& hash);

}  // namespace otpd::base

#endif  // OTPD_BASE_PASSWORD_HASH_H_
