// The proleptic Gregorian calendar in Unix days, and fixed-width decimal fields, for the parsers
// and formatters of dates (base/clock.h's ISO 8601, tokenio's xs:dateTime).
//
// Thread-safety: pure functions.

#ifndef OTPD_BASE_CALENDAR_H_
#define OTPD_BASE_CALENDAR_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace otpd::base {

// Days since 1970-01-01 of year `y`, month `m` (1..12), day `d` (H. Hinnant's days_from_civil).
inline int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// The date `z` days after 1970-01-01 (civil_from_days).
inline void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

// Reads exactly `digits` decimal digits of `text` at `pos` into `out`; false (and `out`
// untouched) when the text is shorter or holds anything else there.
inline bool ReadDigits(std::string_view text, size_t pos, size_t digits, int* out) {
  if (pos + digits > text.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + digits; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    v = v * 10 + (text[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace otpd::base

#endif  // OTPD_BASE_CALENDAR_H_
