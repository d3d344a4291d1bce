#include "tokenio/entra_csv.h"

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

constexpr std::string_view kHeader[] = {"upn",           "serial number", "secret key",
                                        "time interval", "manufacturer",  "model"};
constexpr std::string_view kHashColumn = "hash function";
constexpr size_t kMaxSecretChars = 128;

// Returns the number of columns (6 or 7) when `fields` is the Entra header, 0 otherwise.
size_t HeaderColumns(const std::vector<std::string>& fields) {
  if (fields.size() != 6 && fields.size() != 7) return 0;
  for (size_t i = 0; i < 6; ++i) {
    if (!internal::EqualsIgnoreCase(Trim(fields[i]), kHeader[i])) return 0;
  }
  if (fields.size() == 7 && !internal::EqualsIgnoreCase(Trim(fields[6]), kHashColumn)) return 0;
  return fields.size();
}

// Fills `record` from the fields of one row; an error is the reason the row is rejected.
base::Status ReadRow(const std::vector<std::string>& fields, size_t columns, TokenRecord* record) {
  if (fields.size() != columns) {
    return base::InvalidArgumentError("expected " + std::to_string(columns) + " columns, found " +
                                      std::to_string(fields.size()));
  }
  record->upn = std::string(Trim(fields[0]));
  record->serial = std::string(Trim(fields[1]));
  record->manufacturer = std::string(Trim(fields[4]));
  record->model = std::string(Trim(fields[5]));

  std::string_view secret = Trim(fields[2]);
  if (secret.empty()) return base::InvalidArgumentError("secret key is empty");
  if (secret.size() > kMaxSecretChars) {
    return base::InvalidArgumentError("secret key is longer than 128 base32 characters");
  }
  OTPD_ASSIGN_OR_RETURN(record->seed,
                        internal::DecodedSeed(base::Base32Decode(secret), "secret key", "base32"));

  std::optional<uint64_t> interval = internal::ParseUint64(fields[3]);
  if (!interval || (*interval != 30 && *interval != 60)) {
    return base::InvalidArgumentError("time interval must be 30 or 60");
  }
  record->params.type = engine::OtpType::kTotp;
  record->params.period = static_cast<uint32_t>(*interval);
  record->params.digits = 6;
  record->params.algorithm = engine::HashAlgorithm::kSha1;
  if (columns == 7 && !Trim(fields[6]).empty()) {
    base::StatusOr<engine::HashAlgorithm> hash = engine::ParseHashAlgorithm(Trim(fields[6]));
    if (!hash.ok()) {
      return base::InvalidArgumentError("hash function must be hmacsha1, hmacsha256 or hmacsha512");
    }
    record->params.algorithm = *hash;
  }
  return base::OkStatus();
}

}  // namespace

base::Status ParseEntraCsv(std::istream& in, TokenSink* sink) {
  if (!in.good()) return base::DataLossError("the token file cannot be read");
  internal::CsvReader reader(in);
  internal::RecordChecker checker("line", sink);
  std::vector<std::string> fields;
  size_t columns = 0;
  while (true) {
    base::StatusOr<bool> more = reader.Next();
    if (!more.ok()) {
      internal::WipeFields(&fields);
      return more.status();
    }
    if (!*more) break;
    if (Trim(reader.record()).empty()) continue;
    base::Status split = internal::SplitCsvRecord(reader.record(), ',', &fields);
    if (columns == 0) {
      columns = split.ok() ? HeaderColumns(fields) : 0;
      if (columns == 0) {
        internal::WipeFields(&fields);
        return base::InvalidArgumentError(
            "line " + std::to_string(reader.line()) +
            ": not an Entra CSV header; expected exactly "
            "'upn,serial number,secret key,time interval,manufacturer,model' "
            "(optionally followed by ',hash function')");
      }
      continue;
    }
    if (!split.ok()) {
      OTPD_RETURN_IF_ERROR(internal::RejectMalformedCsv(reader.line(), reader.terminated(), split,
                                                        &fields, checker));
      continue;
    }
    OTPD_RETURN_IF_ERROR(
        internal::SubmitCsvRow(reader.line(), reader.terminated(), &fields, checker,
                               [columns](const std::vector<std::string>& f, TokenRecord* record) {
                                 return ReadRow(f, columns, record);
                               }));
  }
  if (columns == 0) {
    return base::InvalidArgumentError(
        "the file is empty; expected the Entra CSV header "
        "'upn,serial number,secret key,time interval,manufacturer,model'");
  }
  return base::OkStatus();
}

}  // namespace otpd::tokenio
