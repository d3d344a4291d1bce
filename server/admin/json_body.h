// The one reader of the admin API's JSON request bodies. Every route's body goes through
// ParseJsonBody, which refuses what a parsed document would hide: a member given twice in one
// object (boost::json keeps the last, so `{"displayName":"a","displayName":"b"}` would read as
// "b" here and as "a" in a proxy or log that keeps the first).
//
// Thread-safety: plain functions.

#ifndef OTPD_SERVER_ADMIN_JSON_BODY_H_
#define OTPD_SERVER_ADMIN_JSON_BODY_H_

#include <boost/json/value.hpp>
#include <string_view>

#include "base/statusor.h"

namespace otpd::server::admin {

// Deepest nesting a body may have.
inline constexpr size_t kMaxJsonDepth = 16;

// Parses `body` as one JSON value (objects and arrays at most kMaxJsonDepth deep, strict UTF-8,
// no comments). InvalidArgument for an empty body, malformed JSON (naming the byte offset and the
// reason), or a member given twice in one object (naming it with its path, e.g.
// "[1].assignTo.id is given more than once"; a name that is long or not printable is not
// repeated).
base::StatusOr<boost::json::value> ParseJsonBody(std::string_view body);

}  // namespace otpd::server::admin

#endif  // OTPD_SERVER_ADMIN_JSON_BODY_H_
