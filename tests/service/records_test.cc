#include "service/records.h"

#include <gtest/gtest.h>

namespace otpd::service {
namespace {

TEST(RecordsTest, TokenRoundTrip) {
  TokenRecord t;
  t.serial = "S-1";
  t.manufacturer = "Acme";
  t.params = {.type = engine::OtpType::kHotp,
              .algorithm = engine::HashAlgorithm::kSha256,
              .digits = 8,
              .period = 60,
              .t0 = 5};
  t.sealed_seed = std::string("\x01\x00\xff sealed", 10);
  t.status = TokenStatus::kFailedActivation;
  t.assigned_to = "a@b.c";
  t.initial_counter = 42;
  t.initial_drift = -3;
  t.not_after = 2'000'000'000;
  t.activation_failures = 2;
  auto back = DecodeToken(EncodeToken(t));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->serial, t.serial);
  EXPECT_EQ(back->params, t.params);
  EXPECT_EQ(back->sealed_seed, t.sealed_seed);
  EXPECT_EQ(back->status, t.status);
  EXPECT_EQ(back->initial_counter, 42u);
  EXPECT_EQ(back->initial_drift, -3);
  EXPECT_EQ(back->not_after, t.not_after);
  EXPECT_EQ(back->activation_failures, 2u);
}

TEST(RecordsTest, StateRoundTripAndCorruption) {
  CredentialState s{.token = {.watermark = UINT64_MAX - 1, .drift = -2880}, .last_used = 7};
  EXPECT_EQ(*DecodeCredentialState(EncodeCredentialState(s)), s);
  engine::LockoutState l{.failures = 6, .locked_until = 1'800'000'060};
  EXPECT_EQ(*DecodeLockout(EncodeLockout(l)), l);
  EXPECT_TRUE(IsDataLoss(DecodeCredentialState("short").status()));
  EXPECT_TRUE(IsDataLoss(DecodeToken("{not json").status()));
  EXPECT_TRUE(IsDataLoss(DecodeToken(R"({"serial":"x"})").status()));
  EXPECT_TRUE(IsDataLoss(DecodeUser(R"({"upn":5})").status()));
}

TEST(RecordsTest, KeysAndIds) {
  EXPECT_EQ(MethodKey("a@b.c", "m1"), std::string("a@b.c\0m1", 8));
  EXPECT_EQ(MethodKey("a@b.c", "m1").rfind(MethodPrefix("a@b.c"), 0), 0u);
  EXPECT_NE(NewId(), NewId());
  EXPECT_EQ(NewId().size(), 16u);
  EXPECT_LT(AuditKey(1), AuditKey(2));
  EXPECT_EQ(NormaliseUpn("Alice@Example.COM"), "alice@example.com");
  EXPECT_EQ(*ParseTokenStatus("failedActivation"), TokenStatus::kFailedActivation);
  EXPECT_FALSE(ParseTokenStatus("gone").ok());
}

}  // namespace
}  // namespace otpd::service
