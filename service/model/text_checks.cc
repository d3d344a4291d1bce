#include "service/model/text_checks.h"

#include <cstdint>
#include <cstdio>
#include <string>

namespace otpd::service {

namespace {

// The code point at text[i] and its length in bytes; length 0 when the bytes there are not
// well-formed UTF-8 (overlong forms, surrogates and code points above U+10FFFF included).
size_t DecodeOne(std::string_view text, size_t i, uint32_t* cp) {
  const auto c = static_cast<unsigned char>(text[i]);
  size_t more = 0;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if (c >= 0xc2 && c <= 0xdf) {
    more = 1, *cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    more = 2, *cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    more = 3, *cp = c & 0x07;
  } else {
    return 0;
  }
  if (more > text.size() - 1 - i) return 0;
  for (size_t k = 1; k <= more; ++k) {
    const auto d = static_cast<unsigned char>(text[i + k]);
    if ((d & 0xc0) != 0x80) return 0;
    *cp = (*cp << 6) | (d & 0x3f);
  }
  if ((more == 2 && (*cp < 0x800 || (*cp >= 0xd800 && *cp <= 0xdfff))) ||
      (more == 3 && (*cp < 0x10000 || *cp > 0x10ffff))) {
    return 0;
  }
  return more + 1;
}

bool IsControl(uint32_t cp) { return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f); }

}  // namespace

base::Status CheckFreeText(std::string_view field, std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    uint32_t cp = 0;
    const size_t length = DecodeOne(text, i, &cp);
    if (length == 0) {
      return base::InvalidArgumentError(std::string(field) + " is not UTF-8 text (at byte " +
                                        std::to_string(i) + ")");
    }
    if (IsControl(cp)) {
      char code[8];
      std::snprintf(code, sizeof(code), "U+%04X", static_cast<unsigned>(cp));
      return base::InvalidArgumentError(std::string(field) + " contains a control character (" +
                                        code + ") at byte " + std::to_string(i));
    }
    i += length;
  }
  return base::OkStatus();
}

}  // namespace otpd::service
