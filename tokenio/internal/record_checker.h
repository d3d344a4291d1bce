// The checks every format applies to a token before it is accepted (seed length, parameters,
// serial, user principal name, uniqueness of the serial within the file), and the routing of
// the result to a TokenSink.
//
// Thread-safety: none; one checker per parse.

#ifndef OTPD_TOKENIO_INTERNAL_RECORD_CHECKER_H_
#define OTPD_TOKENIO_INTERNAL_RECORD_CHECKER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"
#include "base/statusor.h"
#include "tokenio/token_record.h"

namespace otpd::tokenio::internal {

inline constexpr size_t kMinSeedBytes = 16;   // 128 bits (RFC 4226 R6)
inline constexpr size_t kMaxSeedBytes = 128;  // beyond the largest HMAC block
inline constexpr size_t kMaxSerialLength = 64;

// Lower-cases `upn` and checks it is shaped local@domain.tld. The error names the problem; the
// address itself is not secret but is not repeated either.
base::StatusOr<std::string> NormaliseUpn(std::string_view upn);
// Non-empty, at most kMaxSerialLength characters, printable ASCII without spaces at the ends.
base::Status CheckSerial(std::string_view serial);

class RecordChecker {
 public:
  // `unit` names a position in messages ("line", "KeyPackage"). `sink` must outlive the checker.
  RecordChecker(std::string_view unit, TokenSink* sink) : unit_(unit), sink_(sink) {}

  // Validates `record` (its upn must already be normalised or empty). When it passes, hands it
  // to the sink and returns the sink's status; when it does not, reports a RowError and
  // returns OK.
  base::Status Submit(TokenRecord record);

  // Reports a rejected row.
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

}  // namespace otpd::tokenio::internal

#endif  // OTPD_TOKENIO_INTERNAL_RECORD_CHECKER_H_
