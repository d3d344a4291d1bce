// Key URIs for authenticator apps (Google Authenticator's Key Uri Format):
//
//   otpauth://totp/Issuer:account?secret=BASE32NOPAD&issuer=Issuer&algorithm=SHA1&digits=6&period=30
//   otpauth://hotp/Issuer:account?secret=BASE32NOPAD&issuer=Issuer&counter=0
//
// A URI carries the seed, so formatting returns SecretBytes, never a std::string; error messages
// never quote the URI.

#ifndef OTPD_TOKENIO_OTPAUTH_H_
#define OTPD_TOKENIO_OTPAUTH_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/secret_bytes.h"
#include "base/statusor.h"
#include "engine/otp_params.h"

namespace otpd::tokenio {

struct OtpauthKey {
  // Who issued the key: the label's prefix and/or the issuer parameter. May be empty.
  std::string issuer;
  // The account name (usually the upn); never empty.
  std::string account;
  // type, algorithm (default SHA1), digits (default 6), period (default 30).
  engine::OtpParams params;
  // At least 128 bits.
  base::SecretBytes secret;
  // HOTP only: the counter parameter (required for hotp).
  uint64_t counter = 0;
};

// Parses a key URI. Percent-escapes are decoded (and '+' as a space in parameter values);
// unknown parameters (image, ...) are ignored. InvalidArgument naming the problem for a wrong
// scheme or type, a missing or malformed secret, a seed under 128 bits, digits outside 6..9, a
// zero period, a hotp URI without counter, or a label issuer that differs from the issuer
// parameter.
base::StatusOr<OtpauthKey> ParseOtpauthUri(std::string_view uri);

// Formats `key` as a URI (secret in base32 without padding; issuer both as label prefix and
// parameter when set). InvalidArgument when the account is empty, the issuer or account
// contains ':', or the params do not validate.
base::StatusOr<base::SecretBytes> FormatOtpauthUri(const OtpauthKey& key);

}  // namespace otpd::tokenio

#endif  // OTPD_TOKENIO_OTPAUTH_H_
