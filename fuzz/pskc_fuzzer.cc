// Fuzzes the PSKC reader (tokenio/pskc.h). FUZZ_PSKC_ENCRYPTED gives the reader the pre-shared
// key and the password of the fixtures in fixtures/tokenio (psk_aes128.hex, password.txt), so the
// decryption and MAC paths are reached; without it the reader has no secrets (plain files).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

#include "base/codec.h"
#include "fuzz/fuzz_check.h"
#include "tokenio/pskc.h"

namespace base = otpd::base;
namespace tokenio = otpd::tokenio;

namespace {

#ifdef FUZZ_PSKC_ENCRYPTED
// PBKDF2 runs IterationCount rounds (the reader allows up to 10 million, a few seconds): inputs
// asking for more than this are skipped so that a fuzzing run spends its time on parsing.
constexpr unsigned long kMaxFuzzIterations = 20000;

bool TooManyIterations(std::string_view text) {
  constexpr std::string_view kTag = "IterationCount>";
  for (size_t at = text.find(kTag); at != std::string_view::npos; at = text.find(kTag, at + 1)) {
    size_t i = at + kTag.size();
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t')) ++i;
    size_t digits = 0;
    unsigned long value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && digits < 12) {
      value = value * 10 + static_cast<unsigned long>(text[i] - '0');
      ++i;
      ++digits;
    }
    if (digits >= 12 || value > kMaxFuzzIterations) return true;
  }
  return false;
}
#endif

}  // namespace

extern "C" int OTPD_FUZZ_ENTRY(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  tokenio::PskcSecrets secrets;
  secrets.now_unix = 1767225600;  // 2026-01-01
#ifdef FUZZ_PSKC_ENCRYPTED
  if (TooManyIterations(text)) return 0;
  auto psk = base::HexDecode("12345678901234567890123456789012");
  otpd::fuzz::Check(psk.ok());
  secrets.pre_shared_key = std::move(*psk);
  secrets.password = base::SecretBytes::FromString("qwerty");
#endif
  std::istringstream in(text);
  otpd::fuzz::CheckingSink sink;
  (void)tokenio::ParsePskc(in, secrets, &sink);
  return 0;
}
