// HMAC-SHA256 and SHA-256 through OpenSSL 3, with the algorithms fetched once per process.
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

#include "base/statusor.h"

namespace otpd::base {

inline constexpr size_t kSha256Bytes = 32;
using Sha256Digest = std::array<uint8_t, kSha256Bytes>;

// HMAC-SHA256 under `key` of the concatenation of `parts`. Fails with InternalError only when
// OpenSSL cannot provide HMAC or SHA-256. The caller wipes the result if it is secret.
StatusOr<Sha256Digest> HmacSha256(std::span<const uint8_t> key,
                                  std::initializer_list<std::string_view> parts);

// SHA-256 of `data`.
Sha256Digest Sha256(std::string_view data);

}  // namespace otpd::base

#endif  // OTPD_BASE_MAC_H_
