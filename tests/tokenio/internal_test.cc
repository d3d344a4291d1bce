// Tests of tokenio's internal helpers whose edge cases are hard to reach through a whole file.

#include <gtest/gtest.h>

#include "base/codec.h"
#include "tests/tokenio/test_util.h"
#include "tokenio/internal/crypto.h"
#include "tokenio/internal/csv_reader.h"
#include "tokenio/internal/datetime.h"
#include "tokenio/internal/record_checker.h"

namespace otpd::tokenio::internal {
namespace {

TEST(NormaliseUpnTest, AcceptsAndLowerCasesAddresses) {
  EXPECT_EQ(*NormaliseUpn("Helga@Contoso.com"), "helga@contoso.com");
  EXPECT_EQ(*NormaliseUpn(" first.last+tag@sub.example.co.uk "),
            "first.last+tag@sub.example.co.uk");
  EXPECT_EQ(*NormaliseUpn("o'brien@xn--bcher-kva.example"), "o'brien@xn--bcher-kva.example");
}

TEST(NormaliseUpnTest, RejectsNonAddresses) {
  for (const char* upn :
       {"helga", "@contoso.com", "helga@", "helga@contoso", "a@b@c.com", "helga@contoso.c",
        "helga@-contoso.com", "he lga@contoso.com", ".helga@contoso.com", "he..lga@contoso.com",
        "helga@contoso..com", "helga@contoso.c0m", "DC=example,DC=net"}) {
    EXPECT_FALSE(NormaliseUpn(upn).ok()) << upn;
  }
}

TEST(LooksLikeSeedTest, SeedEncodingsAreRecognised) {
  const std::string seed = "12345678901234567890";
  const auto bytes = std::span(reinterpret_cast<const uint8_t*>(seed.data()), seed.size());
  for (const std::string& text :
       {base::HexEncode(bytes), "0x" + base::HexEncode(bytes), base::Base32Encode(bytes),
        base::Base32Encode(bytes, false), base::Base64Encode(bytes),
        std::string("GEZDGNBVGY3TQOJQgezdgnbvgy3tqojq"), std::string("qbC3vsXM09rh6O2abcDEFG")}) {
    EXPECT_TRUE(LooksLikeSeed(text)) << text;
  }
}

TEST(LooksLikeSeedTest, SerialsAndNamesAreNot) {
  for (const char* text :
       {"DEMO0001", "GALT10000001", "2600000000001", "550e8400-e29b-41d4-a716-446655440000",
        "ABCDEFGH", "3132333435363738393031323334353", "Feitian Technologies", "HardwareKey",
        "SERIALNUMBER2024ACME00", "first.last", ""}) {
    EXPECT_FALSE(LooksLikeSeed(text)) << text;
  }
}

TEST(RecordCheckerTest, SeedShapedTextRejectsTheRowWithoutRepeatingIt) {
  const std::string b32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
  struct Row {
    std::string serial, upn, model;
  };
  const Row rows[] = {
      {b32, "", "K1"}, {"S-2", b32 + "@example.com", "K1"}, {"S-3", "", b32}, {"S-4", "", "K1"}};
  testing::CollectingSink sink;
  RecordChecker checker("line", &sink);
  size_t line = 0;
  for (const Row& r : rows) {
    TokenRecord record;
    record.position = ++line;
    record.serial = r.serial;
    record.upn = r.upn;
    record.model = r.model;
    record.seed = testing::Bytes(testing::kSeed20);
    ASSERT_TRUE(checker.Submit(std::move(record)).ok());
  }
  ASSERT_EQ(sink.tokens.size(), 1u);
  EXPECT_EQ(sink.tokens[0].serial, "S-4");
  ASSERT_EQ(sink.errors.size(), 3u);
  EXPECT_EQ(sink.errors[0].serial, "");  // the serial itself looked like a seed
  EXPECT_NE(sink.errors[0].reason.find("serial number looks like a seed"), std::string::npos);
  EXPECT_EQ(sink.errors[1].serial, "S-2");
  EXPECT_NE(sink.errors[1].reason.find("upn looks like a seed"), std::string::npos);
  EXPECT_NE(sink.errors[2].reason.find("manufacturer or model looks like a seed"),
            std::string::npos);
  for (const RowError& e : sink.errors) EXPECT_EQ(e.reason.find("GEZDGNBV"), std::string::npos);
}

TEST(RecordCheckerTest, ReportedSerialsAreNeverSeedShapedOrUnprintable) {
  testing::CollectingSink sink;
  RecordChecker checker("line", &sink);
  checker.Reject(1, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "r");
  checker.Reject(2, "BAD\x01", "r");
  checker.Reject(3, std::string(65, 'S'), "r");
  checker.Reject(4, "OK-4", "r");
  ASSERT_EQ(sink.errors.size(), 4u);
  EXPECT_EQ(sink.errors[0].serial, "");
  EXPECT_EQ(sink.errors[1].serial, "");
  EXPECT_EQ(sink.errors[2].serial, "");
  EXPECT_EQ(sink.errors[3].serial, "OK-4");
}

TEST(XsDateTimeTest, ParsesZonesAndFractions) {
  EXPECT_EQ(*ParseXsDateTime("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseXsDateTime("2006-05-01T00:00:00Z"), 1146441600);
  EXPECT_EQ(*ParseXsDateTime("2006-05-01T00:00:00"), 1146441600);
  EXPECT_EQ(*ParseXsDateTime("2006-05-01T02:00:00.123+02:00"), 1146441600);
  EXPECT_EQ(*ParseXsDateTime("2006-04-30T19:00:00-05:00"), 1146441600);
  EXPECT_EQ(*ParseXsDateTime("2024-02-29T12:00:00Z"), 1709208000);
  EXPECT_EQ(FormatXsDateTime(1146441600), "2006-05-01T00:00:00Z");
  EXPECT_EQ(FormatXsDateTime(4102444799), "2099-12-31T23:59:59Z");
}

TEST(XsDateTimeTest, RejectsMalformed) {
  for (const char* t : {"", "2006-05-01", "2006-13-01T00:00:00Z", "2023-02-29T00:00:00Z",
                        "2006-05-01 00:00:00Z", "2006-05-01T00:00:00+2", "2006-05-01T00:60:00Z",
                        "2006-05-01T00:00:00Zjunk", "2006-05-01T00:00:00."}) {
    EXPECT_FALSE(ParseXsDateTime(t).ok()) << t;
  }
}

TEST(CsvSplitTest, QuotingRules) {
  std::vector<std::string> f;
  ASSERT_TRUE(SplitCsvRecord("a,\"b,c\",\"d\"\"e\", f ,", ',', &f).ok());
  EXPECT_EQ(f, (std::vector<std::string>{"a", "b,c", "d\"e", " f ", ""}));
  ASSERT_TRUE(SplitCsvRecord("x\ty;z", '\t', &f).ok());
  EXPECT_EQ(f, (std::vector<std::string>{"x", "y;z"}));
  EXPECT_FALSE(SplitCsvRecord("a,\"b\"c", ',', &f).ok());
  EXPECT_FALSE(SplitCsvRecord("a,b\"c", ',', &f).ok());
  EXPECT_FALSE(SplitCsvRecord("a,\"b", ',', &f).ok());
  EXPECT_EQ(DetectSeparator("a;b;c"), ';');
  EXPECT_EQ(DetectSeparator("a\tb,c"), '\t');
  EXPECT_EQ(DetectSeparator("a,b;c"), ',');
  EXPECT_EQ(DetectSeparator("\"a;b\",c"), ',');
}

TEST(CryptoTest, CipherUris) {
  EXPECT_EQ(*ParseCipherUri("http://www.w3.org/2001/04/xmlenc#aes128-cbc"),
            (Cipher{CipherMode::kCbc, 16}));
  EXPECT_EQ(*ParseCipherUri("http://www.w3.org/2001/04/xmlenc#kw-aes256"),
            (Cipher{CipherMode::kKeyWrap, 32}));
  EXPECT_EQ(*ParseCipherUri("http://www.w3.org/2009/xmlenc11#kw-aes-192-pad"),
            (Cipher{CipherMode::kKeyWrapPad, 24}));
  EXPECT_FALSE(ParseCipherUri("http://www.w3.org/2001/04/xmlenc#tripledes-cbc").ok());
}

// RFC 3394 section 4.1: 128-bit key data wrapped with a 128-bit KEK.
TEST(CryptoTest, KeyUnwrapRfc3394Vector) {
  base::SecretBytes kek = std::move(base::HexDecode("000102030405060708090A0B0C0D0E0F")).value();
  base::SecretBytes wrapped =
      std::move(base::HexDecode("1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5")).value();
  base::StatusOr<base::SecretBytes> key = Decrypt({CipherMode::kKeyWrap, 16}, kek, wrapped.span());
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(base::HexEncode(key->span()), "00112233445566778899aabbccddeeff");
  wrapped.data()[3] ^= 1;
  EXPECT_FALSE(Decrypt({CipherMode::kKeyWrap, 16}, kek, wrapped.span()).ok());
}

// RFC 6070 test vector 2 for PBKDF2-HMAC-SHA1.
TEST(CryptoTest, Pbkdf2Rfc6070Vector) {
  base::StatusOr<base::SecretBytes> key =
      Pbkdf2(engine::HashAlgorithm::kSha1, base::SecretBytes::FromString("password"),
             base::SecretBytes::FromString("salt").span(), 2, 20);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(base::HexEncode(key->span()), "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
}

TEST(CryptoTest, CbcRoundTripAndBadPadding) {
  base::SecretBytes key(16);
  base::SecretBytes plain = base::SecretBytes::FromString("12345678901234567890");
  base::StatusOr<std::vector<uint8_t>> data = Encrypt({CipherMode::kCbc, 16}, key, plain.span());
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->size(), 16u + 32u);  // IV + two padded blocks
  base::StatusOr<base::SecretBytes> back = Decrypt({CipherMode::kCbc, 16}, key, *data);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->Equals(plain));
  EXPECT_FALSE(Decrypt({CipherMode::kCbc, 16}, key, std::span(*data).first(40)).ok());
  EXPECT_FALSE(Decrypt({CipherMode::kCbc, 32}, key, *data).ok());  // wrong key size
}

}  // namespace
}  // namespace otpd::tokenio::internal
