#include "base/codec.h"

#include <array>
#include <string>

namespace otpd::base {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase32Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr int8_t kInvalid = -1;
constexpr int8_t kSkip = -2;
constexpr int8_t kPad = -3;

using Table = std::array<int8_t, 256>;

constexpr Table MakeBase32Table() {
  Table t{};
  for (auto& v : t) v = kInvalid;
  for (int i = 0; i < 32; ++i) {
    unsigned char c = static_cast<unsigned char>(kBase32Alphabet[i]);
    t[c] = static_cast<int8_t>(i);
    if (c >= 'A' && c <= 'Z') t[c - 'A' + 'a'] = static_cast<int8_t>(i);
  }
  t[' '] = kSkip;
  t['='] = kPad;
  return t;
}

constexpr Table MakeBase64Table() {
  Table t{};
  for (auto& v : t) v = kInvalid;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kBase64Alphabet[i])] = int8_t(i);
  for (char c : {' ', '\t', '\r', '\n'}) t[static_cast<unsigned char>(c)] = kSkip;
  t['='] = kPad;
  return t;
}

constexpr Table kBase32Table = MakeBase32Table();
constexpr Table kBase64Table = MakeBase64Table();

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PositionMessage(std::string_view what, size_t pos) {
  return std::string(what) + " at position " + std::to_string(pos + 1);
}

// Decodes `text` in groups of `bits`-bit symbols, as base32 (5) and base64 (6) both work. Only
// whole bytes are kept; leftover bits are dropped as RFC 4648 decoders do.
StatusOr<SecretBytes> DecodeRadix(std::string_view text, const Table& table, int bits,
                                  std::string_view name) {
  SecretBytes out(text.size() * bits / 8 + 1);
  size_t n = 0;
  uint32_t acc = 0;
  int acc_bits = 0;
  size_t symbols = 0;
  bool padding = false;
  for (size_t i = 0; i < text.size(); ++i) {
    int8_t v = table[static_cast<unsigned char>(text[i])];
    if (v == kSkip) continue;
    if (v == kPad) {
      padding = true;
      continue;
    }
    if (v == kInvalid) {
      return InvalidArgumentError(
          PositionMessage(std::string("invalid ") + std::string(name) + " character", i));
    }
    if (padding) {
      return InvalidArgumentError(
          PositionMessage(std::string(name) + " data after '=' padding", i));
    }
    acc = (acc << bits) | static_cast<uint32_t>(v);
    acc_bits += bits;
    ++symbols;
    if (acc_bits >= 8) {
      acc_bits -= 8;
      out.data()[n++] = static_cast<uint8_t>(acc >> acc_bits);
      acc &= (1u << acc_bits) - 1;
    }
  }
  Wipe(&acc, sizeof(acc));
  if (symbols == 0)
    return InvalidArgumentError(std::string("empty ") + std::string(name) + " value");
  // A trailing group that cannot hold a whole byte is something no encoder writes.
  if (acc_bits >= bits) {
    return InvalidArgumentError(std::string(name) + " value has an impossible length (" +
                                std::to_string(symbols) + " symbols)");
  }
  out.Truncate(n);
  return out;
}

}  // namespace

std::string HexEncode(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kHexDigits[b >> 4]);
    out.push_back(kHexDigits[b & 0xf]);
  }
  return out;
}

StatusOr<SecretBytes> HexDecode(std::string_view text) {
  if (text.empty()) return InvalidArgumentError("empty hex value");
  if (text.size() % 2 != 0) {
    return InvalidArgumentError("hex value has an odd number of digits (" +
                                std::to_string(text.size()) + ")");
  }
  SecretBytes out(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    int hi = HexValue(text[i]);
    int lo = HexValue(text[i + 1]);
    if (hi < 0) return InvalidArgumentError(PositionMessage("invalid hex character", i));
    if (lo < 0) return InvalidArgumentError(PositionMessage("invalid hex character", i + 1));
    out.data()[i / 2] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string Base32Encode(std::span<const uint8_t> bytes, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 4) / 5 * 8);
  uint32_t acc = 0;
  int acc_bits = 0;
  for (uint8_t b : bytes) {
    acc = (acc << 8) | b;
    acc_bits += 8;
    while (acc_bits >= 5) {
      acc_bits -= 5;
      out.push_back(kBase32Alphabet[(acc >> acc_bits) & 31]);
    }
    acc &= (1u << acc_bits) - 1;
  }
  if (acc_bits > 0) out.push_back(kBase32Alphabet[(acc << (5 - acc_bits)) & 31]);
  if (pad) {
    while (out.size() % 8 != 0) out.push_back('=');
  }
  Wipe(&acc, sizeof(acc));
  return out;
}

StatusOr<SecretBytes> Base32Decode(std::string_view text) {
  return DecodeRadix(text, kBase32Table, 5, "base32");
}

std::string Base64Encode(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = uint32_t(bytes[i]) << 16 | uint32_t(bytes[i + 1]) << 8 | bytes[i + 2];
    out.push_back(kBase64Alphabet[v >> 18]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(kBase64Alphabet[(v >> 6) & 63]);
    out.push_back(kBase64Alphabet[v & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t(bytes[i]) << 16;
    if (rest == 2) v |= uint32_t(bytes[i + 1]) << 8;
    out.push_back(kBase64Alphabet[v >> 18]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kBase64Alphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

StatusOr<SecretBytes> Base64Decode(std::string_view text) {
  return DecodeRadix(text, kBase64Table, 6, "base64");
}

}  // namespace otpd::base
