#include "tokenio/oath_csv.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/tokenio/test_util.h"

namespace otpd::tokenio {
namespace {

using testing::CollectingSink;
using testing::kSeed20;
using testing::kSeed32;
using testing::ReadFixture;
using testing::SeedIs;

base::Status Parse(std::string_view text, CollectingSink* sink) {
  std::istringstream in{std::string(text)};
  return ParseOathCsv(in, sink);
}

// A file of another format read as OATH CSV: the format is named, not its header reported as
// a bad row.
TEST(OathCsvTest, AnotherFormatIsNamedNotReportedAsRows) {
  CollectingSink sink;
  base::Status entra = Parse(ReadFixture("entra_good.csv"), &sink);
  EXPECT_TRUE(base::IsInvalidArgument(entra)) << entra;
  EXPECT_NE(entra.message().find("looks like an Entra CSV"), std::string_view::npos) << entra;
  EXPECT_NE(entra.message().find("not OATH CSV"), std::string_view::npos) << entra;
  EXPECT_TRUE(sink.errors.empty());
  EXPECT_TRUE(sink.tokens.empty());

  base::Status pskc = Parse(ReadFixture("pskc_psk_aes128.xml"), &sink);
  EXPECT_NE(pskc.message().find("looks like PSKC"), std::string_view::npos) << pskc;
  EXPECT_TRUE(sink.errors.empty());
}

TEST(OathCsvTest, GoodFileWithCommentHeaderAndDefaults) {
  CollectingSink sink;
  ASSERT_TRUE(Parse(ReadFixture("oath_good.csv"), &sink).ok());
  EXPECT_TRUE(sink.errors.empty());
  ASSERT_EQ(sink.tokens.size(), 4u);

  const TokenRecord& hotp = sink.tokens[0];
  EXPECT_EQ(hotp.position, 3u);
  EXPECT_EQ(hotp.serial, "HOTP-1");
  EXPECT_EQ(hotp.upn, "");
  EXPECT_EQ(hotp.params.type, engine::OtpType::kHotp);
  EXPECT_EQ(hotp.params.digits, 6);
  EXPECT_EQ(hotp.counter, 5u);
  EXPECT_TRUE(SeedIs(hotp.seed, kSeed20));

  const TokenRecord& totp = sink.tokens[1];
  EXPECT_EQ(totp.position, 4u);
  EXPECT_EQ(totp.params.type, engine::OtpType::kTotp);
  EXPECT_EQ(totp.params.digits, 8);
  EXPECT_EQ(totp.params.period, 30u);
  EXPECT_EQ(totp.params.algorithm, engine::HashAlgorithm::kSha256);
  EXPECT_TRUE(SeedIs(totp.seed, kSeed32));

  const TokenRecord& totp2 = sink.tokens[2];
  EXPECT_EQ(totp2.params.type, engine::OtpType::kTotp);
  EXPECT_EQ(totp2.params.period, 60u);
  EXPECT_TRUE(SeedIs(totp2.seed, kSeed20));  // 0x prefix

  const TokenRecord& defaults = sink.tokens[3];
  EXPECT_EQ(defaults.position, 7u);
  EXPECT_EQ(defaults.params.digits, 6);
  EXPECT_EQ(defaults.counter, 0u);
}

TEST(OathCsvTest, SemicolonSeparatorWithoutHeader) {
  CollectingSink sink;
  ASSERT_TRUE(Parse(ReadFixture("oath_semicolon.csv"), &sink).ok());
  EXPECT_TRUE(sink.errors.empty());
  ASSERT_EQ(sink.tokens.size(), 2u);
  EXPECT_EQ(sink.tokens[0].serial, "SC-1");
  EXPECT_EQ(sink.tokens[0].position, 1u);
  EXPECT_EQ(sink.tokens[1].params.type, engine::OtpType::kHotp);
  EXPECT_EQ(sink.tokens[1].params.digits, 8);
  EXPECT_EQ(sink.tokens[1].counter, 100u);
}

TEST(OathCsvTest, TabSeparatorWithHeader) {
  CollectingSink sink;
  ASSERT_TRUE(Parse(ReadFixture("oath_tab.tsv"), &sink).ok());
  EXPECT_TRUE(sink.errors.empty());
  ASSERT_EQ(sink.tokens.size(), 1u);
  EXPECT_EQ(sink.tokens[0].serial, "TAB-1");
  EXPECT_EQ(sink.tokens[0].position, 2u);
  EXPECT_EQ(sink.tokens[0].params.digits, 7);
  EXPECT_EQ(sink.tokens[0].params.period, 60u);
}

TEST(OathCsvTest, BrokenRowsAreReportedWithLineAndReason) {
  CollectingSink sink;
  base::Status status = Parse(ReadFixture("oath_broken.csv"), &sink);
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(sink.tokens.size(), 1u);
  EXPECT_EQ(sink.tokens[0].serial, "OK-1");

  // The serial is named only when the row's seed was read (the columns are in place).
  struct Expected {
    size_t line;
    const char* serial;
    const char* reason;
  };
  const Expected expected[] = {
      {2, "", "seed is not valid hex"},
      {3, "BAD-TYPE", "type must be hotp or totp"},
      {4, "BAD-DIGITS", "digits must be 6..9"},
      {5, "BAD-STEP", "time step must be 1..86400 seconds"},
      {6, "BAD-COUNTER", "counter must be a non-negative integer"},
      {7, "", "expected 3 to 6 columns, found 2"},
      {8, "SHORT", "at least 128 bits"},
      {9, "OK-1", "duplicate serial number; first seen at line 1"},
      {10, "BAD-ALG", "algorithm must be SHA1, SHA256 or SHA512"},
      {11, "", "seed is not valid hex"},
  };
  ASSERT_EQ(sink.errors.size(), std::size(expected));
  for (const Expected& e : expected) {
    const RowError* error = sink.ErrorAt(e.line);
    ASSERT_NE(error, nullptr) << "no error for line " << e.line;
    EXPECT_NE(error->reason.find(e.reason), std::string::npos)
        << "line " << e.line << ": " << error->reason;
    EXPECT_EQ(error->serial, e.serial) << "line " << e.line;
    // Column values are named, never repeated.
    EXPECT_EQ(error->reason.find("motp"), std::string::npos);
    EXPECT_EQ(error->reason.find("md5"), std::string::npos);
  }
  testing::ExpectNoSecrets(sink, status);
}

TEST(OathCsvTest, CommentWithQuoteDoesNotSwallowLines) {
  CollectingSink sink;
  ASSERT_TRUE(Parse("# vendor's \"batch\n"
                    "A,3132333435363738393031323334353637383930,totp,6,30\n",
                    &sink)
                  .ok());
  ASSERT_EQ(sink.tokens.size(), 1u);
  EXPECT_EQ(sink.tokens[0].position, 2u);
}

TEST(OathCsvTest, ATruncatedLastLineOrABinaryFileIsAFileError) {
  CollectingSink sink;
  base::Status cut =
      Parse("OK-1,3132333435363738393031323334353637383930,hotp\nCUT,31323334", &sink);
  EXPECT_NE(cut.message().find("the file ends in the middle of line 2"), std::string_view::npos)
      << cut;
  base::Status binary = Parse(std::string("\x7f"
                                          "ELF\x02\x01\x01\0\0\0,a,b\n",
                                          16),
                              &sink);
  EXPECT_NE(binary.message().find("not a text file"), std::string_view::npos) << binary;
}

}  // namespace
}  // namespace otpd::tokenio
