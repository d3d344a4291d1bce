#include "engine/otp_params.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace otpd::engine {

base::Status OtpParams::Validate() const {
  if (digits < kMinDigits || digits > kMaxDigits) {
    return base::InvalidArgumentError("digits must be 6..9, got " + std::to_string(digits));
  }
  if (type == OtpType::kTotp && period == 0) {
    return base::InvalidArgumentError("TOTP period must be a positive number of seconds");
  }
  if (algorithm != HashAlgorithm::kSha1 && algorithm != HashAlgorithm::kSha256 &&
      algorithm != HashAlgorithm::kSha512) {
    return base::InvalidArgumentError("unknown hash algorithm");
  }
  if (type != OtpType::kHotp && type != OtpType::kTotp) {
    return base::InvalidArgumentError("unknown OTP type");
  }
  return base::OkStatus();
}

std::string_view OtpTypeName(OtpType type) { return type == OtpType::kHotp ? "hotp" : "totp"; }

namespace {

std::string Normalise(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '-' || c == '_' || c == ' ') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

}  // namespace

base::StatusOr<OtpType> ParseOtpType(std::string_view name) {
  std::string n = Normalise(name);
  if (n == "hotp") return OtpType::kHotp;
  if (n == "totp") return OtpType::kTotp;
  return base::InvalidArgumentError("unknown OTP type (expected hotp or totp)");
}

std::string_view HashAlgorithmName(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::kSha1:
      return "SHA1";
    case HashAlgorithm::kSha256:
      return "SHA256";
    case HashAlgorithm::kSha512:
      return "SHA512";
  }
  return "SHA1";
}

base::StatusOr<HashAlgorithm> ParseHashAlgorithm(std::string_view name) {
  std::string n = Normalise(name);
  if (n.rfind("hmac", 0) == 0) n.erase(0, 4);
  if (n == "sha1") return HashAlgorithm::kSha1;
  if (n == "sha256") return HashAlgorithm::kSha256;
  if (n == "sha512") return HashAlgorithm::kSha512;
  return base::InvalidArgumentError("unknown hash algorithm (expected SHA1, SHA256 or SHA512)");
}

size_t HashOutputSize(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::kSha1:
      return 20;
    case HashAlgorithm::kSha256:
      return 32;
    case HashAlgorithm::kSha512:
      return 64;
  }
  return 20;
}

uint64_t TimeStep(const OtpParams& params, int64_t unix_seconds) {
  if (unix_seconds <= params.t0 || params.period == 0) return 0;
  return static_cast<uint64_t>(unix_seconds - params.t0) / params.period;
}

}  // namespace otpd::engine
