#include "server/admin/graph.h"

#include <algorithm>
#include <cctype>

#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>

#include "base/clock.h"
#include "base/codec.h"
#include "base/seal.h"
#include "server/admin/json_body.h"
#include "service/model/text_checks.h"

namespace otpd::server::admin {

namespace json = boost::json;

GraphError ClassifyStatus(const base::Status& status) {
  switch (status.code()) {
    case base::StatusCode::kInvalidArgument:
    case base::StatusCode::kOutOfRange:
      return {400, "invalidRequest"};
    case base::StatusCode::kUnauthenticated:
      return {401, "InvalidAuthenticationToken"};
    case base::StatusCode::kPermissionDenied:
      return {403, "accessDenied"};
    case base::StatusCode::kNotFound:
      return {404, "itemNotFound"};
    case base::StatusCode::kAlreadyExists:
      return {409, "nameAlreadyExists"};
    case base::StatusCode::kAborted:
      return {409, "resourceModified"};
    case base::StatusCode::kFailedPrecondition:
      return {409, "notAllowed"};
    case base::StatusCode::kResourceExhausted:
      return {409, "quotaLimitReached"};
    case base::StatusCode::kUnavailable:
      return {503, "serviceNotAvailable"};
    case base::StatusCode::kUnimplemented:
      return {501, "notSupported"};
    default:
      return {500, "generalException"};
  }
}

std::string GraphErrorBody(std::string_view code, std::string_view message,
                           std::string_view request_id, std::string_view client_request_id,
                           int64_t now_unix_seconds) {
  json::object inner;
  inner["date"] = base::FormatIsoTime(now_unix_seconds);
  inner["request-id"] = request_id;
  inner["client-request-id"] = client_request_id;
  json::object error;
  error["code"] = code;
  error["message"] = message;
  error["innerError"] = std::move(inner);
  json::object out;
  out["error"] = std::move(error);
  return json::serialize(out);
}

std::string_view ClientRequestId(std::string_view header, std::string_view request_id) {
  const bool usable = !header.empty() && header.size() <= 64 &&
                      std::all_of(header.begin(), header.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                               c == '.' || c == '_' || c == ':';
                      });
  return usable ? header : request_id;
}

namespace {

std::string_view KindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

}  // namespace

base::StatusOr<json::object> ParseObjectBody(std::string_view body) {
  if (body.empty()) return base::InvalidArgumentError("the request needs a JSON object body");
  OTPD_ASSIGN_OR_RETURN(json::value value, ParseJsonBody(body));
  if (!value.is_object()) {
    return base::InvalidArgumentError("the body must be a JSON object, not " +
                                      std::string(KindName(value)));
  }
  return std::move(value.as_object());
}

FieldReader::FieldReader(const json::object& object, std::string where)
    : object_(object), where_(std::move(where)) {}

void FieldReader::Fail(std::string message) {
  if (error_.ok()) error_ = base::InvalidArgumentError(message);
}

const json::value* FieldReader::Find(std::string_view key, Presence presence) {
  read_.emplace(key);
  const json::value* v = object_.if_contains(key);
  if (v != nullptr && v->is_null()) v = nullptr;
  if (v == nullptr && presence == kRequired) Fail(where_ + std::string(key) + " is required");
  return v;
}

std::string FieldReader::String(std::string_view key, Presence presence) {
  std::optional<std::string> s = OptionalString(key);
  if (!s && presence == kRequired) Fail(where_ + std::string(key) + " is required");
  return s.value_or("");
}

std::optional<std::string> FieldReader::OptionalString(std::string_view key) {
  const json::value* v = Find(key, kOptional);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    Fail(where_ + std::string(key) + " must be a string, not " + std::string(KindName(*v)));
    return std::nullopt;
  }
  return std::string(v->as_string());
}

