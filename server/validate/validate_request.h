// The parameters of a privacyIDEA-style /validate/check or /validate/radiuscheck request, read
// from the query string and from a form-urlencoded or JSON body (docs/validate-api.md).
//
// Thread-safety: plain functions and value types.

#ifndef OTPD_SERVER_VALIDATE_VALIDATE_REQUEST_H_
#define OTPD_SERVER_VALIDATE_VALIDATE_REQUEST_H_

#include <functional>
#include <string>
#include <string_view>

#include "base/secret_bytes.h"
#include "base/statusor.h"
#include "server/http/http_server.h"

namespace otpd::server::validate {

// Longest accepted value of each parameter, in bytes.
inline constexpr size_t kMaxUser = 256;
inline constexpr size_t kMaxSerial = 64;
inline constexpr size_t kMaxPass = 64;
inline constexpr size_t kMaxTransactionId = 128;
// The largest body the validate endpoint reads (larger ones answer 413 unread).
inline constexpr uint64_t kMaxBody = 8 * 1024;

struct ValidateParams {
  // The user to verify, with `realm` appended as "@realm" when the user name has no "@"; ""
  // when the request names a token by serial instead.
  std::string user;
  std::string serial;
  std::string realm;           // as given (informational)
  base::SecretBytes pass;      // the code; never logged
  std::string transaction_id;  // answers a challenge: `transaction_id`, or privacyIDEA's `state`
};

// Reads the parameters of `request`: GET takes the query string, POST the query string and the
// body (application/x-www-form-urlencoded or application/json; an empty body is allowed). A
// parameter given twice, a value that is not text (control characters, not UTF-8), a malformed
// encoding, a missing `pass`, both or neither of `user` and `serial`, `state` and
// `transaction_id` that differ (either is the transaction id), or an over-long value fail
// with InvalidArgument whose message names the parameter (never its value). An empty `pass` is
// allowed (a challenge). The request's body is wiped by the caller.
base::StatusOr<ValidateParams> ParseValidateRequest(const http::Request& request);

// Decodes application/x-www-form-urlencoded text into name/value pairs and calls `take` for each;
// InvalidArgument for a bad %-escape. (Exposed for tests.)
base::Status DecodeForm(
    std::string_view text,
    const std::function<base::Status(std::string name, std::string value)>& take);

}  // namespace otpd::server::validate

#endif  // OTPD_SERVER_VALIDATE_VALIDATE_REQUEST_H_
