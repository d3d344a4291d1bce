// Text encodings of binary data: hex (RFC 4648 base16), base32 (RFC 4648, as authenticator apps
// and Entra CSV files carry seeds) and base64 (RFC 4648, as PSKC carries them).
//
// Decoders return SecretBytes because what they decode is usually key material. Their errors
// name the position and kind of the problem, never the offending text.

#ifndef OTPD_BASE_CODEC_H_
#define OTPD_BASE_CODEC_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/secret_bytes.h"
#include "base/statusor.h"

namespace otpd::base {

// Lower-case hex.
std::string HexEncode(std::span<const uint8_t> bytes);
// Accepts upper and lower case; the length must be even. Nothing else is accepted.
StatusOr<SecretBytes> HexDecode(std::string_view text);

// Upper-case RFC 4648 base32, with '=' padding when `pad` is true.
std::string Base32Encode(std::span<const uint8_t> bytes, bool pad = true);
// Case-insensitive; spaces are ignored; '=' padding is optional but, when present, only at the
// end. Fails on any other character, on a length no encoder produces, and on empty input.
StatusOr<SecretBytes> Base32Decode(std::string_view text);

// RFC 4648 base64 with padding.
std::string Base64Encode(std::span<const uint8_t> bytes);
// Standard alphabet; whitespace (as in XML documents) is ignored; padding optional.
StatusOr<SecretBytes> Base64Decode(std::string_view text);

}  // namespace otpd::base

#endif  // OTPD_BASE_CODEC_H_
