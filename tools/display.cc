#include "tools/display.h"

#include <algorithm>
#include <ctime>
#include <iostream>
#include <limits>

#include "base/clock.h"

namespace otpd::tools {

std::string Printable(std::string_view text, size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  size_t shown = 0;
  for (char ch : text) {
    if (shown == max) return out + "...";
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f || c == '\\') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
    ++shown;
  }
  return out;
}

std::string PrintablePath(std::string_view path) {
  return Printable(path, std::numeric_limits<size_t>::max());
}

std::string IsoTime(int64_t unix_seconds) {
  if (unix_seconds == 0) return "-";
  return base::FormatIsoTime(unix_seconds);
}

void PrintFields(const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t width = 0;
  for (const auto& [label, value] : fields) width = std::max(width, label.size());
  for (const auto& [label, value] : fields) {
    std::cout << label << ":" << std::string(width - label.size() + 1, ' ') << value << "\n";
  }
}

}  // namespace otpd::tools
