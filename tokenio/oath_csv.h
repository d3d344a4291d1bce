// The OATH token CSV that other OTP servers (LinOTP, privacyIDEA, FreeIPA tools) accept:
//
//   serial, seed (hex), type (hotp|totp), digits, step-or-counter[, algorithm]
//   # comment
//   HOTP0001,3132333435363738393031323334353637383930,hotp,6,0
//   TOTP0001,3132333435363738393031323334353637383930,totp,8,30,sha256
//
// The fifth column is the time step in seconds for totp and the initial counter for hotp. The
// digits and fifth columns may be left out (6 digits, 30 s or counter 0); the sixth column is
// an optional HMAC hash (SHA1, SHA256, SHA512; default SHA1). A header line is recognised (its
// first column starts with "serial" or its third is "type") and skipped; lines starting with
// '#' and blank lines are skipped; the separator is ',', ';' or TAB, detected from the first
// non-comment line. There is no user column: tokens go to the inventory unassigned.

#ifndef OTPD_TOKENIO_OATH_CSV_H_
#define OTPD_TOKENIO_OATH_CSV_H_

#include <istream>

#include "base/status.h"
#include "tokenio/token_record.h"

namespace otpd::tokenio {

// Reads `in` to its end, handing each accepted token and each rejected row to `sink`, whose
// positions are line numbers. A non-OK status means the file as a whole could not be read (I/O
// error, unterminated quote) or the sink stopped the parse.
base::Status ParseOathCsv(std::istream& in, TokenSink* sink);

}  // namespace otpd::tokenio

#endif  // OTPD_TOKENIO_OATH_CSV_H_
