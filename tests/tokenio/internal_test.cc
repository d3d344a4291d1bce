// Tests of tokenio's internal helpers whose edge cases are hard to reach through a whole file.

#include <gtest/gtest.h>

#include "base/codec.h"
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
