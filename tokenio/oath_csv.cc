#include "tokenio/oath_csv.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/codec.h"
#include "tokenio/internal/csv_reader.h"
#include "tokenio/internal/record_checker.h"
#include "tokenio/internal/text.h"

namespace otpd::tokenio {

namespace {

using internal::Trim;

constexpr uint64_t kMaxPeriod = 86400;

bool IsHeader(const std::vector<std::string>& fields) {
  if (fields.size() < 3) return false;
  std::string type = internal::ToLower(Trim(fields[2]));
  if (type == "hotp" || type == "totp") return false;
  return internal::ToLower(Trim(fields[0])).rfind("serial", 0) == 0 || type == "type";
}

base::Status ReadSeed(std::string_view text, TokenRecord* record) {
  text = Trim(text);
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
  }
  if (text.empty()) return base::InvalidArgumentError("seed is empty");
  OTPD_ASSIGN_OR_RETURN(record->seed, internal::DecodedSeed(base::HexDecode(text), "seed", "hex"));
  return base::OkStatus();
}

// Fills `record` from one row; an error is the reason the row is rejected.
base::Status ReadRow(const std::vector<std::string>& fields, TokenRecord* record) {
  if (fields.size() < 3 || fields.size() > 6) {
    return base::InvalidArgumentError("expected 3 to 6 columns, found " +
                                      std::to_string(fields.size()));
  }
  record->serial = std::string(Trim(fields[0]));
  OTPD_RETURN_IF_ERROR(ReadSeed(fields[1], record));
  base::StatusOr<engine::OtpType> type = engine::ParseOtpType(Trim(fields[2]));
  if (!type.ok()) {
    return base::InvalidArgumentError("type must be hotp or totp");
  }
  record->params.type = *type;
  if (fields.size() >= 4 && !Trim(fields[3]).empty()) {
    std::optional<uint64_t> digits = internal::ParseUint64(fields[3]);
    if (!digits || *digits < 6 || *digits > 9) {
      return base::InvalidArgumentError("digits must be 6..9");
    }
    record->params.digits = static_cast<int>(*digits);
  }
  if (fields.size() >= 5 && !Trim(fields[4]).empty()) {
    std::optional<uint64_t> value = internal::ParseUint64(fields[4]);
    if (*type == engine::OtpType::kTotp) {
      if (!value || *value == 0 || *value > kMaxPeriod) {
        return base::InvalidArgumentError("time step must be 1..86400 seconds");
      }
      record->params.period = static_cast<uint32_t>(*value);
    } else {
      if (!value) return base::InvalidArgumentError("counter must be a non-negative integer");
      record->counter = *value;
    }
  }
  if (fields.size() == 6 && !Trim(fields[5]).empty()) {
    base::StatusOr<engine::HashAlgorithm> hash = engine::ParseHashAlgorithm(Trim(fields[5]));
    if (!hash.ok()) {
      return base::InvalidArgumentError("algorithm must be SHA1, SHA256 or SHA512");
    }
    record->params.algorithm = *hash;
  }
  return base::OkStatus();
}

// A file of another format, named as such rather than its first line reported as a bad row.
base::Status NotAnotherFormat(std::string_view first_line) {
  base::StatusOr<Format> format = DetectFormat(first_line);
  if (!format.ok() || *format == Format::kOathCsv) return base::OkStatus();
  const bool entra = *format == Format::kEntraCsv;
  return base::InvalidArgumentError(
      std::string("the file looks like ") + (entra ? "an Entra CSV" : "PSKC") +
      (entra ? " (its first line is an Entra header)" : " (XML)") +
      ", not OATH CSV: import it as " + std::string(FormatName(*format)) +
      ", or let the format be detected");
}

}  // namespace

base::Status ParseOathCsv(std::istream& in, TokenSink* sink) {
  if (!in.good()) return base::DataLossError("the token file cannot be read");
  internal::CsvReader reader(in, '#');
  internal::RecordChecker checker("line", sink);
  std::vector<std::string> fields;
  char separator = '\0';
  while (true) {
    base::StatusOr<bool> more = reader.Next();
    if (!more.ok()) return more.status();
    if (!*more) break;
    std::string_view line = Trim(reader.record());
    if (line.empty() || line.front() == '#') continue;
    bool first = separator == '\0';
    if (first) {
      OTPD_RETURN_IF_ERROR(NotAnotherFormat(line));
      separator = internal::DetectSeparator(line);
    }
    base::Status split = internal::SplitCsvRecord(reader.record(), separator, &fields);
    if (!split.ok()) {
      OTPD_RETURN_IF_ERROR(internal::RejectMalformedCsv(reader.line(), reader.terminated(), split,
                                                        &fields, checker));
      continue;
    }
    if (first && IsHeader(fields)) {
      internal::WipeFields(&fields);
      continue;
    }
    OTPD_RETURN_IF_ERROR(
        internal::SubmitCsvRow(reader.line(), reader.terminated(), &fields, checker, ReadRow));
  }
  return base::OkStatus();
}

}  // namespace otpd::tokenio
