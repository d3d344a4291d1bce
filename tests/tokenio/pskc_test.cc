#include "tokenio/pskc.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "base/codec.h"
#include "tests/tokenio/test_util.h"

namespace otpd::tokenio {
namespace {

using testing::Bytes;
using testing::CollectingSink;
using testing::kSeed20;
using testing::kSeed32;
using testing::kSeed64;
using testing::ReadFixture;
using testing::SeedIs;

constexpr int64_t kNow = 1700000000;  // 2023-11-14

PskcSecrets Secrets() {
  PskcSecrets s;
  s.now_unix = kNow;
  return s;
}

PskcSecrets WithPsk(std::string_view hex) {
  PskcSecrets s = Secrets();
  s.pre_shared_key = std::move(base::HexDecode(hex)).value();
  return s;
}

PskcSecrets WithPassword(std::string_view password) {
  PskcSecrets s = Secrets();
  s.password = Bytes(password);
  return s;
}

constexpr std::string_view kPsk = "12345678901234567890123456789012";

base::Status Parse(std::string_view text, const PskcSecrets& secrets, CollectingSink* sink) {
  std::istringstream in{std::string(text)};
  return ParsePskc(in, secrets, sink);
}

// Replaces the `n`th (1-based) ValueMAC with another valid base64 MAC; n = 0 replaces all.
std::string TamperValueMac(std::string text, int n) {
  const std::string tag = "<pskc:ValueMAC>";
  int seen = 0;
  for (size_t pos = text.find(tag); pos != std::string::npos; pos = text.find(tag, pos + 1)) {
    if (n == 0 || ++seen == n) {
      char& c = text[pos + tag.size()];
      c = c == 'A' ? 'B' : 'A';
    }
  }
  return text;
}

TEST(PskcTest, PlainValuesDefaultNamespace) {
  CollectingSink sink;
  base::Status status = Parse(ReadFixture("pskc_plain.xml"), Secrets(), &sink);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(sink.errors.empty());
  ASSERT_EQ(sink.tokens.size(), 3u);

  const TokenRecord& hotp = sink.tokens[0];
  EXPECT_EQ(hotp.position, 1u);
  EXPECT_EQ(hotp.serial, "987654321");
  EXPECT_EQ(hotp.manufacturer, "Manufacturer");
  EXPECT_EQ(hotp.model, "OTP Token");
  EXPECT_EQ(hotp.params.type, engine::OtpType::kHotp);
  EXPECT_EQ(hotp.params.digits, 8);
  EXPECT_EQ(hotp.counter, 0u);
  EXPECT_TRUE(SeedIs(hotp.seed, kSeed20));

  const TokenRecord& totp = sink.tokens[1];
  EXPECT_EQ(totp.serial, "TOTP-256");
  EXPECT_EQ(totp.manufacturer, "Acme & Sons");
  EXPECT_EQ(totp.upn, "alice@example.com");
  EXPECT_EQ(totp.params.type, engine::OtpType::kTotp);
  EXPECT_EQ(totp.params.algorithm, engine::HashAlgorithm::kSha256);
  EXPECT_EQ(totp.params.digits, 6);
  EXPECT_EQ(totp.params.period, 60u);
  EXPECT_EQ(totp.params.t0, 0);
  EXPECT_EQ(totp.time_drift, -1);
  EXPECT_EQ(totp.not_before, 1577836800);
  EXPECT_EQ(totp.not_after, 4102444799);
  EXPECT_TRUE(SeedIs(totp.seed, kSeed32));  // base64 split over lines

  const TokenRecord& vendor = sink.tokens[2];
  EXPECT_EQ(vendor.serial, "KEYID-3");                    // no SerialNo: Key Id
  EXPECT_EQ(vendor.params.type, engine::OtpType::kTotp);  // ...pskc#totp
  EXPECT_EQ(vendor.params.algorithm, engine::HashAlgorithm::kSha512);
  EXPECT_EQ(vendor.params.digits, 9);
  EXPECT_EQ(vendor.params.period, 30u);
  EXPECT_TRUE(SeedIs(vendor.seed, kSeed64));
}

TEST(PskcTest, AnyPrefixWorks) {
  const std::string doc =
      "<x:KeyContainer xmlns:x='urn:ietf:params:xml:ns:keyprov:pskc' Version='1.0'>"
      "<x:KeyPackage><x:DeviceInfo><x:SerialNo>P1</x:SerialNo></x:DeviceInfo>"
      "<x:Key Id='k' Algorithm='urn:ietf:params:xml:ns:keyprov:pskc:hotp'>"
      "<x:Data><x:Secret><x:PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</x:PlainValue></x:Secret>"
      "<x:Counter><x:PlainValue>42</x:PlainValue></x:Counter></x:Data></x:Key></x:KeyPackage>"
      "</x:KeyContainer>";
  CollectingSink sink;
  ASSERT_TRUE(Parse(doc, Secrets(), &sink).ok());
  ASSERT_EQ(sink.tokens.size(), 1u);
  EXPECT_EQ(sink.tokens[0].counter, 42u);
  EXPECT_EQ(sink.tokens[0].params.digits, 6);
  ASSERT_EQ(sink.tokens[0].warnings.size(), 1u);
  EXPECT_EQ(sink.tokens[0].warnings[0], "no ResponseFormat; assuming 6 digits");
}

TEST(PskcTest, BrokenKeyPackagesAreRejectedOneByOne) {
  CollectingSink sink;
  base::Status status = Parse(ReadFixture("pskc_broken.xml"), Secrets(), &sink);
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(sink.tokens.size(), 1u);
  EXPECT_EQ(sink.tokens[0].serial, "B-OK");

  // A package names its serial only when it has the expected shape: one Key, with a Secret.
  struct Expected {
    size_t position;
    const char* serial;
    const char* reason;
  };
  const Expected expected[] = {
      {2, "B-OCRA", "unsupported key algorithm"},
      {3, "B-LEN", "ResponseFormat Length must be 6..9"},
      {4, "B-HEX", "unsupported ResponseFormat Encoding"},
      {5, "B-EXPIRED", "key expired on 2010-01-01T00:00:00Z"},
      {6, "B-FUTURE", "key not valid before 2090-06-01T10:00:00Z"},
      {7, "", "Key has no Secret"},
      {8, "B-BASE64", "Secret: PlainValue is not valid base64"},
      {9, "B-OK", "duplicate serial number; first seen at KeyPackage 1"},
      {10, "B-SHORT", "at least 128 bits"},
      {11, "", "KeyPackage has no Key"},
      {12, "B-COUNTER", "Counter: not an integer"},
      {13, "B-PIN", "PINUsageMode"},
  };
  ASSERT_EQ(sink.errors.size(), std::size(expected));
  for (const Expected& e : expected) {
    const RowError* error = sink.ErrorAt(e.position);
    ASSERT_NE(error, nullptr) << "no error for KeyPackage " << e.position;
    EXPECT_EQ(error->serial, e.serial);
    EXPECT_NE(error->reason.find(e.reason), std::string::npos)
        << "KeyPackage " << e.position << ": " << error->reason;
  }
  testing::ExpectNoSecrets(sink, status);
}

TEST(PskcTest, PolicyDatesAreCheckedAgainstNow) {
  // The same file read in 2009 accepts the key that later expired.
  PskcSecrets secrets = Secrets();
  secrets.now_unix = 1230768000;  // 2009-01-01
  CollectingSink sink;
  ASSERT_TRUE(Parse(ReadFixture("pskc_broken.xml"), secrets, &sink).ok());
  const TokenRecord* expired = sink.Token("B-EXPIRED");
  ASSERT_NE(expired, nullptr);
  EXPECT_EQ(expired->not_after, 1262304000);
}

TEST(PskcTest, PreSharedKeyAes128Cbc) {
  CollectingSink sink;
  base::Status status = Parse(ReadFixture("pskc_psk_aes128.xml"), WithPsk(kPsk), &sink);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(sink.errors.empty());
  ASSERT_EQ(sink.tokens.size(), 3u);
  EXPECT_EQ(sink.tokens[0].serial, "PSK0001");
  EXPECT_EQ(sink.tokens[0].params.type, engine::OtpType::kHotp);
  EXPECT_EQ(sink.tokens[0].counter, 7u);
  EXPECT_TRUE(SeedIs(sink.tokens[0].seed, kSeed20));
  EXPECT_EQ(sink.tokens[1].params.digits, 8);
  EXPECT_TRUE(SeedIs(sink.tokens[1].seed, kSeed32));
  EXPECT_EQ(sink.tokens[2].params.period, 60u);
  EXPECT_EQ(sink.tokens[2].time_drift, -1);
  EXPECT_TRUE(SeedIs(sink.tokens[2].seed, kSeed20));
}

TEST(PskcTest, PasswordPbkdf2) {
  CollectingSink sink;
  std::string password = ReadFixture("password.txt");
  password.pop_back();  // newline
  base::Status status = Parse(ReadFixture("pskc_password.xml"), WithPassword(password), &sink);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(sink.errors.empty());
  ASSERT_EQ(sink.tokens.size(), 2u);
  EXPECT_EQ(sink.tokens[0].serial, "PW0001");
  EXPECT_EQ(sink.tokens[0].params.digits, 8);
  EXPECT_TRUE(SeedIs(sink.tokens[0].seed, kSeed20));
  EXPECT_TRUE(SeedIs(sink.tokens[1].seed, kSeed32));
}

TEST(PskcTest, WrongPasswordIsAClearFileError) {
  CollectingSink sink;
  base::Status status =
      Parse(ReadFixture("pskc_password.xml"), WithPassword("not-the-password"), &sink);
  EXPECT_TRUE(base::IsUnauthenticated(status)) << status;
  EXPECT_NE(status.message().find("wrong password or pre-shared key"), std::string_view::npos)
      << status;
  EXPECT_EQ(status.message().find("not-the-password"), std::string_view::npos);
  EXPECT_TRUE(sink.tokens.empty());
  EXPECT_TRUE(sink.errors.empty());
  testing::ExpectNoSecrets(sink, status);
}

TEST(PskcTest, WrongPreSharedKeyIsAClearFileError) {
  CollectingSink sink;
  base::Status status =
      Parse(ReadFixture("pskc_psk_aes128.xml"), WithPsk("000102030405060708090a0b0c0d0e0f"), &sink);
  EXPECT_TRUE(base::IsUnauthenticated(status)) << status;
  EXPECT_NE(status.message().find("wrong password or pre-shared key"), std::string_view::npos);
  EXPECT_TRUE(sink.tokens.empty());
  testing::ExpectNoSecrets(sink, status);
}

TEST(PskcTest, MissingSecretsAreFileErrors) {
  CollectingSink sink;
  base::Status no_psk = Parse(ReadFixture("pskc_psk_aes128.xml"), Secrets(), &sink);
  EXPECT_TRUE(base::IsFailedPrecondition(no_psk)) << no_psk;
  EXPECT_NE(no_psk.message().find("pre-shared key (its KeyName says which)"),
            std::string_view::npos)
      << no_psk;
  EXPECT_EQ(no_psk.message().find("Pre-shared-key"), std::string_view::npos) << no_psk;
  // How to give one, through otpctl and through the admin API.
  EXPECT_NE(no_psk.message().find("--psk-file"), std::string_view::npos) << no_psk;
  EXPECT_NE(no_psk.message().find("X-Otpd-Pskc-Key"), std::string_view::npos) << no_psk;

  base::Status no_password = Parse(ReadFixture("pskc_password.xml"), Secrets(), &sink);
  EXPECT_TRUE(base::IsFailedPrecondition(no_password)) << no_password;
  EXPECT_NE(no_password.message().find("no password was given"), std::string_view::npos);
  EXPECT_NE(no_password.message().find("--password-file"), std::string_view::npos) << no_password;

  base::Status wrong_size = Parse(ReadFixture("pskc_psk_aes128.xml"),
                                  WithPsk(std::string(kPsk) + std::string(kPsk)), &sink);
  EXPECT_TRUE(base::IsFailedPrecondition(wrong_size)) << wrong_size;
  EXPECT_NE(wrong_size.message().find("needs 16"), std::string_view::npos) << wrong_size;
  EXPECT_TRUE(sink.tokens.empty());
}

TEST(PskcTest, BadContainerSettingsAreFileErrors) {
  std::string doc = ReadFixture("pskc_password.xml");
  size_t at = doc.find("<IterationCount>1000<");
  ASSERT_NE(at, std::string::npos);
  doc.replace(at, 21, "<IterationCount>0<");
  CollectingSink sink;
  base::Status status = Parse(doc, WithPassword("qwerty"), &sink);
  EXPECT_TRUE(base::IsFailedPrecondition(status)) << status;
  EXPECT_NE(status.message().find("KeyPackage 1: PBKDF2 IterationCount"), std::string_view::npos)
      << status;
  EXPECT_TRUE(sink.tokens.empty());
  EXPECT_TRUE(sink.errors.empty());
}

TEST(PskcTest, TamperedMacRejectsThatKeyOnly) {
  CollectingSink sink;
  base::Status status = Parse(ReadFixture("pskc_tampered.xml"), WithPsk(kPsk), &sink);
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(sink.tokens.size(), 2u);
  EXPECT_EQ(sink.tokens[0].serial, "PSK0001");
  EXPECT_EQ(sink.tokens[1].serial, "PSK0003");
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].position, 2u);
  EXPECT_EQ(sink.errors[0].serial, "PSK0002");
  EXPECT_EQ(sink.errors[0].reason, "Secret: MAC mismatch");
  testing::ExpectNoSecrets(sink, status);
}

