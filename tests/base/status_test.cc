#include "base/status.h"

#include <gtest/gtest.h>

#include "base/statusor.h"

namespace otpd::base {
namespace {

TEST(StatusTest, OkAndErrors) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.ToString(), "OK");
  Status e = NotFoundError("no token 123");
  EXPECT_FALSE(e.ok());
  EXPECT_TRUE(IsNotFound(e));
  EXPECT_FALSE(IsInvalidArgument(e));
  EXPECT_EQ(e.ToString(), "NotFound: no token 123");
  EXPECT_EQ(e.WithContext("line 4").message(), "line 4: no token 123");
  Status copy = e;
  EXPECT_EQ(copy, e);
}

StatusOr<int> Half(int x) {
  if (x % 2) return InvalidArgumentError("odd");
  return x / 2;
}

StatusOr<int> Quarter(int x) {
  OTPD_ASSIGN_OR_RETURN(int h, Half(x));
  OTPD_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusOrTest, ValueAndPropagation) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(IsInvalidArgument(r.status()));
  StatusOr<int> from_ok{OkStatus()};
  EXPECT_TRUE(IsInternal(from_ok.status()));
}

}  // namespace
}  // namespace otpd::base
