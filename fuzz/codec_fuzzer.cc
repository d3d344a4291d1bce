// Fuzzes the hex, base32 and base64 decoders (base/codec.h): decoding never crashes, and what
// decodes re-encodes to text that decodes to the same bytes. The encoders are checked on the raw
// input too.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/codec.h"
#include "fuzz/fuzz_check.h"

using otpd::fuzz::Check;
namespace base = otpd::base;

namespace {

template <typename Decode, typename Encode>
void RoundTrip(std::string_view text, std::span<const uint8_t> raw, Decode decode, Encode encode) {
  auto decoded = decode(text);
  if (decoded.ok()) {
    auto again = decode(encode(decoded->span()));
    Check(again.ok() && again->view() == decoded->view());
  }
  if (!raw.empty()) {
    auto back = decode(encode(raw));
    Check(back.ok() && back->span().size() == raw.size() &&
          std::equal(raw.begin(), raw.end(), back->span().begin()));
  }
}

}  // namespace

extern "C" int OTPD_FUZZ_ENTRY(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::span<const uint8_t> raw(data, size);
  RoundTrip(text, raw, base::HexDecode, base::HexEncode);
  RoundTrip(text, raw, base::Base32Decode,
            [](std::span<const uint8_t> b) { return base::Base32Encode(b, true); });
  RoundTrip(text, raw, base::Base32Decode,
            [](std::span<const uint8_t> b) { return base::Base32Encode(b, false); });
  RoundTrip(text, raw, base::Base64Decode, base::Base64Encode);
  return 0;
}
