#include "tokenio/internal/record_checker.h"

#include <string>
#include <utility>

#include "tokenio/internal/csv_reader.h"
#include "tokenio/internal/text.h"

namespace otpd::tokenio::internal {

base::Status CheckSerial(std::string_view serial) {
  if (serial.empty()) return base::InvalidArgumentError("serial number is empty");
  if (serial.size() > kMaxSerialLength) {
    return base::InvalidArgumentError("serial number is longer than " +
                                      std::to_string(kMaxSerialLength) + " characters");
  }
  if (serial.front() == ' ' || serial.back() == ' ') {
    return base::InvalidArgumentError("serial number has leading or trailing spaces");
  }
  for (char c : serial) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      return base::InvalidArgumentError("serial number must be printable ASCII");
    }
  }
  return base::OkStatus();
}

namespace {

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsBase32(char c) { return IsUpper(c) || IsLower(c) || (c >= '2' && c <= '7'); }
bool IsBase64(char c) { return IsUpper(c) || IsLower(c) || IsDigit(c) || c == '+' || c == '/'; }

template <typename Pred>
bool All(std::string_view text, Pred pred) {
  for (char c : text) {
    if (!pred(c)) return false;
  }
  return true;
}

}  // namespace

bool LooksLikeSeed(std::string_view text) {
  text = Trim(text);
  std::string_view hex = text;
  if (hex.size() > 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex.remove_prefix(2);
  if (hex.size() >= 32 && All(hex, IsHex)) return true;
  std::string_view unpadded = text;
  while (!unpadded.empty() && unpadded.back() == '=') unpadded.remove_suffix(1);
  const bool padded = unpadded.size() != text.size();
  if (unpadded.size() >= 26 && All(unpadded, IsBase32)) return true;
  if (unpadded.size() >= 22 && All(unpadded, IsBase64)) {
    bool upper = false, lower = false, sign = padded;
    for (char c : unpadded) {
      upper = upper || IsUpper(c);
      lower = lower || IsLower(c);
      sign = sign || c == '+' || c == '/';
    }
    return sign || (upper && lower);
  }
  return false;
}

std::string ReportableSerial(std::string_view serial) {
  if (!CheckSerial(serial).ok() || LooksLikeSeed(serial)) return {};
  return std::string(serial);
}

base::Status RecordChecker::Submit(TokenRecord record) {
  auto reject = [&](std::string reason) {
    Reject(record.position, record.serial, std::move(reason));
    return base::OkStatus();
  };
  if (base::Status s = CheckSerial(record.serial); !s.ok()) return reject(std::string(s.message()));
  // A seed-shaped value where text belongs: the columns are shifted, and that value may be this
  // row's seed or another's. Rejected, and never stored where `token list` would show it.
  if (LooksLikeSeed(record.serial)) {
    return reject(
        "serial number looks like a seed (hex, base32 or base64); are the columns "
        "shifted?");
  }
  if (LooksLikeSeed(record.upn.substr(0, record.upn.find('@')))) {
    return reject("upn looks like a seed (hex, base32 or base64); are the columns shifted?");
  }
  if (LooksLikeSeed(record.manufacturer) || LooksLikeSeed(record.model)) {
    return reject(
        "manufacturer or model looks like a seed (hex, base32 or base64); are the "
        "columns shifted?");
  }
  if (base::Status s = record.params.Validate(); !s.ok()) return reject(std::string(s.message()));
  if (record.seed.size() < kMinSeedBytes) {
    return reject("seed is " + std::to_string(record.seed.size() * 8) +
                  " bits; at least 128 bits are required");
  }
  if (record.seed.size() > kMaxSeedBytes) {
    return reject("seed is longer than " + std::to_string(kMaxSeedBytes) + " bytes");
  }
  if (!record.upn.empty()) {
    base::StatusOr<std::string> upn = NormaliseUpn(record.upn);
    if (!upn.ok()) return reject(std::string(upn.status().message()));
    record.upn = std::move(upn).value();
  }
  auto [it, inserted] = first_seen_.emplace(record.serial, record.position);
  if (!inserted) {
    return reject("duplicate serial number; first seen at " + unit_ + " " +
                  std::to_string(it->second));
  }
  size_t hash_size = engine::HashOutputSize(record.params.algorithm);
  if (record.params.algorithm == engine::HashAlgorithm::kSha1 && record.seed.size() < 20) {
    record.warnings.push_back("seed shorter than 160 bits for SHA-1");
  } else if (record.params.algorithm != engine::HashAlgorithm::kSha1 &&
             record.seed.size() < hash_size) {
    record.warnings.push_back("seed shorter than the " + std::to_string(hash_size * 8) +
                              "-bit output of " +
                              std::string(engine::HashAlgorithmName(record.params.algorithm)));
  }
  ++accepted_;
  return sink_->OnToken(std::move(record));
}

void RecordChecker::Reject(size_t position, std::string serial, std::string reason) {
  ++rejected_;
  sink_->OnError(RowError{position, ReportableSerial(serial), std::move(reason)});
}

base::StatusOr<base::SecretBytes> DecodedSeed(base::StatusOr<base::SecretBytes> decoded,
                                              std::string_view field, std::string_view encoding) {
  if (decoded.ok()) return decoded;
  return base::InvalidArgumentError(std::string(field) + " is not valid " + std::string(encoding) +
                                    " (" + std::string(decoded.status().message()) + ")");
}

base::Status RejectMalformedCsv(size_t line, bool terminated, const base::Status& split,
                                std::vector<std::string>* fields, RecordChecker& checker) {
  if (!terminated) {
    WipeFields(fields);
    return TruncatedError(line);
  }
  checker.Reject(line, "", "malformed CSV: " + std::string(split.message()));
  return base::OkStatus();
}

base::Status SubmitCsvRow(
    size_t line, bool terminated, std::vector<std::string>* fields, RecordChecker& checker,
    const std::function<base::Status(const std::vector<std::string>&, TokenRecord*)>& read) {
  TokenRecord record;
  record.position = line;
  base::Status row = read(*fields, &record);
  WipeFields(fields);
  if (!row.ok()) {
    if (!terminated) return TruncatedError(record.position);
    checker.Reject(record.position, record.seed.empty() ? "" : std::move(record.serial),
                   std::string(row.message()));
    return base::OkStatus();
  }
  const size_t rejected = checker.rejected();
  OTPD_RETURN_IF_ERROR(checker.Submit(std::move(record)));
  if (!terminated && checker.rejected() > rejected) return TruncatedError(line);
  return base::OkStatus();
}

}  // namespace otpd::tokenio::internal