TEST(PskcTest, TamperedFirstKeyIsStillReportedAsARow) {
  CollectingSink sink;
  std::string doc = TamperValueMac(ReadFixture("pskc_psk_aes128.xml"), 1);
  ASSERT_TRUE(Parse(doc, WithPsk(kPsk), &sink).ok());
  EXPECT_EQ(sink.tokens.size(), 2u);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].position, 1u);
  EXPECT_EQ(sink.errors[0].reason, "Secret: MAC mismatch");
}

TEST(PskcTest, EveryKeyFailingItsMacIsAFileError) {
  CollectingSink sink;
  std::string doc = TamperValueMac(ReadFixture("pskc_psk_aes128.xml"), 0);
  base::Status status = Parse(doc, WithPsk(kPsk), &sink);
  EXPECT_TRUE(base::IsUnauthenticated(status)) << status;
  EXPECT_NE(status.message().find("none of the 3 encrypted keys"), std::string_view::npos)
      << status;
  EXPECT_TRUE(sink.tokens.empty());
  EXPECT_TRUE(sink.errors.empty());
}

TEST(PskcTest, CbcWithoutValueMacIsRejected) {
  std::string doc = std::regex_replace(ReadFixture("pskc_psk_aes128.xml"),
                                       std::regex("<pskc:ValueMAC>[^<]*</pskc:ValueMAC>"), "");
  CollectingSink sink;
  ASSERT_TRUE(Parse(doc, WithPsk(kPsk), &sink).ok());
  EXPECT_TRUE(sink.tokens.empty());
  ASSERT_EQ(sink.errors.size(), 3u);
  EXPECT_NE(sink.errors[0].reason.find("has no ValueMAC"), std::string::npos);
}

