// A Credential is an OATH secret ready for use: its parameters and its prepared HMAC key. It is
// what the verifier needs to compute codes; it never holds the seed itself.
//
// Thread-safety: immutable after Create(); safe to share between threads.

#ifndef OTPD_ENGINE_CREDENTIAL_H_
#define OTPD_ENGINE_CREDENTIAL_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/statusor.h"
#include "engine/otp_params.h"
#include "engine/prepared_key.h"

namespace otpd::engine {

class Credential {
 public:
  // Validates `params` and prepares `seed`. Fails with InvalidArgument naming the problem (bad
  // parameters or an empty seed); the seed's length policy (minimum bits) is the importer's
  // business, not the engine's.
  static base::StatusOr<Credential> Create(const OtpParams& params, std::span<const uint8_t> seed);

  const OtpParams& params() const { return params_; }
  const PreparedKey& key() const { return key_; }

  // The numeric code for a counter (HOTP) or time step (TOTP): Truncated mod 10^digits.
  uint32_t CodeAt(uint64_t counter_or_step) const;
  // The same with caller-provided working memory, for computing many codes in a row.
  uint32_t CodeAt(uint64_t counter_or_step, PreparedKey::Scratch* scratch) const;

  // The code for a counter or step as a zero-padded decimal string of `digits` characters.
  std::string FormatCodeAt(uint64_t counter_or_step) const;

  // The TOTP code for the step containing `unix_seconds`.
  std::string TotpAt(int64_t unix_seconds) const;

 private:
  Credential(const OtpParams& params, PreparedKey key) : params_(params), key_(std::move(key)) {}

  OtpParams params_;
  PreparedKey key_;
};

// 10^digits for digits 6..9.
uint32_t DigitsModulus(int digits);

// Parses a submitted code of exactly `digits` ASCII digits. Returns nullopt for any other length
// or any non-digit, so malformed input is refused before a single hash is computed.
std::optional<uint32_t> ParseCode(std::string_view code, int digits);

// Zero-padded decimal rendering of `value` with `digits` characters.
std::string FormatCode(uint32_t value, int digits);

}  // namespace otpd::engine

#endif  // OTPD_ENGINE_CREDENTIAL_H_
