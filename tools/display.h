// Text for the administrator's terminal: values that come from files or the command line are
// made printable before they reach a message, and times are shown as ISO 8601 UTC.

#ifndef OTPD_TOOLS_DISPLAY_H_
#define OTPD_TOOLS_DISPLAY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otpd::tools {

// At most 40 characters of a value read from a file (a serial, say).
inline constexpr size_t kMaxShownValue = 40;

// `text` cut to `max` characters (then "..." is appended) with every byte outside printable
// ASCII, and the backslash, written as \xNN, so a corrupt or hostile file cannot flood a
// terminal or forge a message line. Never given secrets.
std::string Printable(std::string_view text, size_t max = kMaxShownValue);

// A path the administrator gave, escaped as Printable() does but not cut.
std::string PrintablePath(std::string_view path);

// "2024-05-01T12:00:00Z"; "-" for 0 (never set).
std::string IsoTime(int64_t unix_seconds);

// Prints "label: value" lines with the values aligned one column after the longest label, as the
// `show` commands print one record. Values are printed as given (make them printable first).
void PrintFields(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_DISPLAY_H_
