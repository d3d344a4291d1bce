#include "base/mac.h"

#include <gtest/gtest.h>

#include "base/codec.h"
#include "base/constant_time.h"

namespace otpd::base {
namespace {

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// RFC 4231, test case 2.
TEST(MacTest, HmacSha256MatchesRfc4231) {
  auto mac = HmacSha256(Bytes("Jefe"), {"what do ya want ", "", "for nothing?"});
  ASSERT_TRUE(mac.ok()) << mac.status();
  EXPECT_EQ(HexEncode(*mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(MacTest, Sha256MatchesFips180Example) {
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// Prefixes, suffixes and different lengths are all simply unequal.
TEST(MacTest, ConstantTimeEqualsOnDigests) {
  EXPECT_TRUE(ConstantTimeEquals(std::string_view("client-key-1"), "client-key-1"));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("client-key"), "client-key-1"));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("client-key-1"), "client-key"));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view(""), "x"));
  const uint8_t a[] = {1, 2, 3};
  const uint8_t b[] = {1, 2, 4};
  EXPECT_TRUE(ConstantTimeEquals(std::span<const uint8_t>(a), std::span<const uint8_t>(a)));
  EXPECT_FALSE(ConstantTimeEquals(std::span<const uint8_t>(a), std::span<const uint8_t>(b)));
}

}  // namespace
}  // namespace otpd::base