TEST(PskcTest, AesKeyWrapFromOpenssl) {
  CollectingSink sink;
  base::Status status = Parse(ReadFixture("pskc_kw_aes128.xml"), WithPsk(kPsk), &sink);
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(sink.tokens.size(), 1u);
  EXPECT_EQ(sink.tokens[0].serial, "KW0001");
  EXPECT_EQ(sink.tokens[0].params.algorithm, engine::HashAlgorithm::kSha256);
  EXPECT_EQ(sink.tokens[0].params.digits, 8);
  EXPECT_TRUE(SeedIs(sink.tokens[0].seed, kSeed32));

  CollectingSink wrong;
  status =
      Parse(ReadFixture("pskc_kw_aes128.xml"), WithPsk("000102030405060708090a0b0c0d0e0f"), &wrong);
  EXPECT_TRUE(base::IsUnauthenticated(status)) << status;
  EXPECT_TRUE(wrong.tokens.empty());
}

TEST(PskcTest, FileLevelErrors) {
  struct Case {
    const char* doc;
    const char* message;
  };
  const Case cases[] = {
      {"upn,serial number\n", "not well-formed XML at line 1"},
      {"", "not well-formed XML"},
      {"<KeyContainer xmlns='urn:ietf:params:xml:ns:keyprov:pskc'><KeyPackage>",
       "not well-formed XML"},
      {"<KeyContainer xmlns='urn:example'/>", "not a PSKC file"},
      {"<Other xmlns='urn:ietf:params:xml:ns:keyprov:pskc'/>", "not a PSKC file"},
      {"<KeyContainer xmlns='urn:ietf:params:xml:ns:keyprov:pskc'/>", "has no KeyPackage"},
      {"<!DOCTYPE x [<!ENTITY a 'aaaa'>]><KeyContainer "
       "xmlns='urn:ietf:params:xml:ns:keyprov:pskc'/>",
       "DTDs"},
  };
  for (const Case& c : cases) {
    CollectingSink sink;
    base::Status status = Parse(c.doc, Secrets(), &sink);
    EXPECT_TRUE(base::IsInvalidArgument(status)) << c.doc << " -> " << status;
    EXPECT_NE(status.message().find(c.message), std::string_view::npos)
        << c.doc << " -> " << status;
  }
}

TEST(PskcTest, SinkErrorStopsTheParse) {
  CollectingSink sink;
  sink.stop_after = 2;
  base::Status status = Parse(ReadFixture("pskc_plain.xml"), Secrets(), &sink);
  EXPECT_TRUE(base::IsCancelled(status)) << status;
  EXPECT_EQ(sink.tokens.size(), 2u);
}

}  // namespace
}  // namespace otpd::tokenio
