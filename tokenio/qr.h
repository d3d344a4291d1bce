// QR codes for otpauth URIs, through libqrencode: as an SVG image (the admin API's enrolment
// answer, the console) and as text for a terminal (otpctl). The text encoded is a secret (it holds
// the seed): both results are SecretBytes.
//
// Thread-safety: plain functions.

#ifndef OTPD_TOKENIO_QR_H_
#define OTPD_TOKENIO_QR_H_

#include <string_view>

#include "base/secret_bytes.h"
#include "base/statusor.h"

namespace otpd::tokenio {

// A standalone SVG document (black modules on white, a 4-module quiet zone), error correction
// level M. InvalidArgument when the text does not fit a QR code; Internal when libqrencode fails.
base::StatusOr<base::SecretBytes> QrSvg(std::string_view text);

// The code drawn with Unicode half blocks, two modules a character cell high, for a terminal
// with a dark background (light modules drawn, dark left blank), each line ending in "\n".
base::StatusOr<base::SecretBytes> QrTerminal(std::string_view text);

}  // namespace otpd::tokenio

#endif  // OTPD_TOKENIO_QR_H_
