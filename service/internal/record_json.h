// What the JSON record codecs of service/model/records.h share. A record lists its fields once,
// in a function template run with a Writer (encoding) or a Reader (decoding):
//
//   template <typename Io, typename R>  // R is `const BatchRecord` for a Writer
//   void BatchFields(Io& io, R& r) { io.Str("id", r.id, kRequired).Int("time", r.time); }
//
// so the two directions cannot disagree on a name, a type or the order of the fields. Reading
// errors name the record and the field. Not for use outside the records' .cc files.

#ifndef OTPD_SERVICE_INTERNAL_RECORD_JSON_H_
#define OTPD_SERVICE_INTERNAL_RECORD_JSON_H_

#include <boost/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/codec.h"
#include "base/statusor.h"
#include "engine/otp_params.h"

namespace otpd::service::internal {
namespace json = boost::json;

// How a field is present. A Reader refuses a record without a kRequired field and leaves a
// missing optional one at its default; a Writer leaves out a kOmitEmpty field whose value is
// empty (or zero) and writes every other one.
enum Presence : uint8_t { kOptional, kRequired, kOmitEmpty };

// Encoding: every call adds one member. Never fails.
class Writer {
 public:
  Writer& Str(std::string_view key, const std::string& v, Presence p = kOptional) {
    if (p != kOmitEmpty || !v.empty()) o_[key] = v;
    return *this;
  }
  template <typename Number>
  Writer& Int(std::string_view key, const Number& v, Presence p = kOptional) {
    if (p != kOmitEmpty || v != 0) o_[key] = v;
    return *this;
  }
  Writer& Bool(std::string_view key, const bool& v, Presence p = kOptional) {
    if (p != kOmitEmpty || v) o_[key] = v;
    return *this;
  }
  // A constant or a name computed from the record (an enum's).
  Writer& Text(std::string_view key, std::string_view v) {
    o_[key] = v;
    return *this;
  }
  Writer& Maybe(std::string_view key, const std::optional<int64_t>& v) {
    if (v) o_[key] = *v;
    return *this;
  }
  Writer& Strings(std::string_view key, const std::vector<std::string>& v, Presence p) {
    if (p == kOmitEmpty && v.empty()) return *this;
    json::array a;
    for (const std::string& s : v) a.emplace_back(s);
    o_[key] = std::move(a);
    return *this;
  }
  // Sealed bytes (a seed, a salt) as base64. (`part` names errors when reading.)
  Writer& Sealed(std::string_view key, const std::string& sealed, std::string_view part = {}) {
    (void)part;
    o_[key] = base::Base64Encode(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(sealed.data()), sealed.size()));
    return *this;
  }
  // An OTP credential's parameters: type, algorithm, digits, period, t0.
  Writer& Params(const engine::OtpParams& p) {
    o_["type"] = engine::OtpTypeName(p.type);
    o_["algorithm"] = engine::HashAlgorithmName(p.algorithm);
    return Int("digits", p.digits).Int("period", p.period).Int("t0", p.t0);
  }

  json::object& object() { return o_; }
  base::Status status() const { return base::OkStatus(); }
  std::string Finish() const { return json::serialize(o_); }

 private:
  json::object o_;
};

// Decoding: each call reads one member into its output. The first error is kept (status());
// later calls then do nothing. A field of the wrong type is an error naming it.
class Reader {
 public:
  explicit Reader(const json::object& o, std::string_view what) : o_(o), what_(what) {}

  Reader& Str(std::string_view key, std::string& out, Presence p = kOptional) {
    if (const json::value* v = Find(key, p)) {
      if (v->is_string()) {
        out = std::string(v->get_string());
      } else {
        WrongType(key);
      }
    }
    return *this;
  }

  template <typename Number>
  Reader& Int(std::string_view key, Number& out, Presence p = kOptional) {
    if (const json::value* v = Find(key, p)) {
      if (v->is_int64()) {
        out = static_cast<Number>(v->get_int64());
      } else if (v->is_uint64()) {
        out = static_cast<Number>(v->get_uint64());
      } else {
        WrongType(key);
      }
    }
    return *this;
  }

