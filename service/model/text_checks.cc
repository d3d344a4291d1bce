#include "service/model/text_checks.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <string>

#include "tokenio/upn.h"

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

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
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

namespace {

// The length of the E.164 country code `digits` starts with: 1 and 7 stand alone, the two-digit
// codes ITU-T E.164 assigns are listed, every other code has three digits.
size_t CountryCodeLength(std::string_view digits) {
  if (digits.empty()) return 0;
  if (digits[0] == '1' || digits[0] == '7') return 1;
  static constexpr std::string_view kTwoDigits[] = {
      "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
      "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
      "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98"};
  for (std::string_view two : kTwoDigits) {
    if (digits.starts_with(two)) return 2;
  }
  return 3;
}

// The accepted form of a number written another common way ("+14255551234", "+1 (425)
// 555-1234", "+44 20 7946 0000"), or "" when there is none to offer.
std::string SuggestedPhoneNumber(std::string_view number) {
  if (number.empty() || number[0] != '+' || number.size() > 60) return "";
  std::string digits, extension;
  std::string* into = &digits;
  for (char c : number.substr(1)) {
    if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
      into->push_back(c);
    } else if ((c == 'x' || c == 'X') && into == &digits) {
      into = &extension;
    } else if (c != ' ' && c != '-' && c != '(' && c != ')' && c != '.') {
      return "";
    }
  }
  const size_t cc = CountryCodeLength(digits);
  if (cc == 0 || digits.size() <= cc) return "";
  std::string out = "+" + digits.substr(0, cc) + " " + digits.substr(cc);
  if (!extension.empty()) out += "x" + extension;
  return out;
}

}  // namespace

base::Status CheckPhoneNumber(std::string_view number) {
  if (CheckPhoneNumberForm(number)) return base::OkStatus();
  std::string message =
      "phoneNumber must be written \"+{country code} {number}\", with an optional "
      "\"x{extension}\", e.g. \"+1 4255551234\" or \"+1 5555551234x123\"";
  // The suggestion is made of the caller's own digits: it tells them nothing they did not send.
  if (const std::string suggested = SuggestedPhoneNumber(number);
      !suggested.empty() && CheckPhoneNumberForm(suggested)) {
    message += "; did you mean \"" + suggested + "\"?";
  }
  return base::InvalidArgumentError(message);
}

bool CheckPhoneNumberForm(std::string_view number) {
  if (number.size() < 7 || number.size() > 40 || number[0] != '+') return false;
  const size_t space = number.find(' ');
  if (space == std::string_view::npos) return false;
  const std::string_view country = number.substr(1, space - 1);
  std::string_view rest = number.substr(space + 1);
  if (size_t x = rest.find('x'); x != std::string_view::npos) {
    const std::string_view extension = rest.substr(x + 1);
    rest = rest.substr(0, x);
    if (!AllDigits(extension) || extension.size() > 10) return false;
  }
  if (!AllDigits(country) || country.size() > 4 || country[0] == '0') return false;
  return AllDigits(rest) && rest.size() >= 4 && rest.size() <= 15;
}

base::StatusOr<std::string> CheckEmailAddress(std::string_view address) {
  auto normalised = tokenio::NormaliseUpn(address);
  if (!normalised.ok()) {
    return base::InvalidArgumentError("emailAddress is not an address like name@example.com");
  }
  return normalised;
}

}  // namespace otpd::service
