#include "tokenio/otpauth.h"

#include <gtest/gtest.h>

#include "tests/tokenio/test_util.h"

namespace otpd::tokenio {
namespace {

using testing::kSeed20;
using testing::kSeed32;
using testing::SeedIs;

TEST(OtpauthTest, ParsesTheSpecExample) {
  base::StatusOr<OtpauthKey> key = ParseOtpauthUri(
      "otpauth://totp/Contoso:helga@contoso.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
      "&issuer=Contoso&algorithm=SHA1&digits=6&period=30");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->issuer, "Contoso");
  EXPECT_EQ(key->account, "helga@contoso.com");
  EXPECT_EQ(key->params.type, engine::OtpType::kTotp);
  EXPECT_EQ(key->params.algorithm, engine::HashAlgorithm::kSha1);
  EXPECT_EQ(key->params.digits, 6);
  EXPECT_EQ(key->params.period, 30u);
  EXPECT_TRUE(SeedIs(key->secret, kSeed20));
}

TEST(OtpauthTest, ParsesEscapesDefaultsAndHotp) {
  base::StatusOr<OtpauthKey> key = ParseOtpauthUri(
      "OTPAUTH://hotp/Big%20Corp%3A%20alice%40example.com?issuer=Big+Corp&counter=42"
      "&secret=gezdgnbvgy3tqojqgezdgnbvgy3tqojqgezdgnbvgy3tqojqgeza&digits=8"
      "&algorithm=SHA256&image=https%3A%2F%2Fexample.com%2Flogo.png");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->issuer, "Big Corp");
  EXPECT_EQ(key->account, "alice@example.com");
  EXPECT_EQ(key->params.type, engine::OtpType::kHotp);
  EXPECT_EQ(key->params.algorithm, engine::HashAlgorithm::kSha256);
  EXPECT_EQ(key->params.digits, 8);
  EXPECT_EQ(key->counter, 42u);
  EXPECT_TRUE(SeedIs(key->secret, kSeed32));

  base::StatusOr<OtpauthKey> bare =
      ParseOtpauthUri("otpauth://totp/bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->issuer, "");
  EXPECT_EQ(bare->params, engine::OtpParams{});
}

TEST(OtpauthTest, RejectsBadUrisWithoutQuotingThem) {
  struct Case {
    const char* uri;
    const char* reason;
  };
  const Case cases[] = {
      {"https://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "not an otpauth"},
      {"otpauth://motp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "type must be"},
      {"otpauth://totp/a?issuer=x", "no secret"},
      {"otpauth://totp/a?secret=GEZDGNBV1Y3TQOJQ", "not valid base32"},
      {"otpauth://totp/a?secret=GEZDGNBVGY3TQOJQ", "at least 128 bits"},
      {"otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=5", "digits"},
      {"otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&period=0", "period"},
      {"otpauth://hotp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "no counter"},
      {"otpauth://totp/A:a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=B", "does not match"},
      {"otpauth://totp/A:?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "no account"},
      {"otpauth://totp/a%4?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "percent-escape"},
      {"otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=MD5", "algorithm"},
  };
  for (const Case& c : cases) {
    base::StatusOr<OtpauthKey> key = ParseOtpauthUri(c.uri);
    ASSERT_FALSE(key.ok()) << c.uri;
    EXPECT_TRUE(base::IsInvalidArgument(key.status()));
    EXPECT_NE(key.status().message().find(c.reason), std::string_view::npos)
        << c.uri << " -> " << key.status();
    EXPECT_EQ(key.status().message().find("GEZDGNBV"), std::string_view::npos);
  }
}

TEST(OtpauthTest, FormatRoundTrips) {
  OtpauthKey key;
  key.issuer = "Contoso Ltd";
  key.account = "helga@contoso.com";
  key.params.algorithm = engine::HashAlgorithm::kSha256;
  key.params.digits = 8;
  key.params.period = 60;
  key.secret = testing::Bytes(kSeed32);
  base::StatusOr<base::SecretBytes> uri = FormatOtpauthUri(key);
  ASSERT_TRUE(uri.ok());
  EXPECT_EQ(uri->view(),
            "otpauth://totp/Contoso%20Ltd:helga@contoso.com?secret="
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA&issuer=Contoso%20Ltd"
            "&algorithm=SHA256&digits=8&period=60");
  base::StatusOr<OtpauthKey> back = ParseOtpauthUri(uri->view());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->issuer, key.issuer);
  EXPECT_EQ(back->account, key.account);
  EXPECT_EQ(back->params, key.params);
  EXPECT_TRUE(back->secret.Equals(key.secret));

  key.params.type = engine::OtpType::kHotp;
  key.counter = 9;
  key.issuer.clear();
  uri = FormatOtpauthUri(key);
  ASSERT_TRUE(uri.ok());
  back = ParseOtpauthUri(uri->view());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->counter, 9u);
  EXPECT_EQ(back->issuer, "");

  key.account = "a:b";
  EXPECT_FALSE(FormatOtpauthUri(key).ok());
}

}  // namespace
}  // namespace otpd::tokenio
