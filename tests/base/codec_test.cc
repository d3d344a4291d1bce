#include "base/codec.h"

#include <gtest/gtest.h>

#include <string>

namespace otpd::base {
namespace {

std::string Str(const SecretBytes& s) { return std::string(s.view()); }

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(HexTest, RoundTrip) {
  EXPECT_EQ(HexEncode(Bytes(std::string_view("\x00\x01\xab\xff", 4))), "0001abff");
  auto d = HexDecode("0001ABff");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(HexEncode(d->span()), "0001abff");
}

TEST(HexTest, RejectsOddLengthAndBadDigits) {
  EXPECT_TRUE(IsInvalidArgument(HexDecode("abc").status()));
  auto bad = HexDecode("00g1");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("position 3"), std::string_view::npos) << bad.status();
  EXPECT_FALSE(HexDecode("").ok());
}

// RFC 4648 section 10 vectors.
TEST(Base32Test, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"f", "MY======"},    {"fo", "MZXQ===="},    {"foo", "MZXW6==="},
      {"foob", "MZXW6YQ="}, {"fooba", "MZXW6YTB"}, {"foobar", "MZXW6YTBOI======"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base32Encode(Bytes(plain)), encoded);
    auto d = Base32Decode(encoded);
    ASSERT_TRUE(d.ok()) << encoded << ": " << d.status();
    EXPECT_EQ(Str(*d), plain);
  }
  EXPECT_EQ(Base32Encode(Bytes("foob"), /*pad=*/false), "MZXW6YQ");
}

TEST(Base32Test, ToleratesCaseSpacesAndMissingPadding) {
  auto d = Base32Decode("mzxw 6ytb oi");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(Str(*d), "foobar");
  // The Entra example secret: 26 symbols, 16 whole bytes.
  auto entra = Base32Decode("2234567abcdef2234567abcdef");
  ASSERT_TRUE(entra.ok()) << entra.status();
  EXPECT_EQ(entra->size(), 16u);
}

TEST(Base32Test, RejectsBadInputWithPosition) {
  auto bad = Base32Decode("MZXW1YTB");  // '1' is not in the alphabet
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "invalid base32 character at position 5");
  EXPECT_FALSE(Base32Decode("").ok());
  EXPECT_FALSE(Base32Decode("   ").ok());
  EXPECT_FALSE(Base32Decode("MZX").ok());  // 3 symbols cannot encode whole bytes
  EXPECT_FALSE(Base32Decode("M").ok());
  EXPECT_FALSE(Base32Decode("MZ=XW6YTB").ok());  // data after padding
  EXPECT_FALSE(Base32Decode("MZXW-6YTB").ok());
}

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"f", "Zg=="},        {"fo", "Zm8="},        {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(Bytes(plain)), encoded);
    auto d = Base64Decode(encoded);
    ASSERT_TRUE(d.ok()) << encoded << ": " << d.status();
    EXPECT_EQ(Str(*d), plain);
  }
}

TEST(Base64Test, ToleratesWhitespaceRejectsGarbage) {
  auto d = Base64Decode("  Zm9v\n  YmFy\r\n");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(Str(*d), "foobar");
  EXPECT_FALSE(Base64Decode("Zm9v*mFy").ok());
  EXPECT_FALSE(Base64Decode("Z").ok());
  EXPECT_FALSE(Base64Decode("").ok());
}

TEST(CodecTest, RandomRoundTrips) {
  for (size_t len = 1; len < 70; ++len) {
    std::string data;
    for (size_t i = 0; i < len; ++i) data.push_back(static_cast<char>((i * 131 + len * 7) & 0xff));
    auto h = HexDecode(HexEncode(Bytes(data)));
    auto b32 = Base32Decode(Base32Encode(Bytes(data), len % 2 == 0));
    auto b64 = Base64Decode(Base64Encode(Bytes(data)));
    ASSERT_TRUE(h.ok() && b32.ok() && b64.ok()) << len;
    EXPECT_EQ(Str(*h), data);
    EXPECT_EQ(Str(*b32), data);
    EXPECT_EQ(Str(*b64), data);
  }
}

}  // namespace
}  // namespace otpd::base
