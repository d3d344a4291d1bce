#include "tokenio/entra_csv.h"

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
  return ParseEntraCsv(in, sink);
}

TEST(EntraCsvTest, GoodFileWithBomCrlfAndQuoting) {
  CollectingSink sink;
  ASSERT_TRUE(Parse(ReadFixture("entra_good.csv"), &sink).ok());
  EXPECT_TRUE(sink.errors.empty());
  ASSERT_EQ(sink.tokens.size(), 3u);

  const TokenRecord& helga = sink.tokens[0];
  EXPECT_EQ(helga.position, 2u);
  EXPECT_EQ(helga.serial, "1234567");
  EXPECT_EQ(helga.upn, "helga@contoso.com");
  EXPECT_EQ(helga.manufacturer, "Contoso");
  EXPECT_EQ(helga.model, "HardwareKey");
  EXPECT_TRUE(SeedIs(helga.seed, kSeed20));
  EXPECT_EQ(helga.params.type, engine::OtpType::kTotp);
  EXPECT_EQ(helga.params.algorithm, engine::HashAlgorithm::kSha1);
  EXPECT_EQ(helga.params.digits, 6);
  EXPECT_EQ(helga.params.period, 30u);
  EXPECT_TRUE(helga.warnings.empty());

  const TokenRecord& inventory = sink.tokens[1];
  EXPECT_EQ(inventory.position, 3u);
  EXPECT_EQ(inventory.upn, "");
  EXPECT_EQ(inventory.params.period, 60u);
  EXPECT_TRUE(SeedIs(inventory.seed, kSeed32));  // lower-case base32

  const TokenRecord& bob = sink.tokens[2];
  EXPECT_EQ(bob.serial, "1234569");
  EXPECT_EQ(bob.manufacturer, "Contoso, Ltd.");
  EXPECT_EQ(bob.model, "Key \"Pro\"");
}

TEST(EntraCsvTest, OptionalHashFunctionColumn) {
  CollectingSink sink;
  ASSERT_TRUE(Parse(ReadFixture("entra_sha256.csv"), &sink).ok());
  ASSERT_EQ(sink.tokens.size(), 3u);
  EXPECT_EQ(sink.tokens[0].params.algorithm, engine::HashAlgorithm::kSha256);
  EXPECT_TRUE(SeedIs(sink.tokens[0].seed, kSeed32));
  EXPECT_TRUE(sink.tokens[0].warnings.empty());
  EXPECT_EQ(sink.tokens[1].params.algorithm, engine::HashAlgorithm::kSha1);
  EXPECT_EQ(sink.tokens[1].params.period, 60u);
  EXPECT_EQ(sink.tokens[2].params.algorithm, engine::HashAlgorithm::kSha1);  // empty = default
}

TEST(EntraCsvTest, BrokenRowsAreReportedWithLineAndReason) {
  CollectingSink sink;
  base::Status status = Parse(ReadFixture("entra_broken.csv"), &sink);
  ASSERT_TRUE(status.ok()) << status;

  ASSERT_EQ(sink.tokens.size(), 2u);
  EXPECT_EQ(sink.tokens[0].serial, "GOOD-1");
  EXPECT_EQ(sink.tokens[1].serial, "WARN-1");
  EXPECT_EQ(sink.tokens[1].position, 13u);
  ASSERT_EQ(sink.tokens[1].warnings.size(), 1u);
  EXPECT_EQ(sink.tokens[1].warnings[0], "seed shorter than 160 bits for SHA-1");

  // A row names its serial only when its seed was read: then the columns are where they should
  // be, and the serial column cannot hold a shifted seed.
  struct Expected {
    size_t line;
    const char* serial;
    const char* reason;
  };
  const Expected expected[] = {
      {3, "", "expected 6 columns, found 5"},
      {4, "", "secret key is not valid base32"},
      {5, "BAD-INT", "time interval must be 30 or 60"},
      {6, "", "serial number is empty"},
      {7, "", "longer than 128 base32 characters"},
      {8, "BAD-SHORT", "seed is 80 bits; at least 128 bits are required"},
      {9, "BAD-UPN", "upn must be an e-mail address"},
      {10, "GOOD-1", "duplicate serial number; first seen at line 2"},
      {11, "", "malformed CSV"},
      {12, "", "secret key is empty"},
  };
  ASSERT_EQ(sink.errors.size(), std::size(expected));
  for (const Expected& e : expected) {
    const RowError* error = sink.ErrorAt(e.line);
    ASSERT_NE(error, nullptr) << "no error for line " << e.line;
    EXPECT_EQ(error->serial, e.serial) << "line " << e.line;
    EXPECT_NE(error->reason.find(e.reason), std::string::npos)
        << "line " << e.line << ": " << error->reason;
  }
  testing::ExpectNoSecrets(sink, status);
}

