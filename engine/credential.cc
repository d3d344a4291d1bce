#include "engine/credential.h"

namespace otpd::engine {

base::StatusOr<Credential> Credential::Create(const OtpParams& params,
                                              std::span<const uint8_t> seed) {
  OTPD_RETURN_IF_ERROR(params.Validate());
  if (seed.empty()) return base::InvalidArgumentError("empty seed");
  OTPD_ASSIGN_OR_RETURN(PreparedKey key, PreparedKey::Create(params.algorithm, seed));
  return Credential(params, std::move(key));
}

uint32_t Credential::CodeAt(uint64_t counter_or_step) const {
  return key_.Truncated(counter_or_step) % DigitsModulus(params_.digits);
}

uint32_t Credential::CodeAt(uint64_t counter_or_step, PreparedKey::Scratch* scratch) const {
  return key_.Truncated(counter_or_step, scratch) % DigitsModulus(params_.digits);
}

std::string Credential::FormatCodeAt(uint64_t counter_or_step) const {
  return FormatCode(CodeAt(counter_or_step), params_.digits);
}

std::string Credential::TotpAt(int64_t unix_seconds) const {
  return FormatCodeAt(TimeStep(params_, unix_seconds));
}

uint32_t DigitsModulus(int digits) {
  static constexpr uint32_t kPowers[] = {1,      10,      100,      1000,      10000,
                                         100000, 1000000, 10000000, 100000000, 1000000000};
  if (digits < 0 || digits > 9) return 1000000;
  return kPowers[digits];
}

std::optional<uint32_t> ParseCode(std::string_view code, int digits) {
  if (digits < kMinDigits || digits > kMaxDigits) return std::nullopt;
  if (code.size() != static_cast<size_t>(digits)) return std::nullopt;
  uint32_t value = 0;
  for (char c : code) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  return value;
}

std::string FormatCode(uint32_t value, int digits) {
  std::string out(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0 && value > 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out;
}

}  // namespace otpd::engine
