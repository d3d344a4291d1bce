#include "base/password_hash.h"

#include <gtest/gtest.h>

#include "base/codec.h"

namespace otpd::base {
namespace {

std::string Hex(std::string_view bytes) {
  return HexEncode(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

// RFC 7914 section 12, the vectors within the validated cost range.
TEST(PasswordHashTest, Rfc7914Vectors) {
  auto a = Scrypt("password", "NaCl", ScryptParams{.log2_n = 10, .r = 8, .p = 16}, 64);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(Hex(*a),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff1"
            "09279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
  auto b = Scrypt("pleaseletmein", "SodiumChloride", ScryptParams{.log2_n = 14, .r = 8, .p = 1},
                  64);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(Hex(*b),
            "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d4"
            "9705242a9af9e61e85dc0d651e40dfcf017b45575887");
}

TEST(PasswordHashTest, HashesVerifyWithTheirOwnSaltOnly) {
  const ScryptParams cheap{.log2_n = 10, .r = 8, .p = 1};
  auto h1 = HashPassword("correct horse battery", cheap);
  auto h2 = HashPassword("correct horse battery", cheap);
  ASSERT_TRUE(h1.ok() && h2.ok());
  EXPECT_EQ(h1->salt.size(), kPasswordSaltBytes);
  EXPECT_EQ(h1->key.size(), kPasswordKeyBytes);
  EXPECT_NE(h1->salt, h2->salt);
  EXPECT_NE(h1->key, h2->key);
  EXPECT_TRUE(VerifyPassword("correct horse battery", *h1).value());
  EXPECT_FALSE(VerifyPassword("correct horse batterY", *h1).value());
  EXPECT_FALSE(VerifyPassword("", *h1).value());
  PasswordHash swapped = *h1;
  swapped.salt = h2->salt;
  EXPECT_FALSE(VerifyPassword("correct horse battery", swapped).value());
}

// The default cost needs more memory than OpenSSL allows without being told (32 MiB).
TEST(PasswordHashTest, TheDefaultCostWorks) {
  auto h = HashPassword("a password of some length", ScryptParams{});
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_TRUE(VerifyPassword("a password of some length", *h).value());
}

TEST(PasswordHashTest, CostsOutsideTheRangeAreRefused) {
  EXPECT_TRUE(IsInvalidArgument(ScryptParams{.log2_n = 9}.Validate()));
  EXPECT_TRUE(IsInvalidArgument(ScryptParams{.log2_n = 23}.Validate()));
  EXPECT_TRUE(IsInvalidArgument(ScryptParams{.r = 0}.Validate()));
  EXPECT_TRUE(IsInvalidArgument(ScryptParams{.p = 17}.Validate()));
  EXPECT_TRUE(IsInvalidArgument(ScryptParams{.log2_n = 22, .r = 16}.Validate()));  // 8 GiB
  EXPECT_TRUE(ScryptParams{}.Validate().ok());
  PasswordHash malformed{.params = {}, .salt = "s", .key = ""};
  EXPECT_FALSE(VerifyPassword("x", malformed).ok());
}

}  // namespace
}  // namespace otpd::base
