#include "server/validate/validate_request.h"

#include <boost/beast/core/string.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <map>

namespace otpd::server::validate {
namespace {

namespace bhttp = boost::beast::http;
using base::InvalidArgumentError;
using base::Status;
using base::StatusOr;

constexpr std::string_view kKnown[] = {"user", "realm", "serial", "pass", "transaction_id"};

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

Status TakeJson(std::string_view body, Params& params) {
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 8;
  boost::json::value doc = boost::json::parse(body, ec, {}, options);
  if (ec) return InvalidArgumentError("the body is not valid JSON");
  if (!doc.is_object()) return InvalidArgumentError("the JSON body must be an object");
  Status status = base::OkStatus();
  for (auto& [key, value] : doc.as_object()) {
    const std::string name(key);
    if (!Known(name)) continue;
    if (!value.is_string()) {
      status = InvalidArgumentError("parameter '" + name + "' must be a string");
      break;
    }
    boost::json::string& text = value.as_string();
    status = params.Take(name, std::string(text.data(), text.size()));
    if (!status.ok()) break;
  }
  // The parsed copy held the code too.
  for (auto& [key, value] : doc.as_object()) {
    if (value.is_string()) base::Wipe(value.as_string().data(), value.as_string().size());
  }
  return status;
}

bool Printable(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return false;
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
