#include "base/secret_bytes.h"

#include <gtest/gtest.h>

#include <sstream>

namespace otpd::base {
namespace {

TEST(SecretBytesTest, PrintsRedacted) {
  SecretBytes s = SecretBytes::FromString("hunter2");
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), "<redacted>");
  EXPECT_EQ(testing::PrintToString(s), "<redacted>");
}

TEST(SecretBytesTest, MoveLeavesSourceEmpty) {
  SecretBytes a = SecretBytes::FromString("seed");
  SecretBytes b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT: testing moved-from state on purpose
  EXPECT_EQ(b.view(), "seed");
  SecretBytes c = b.Clone();
  EXPECT_TRUE(c.Equals(b));
  c.data()[0] = 'S';
  EXPECT_FALSE(c.Equals(b));
}

TEST(SecretBytesTest, TruncateAndClear) {
  SecretBytes s = SecretBytes::FromString("abcdef");
  s.Truncate(3);
  EXPECT_EQ(s.view(), "abc");
  s.Truncate(10);  // never grows
  EXPECT_EQ(s.size(), 3u);
  s.Clear();
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.data(), nullptr);
}

TEST(SecretBytesTest, WipeZeroes) {
  unsigned char buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  Wipe(buf, sizeof(buf));
  for (unsigned char c : buf) EXPECT_EQ(c, 0);
}

}  // namespace
}  // namespace otpd::base
