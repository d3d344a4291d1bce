// The parameters that describe an OATH credential: which algorithm family (HOTP or TOTP), which
// HMAC hash, how many digits, and for TOTP the time step and epoch. A seed plus OtpParams is
// everything needed to compute a code.

#ifndef OTPD_ENGINE_OTP_PARAMS_H_
#define OTPD_ENGINE_OTP_PARAMS_H_

#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "base/statusor.h"

namespace otpd::engine {

enum class OtpType : uint8_t {
  kHotp = 0,  // RFC 4226: counter based
  kTotp = 1,  // RFC 6238: time based
};

enum class HashAlgorithm : uint8_t {
  kSha1 = 0,
  kSha256 = 1,
  kSha512 = 2,
};

inline constexpr int kMinDigits = 6;
inline constexpr int kMaxDigits = 9;

struct OtpParams {
  // HOTP or TOTP. Default: TOTP, as authenticator apps and Entra hardware tokens are.
  OtpType type = OtpType::kTotp;
  // The HMAC hash. Default SHA-1, the one every token supports.
  HashAlgorithm algorithm = HashAlgorithm::kSha1;
  // Code length, 6..9. Default 6.
  int digits = 6;
  // TOTP time step in seconds, > 0. Ignored for HOTP. Default 30.
  uint32_t period = 30;
  // TOTP epoch T0 in Unix seconds. Ignored for HOTP. Default 0.
  int64_t t0 = 0;

  // OK when every field is in range; otherwise InvalidArgument naming the field.
  base::Status Validate() const;

  friend bool operator==(const OtpParams&, const OtpParams&) = default;
};

// "hotp" / "totp".
std::string_view OtpTypeName(OtpType type);
base::StatusOr<OtpType> ParseOtpType(std::string_view name);  // case-insensitive

// "SHA1" / "SHA256" / "SHA512".
std::string_view HashAlgorithmName(HashAlgorithm algorithm);
// Accepts "SHA1", "SHA-1", "hmacsha1", "HMAC-SHA1" and likewise for 256/512, any case.
base::StatusOr<HashAlgorithm> ParseHashAlgorithm(std::string_view name);

// Output length of the hash in bytes: 20, 32 or 64.
size_t HashOutputSize(HashAlgorithm algorithm);

// The TOTP time step containing `unix_seconds`: floor((unix_seconds - t0) / period). Times before
// t0 map to step 0.
uint64_t TimeStep(const OtpParams& params, int64_t unix_seconds);

}  // namespace otpd::engine

#endif  // OTPD_ENGINE_OTP_PARAMS_H_
