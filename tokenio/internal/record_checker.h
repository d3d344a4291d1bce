// The checks every format applies to a token before it is accepted (seed length, parameters,
// serial, user principal name, uniqueness of the serial within the file, no seed-shaped value in
// a text column), and the routing of the result to a TokenSink. What a RowError may carry is
// decided here too: a position, a reason and at most a serial that cannot be a seed.
//
// Thread-safety: none; one checker per parse.

#ifndef OTPD_TOKENIO_INTERNAL_RECORD_CHECKER_H_
#define OTPD_TOKENIO_INTERNAL_RECORD_CHECKER_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/secret_bytes.h"
#include "base/status.h"
#include "base/statusor.h"
#include "tokenio/token_record.h"
#include "tokenio/upn.h"

namespace otpd::tokenio::internal {

inline constexpr size_t kMinSeedBytes = 16;   // 128 bits (RFC 4226 R6)
inline constexpr size_t kMaxSeedBytes = 128;  // beyond the largest HMAC block
inline constexpr size_t kMaxSerialLength = 64;

// Non-empty, at most kMaxSerialLength characters, printable ASCII without spaces at the ends.
base::Status CheckSerial(std::string_view serial);

// True when `text` has the shape of a seed of 128 bits or more: 32 or more hex digits (after an
// optional 0x), 26 or more base32 characters, or 22 or more base64 characters with a sign of
// base64 (mixed-case letters, '+', '/' or '=' padding). Such a value in a column that should hold
// a serial, a user, a manufacturer or a model means the row's columns are shifted (or the file
// is hostile): the row is rejected and the value never repeated.
bool LooksLikeSeed(std::string_view text);

// The serial a report may name: `serial` when it passes CheckSerial and does not look like a
// seed, else empty.
std::string ReportableSerial(std::string_view serial);

class RecordChecker {
 public:
  // `unit` names a position in messages ("line", "KeyPackage"). `sink` must outlive the checker.
  RecordChecker(std::string_view unit, TokenSink* sink) : unit_(unit), sink_(sink) {}

  // Validates `record` (its upn must already be normalised or empty). When it passes, hands it
  // to the sink and returns the sink's status; when it does not, reports a RowError and
  // returns OK.
  base::Status Submit(TokenRecord record);

  // Reports a rejected row. Parsers pass the serial only when it comes from a row of the expected
  // shape whose seed was read (so the columns are where they should be); even then it is dropped
  // when ReportableSerial() refuses it. `reason` must name columns, never repeat a field's value.
  void Reject(size_t position, std::string serial, std::string reason);

  size_t accepted() const { return accepted_; }
  size_t rejected() const { return rejected_; }

 private:
  std::string unit_;
  TokenSink* sink_;
  // serial -> position of the accepted token that used it first.
  std::unordered_map<std::string, size_t> first_seen_;
  size_t accepted_ = 0;
  size_t rejected_ = 0;
};

// The seed `decoded` from a text field, or InvalidArgument "<field> is not valid <encoding>
// (<the decoder's reason>)".
base::StatusOr<base::SecretBytes> DecodedSeed(base::StatusOr<base::SecretBytes> decoded,
                                              std::string_view field, std::string_view encoding);

// A CSV line that SplitCsvRecord refused (`split`): rejected as malformed, or, when it is a last
// line without a line break (`terminated` false), most likely cut short: `fields` are wiped and
// TruncatedError returned.
base::Status RejectMalformedCsv(size_t line, bool terminated, const base::Status& split,
                                std::vector<std::string>* fields, RecordChecker& checker);

// Fills a record from the split `fields` of CSV line `line` with `read` and submits it to
// `checker`; `fields` are wiped as soon as `read` returns. A row `read` refuses is rejected,
// naming its serial only when the seed was read (then the columns are in place, and the serial
// column cannot hold a shifted seed). A last line without a line break (`terminated` false) that
// fails is most likely cut short: TruncatedError. Otherwise returns what Submit returns.
base::Status SubmitCsvRow(
    size_t line, bool terminated, std::vector<std::string>* fields, RecordChecker& checker,
    const std::function<base::Status(const std::vector<std::string>&, TokenRecord*)>& read);

}  // namespace otpd::tokenio::internal

#endif  // OTPD_TOKENIO_INTERNAL_RECORD_CHECKER_H_
