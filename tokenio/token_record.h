// The common currency of the token file formats: one TokenRecord per hardware token read from a
// vendor's batch file, the sink that receives them, and the names of the formats.
//
// Parsers (entra_csv.h, oath_csv.h, pskc.h) stream: they hand every accepted token to
// TokenSink::OnToken and every rejected row or KeyPackage to TokenSink::OnError as soon as it is
// read, so a file of any size is processed in bounded memory.
//
// Thread-safety: plain values; a parser calls its sink from the calling thread only.

#ifndef OTPD_TOKENIO_TOKEN_RECORD_H_
#define OTPD_TOKENIO_TOKEN_RECORD_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/secret_bytes.h"
#include "base/status.h"
#include "base/statusor.h"
#include "engine/otp_params.h"

namespace otpd::tokenio {

struct TokenRecord {
  // 1-based line number (CSV; the line the record starts on) or KeyPackage number (PSKC).
  size_t position = 0;
  // Unique within the file, never empty.
  std::string serial;
  // Lower-cased e-mail address of the user the token is assigned to; empty = unassigned (the
  // token goes to the inventory as available).
  std::string upn;
  std::string manufacturer;
  std::string model;
  // An administrator's name for the token (the admin API's device body); files carry none.
  std::string display_name;
  // type, algorithm, digits, period, t0; always passes OtpParams::Validate().
  engine::OtpParams params;
  // At least 16 bytes.
  base::SecretBytes seed;
  // HOTP moving factor (PSKC Counter, OATH CSV counter column). 0 for TOTP.
  uint64_t counter = 0;
  // TOTP clock drift of the device in time steps (PSKC TimeDrift).
  int64_t time_drift = 0;
  // Unix seconds (PSKC Policy StartDate / ExpiryDate).
  std::optional<int64_t> not_before;
  std::optional<int64_t> not_after;
  // Accepted but worth telling the administrator, e.g. "seed shorter than 160 bits for SHA-1".
  // Never contain secret material.
  std::vector<std::string> warnings;
};

// A row (CSV) or KeyPackage (PSKC) that was not imported.
struct RowError {
  size_t position = 0;  // as TokenRecord::position
  std::string serial;   // when it could be read; may be empty
  std::string reason;   // for an administrator; never contains secret material
};

// Receives what a parser reads. Implemented by the caller (the import tool, the admin API).
class TokenSink {
 public:
  virtual ~TokenSink() = default;
  // An accepted token. A non-OK status stops the parse; the parser returns that status.
  virtual base::Status OnToken(TokenRecord token) = 0;
  // A rejected row or key; parsing continues.
  virtual void OnError(RowError error) = 0;
};

enum class Format { kEntraCsv, kOathCsv, kPskc };

// "entra-csv", "oath-csv", "pskc".
std::string_view FormatName(Format format);
// The inverse of FormatName (case-insensitive); InvalidArgument for anything else.
base::StatusOr<Format> ParseFormatName(std::string_view name);

// Guesses the format from the first few kilobytes of a file: '<' as the first non-blank
// character (after an optional UTF-8 byte order mark) is PSKC, a first line starting with
// "upn," is Entra CSV (ParseEntraCsv then checks the rest of the header), a
// first data line shaped like "serial,hex seed,hotp|totp,..." is OATH CSV. InvalidArgument when
// none matches.
base::StatusOr<Format> DetectFormat(std::string_view head);

}  // namespace otpd::tokenio

#endif  // OTPD_TOKENIO_TOKEN_RECORD_H_