TEST(EntraCsvTest, WrongHeaderIsAFileError) {
  CollectingSink sink;
  base::Status status = Parse(ReadFixture("entra_bad_header.csv"), &sink);
  EXPECT_TRUE(base::IsInvalidArgument(status));
  EXPECT_NE(status.message().find("line 1"), std::string_view::npos) << status;
  EXPECT_NE(status.message().find("not an Entra CSV header"), std::string_view::npos);
  EXPECT_TRUE(sink.tokens.empty());
  testing::ExpectNoSecrets(sink, status);
}

TEST(EntraCsvTest, EmptyFileIsAFileError) {
  CollectingSink sink;
  base::Status status = Parse("\n\n", &sink);
  EXPECT_TRUE(base::IsInvalidArgument(status));
  EXPECT_NE(status.message().find("empty"), std::string_view::npos) << status;
}

TEST(EntraCsvTest, HeaderOnlyFileHasNoTokens) {
  CollectingSink sink;
  EXPECT_TRUE(Parse("upn,serial number,secret key,time interval,manufacturer,model\n", &sink).ok());
  EXPECT_TRUE(sink.tokens.empty());
  EXPECT_TRUE(sink.errors.empty());
}

TEST(EntraCsvTest, UnknownHashFunctionIsRejected) {
  CollectingSink sink;
  ASSERT_TRUE(Parse("upn,serial number,secret key,time interval,manufacturer,model,hash function\n"
                    ",X1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30,A,B,md5\n",
                    &sink)
                  .ok());
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].position, 2u);
  EXPECT_NE(sink.errors[0].reason.find("hash function must be"), std::string::npos);
}

TEST(EntraCsvTest, QuotedNewlineKeepsLineNumbersRight) {
  CollectingSink sink;
  ASSERT_TRUE(Parse("upn,serial number,secret key,time interval,manufacturer,model\n"
                    ",\"SER\nIAL\",GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30,A,B\n"
                    ",OK,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30,A,B\n",
                    &sink)
                  .ok());
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].position, 2u);
  EXPECT_NE(sink.errors[0].reason.find("printable"), std::string::npos);
  ASSERT_EQ(sink.tokens.size(), 1u);
  EXPECT_EQ(sink.tokens[0].position, 4u);
}

TEST(EntraCsvTest, UnterminatedQuoteIsAFileErrorWithLine) {
  CollectingSink sink;
  base::Status status = Parse(
      "upn,serial number,secret key,time interval,manufacturer,model\n"
      ",OK,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30,A,B\n"
      ",\"OPEN,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30,A,B\n",
      &sink);
  EXPECT_TRUE(base::IsInvalidArgument(status));
  EXPECT_NE(status.message().find("line 3"), std::string_view::npos) << status;
  testing::ExpectNoSecrets(sink, status);
}

TEST(EntraCsvTest, AMalformedLastLineWithoutLineBreakIsATruncatedFile) {
  const std::string head =
      "upn,serial number,secret key,time interval,manufacturer,model\n"
      ",OK,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30,A,B\n";
  // Cut in the secret (too short), in the columns, in the interval.
  for (const std::string& last :
       {std::string(",CUT,GEZDGNBVGY3TQOJQ"), std::string(",CUT,GEZDGNBVGY3TQOJQGEZDGNBV"),
        std::string(",CUT,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,3")}) {
    CollectingSink sink;
    base::Status status = Parse(head + last, &sink);
    EXPECT_TRUE(base::IsInvalidArgument(status)) << last;
    EXPECT_NE(status.message().find("the file ends in the middle of line 3"),
              std::string_view::npos)
        << status;
  }
  // A complete last line without a line break is fine.
  CollectingSink sink;
  EXPECT_TRUE(Parse(head + ",LAST,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30,A,B", &sink).ok());
  EXPECT_EQ(sink.tokens.size(), 2u);
}

TEST(EntraCsvTest, ANulByteIsAFileError) {
  CollectingSink sink;
  base::Status status = Parse(
      std::string("upn,serial number,secret key,time interval,manufacturer,model\n,A\0B,C\n", 70),
      &sink);
  EXPECT_TRUE(base::IsInvalidArgument(status)) << status;
  EXPECT_NE(status.message().find("line 2 holds a NUL byte: this is not a text file"),
            std::string_view::npos)
      << status;
}

TEST(EntraCsvTest, UnreadableStreamIsAFileError) {
  std::istringstream in("upn,serial number,secret key,time interval,manufacturer,model\n");
  in.setstate(std::ios::badbit);
  CollectingSink sink;
  EXPECT_TRUE(base::IsDataLoss(ParseEntraCsv(in, &sink)));
}

TEST(EntraCsvTest, SinkErrorStopsTheParse) {
  CollectingSink sink;
  sink.stop_after = 1;
  base::Status status = Parse(ReadFixture("entra_good.csv"), &sink);
  EXPECT_TRUE(base::IsCancelled(status)) << status;
  EXPECT_EQ(sink.tokens.size(), 1u);
}

}  // namespace
}  // namespace otpd::tokenio
