// The RFC 4226 and RFC 6238 test vectors, read from fixtures/rfc/.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/credential.h"

namespace otpd::engine {
namespace {

std::vector<std::vector<std::string>> ReadFixture(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.is_open()) << path;
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::vector<std::string> row;
    for (std::string f; fields >> f;) row.push_back(f);
    rows.push_back(row);
  }
  return rows;
}

std::span<const uint8_t> Ascii(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(RfcVectorsTest, Rfc4226Hotp) {
  const std::string seed = "12345678901234567890";
  OtpParams params{.type = OtpType::kHotp};
  auto cred = Credential::Create(params, Ascii(seed));
  ASSERT_TRUE(cred.ok()) << cred.status();
  auto rows = ReadFixture("fixtures/rfc/rfc4226_hotp.txt");
  ASSERT_EQ(rows.size(), 10u);
  for (const auto& row : rows) {
    EXPECT_EQ(cred->FormatCodeAt(std::stoull(row[0])), row[1]) << "counter " << row[0];
  }
}

TEST(RfcVectorsTest, Rfc6238Totp) {
  const std::string seeds[] = {"12345678901234567890", "12345678901234567890123456789012",
                               "1234567890123456789012345678901234567890123456789012345678901234"};
  auto rows = ReadFixture("fixtures/rfc/rfc6238_totp.txt");
  ASSERT_EQ(rows.size(), 18u);
  for (const auto& row : rows) {
    auto algorithm = ParseHashAlgorithm(row[1]);
    ASSERT_TRUE(algorithm.ok());
    OtpParams params{.type = OtpType::kTotp, .algorithm = *algorithm, .digits = 8, .period = 30};
    auto cred = Credential::Create(params, Ascii(seeds[static_cast<int>(*algorithm)]));
    ASSERT_TRUE(cred.ok()) << cred.status();
    EXPECT_EQ(cred->TotpAt(std::stoll(row[0])), row[2]) << row[0] << " " << row[1];
  }
}

}  // namespace
}  // namespace otpd::engine
