// Microsoft Entra's hardware OATH token CSV (docs/formats.md):
//
//   upn,serial number,secret key,time interval,manufacturer,model[,hash function]
//   Helga@contoso.com,1234567,2234567abcdef2234567abcdef,60,Contoso,HardwareKey
//
// The header is mandatory (case and surrounding spaces do not matter; a UTF-8 byte order mark
// and CRLF line endings are accepted). The secret key is base32 (at most 128 characters), the
// time interval 30 or 60; tokens are 6-digit TOTP with SHA-1, unless the optional seventh
// column says hmacsha256 (or hmacsha512). docs/formats.md lists the messages.

#ifndef OTPD_TOKENIO_ENTRA_CSV_H_
#define OTPD_TOKENIO_ENTRA_CSV_H_

#include <istream>

#include "base/status.h"
#include "tokenio/token_record.h"

namespace otpd::tokenio {

// Reads `in` to its end, handing each accepted token and each rejected row to `sink`, whose
// positions are line numbers. A non-OK status means the file as a whole could not be read (I/O
// error, missing or wrong header, unterminated quote) or the sink stopped the parse.
base::Status ParseEntraCsv(std::istream& in, TokenSink* sink);

}  // namespace otpd::tokenio

#endif  // OTPD_TOKENIO_ENTRA_CSV_H_
