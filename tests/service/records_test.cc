#include "service/model/records.h"

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

TEST(RecordsTest, EveryMethodKindRoundTrips) {
  const MethodRecord methods[] = {
      {.id = "m1", .created = 5, .payload = HardwareOathPayload{.serial = "S-1"}},
      {.id = "m2",
       .created = 6,
       .payload = SoftwareOathPayload{.display_name = "phone app",
                                      .params = {.digits = 8},
                                      .sealed_secret = std::string("\x01\x00sealed", 8),
                                      .confirmed = true,
                                      .expires = 99}},
      {.id = "m3",
       .payload = PhonePayload{.type = PhoneType::kAlternateMobile,
                               .number = "+1 4255551234",
                               .sms_sign_in = true}},
      {.id = "m4", .payload = EmailPayload{.address = "a@b.c"}},
  };
  for (const MethodRecord& m : methods) {
    auto back = DecodeMethod(EncodeMethod(m));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, m) << MethodKindName(m.kind());
  }
  EXPECT_EQ(methods[0].serial(), "S-1");
  EXPECT_EQ(methods[1].serial(), "");
  // Records written before methods had kinds of their own still read.
  auto old = DecodeMethod(R"({"id":"m","kind":"hardware_oath","serial":"T","created":1})");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->serial(), "T");
  EXPECT_TRUE(IsDataLoss(DecodeMethod(R"({"id":"m","kind":"carrier_pigeon"})").status()));
  EXPECT_TRUE(IsDataLoss(DecodeMethod(R"({"id":"m","kind":"phone","number":"+1 2"})").status()));
}

TEST(RecordsTest, LockoutKeepsTheLastFailureAndReadsTheOlderLayout) {
  engine::LockoutState l{.failures = 3, .locked_until = 0, .last_failure = 1'800'000'000};
  EXPECT_EQ(*DecodeLockout(EncodeLockout(l)), l);
  std::string v1(1, '\x01');
  for (uint64_t v : {uint64_t{6}, uint64_t{1'800'000'060}}) {
    for (int i = 7; i >= 0; --i) v1.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  auto old = DecodeLockout(v1);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->failures, 6u);
  EXPECT_EQ(old->locked_until, 1'800'000'060);
  EXPECT_EQ(old->last_failure, 0);
}

TEST(RecordsTest, KeysAndIds) {
  EXPECT_EQ(MethodKey("a@b.c", "m1"), std::string("a@b.c\0m1", 8));
  EXPECT_EQ(MethodKey("a@b.c", "m1").rfind(MethodPrefix("a@b.c"), 0), 0u);
  EXPECT_EQ(MethodStateKey("a@b.c", "m1"), std::string("m/a@b.c\0m1", 10));
  EXPECT_NE(MethodStateKey("a@b.c", "m1"), TokenStateKey("a@b.c"));
  EXPECT_NE(NewId(), NewId());
  EXPECT_EQ(NewId().size(), 16u);
  EXPECT_LT(AuditKey(1), AuditKey(2));
  EXPECT_EQ(NormaliseUpn("Alice@Example.COM"), "alice@example.com");
  EXPECT_EQ(*ParseTokenStatus("failedActivation"), TokenStatus::kFailedActivation);
  EXPECT_FALSE(ParseTokenStatus("gone").ok());
}

}  // namespace
}  // namespace otpd::service
