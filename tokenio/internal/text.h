// Small text helpers shared by the token file parsers.

#ifndef OTPD_TOKENIO_INTERNAL_TEXT_H_
#define OTPD_TOKENIO_INTERNAL_TEXT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace otpd::tokenio::internal {

// Without leading and trailing spaces, tabs, CR and LF.
std::string_view Trim(std::string_view text);
// ASCII lower case.
std::string ToLower(std::string_view text);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// Decimal integers with nothing else around them (after Trim); nullopt on anything else,
// including overflow.
std::optional<uint64_t> ParseUint64(std::string_view text);
std::optional<int64_t> ParseInt64(std::string_view text);

// The UTF-8 byte order mark, which spreadsheet programs put at the start of CSV files.
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
std::string_view StripBom(std::string_view text);

}  // namespace otpd::tokenio::internal

#endif  // OTPD_TOKENIO_INTERNAL_TEXT_H_
