#include "base/constant_time.h"

#include <gtest/gtest.h>

namespace otpd::base {
namespace {

TEST(ConstantTimeTest, Equals) {
  EXPECT_TRUE(ConstantTimeEquals(std::string_view("123456"), "123456"));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("123456"), "123457"));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("12345"), "123456"));
  EXPECT_TRUE(ConstantTimeEquals(std::string_view(""), ""));
}

TEST(ConstantTimeTest, Masks) {
  const uint64_t values[] = {0, 1, 2, 41, 1ull << 62, ~0ull, ~0ull - 1, 1ull << 63};
  for (uint64_t a : values) {
    for (uint64_t b : values) {
      EXPECT_EQ(ConstantTimeEqMask(a, b), a == b ? ~0ull : 0ull) << a << " " << b;
      EXPECT_EQ(ConstantTimeLtMask(a, b), a < b ? ~0ull : 0ull) << a << " " << b;
    }
  }
  EXPECT_EQ(ConstantTimeSelect(~0ull, 7, 9), 7u);
  EXPECT_EQ(ConstantTimeSelect(0, 7, 9), 9u);
}

}  // namespace
}  // namespace otpd::base
