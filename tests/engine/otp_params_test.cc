#include "engine/otp_params.h"

#include <gtest/gtest.h>

namespace otpd::engine {
namespace {

TEST(OtpParamsTest, ParseNames) {
  EXPECT_EQ(*ParseHashAlgorithm("hmacsha256"), HashAlgorithm::kSha256);
  EXPECT_EQ(*ParseHashAlgorithm("HMAC-SHA1"), HashAlgorithm::kSha1);
  EXPECT_EQ(*ParseHashAlgorithm("sha-512"), HashAlgorithm::kSha512);
  EXPECT_FALSE(ParseHashAlgorithm("md5").ok());
  EXPECT_EQ(*ParseOtpType("TOTP"), OtpType::kTotp);
  EXPECT_FALSE(ParseOtpType("motp").ok());
  EXPECT_EQ(HashAlgorithmName(HashAlgorithm::kSha256), "SHA256");
  EXPECT_EQ(OtpTypeName(OtpType::kHotp), "hotp");
}

TEST(OtpParamsTest, TimeStep) {
  OtpParams p{.period = 30, .t0 = 0};
  EXPECT_EQ(TimeStep(p, 59), 1u);
  EXPECT_EQ(TimeStep(p, 60), 2u);
  EXPECT_EQ(TimeStep(p, 20'000'000'000), 666'666'666u);
  p.t0 = 100;
  EXPECT_EQ(TimeStep(p, 99), 0u);
  EXPECT_EQ(TimeStep(p, 130), 1u);
}

TEST(OtpParamsTest, Validate) {
  EXPECT_TRUE(OtpParams{}.Validate().ok());
  base::Status s = OtpParams{.digits = 4}.Validate();
  EXPECT_NE(s.message().find("digits"), std::string_view::npos);
}

}  // namespace
}  // namespace otpd::engine
