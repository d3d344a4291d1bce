// Fuzzes the otpauth:// key URI parser (tokenio/otpauth.h). An accepted URI must satisfy the
// header's promises, format again, and parse back to the same key.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "tokenio/otpauth.h"

using otpd::fuzz::Check;
namespace tokenio = otpd::tokenio;

extern "C" int OTPD_FUZZ_ENTRY(const uint8_t* data, size_t size) {
  std::string_view uri(reinterpret_cast<const char*>(data), size);
  auto key = tokenio::ParseOtpauthUri(uri);
  if (!key.ok()) {
    Check(!key.status().message().empty());
    return 0;
  }
  Check(!key->account.empty());
  Check(key->secret.size() >= 16);
  Check(key->params.Validate().ok());
  // Formatting may refuse what parsing accepted (':' in an account that came from a parameter
  // escape); when it does not, the result must parse to the same key.
  auto text = tokenio::FormatOtpauthUri(*key);
  if (!text.ok()) return 0;
  auto again = tokenio::ParseOtpauthUri(text->view());
  Check(again.ok());
  Check(again->account == key->account && again->issuer == key->issuer);
  Check(again->secret.view() == key->secret.view());
  Check(again->params.type == key->params.type && again->params.digits == key->params.digits &&
        again->params.algorithm == key->params.algorithm);
  // period means something for TOTP only and counter for HOTP only; a URI may carry the other
  // one too, and formatting leaves it out.
  if (key->params.type == otpd::engine::OtpType::kTotp) {
    Check(again->params.period == key->params.period);
  } else {
    Check(again->counter == key->counter);
  }
  return 0;
}
