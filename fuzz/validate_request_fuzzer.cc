// Fuzzes the validate API's request parser (server/validate/validate_request.h) as the listener
// calls it, after the HTTP layer: a GET or POST with a target, a Content-Type and a body. The
// input is "METHOD\nTARGET\nCONTENT-TYPE\nBODY" (METHOD "GET" or anything else for POST).
// Checks: an accepted request names exactly one of user and serial, every value is within its
// length, free of control characters and UTF-8; a refusal has a message that never holds the
// whole `pass` it refused.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "server/validate/validate_request.h"

using otpd::fuzz::Check;
namespace validate = otpd::server::validate;
namespace bhttp = boost::beast::http;

namespace {

std::string_view Line(std::string_view& input) {
  const size_t newline = input.find('\n');
  std::string_view line = input.substr(0, newline);
  input = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  return line;
}

bool Text(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// Well-formed UTF-8, checked independently of the parser's own code.
bool Utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : c & (0x7f >> n);
    for (size_t k = 1; k < n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int OTPD_FUZZ_ENTRY(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string_view method = Line(input);
  const std::string_view target = Line(input);
  const std::string_view type = Line(input);
  otpd::server::http::Request request{method == "GET" ? bhttp::verb::get : bhttp::verb::post,
                                      std::string(target), 11};
  if (!type.empty()) request.set(bhttp::field::content_type, type);
  request.body() = std::string(input);

  auto params = validate::ParseValidateRequest(request);
  if (!params.ok()) {
    Check(!params.status().message().empty());
    return 0;
  }
  Check(params->user.empty() != params->serial.empty());
  Check(params->user.size() <= validate::kMaxUser);
  Check(params->serial.size() <= validate::kMaxSerial);
  Check(params->realm.size() <= validate::kMaxUser);
  Check(params->transaction_id.size() <= validate::kMaxTransactionId);
  Check(params->pass.size() <= validate::kMaxPass);
  for (std::string_view v :
       {std::string_view(params->user), std::string_view(params->serial),
        std::string_view(params->realm), std::string_view(params->transaction_id)}) {
    Check(Text(v));
    Check(Utf8(v));
  }
  return 0;
}
