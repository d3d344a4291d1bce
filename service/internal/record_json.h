// What the JSON record codecs of service/model/records.h share: reading an object's fields with
// errors that name the record and the field. Not for use outside the records' .cc files.

#ifndef OTPD_SERVICE_INTERNAL_RECORD_JSON_H_
#define OTPD_SERVICE_INTERNAL_RECORD_JSON_H_

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/statusor.h"

namespace otpd::service::internal {
namespace json = boost::json;

// Reading fields from a decoded JSON object. Missing optional fields keep their defaults; a
// field of the wrong type is an error naming it.
class Reader {
 public:
  explicit Reader(const json::object& o, std::string_view what) : o_(o), what_(what) {}

  base::Status String(std::string_view key, std::string* out, bool required = false) {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr) return required ? Missing(key) : base::OkStatus();
    if (!v->is_string()) return WrongType(key);
    *out = std::string(v->get_string());
    return base::OkStatus();
  }

  template <typename Int>
  base::Status Integer(std::string_view key, Int* out) {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr) return base::OkStatus();
    if (v->is_int64()) {
      *out = static_cast<Int>(v->get_int64());
    } else if (v->is_uint64()) {
      *out = static_cast<Int>(v->get_uint64());
    } else {
      return WrongType(key);
    }
    return base::OkStatus();
  }

  base::Status Bool(std::string_view key, bool* out) {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr) return base::OkStatus();
    if (!v->is_bool()) return WrongType(key);
    *out = v->get_bool();
    return base::OkStatus();
  }

  base::Status StringList(std::string_view key, std::vector<std::string>* out) {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr) return base::OkStatus();
    if (!v->is_array()) return WrongType(key);
    for (const json::value& e : v->get_array()) {
      if (!e.is_string()) return WrongType(key);
      out->emplace_back(e.get_string());
    }
    return base::OkStatus();
  }

  bool Has(std::string_view key) const { return o_.if_contains(key) != nullptr; }

 private:
  base::Status Missing(std::string_view key) {
    return base::DataLossError(std::string(what_) + " record has no '" + std::string(key) + "'");
  }
  base::Status WrongType(std::string_view key) {
    return base::DataLossError(std::string(what_) + " record field '" + std::string(key) +
                               "' has the wrong type");
  }

  const json::object& o_;
  std::string_view what_;
};

inline base::StatusOr<json::object> ParseObject(std::string_view data, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(data, ec);
  if (ec || !v.is_object()) {
    return base::DataLossError(std::string(what) + " record is not a JSON object");
  }
  return std::move(v.get_object());
}

}  // namespace otpd::service::internal

#endif  // OTPD_SERVICE_INTERNAL_RECORD_JSON_H_