  Reader& Bool(std::string_view key, bool& out, Presence = kOptional) {
    if (const json::value* v = Find(key, kOptional)) {
      if (v->is_bool()) {
        out = v->get_bool();
      } else {
        WrongType(key);
      }
    }
    return *this;
  }

  Reader& Maybe(std::string_view key, std::optional<int64_t>& out) {
    if (!Has(key)) return *this;
    int64_t v = 0;
    Int(key, v);
    out = v;
    return *this;
  }

  Reader& Strings(std::string_view key, std::vector<std::string>& out, Presence p) {
    const json::value* v = Find(key, p);
    if (v == nullptr) return *this;
    if (!v->is_array()) return WrongType(key);
    for (const json::value& e : v->get_array()) {
      if (!e.is_string()) return WrongType(key);
      out.emplace_back(e.get_string());
    }
    return *this;
  }

  // Base64 of sealed bytes; required. An error names `part` (a part of the record, such as
  // "password") in place of the record when given.
  Reader& Sealed(std::string_view key, std::string& out, std::string_view part = {}) {
    std::string text;
    if (!Str(key, text, kRequired).status_.ok()) return *this;
    auto sealed = base::Base64Decode(text);
    if (!sealed.ok()) return Error("record field '" + std::string(key) + "' is not base64", part);
    out = std::string(sealed->view());
    return *this;
  }

  Reader& Params(engine::OtpParams& p) {
    std::string type, algorithm;
    Str("type", type, kRequired).Str("algorithm", algorithm, kRequired);
    Int("digits", p.digits).Int("period", p.period).Int("t0", p.t0);
    if (!status_.ok()) return *this;
    auto t = engine::ParseOtpType(type);
    auto a = engine::ParseHashAlgorithm(algorithm);
    if (!t.ok() || !a.ok()) return Error("record has an unknown OTP type or algorithm");
    p.type = *t;
    p.algorithm = *a;
    return *this;
  }

  bool Has(std::string_view key) const { return o_.if_contains(key) != nullptr; }
  // Keeps the DataLoss error "<what> <text>" (`part` in place of what when given), unless an
  // earlier error is kept.
  Reader& Error(std::string_view text, std::string_view part = {}) {
    if (status_.ok()) {
      status_ =
          base::DataLossError(std::string(part.empty() ? what_ : part) + " " + std::string(text));
    }
    return *this;
  }
  const base::Status& status() const { return status_; }

 private:
  // The member `key`, or nullptr when it is missing (an error when required) or an error is kept.
  const json::value* Find(std::string_view key, Presence p) {
    if (!status_.ok()) return nullptr;
    const json::value* v = o_.if_contains(key);
    if (v == nullptr && p == kRequired) Error("record has no '" + std::string(key) + "'");
    return v;
  }
  Reader& WrongType(std::string_view key) {
    return Error("record field '" + std::string(key) + "' has the wrong type");
  }

  const json::object& o_;
  std::string_view what_;
  base::Status status_;
};

inline base::StatusOr<json::object> ParseObject(std::string_view data, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(data, ec);
  if (ec || !v.is_object()) {
    return base::DataLossError(std::string(what) + " record is not a JSON object");
  }
  return std::move(v.get_object());
}

// Encodes `r` with `fields` (see the top of this file).
template <typename R, typename Fields>
std::string EncodeFields(const R& r, Fields fields) {
  Writer out;
  fields(out, r);
  return out.Finish();
}

// Decodes a `what` record with `fields`.
template <typename R, typename Fields>
base::StatusOr<R> DecodeFields(std::string_view data, std::string_view what, Fields fields) {
  OTPD_ASSIGN_OR_RETURN(json::object o, ParseObject(data, what));
  Reader in(o, what);
  R r;
  fields(in, r);
  OTPD_RETURN_IF_ERROR(in.status());
  return r;
}

}  // namespace otpd::service::internal

#endif  // OTPD_SERVICE_INTERNAL_RECORD_JSON_H_
