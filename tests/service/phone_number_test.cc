#include <gtest/gtest.h>

#include "service/admin/method_admin.h"

namespace otpd::service {
namespace {

std::string Refusal(std::string_view number) {
  base::Status s = CheckPhoneNumber(number);
  EXPECT_TRUE(base::IsInvalidArgument(s)) << number;
  return std::string(s.message());
}

TEST(PhoneNumberTest, TheAcceptedFormPasses) {
  for (std::string_view ok :
       {"+1 4255551234", "+44 2079460000", "+1 5555551234x123", "+353 12345678"}) {
    EXPECT_TRUE(CheckPhoneNumber(ok).ok()) << ok;
  }
}

// A number written another common way is refused with its accepted form, built from the same
// digits and split after the E.164 country code.
TEST(PhoneNumberTest, ARefusedNumberSuggestsItsAcceptedForm) {
  EXPECT_NE(Refusal("+14255551234").find("did you mean \"+1 4255551234\"?"), std::string::npos);
  EXPECT_NE(Refusal("+1 (425) 555-1234").find("\"+1 4255551234\""), std::string::npos);
  EXPECT_NE(Refusal("+44 20 7946 0000").find("\"+44 2079460000\""), std::string::npos);
  EXPECT_NE(Refusal("+3531234567").find("\"+353 1234567\""), std::string::npos);
  EXPECT_NE(Refusal("+1 555-555-1234 x12").find("\"+1 5555551234x12\""), std::string::npos);
  EXPECT_NE(Refusal("+33.1.23.45.67.89").find("\"+33 123456789\""), std::string::npos);
}

// Nothing is suggested where no accepted form can be made of what was sent.
TEST(PhoneNumberTest, NoSuggestionWithoutACountryCodeOrWithOtherCharacters) {
  for (std::string_view bad : {"4255551234", "+1", "+1 42a5551234", "call me", "+0 1234567"}) {
    const std::string said = Refusal(bad);
    EXPECT_EQ(said.find("did you mean"), std::string::npos) << bad << ": " << said;
    EXPECT_NE(said.find("+{country code} {number}"), std::string::npos) << said;
  }
}

}  // namespace
}  // namespace otpd::service
