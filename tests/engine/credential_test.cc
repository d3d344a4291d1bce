#include "engine/credential.h"

#include <gtest/gtest.h>

namespace otpd::engine {
namespace {

std::span<const uint8_t> Ascii(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(CredentialTest, RejectsBadParamsAndEmptySeed) {
  EXPECT_FALSE(Credential::Create(OtpParams{.digits = 5}, Ascii("seed")).ok());
  EXPECT_FALSE(Credential::Create(OtpParams{.digits = 10}, Ascii("seed")).ok());
  EXPECT_FALSE(Credential::Create(OtpParams{.period = 0}, Ascii("seed")).ok());
  EXPECT_FALSE(Credential::Create(OtpParams{}, Ascii("")).ok());
  // HOTP ignores the period.
  EXPECT_TRUE(Credential::Create(OtpParams{.type = OtpType::kHotp, .period = 0}, Ascii("s")).ok());
}

TEST(CredentialTest, LongKeysAreHashedFirst) {
  // A key longer than the block must give the same codes as HMAC does (checked against the
  // RFC 6238 SHA-512 seed, 64 bytes = one SHA-1 block and more, through liboath elsewhere); here:
  // two different long keys give different codes and the same key gives the same codes.
  std::string a(200, 'a'), b(200, 'a');
  b[199] = 'b';
  OtpParams p{.type = OtpType::kHotp};
  auto ca = Credential::Create(p, Ascii(a));
  auto cb = Credential::Create(p, Ascii(b));
  auto ca2 = Credential::Create(p, Ascii(a));
  ASSERT_TRUE(ca.ok() && cb.ok() && ca2.ok());
  EXPECT_EQ(ca->FormatCodeAt(1), ca2->FormatCodeAt(1));
  int same = 0;
  for (uint64_t i = 0; i < 20; ++i) same += ca->CodeAt(i) == cb->CodeAt(i);
  EXPECT_LT(same, 3);
}

TEST(CredentialTest, ParseAndFormatCode) {
  EXPECT_EQ(ParseCode("000123", 6), 123u);
  EXPECT_EQ(ParseCode("999999999", 9), 999999999u);
  EXPECT_FALSE(ParseCode("00123", 6).has_value());
  EXPECT_FALSE(ParseCode("0012a3", 6).has_value());
  EXPECT_FALSE(ParseCode("123456", 5).has_value());
  EXPECT_EQ(FormatCode(123, 6), "000123");
  EXPECT_EQ(FormatCode(0, 8), "00000000");
  EXPECT_EQ(DigitsModulus(6), 1000000u);
  EXPECT_EQ(DigitsModulus(9), 1000000000u);
}

}  // namespace
}  // namespace otpd::engine
