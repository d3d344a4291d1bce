// How a Record is laid out in a backend that stores bytes: an 8-byte big-endian version followed by
// the value. The version lives inside the stored value so that it survives restarts and backups.

#ifndef OTPD_STORAGE_INTERNAL_RECORD_CODEC_H_
#define OTPD_STORAGE_INTERNAL_RECORD_CODEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/store.h"

namespace otpd::storage::internal {

inline constexpr size_t kVersionPrefixBytes = 8;

inline void AppendBigEndian64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((v >> shift) & 0xff));
}

inline uint64_t ReadBigEndian64(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

inline std::string EncodeRecord(uint64_t version, std::string_view value) {
  std::string out;
  out.reserve(kVersionPrefixBytes + value.size());
  AppendBigEndian64(&out, version);
  out.append(value);
  return out;
}

// nullopt when `stored` is too short to hold the version prefix (a corrupt record).
inline std::optional<Record> DecodeRecord(std::string_view stored) {
  if (stored.size() < kVersionPrefixBytes) return std::nullopt;
  Record r;
  r.version = ReadBigEndian64(stored);
  r.value.assign(stored.substr(kVersionPrefixBytes));
  return r;
}

// The smallest string greater than every string starting with `prefix`, or nullopt when there is
// none (prefix empty or all 0xff).
inline std::optional<std::string> PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    auto last = static_cast<uint8_t>(s.back());
    if (last != 0xff) {
      s.back() = static_cast<char>(last + 1);
      return s;
    }
    s.pop_back();
  }
  return std::nullopt;
}

}  // namespace otpd::storage::internal

#endif  // OTPD_STORAGE_INTERNAL_RECORD_CODEC_H_
