#include "base/clock.h"

#include <cstdio>
#include <ctime>

#include "base/calendar.h"

namespace otpd::base {

RealClock* RealClock::Get() {
  static RealClock clock;
  return &clock;
}

int64_t RealClock::NowUnixSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t RealClock::NowUnixMicros() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::chrono::steady_clock::time_point RealClock::SteadyNow() const {
  return std::chrono::steady_clock::now();
}

namespace {

std::string FormatUtc(int64_t unix_seconds, int64_t micros, bool with_micros) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(unix_seconds);
  char buf[48];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  if (with_micros) {
    std::snprintf(buf + n, sizeof buf - n, ".%06lldZ", static_cast<long long>(micros));
  } else {
    std::snprintf(buf + n, sizeof buf - n, "Z");
  }
  return buf;
}

}  // namespace

std::string FormatIsoTime(int64_t unix_seconds) { return FormatUtc(unix_seconds, 0, false); }

std::string FormatIsoTimeMicros(int64_t unix_micros) {
  int64_t seconds = unix_micros / 1'000'000;
  int64_t micros = unix_micros % 1'000'000;
  if (micros < 0) {
    micros += 1'000'000;
    --seconds;
  }
  return FormatUtc(seconds, micros, true);
}

StatusOr<int64_t> ParseIsoTimeMicros(std::string_view text) {
  auto bad = [] {
    return InvalidArgumentError("expected an ISO 8601 time like 2026-01-31T12:00:00Z");
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadDigits(text, 0, 4, &year) || text.size() < 10 || text[4] != '-' ||
      !ReadDigits(text, 5, 2, &month) || text[7] != '-' || !ReadDigits(text, 8, 2, &day)) {
    return bad();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31) return bad();
  int64_t micros = 0;
  int64_t offset_seconds = 0;
  if (text.size() > 10) {
    if ((text[10] != 'T' && text[10] != 't') || !ReadDigits(text, 11, 2, &hour) ||
        text.size() < 19 || text[13] != ':' || !ReadDigits(text, 14, 2, &minute) ||
        text[16] != ':' || !ReadDigits(text, 17, 2, &second)) {
      return bad();
    }
    if (hour > 23 || minute > 59 || second > 60) return bad();
    size_t pos = 19;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      int64_t scale = 100'000;
      const size_t start = pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        micros += scale * (text[pos] - '0');
        scale /= 10;
        ++pos;
      }
      if (pos == start) return bad();
    }
    std::string_view zone = text.substr(pos);
    if (zone == "Z" || zone == "z") {
      offset_seconds = 0;
    } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
      int oh = 0, om = 0;
      if (!ReadDigits(zone, 1, 2, &oh) || !ReadDigits(zone, 4, 2, &om) || oh > 23 || om > 59)
        return bad();
      offset_seconds = (oh * 3600 + om * 60) * (zone[0] == '+' ? 1 : -1);
    } else {
      return bad();
    }
  }
  const int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  return seconds * 1'000'000 + micros;
}

}  // namespace otpd::base
