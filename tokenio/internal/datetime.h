// xs:dateTime <-> Unix seconds, for PSKC Policy StartDate / ExpiryDate.

#ifndef OTPD_TOKENIO_INTERNAL_DATETIME_H_
#define OTPD_TOKENIO_INTERNAL_DATETIME_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/statusor.h"

namespace otpd::tokenio::internal {

// "YYYY-MM-DDThh:mm:ss[.fff][Z|(+|-)hh:mm]"; without a zone the time is taken as UTC.
// Fractions of a second are dropped. InvalidArgument for anything else.
base::StatusOr<int64_t> ParseXsDateTime(std::string_view text);
// "YYYY-MM-DDThh:mm:ssZ".
std::string FormatXsDateTime(int64_t unix_seconds);

}  // namespace otpd::tokenio::internal

#endif  // OTPD_TOKENIO_INTERNAL_DATETIME_H_
