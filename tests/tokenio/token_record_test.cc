#include "tokenio/token_record.h"

#include <gtest/gtest.h>

#include "tests/tokenio/test_util.h"

namespace otpd::tokenio {
namespace {

TEST(FormatNameTest, RoundTripsAndRejectsUnknown) {
  for (Format f : {Format::kEntraCsv, Format::kOathCsv, Format::kPskc}) {
    base::StatusOr<Format> parsed = ParseFormatName(FormatName(f));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, f);
  }
  EXPECT_EQ(FormatName(Format::kEntraCsv), "entra-csv");
  EXPECT_EQ(FormatName(Format::kOathCsv), "oath-csv");
  EXPECT_EQ(FormatName(Format::kPskc), "pskc");
  EXPECT_EQ(*ParseFormatName("PSKC"), Format::kPskc);
  EXPECT_TRUE(base::IsInvalidArgument(ParseFormatName("csv").status()));
}

TEST(DetectFormatTest, Pskc) {
  EXPECT_EQ(*DetectFormat("<?xml version='1.0'?><KeyContainer/>"), Format::kPskc);
  EXPECT_EQ(*DetectFormat("\xEF\xBB\xBF  \r\n<pskc:KeyContainer"), Format::kPskc);
}

TEST(DetectFormatTest, EntraHeaderVariants) {
  EXPECT_EQ(*DetectFormat("upn,serial number,secret key,time interval,manufacturer,model\n"),
            Format::kEntraCsv);
  EXPECT_EQ(*DetectFormat("\xEF\xBB\xBFUPN, Serial Number ,SECRET KEY,Time Interval,"
                          "Manufacturer,Model,Hash Function\r\nx"),
            Format::kEntraCsv);
}

TEST(DetectFormatTest, WrongEntraHeaderIsStillEntraSoTheParserCanExplain) {
  EXPECT_EQ(*DetectFormat("upn,serial,secret,interval,manufacturer,model\n"), Format::kEntraCsv);
}

TEST(DetectFormatTest, OathCsv) {
  EXPECT_EQ(*DetectFormat("A1,3132333435363738393031323334353637383930,totp,6,30\n"),
            Format::kOathCsv);
  EXPECT_EQ(*DetectFormat("# comment\n\nserial;seed;type;digits;step\n"
                          "A1;3132333435363738393031323334353637383930;HOTP;6;0\n"),
            Format::kOathCsv);
  EXPECT_EQ(*DetectFormat("A1\t0x3132333435363738393031323334353637383930\ttotp\n"),
            Format::kOathCsv);
}

TEST(DetectFormatTest, FixturesAreRecognised) {
  struct Case {
    const char* file;
    Format format;
  };
  for (const Case& c :
       {Case{"entra_good.csv", Format::kEntraCsv}, Case{"entra_sha256.csv", Format::kEntraCsv},
        Case{"oath_good.csv", Format::kOathCsv}, Case{"oath_semicolon.csv", Format::kOathCsv},
        Case{"oath_tab.tsv", Format::kOathCsv}, Case{"pskc_plain.xml", Format::kPskc},
        Case{"pskc_password.xml", Format::kPskc}}) {
    std::string head = testing::ReadFixture(c.file).substr(0, 4096);
    base::StatusOr<Format> f = DetectFormat(head);
    ASSERT_TRUE(f.ok()) << c.file << ": " << f.status();
    EXPECT_EQ(*f, c.format) << c.file;
  }
}

TEST(DetectFormatTest, UnknownIsAnError) {
  for (const char* head : {"", "  \n", "user,serial,secret,interval,manufacturer,model\n",
                           "hello world\n", "A1,notahexseed,totp,6,30\n",
                           "serial,seed,type\nonly a header then junk\n", "{\"json\": true}"}) {
    base::StatusOr<Format> f = DetectFormat(head);
    EXPECT_TRUE(base::IsInvalidArgument(f.status())) << "'" << head << "'";
  }
}

}  // namespace
}  // namespace otpd::tokenio
