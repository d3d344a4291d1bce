#include "tokenio/internal/record_checker.h"

#include <string>
#include <utility>

#include "tokenio/internal/text.h"

namespace otpd::tokenio::internal {

namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 5322 dot-atom characters of the local part.
bool IsLocalChar(char c) {
  return IsAlnum(c) || std::string_view("!#$%&'*+/=?^_`{|}~-.").find(c) != std::string_view::npos;
}

base::Status CheckDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) {
    return base::InvalidArgumentError("upn has an empty or over-long domain");
  }
  size_t labels = 0;
  std::string_view last;
  while (true) {
    size_t dot = domain.find('.');
    std::string_view label = domain.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return base::InvalidArgumentError("upn domain has an invalid label");
    }
    for (char c : label) {
      if (!IsAlnum(c) && c != '-') {
        return base::InvalidArgumentError("upn domain contains an invalid character");
      }
    }
    ++labels;
    last = label;
    if (dot == std::string_view::npos) break;
    domain.remove_prefix(dot + 1);
  }
  if (labels < 2) return base::InvalidArgumentError("upn domain has no top-level domain");
  if (last.size() < 2) return base::InvalidArgumentError("upn top-level domain is too short");
  for (char c : last) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      return base::InvalidArgumentError("upn top-level domain must be letters");
    }
  }
  return base::OkStatus();
}

}  // namespace

base::StatusOr<std::string> NormaliseUpn(std::string_view upn) {
  upn = Trim(upn);
  if (upn.size() > 254) return base::InvalidArgumentError("upn is longer than 254 characters");
  size_t at = upn.find('@');
  if (at == std::string_view::npos || upn.find('@', at + 1) != std::string_view::npos) {
    return base::InvalidArgumentError("upn must be an e-mail address (local@domain.tld)");
  }
  std::string_view local = upn.substr(0, at);
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.' ||
      local.find("..") != std::string_view::npos) {
    return base::InvalidArgumentError("upn has an invalid local part");
  }
  for (char c : local) {
    if (!IsLocalChar(c))
      return base::InvalidArgumentError("upn local part has an invalid character");
  }
  OTPD_RETURN_IF_ERROR(CheckDomain(upn.substr(at + 1)));
  return ToLower(upn);
}

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

base::Status RecordChecker::Submit(TokenRecord record) {
  auto reject = [&](std::string reason) {
    Reject(record.position, record.serial, std::move(reason));
    return base::OkStatus();
  };
  if (base::Status s = CheckSerial(record.serial); !s.ok()) return reject(std::string(s.message()));
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
  sink_->OnError(RowError{position, std::move(serial), std::move(reason)});
}

}  // namespace otpd::tokenio::internal
