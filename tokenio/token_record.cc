#include "tokenio/token_record.h"

#include <string>
#include <vector>

#include "tokenio/internal/csv_reader.h"
#include "tokenio/internal/text.h"

namespace otpd::tokenio {

std::string_view FormatName(Format format) {
  switch (format) {
    case Format::kEntraCsv:
      return "entra-csv";
    case Format::kOathCsv:
      return "oath-csv";
    case Format::kPskc:
      return "pskc";
  }
  return "unknown";
}

base::StatusOr<Format> ParseFormatName(std::string_view name) {
  for (Format f : {Format::kEntraCsv, Format::kOathCsv, Format::kPskc}) {
    if (internal::EqualsIgnoreCase(internal::Trim(name), FormatName(f))) return f;
  }
  return base::InvalidArgumentError(
      "unknown token file format (expected entra-csv, oath-csv or pskc)");
}

namespace {

// The next line of `text` (without its end of line), advancing `text` past it.
std::string_view NextLine(std::string_view* text) {
  size_t nl = text->find('\n');
  std::string_view line = text->substr(0, nl);
  text->remove_prefix(nl == std::string_view::npos ? text->size() : nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool IsEntraHeader(std::string_view line) {
  std::vector<std::string> fields;
  if (!internal::SplitCsvRecord(line, ',', &fields).ok()) return false;
  static constexpr std::string_view kNames[] = {"upn",           "serial number", "secret key",
                                                "time interval", "manufacturer",  "model"};
  if (fields.size() != 6 && fields.size() != 7) return false;
  for (size_t i = 0; i < 6; ++i) {
    if (!internal::EqualsIgnoreCase(internal::Trim(fields[i]), kNames[i])) return false;
  }
  return fields.size() == 6 ||
         internal::EqualsIgnoreCase(internal::Trim(fields[6]), "hash function");
}

// "serial<sep>hex<sep>hotp|totp..." or an OATH header line ("serial..." / third column "type").
bool LooksLikeOath(std::string_view line) {
  std::vector<std::string> fields;
  bool result = false;
  if (internal::SplitCsvRecord(line, internal::DetectSeparator(line), &fields).ok() &&
      fields.size() >= 3 && fields.size() <= 6) {
    std::string type = internal::ToLower(internal::Trim(fields[2]));
    if (type == "hotp" || type == "totp") {
      std::string_view seed = internal::Trim(fields[1]);
      result = !seed.empty();
      for (char c : seed) {
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                   c == 'x' || c == 'X';
        result = result && hex;
      }
    } else {
      result =
          type == "type" || internal::ToLower(internal::Trim(fields[0])).rfind("serial", 0) == 0;
    }
  }
  internal::WipeFields(&fields);
  return result;
}

}  // namespace

base::StatusOr<Format> DetectFormat(std::string_view head) {
  std::string_view text = internal::StripBom(head);
  std::string_view trimmed = internal::Trim(text);
  if (trimmed.empty()) return base::InvalidArgumentError("the file is empty");
  if (trimmed.front() == '<') return Format::kPskc;
  bool first = true;
  bool header_seen = false;
  while (!text.empty()) {
    std::string_view line = NextLine(&text);
    std::string_view t = internal::Trim(line);
    if (t.empty() || t.front() == '#') continue;
    // A first line starting with "upn" is an Entra header, right or wrong: ParseEntraCsv then
    // says exactly what is wrong with it.
    if (first && (IsEntraHeader(t) || internal::ToLower(t.substr(0, 4)) == "upn,")) {
      return Format::kEntraCsv;
    }
    first = false;
    // An OATH header alone is not proof: the data line after it decides.
    if (!LooksLikeOath(t)) break;
    std::vector<std::string> fields;
    (void)internal::SplitCsvRecord(t, internal::DetectSeparator(t), &fields);
    std::string type = fields.size() >= 3 ? internal::ToLower(internal::Trim(fields[2])) : "";
    internal::WipeFields(&fields);
    if (type == "hotp" || type == "totp") return Format::kOathCsv;
    if (header_seen) break;
    header_seen = true;
  }
  return base::InvalidArgumentError(
      "unrecognised token file format: not PSKC (XML), no Entra CSV header and no OATH CSV "
      "line (serial,hex seed,hotp|totp,...)");
}

}  // namespace otpd::tokenio
