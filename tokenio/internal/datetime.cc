#include "tokenio/internal/datetime.h"

#include <cstdio>

#include "base/calendar.h"
#include "tokenio/internal/text.h"

namespace otpd::tokenio::internal {

namespace {

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

base::StatusOr<int64_t> ParseXsDateTime(std::string_view text) {
  text = Trim(text);
  auto bad = [] { return base::InvalidArgumentError("not an xs:dateTime (YYYY-MM-DDThh:mm:ssZ)"); };
  int year, month, day, hour, minute, second;
  if (!base::ReadDigits(text, 0, 4, &year) || text.size() < 19 || text[4] != '-' ||
      !base::ReadDigits(text, 5, 2, &month) || text[7] != '-' ||
      !base::ReadDigits(text, 8, 2, &day) || text[10] != 'T' ||
      !base::ReadDigits(text, 11, 2, &hour) || text[13] != ':' ||
      !base::ReadDigits(text, 14, 2, &minute) || text[16] != ':' ||
      !base::ReadDigits(text, 17, 2, &second)) {
    return bad();
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 ||
      day > kDays[month - 1] + (month == 2 && IsLeap(year) ? 1 : 0) || hour > 24 || minute > 59 ||
      second > 60 || (hour == 24 && (minute != 0 || second != 0))) {
    return bad();
  }
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == start) return bad();
  }
  int64_t offset = 0;
  if (pos < text.size()) {
    if (text[pos] == 'Z' && pos + 1 == text.size()) {
      ++pos;
    } else if ((text[pos] == '+' || text[pos] == '-') && pos + 6 == text.size()) {
      int oh, om;
      if (!base::ReadDigits(text, pos + 1, 2, &oh) || text[pos + 3] != ':' ||
          !base::ReadDigits(text, pos + 4, 2, &om) || oh > 14 || om > 59) {
        return bad();
      }
      offset = (oh * 3600 + om * 60) * (text[pos] == '-' ? -1 : 1);
      pos = text.size();
    } else {
      return bad();
    }
  }
  int64_t days =
      base::DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  // A leap second is folded into the next second.
  return days * 86400 + hour * 3600 + minute * 60 + second - offset;
}

std::string FormatXsDateTime(int64_t unix_seconds) {
  int64_t days = unix_seconds / 86400;
  int64_t rem = unix_seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t y;
  unsigned m, d;
  base::CivilFromDays(days, &y, &m, &d);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
  return buf;
}

}  // namespace otpd::tokenio::internal
