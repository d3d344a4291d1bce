#include "server/validate/validate_request.h"

#include <boost/beast/core/string.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <map>
#include <utility>

#include "server/http/json_sax.h"

namespace otpd::server::validate {
namespace {

namespace bhttp = boost::beast::http;
using base::InvalidArgumentError;
using base::Status;
using base::StatusOr;
using boost::system::error_code;

constexpr std::string_view kKnown[] = {"user", "realm",          "serial",
                                       "pass", "transaction_id", "state"};

bool Known(std::string_view name) {
  for (std::string_view k : kKnown) {
    if (k == name) return true;
  }
  return false;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

StatusOr<std::string> Unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      const int hi = i + 2 < text.size() ? HexValue(text[i + 1]) : -1;
      const int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        base::Wipe(out.data(), out.size());
        return InvalidArgumentError("malformed %-escape in the form data");
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// The known parameters of a request, wiped when done (`pass` is a code).
class Params {
 public:
  Params() = default;
  Params(const Params&) = delete;
  Params& operator=(const Params&) = delete;
  ~Params() {
    for (auto& [name, value] : values_) base::Wipe(value.data(), value.size());
  }

  Status Take(std::string name, std::string value) {
    if (!Known(name)) {
      base::Wipe(value.data(), value.size());
      return base::OkStatus();  // privacyIDEA clients send more (e.g. client, otponly)
    }
    auto [it, inserted] = values_.emplace(name, std::move(value));
    if (!inserted) {
      base::Wipe(value.data(), value.size());
      return InvalidArgumentError("parameter '" + name + "' is given more than once");
    }
    return base::OkStatus();
  }

  std::string* Find(std::string_view name) {
    auto it = values_.find(name);
    return it == values_.end() ? nullptr : &it->second;
  }

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

// Reads a JSON object's top-level known members as they are parsed (boost::json's SAX
// interface): a duplicate of a known member is refused, which a parsed document (last one wins)
// would hide; nothing but the known values is copied.
class JsonFields : public JsonSaxDefaults {
 public:
  explicit JsonFields(Params* params) : params_(params) {}
  JsonFields(const JsonFields&) = delete;
  JsonFields& operator=(const JsonFields&) = delete;
  ~JsonFields() { base::Wipe(value_.data(), value_.size()); }

  const Status& status() const { return status_; }

  bool on_object_begin(error_code& ec) { return Open(Kind::kContainer, ec); }
  bool on_object_end(size_t, error_code&) { return Close(); }
  bool on_array_begin(error_code& ec) { return Open(Kind::kArray, ec); }
  bool on_array_end(size_t, error_code&) { return Close(); }
  bool on_key_part(std::string_view s, size_t, error_code&) {
    if (depth_ == 1) key_.append(s);
    return true;
  }
  bool on_key(std::string_view s, size_t, error_code&) {
    if (depth_ == 1) {
      key_.append(s);
      if (Known(key_)) name_ = key_;
      key_.clear();
    }
    return true;
  }
  bool on_string_part(std::string_view s, size_t, error_code& ec) {
    if (!in_value_ && !Begin(Kind::kString, ec)) return false;
    in_value_ = true;
    if (!name_.empty()) value_.append(s);
    return true;
  }
  bool on_string(std::string_view s, size_t n, error_code& ec) {
    if (!on_string_part(s, n, ec)) return false;
    in_value_ = false;
    if (name_.empty()) return true;
    status_ = params_->Take(std::exchange(name_, {}), std::exchange(value_, {}));
    return Stop(ec);
  }
  bool on_number_part(std::string_view, error_code& ec) {
    if (!in_value_ && !Begin(Kind::kScalar, ec)) return false;
    in_value_ = true;
    return true;
  }
  bool on_int64(int64_t, std::string_view, error_code& ec) { return Number(ec); }
  bool on_uint64(uint64_t, std::string_view, error_code& ec) { return Number(ec); }
  bool on_double(double, std::string_view, error_code& ec) { return Number(ec); }
  bool on_bool(bool, error_code& ec) { return Begin(Kind::kScalar, ec); }
  bool on_null(error_code& ec) { return Begin(Kind::kScalar, ec); }

 private:
  enum class Kind { kContainer, kArray, kString, kScalar };

  // The start of a value of `kind`: the document must be an object, a known member a string.
  bool Begin(Kind kind, error_code& ec) {
    if (depth_ == 0 && kind != Kind::kContainer) {
      status_ = InvalidArgumentError("the JSON body must be an object");
    } else if (depth_ == 1 && !name_.empty() && kind != Kind::kString) {
      status_ = InvalidArgumentError("parameter '" + name_ + "' must be a string");
    }
    return Stop(ec);
  }
  bool Open(Kind kind, error_code& ec) {
    if (!Begin(kind, ec)) return false;
    name_.clear();  // a member inside is not a parameter
    ++depth_;
    return true;
  }
  bool Close() {
    --depth_;
    return true;
  }
  bool Number(error_code& ec) {
    if (!in_value_ && !Begin(Kind::kScalar, ec)) return false;
    in_value_ = false;
    return true;
  }
  // False (and an error for the parser) once the status is an error.
  bool Stop(error_code& ec) {
    if (status_.ok()) return true;
    ec = boost::json::error::syntax;
    return false;
  }

  Params* params_;
  Status status_ = base::OkStatus();
  int depth_ = 0;
  bool in_value_ = false;
  std::string key_;
  std::string name_;  // the known member whose value comes next
  std::string value_;
};

Status TakeJson(std::string_view body, Params& params) {
  boost::json::parse_options options;
  options.max_depth = 8;
  boost::json::basic_parser<JsonFields> parser(options, &params);
  boost::system::error_code ec;
  const size_t used = parser.write_some(false, body.data(), body.size(), ec);
  if (!parser.handler().status().ok()) return parser.handler().status();
  if (ec || used != body.size()) return InvalidArgumentError("the body is not valid JSON");
  return base::OkStatus();
}

bool Printable(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// Well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool Utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t more = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      more = 1, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      more = 2, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      more = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (more > text.size() - 1 - i) return false;  // cut short
    for (size_t k = 1; k <= more; ++k) {
      const auto d = static_cast<unsigned char>(text[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((more == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (more == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
      return false;
    }
    i += more + 1;
  }
  return true;
}

// Moves parameter `name` into `out`, checking its length and characters.
Status Move(Params& params, std::string_view name, size_t max, std::string* out) {
  std::string* value = params.Find(name);
  if (value == nullptr) return base::OkStatus();
  if (value->size() > max) {
    return InvalidArgumentError("parameter '" + std::string(name) + "' is longer than " +
                                std::to_string(max) + " bytes");
  }
  if (!Printable(*value)) {
    return InvalidArgumentError("parameter '" + std::string(name) +
                                "' contains control characters");
  }
  if (!Utf8(*value)) {
    return InvalidArgumentError("parameter '" + std::string(name) + "' is not UTF-8 text");
  }
  *out = *value;
  return base::OkStatus();
}

}  // namespace

Status DecodeForm(std::string_view text,
                  const std::function<Status(std::string name, std::string value)>& take) {
  while (!text.empty()) {
    const size_t amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    OTPD_ASSIGN_OR_RETURN(std::string name, Unescape(pair.substr(0, eq)));
    OTPD_ASSIGN_OR_RETURN(
        std::string value,
        Unescape(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1)));
    OTPD_RETURN_IF_ERROR(take(std::move(name), std::move(value)));
  }
  return base::OkStatus();
}

StatusOr<ValidateParams> ParseValidateRequest(const http::Request& request) {
  Params params;
  auto take = [&params](std::string name, std::string value) {
    return params.Take(std::move(name), std::move(value));
  };
  const std::string_view target = request.target();
  if (const size_t q = target.find('?'); q != std::string_view::npos) {
    OTPD_RETURN_IF_ERROR(DecodeForm(target.substr(q + 1), take));
  }
  const std::string& body = request.body();
  if (!body.empty()) {
    if (request.method() != bhttp::verb::post) {
      return InvalidArgumentError("a GET request carries its parameters in the query string");
    }
    std::string_view type = request[bhttp::field::content_type];
    type = type.substr(0, type.find(';'));
    while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
    if (boost::beast::iequals(type, "application/x-www-form-urlencoded")) {
      OTPD_RETURN_IF_ERROR(DecodeForm(body, take));
    } else if (boost::beast::iequals(type, "application/json")) {
      OTPD_RETURN_IF_ERROR(TakeJson(body, params));
    } else {
      return InvalidArgumentError(
          "the body must be application/x-www-form-urlencoded or application/json");
    }
  }

  ValidateParams out;
  OTPD_RETURN_IF_ERROR(Move(params, "user", kMaxUser, &out.user));
  OTPD_RETURN_IF_ERROR(Move(params, "realm", kMaxUser, &out.realm));
  OTPD_RETURN_IF_ERROR(Move(params, "serial", kMaxSerial, &out.serial));
  OTPD_RETURN_IF_ERROR(Move(params, "transaction_id", kMaxTransactionId, &out.transaction_id));
  // privacyIDEA reads `state` (its FreeRADIUS plugin's name for the RADIUS State) as the
  // transaction id.
  std::string state;
  OTPD_RETURN_IF_ERROR(Move(params, "state", kMaxTransactionId, &state));
  if (!state.empty() && !out.transaction_id.empty() && state != out.transaction_id) {
    return InvalidArgumentError(
        "parameters 'state' and 'transaction_id' name different challenges; send one of them");
  }
  if (out.transaction_id.empty()) out.transaction_id = std::move(state);
  std::string* pass = params.Find("pass");
  if (pass == nullptr) return InvalidArgumentError("Missing parameter: 'pass'");
  if (pass->size() > kMaxPass) {
    return InvalidArgumentError("parameter 'pass' is longer than " + std::to_string(kMaxPass) +
                                " bytes");
  }
  out.pass = base::SecretBytes::FromString(*pass);
  if (out.user.empty() && out.serial.empty()) {
    return InvalidArgumentError("Missing parameter: 'user' or 'serial'");
  }
  if (!out.user.empty() && !out.serial.empty()) {
    return InvalidArgumentError("give 'user' or 'serial', not both");
  }
  if (!out.user.empty() && !out.realm.empty() && out.user.find('@') == std::string::npos) {
    if (out.user.size() + 1 + out.realm.size() > kMaxUser) {
      return InvalidArgumentError("parameter 'user' with its realm is longer than " +
                                  std::to_string(kMaxUser) + " bytes");
    }
    out.user += "@" + out.realm;
  }
  return out;
}

}  // namespace otpd::server::validate