std::string FieldReader::Text(std::string_view key, Presence presence) {
  std::optional<std::string> s = OptionalText(key);
  if (!s && presence == kRequired) Fail(where_ + std::string(key) + " is required");
  return s.value_or("");
}

std::optional<std::string> FieldReader::OptionalText(std::string_view key) {
  std::optional<std::string> s = OptionalString(key);
  if (!s) return s;
  if (base::Status ok = service::CheckFreeText(where_ + std::string(key), *s); !ok.ok()) {
    Fail(std::string(ok.message()));
    return std::nullopt;
  }
  return s;
}

std::optional<bool> FieldReader::OptionalBool(std::string_view key) {
  const json::value* v = Find(key, kOptional);
  if (v == nullptr) return std::nullopt;
  if (!v->is_bool()) {
    Fail(where_ + std::string(key) + " must be true or false, not " + std::string(KindName(*v)));
    return std::nullopt;
  }
  return v->as_bool();
}

std::optional<int64_t> FieldReader::OptionalInt(std::string_view key, int64_t min, int64_t max) {
  const json::value* v = Find(key, kOptional);
  if (v == nullptr) return std::nullopt;
  int64_t n = 0;
  if (v->is_int64()) {
    n = v->as_int64();
  } else if (v->is_uint64() && v->as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    n = static_cast<int64_t>(v->as_uint64());
  } else {
    Fail(where_ + std::string(key) + " must be a whole number, not " + std::string(KindName(*v)));
    return std::nullopt;
  }
  if (n < min || n > max) {
    Fail(where_ + std::string(key) + " must be between " + std::to_string(min) + " and " +
         std::to_string(max));
    return std::nullopt;
  }
  return n;
}

std::optional<std::vector<std::string>> FieldReader::OptionalStringArray(std::string_view key) {
  const json::value* v = Find(key, kOptional);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array()) {
    Fail(where_ + std::string(key) + " must be an array of strings, not " +
         std::string(KindName(*v)));
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const json::value& item : v->as_array()) {
    if (!item.is_string()) {
      Fail(where_ + std::string(key) + " must hold strings only, not " +
           std::string(KindName(item)));
      return std::nullopt;
    }
    out.emplace_back(item.as_string());
  }
  return out;
}

const json::object* FieldReader::Object(std::string_view key, Presence presence) {
  const json::value* v = Find(key, presence);
  if (v == nullptr) return nullptr;
  if (!v->is_object()) {
    Fail(where_ + std::string(key) + " must be an object, not " + std::string(KindName(*v)));
    return nullptr;
  }
  return &v->as_object();
}

void FieldReader::Allow(std::string_view key) { read_.emplace(key); }

base::Status FieldReader::Finish() {
  if (!error_.ok()) return error_;
  for (const auto& [key, value] : object_) {
    if (!read_.contains(std::string_view(key))) {
      // Named when it looks like a field name (a body may be a secret pasted in the wrong place).
      const bool nameable = key.size() <= 64 && std::all_of(key.begin(), key.end(), [](char c) {
                              return std::isalnum(static_cast<unsigned char>(c)) || c == '@' ||
                                     c == '.' || c == '_' || c == '-';
                            });
      return base::InvalidArgumentError(nameable ? "unknown field " + where_ + std::string(key)
                                                 : "an unknown field in " +
                                                       (where_.empty() ? "the body" : where_));
    }
  }
  return base::OkStatus();
}

std::string NewRequestId() {
  uint8_t bytes[16];
  if (!base::RandomBytes(bytes).ok()) return "00000000-0000-0000-0000-000000000000";
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80);
  std::string hex = base::HexEncode(bytes);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

std::string HostOf(const http::Request& request) {
  std::string_view host = request[boost::beast::http::field::host];
  const bool sane =
      !host.empty() && host.size() <= 255 && std::all_of(host.begin(), host.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
               c == '[' || c == ']';
      });
  return sane ? std::string(host) : "localhost";
}

}  // namespace otpd::server::admin
