// The shapes of Microsoft Graph that the admin API speaks: its error object and status codes,
// and a strict reader of JSON request bodies (every field typed, unknown fields refused).
//
// Thread-safety: plain functions and values.

#ifndef OTPD_SERVER_ADMIN_GRAPH_H_
#define OTPD_SERVER_ADMIN_GRAPH_H_

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/statusor.h"
#include "server/http/http_server.h"

namespace otpd::server::admin {

// A Graph error code and its HTTP status, for a failed Status.
struct GraphError {
  unsigned http_status = 500;
  std::string_view code;  // invalidRequest, itemNotFound, accessDenied, ...
};
//   InvalidArgument, OutOfRange  400 invalidRequest
//   Unauthenticated              401 InvalidAuthenticationToken (Graph's code)
//   PermissionDenied             403 accessDenied
//   NotFound                     404 itemNotFound
//   AlreadyExists                409 nameAlreadyExists
//   Aborted                      409 resourceModified (another change won a race)
//   FailedPrecondition           409 notAllowed (the state does not allow it)
//   ResourceExhausted            409 quotaLimitReached (a per-user or per-token limit)
//   Unavailable                  503 serviceNotAvailable
//   Unimplemented                501 notSupported
//   anything else                500 generalException
GraphError ClassifyStatus(const base::Status& status);

// `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`.
std::string GraphErrorBody(std::string_view code, std::string_view message,
                           std::string_view request_id, std::string_view client_request_id,
                           int64_t now_unix_seconds);

// The caller's `client-request-id` header as an answer may echo it: Graph's SDKs send a GUID;
// anything longer than 64 characters or outside [A-Za-z0-9._:-] is not echoed, and otpd's own
// request id stands in for it, as for a caller that sent none.
std::string_view ClientRequestId(std::string_view header, std::string_view request_id);

// A random request id shaped like a GUID, as Graph's are.
std::string NewRequestId();

// The request's Host header when it looks like a host name (it goes into links), else
// "localhost".
std::string HostOf(const http::Request& request);

// Parses a request body that must be one JSON object (ParseJsonBody, json_body.h: a member given
// twice is refused). InvalidArgument naming the offset and the reason for malformed JSON, the
// duplicate member, or saying what the body is instead of an object.
base::StatusOr<boost::json::object> ParseObjectBody(std::string_view body);

// Reads the fields of a JSON object by name. Each getter checks the type; the first problem is
// kept and returned by Finish(), which also refuses any field no getter asked for, so that a
// misspelt field is an error rather than silently ignored.
//
//   FieldReader in(body);
//   std::string name = in.String("displayName", FieldReader::kRequired);
//   std::optional<bool> sms = in.OptionalBool("smsSignInState");
//   OTPD_RETURN_IF_ERROR(in.Finish());
class FieldReader {
 public:
  enum Presence { kOptional, kRequired };

  // `where` prefixes field names in messages ("device." for a nested object).
  explicit FieldReader(const boost::json::object& object, std::string where = "");

  // A string field; "" when absent (and optional). Null counts as absent.
  std::string String(std::string_view key, Presence presence = kOptional);
  std::optional<std::string> OptionalString(std::string_view key);
  // The same for free text that is stored for people to read (names): also refused when it holds
  // a control character (service::CheckFreeText).
  std::string Text(std::string_view key, Presence presence = kOptional);
  std::optional<std::string> OptionalText(std::string_view key);
  std::optional<bool> OptionalBool(std::string_view key);
  std::optional<int64_t> OptionalInt(std::string_view key, int64_t min, int64_t max);
  std::optional<std::vector<std::string>> OptionalStringArray(std::string_view key);
  // A nested object; nullptr when absent (and optional).
  const boost::json::object* Object(std::string_view key, Presence presence = kOptional);
  // Marks `key` as known without reading it (e.g. "@odata.type", or read-only fields a client
  // sends back as it got them).
  void Allow(std::string_view key);

  // The first problem, or an unknown field, or OK.
  base::Status Finish();

 private:
  const boost::json::value* Find(std::string_view key, Presence presence);
  void Fail(std::string message);

  const boost::json::object& object_;
  const std::string where_;
  std::set<std::string, std::less<>> read_;
  base::Status error_;
};

}  // namespace otpd::server::admin

#endif  // OTPD_SERVER_ADMIN_GRAPH_H_
