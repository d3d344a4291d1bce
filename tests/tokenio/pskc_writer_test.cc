#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/codec.h"
#include "tests/testing/sanitized.h"
#include "tests/tokenio/test_util.h"
#include "tokenio/pskc.h"

namespace otpd::tokenio {
namespace {

using testing::Bytes;
using testing::CollectingSink;
using testing::kSeed20;
using testing::kSeed32;
using testing::kSeed64;

constexpr int64_t kNow = 1700000000;

std::vector<TokenRecord> SampleTokens() {
  std::vector<TokenRecord> tokens;
  TokenRecord hotp;
  hotp.serial = "EXP-HOTP";
  hotp.manufacturer = "Acme <&> \"Tokens\"";
  hotp.model = "H1";
  hotp.params.type = engine::OtpType::kHotp;
  hotp.params.digits = 8;
  hotp.counter = 123456789012ull;
  hotp.seed = Bytes(kSeed20);
  tokens.push_back(std::move(hotp));

  TokenRecord totp;
  totp.serial = "EXP-TOTP";
  totp.upn = "carol@contoso.com";
  totp.params.algorithm = engine::HashAlgorithm::kSha256;
  totp.params.period = 60;
  totp.params.t0 = 100;
  totp.time_drift = -2;
  totp.not_before = 1600000000;
  totp.not_after = 1900000000;
  totp.seed = Bytes(kSeed32);
  tokens.push_back(std::move(totp));

  TokenRecord sha512;
  sha512.serial = "EXP-512";
  sha512.params.algorithm = engine::HashAlgorithm::kSha512;
  sha512.params.digits = 9;
  sha512.seed = Bytes(kSeed64);
  tokens.push_back(std::move(sha512));
  return tokens;
}

base::StatusOr<std::string> Export(PskcWriterOptions options,
                                   const std::vector<TokenRecord>& tokens) {
  std::ostringstream out;
  OTPD_ASSIGN_OR_RETURN(std::unique_ptr<PskcWriter> writer,
                        PskcWriter::Create(out, std::move(options)));
  for (const TokenRecord& t : tokens) OTPD_RETURN_IF_ERROR(writer->Add(t));
  OTPD_RETURN_IF_ERROR(writer->Finish());
  return out.str();
}

void ExpectSameTokens(const std::vector<TokenRecord>& want, const CollectingSink& got) {
  EXPECT_TRUE(got.errors.empty()) << (got.errors.empty() ? "" : got.errors[0].reason);
  ASSERT_EQ(got.tokens.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const TokenRecord& a = want[i];
    const TokenRecord& b = got.tokens[i];
    EXPECT_EQ(b.position, i + 1);
    EXPECT_EQ(b.serial, a.serial);
    EXPECT_EQ(b.upn, a.upn);
    EXPECT_EQ(b.manufacturer, a.manufacturer);
    EXPECT_EQ(b.model, a.model);
    EXPECT_EQ(b.params, a.params) << a.serial;
    EXPECT_TRUE(b.seed.Equals(a.seed)) << a.serial;
    EXPECT_EQ(b.counter, a.counter);
    EXPECT_EQ(b.time_drift, a.time_drift);
    EXPECT_EQ(b.not_before, a.not_before);
    EXPECT_EQ(b.not_after, a.not_after);
  }
}

PskcSecrets Now() {
  PskcSecrets s;
  s.now_unix = kNow;
  return s;
}

TEST(PskcWriterTest, PlainRoundTrip) {
  std::vector<TokenRecord> tokens = SampleTokens();
  base::StatusOr<std::string> doc = Export({}, tokens);
  ASSERT_TRUE(doc.ok()) << doc.status();
  CollectingSink sink;
  std::istringstream in(*doc);
  ASSERT_TRUE(ParsePskc(in, Now(), &sink).ok());
  ExpectSameTokens(tokens, sink);
}

struct CipherCase {
  PskcCipher cipher;
  size_t key_size;
};

class PskcWriterCipherTest : public ::testing::TestWithParam<CipherCase> {};

TEST_P(PskcWriterCipherTest, PreSharedKeyRoundTrip) {
  std::vector<TokenRecord> tokens = SampleTokens();
  PskcWriterOptions options;
  options.protection = PskcProtection::kPreSharedKey;
  options.cipher = GetParam().cipher;
  options.key = base::SecretBytes(GetParam().key_size);
  for (size_t i = 0; i < options.key.size(); ++i) options.key.data()[i] = uint8_t(0xA0 + i);
  options.key_name = "export key 1";
  PskcSecrets secrets = Now();
  secrets.pre_shared_key = options.key.Clone();
  base::StatusOr<std::string> doc = Export(std::move(options), tokens);
  ASSERT_TRUE(doc.ok()) << doc.status();
  // No seed in clear.
  EXPECT_EQ(doc->find(base::Base64Encode(Bytes(kSeed20).span())), std::string::npos);
  EXPECT_EQ(doc->find("MTIzNDU2Nzg5MDEy"), std::string::npos);
  EXPECT_NE(doc->find("<ds:KeyName>export key 1</ds:KeyName>"), std::string::npos);

  CollectingSink sink;
  std::istringstream in(*doc);
  base::Status status = ParsePskc(in, secrets, &sink);
  ASSERT_TRUE(status.ok()) << status;
  ExpectSameTokens(tokens, sink);

  PskcSecrets wrong = Now();
  wrong.pre_shared_key = base::SecretBytes(GetParam().key_size);
  CollectingSink rejected;
  std::istringstream again(*doc);
  EXPECT_TRUE(base::IsUnauthenticated(ParsePskc(again, wrong, &rejected)));
  EXPECT_TRUE(rejected.tokens.empty());
}

std::string CipherCaseName(const ::testing::TestParamInfo<CipherCase>& info) {
  static const char* kNames[] = {"Aes128Cbc", "Aes192Cbc", "Aes256Cbc", "KwAes128Pad",
                                 "KwAes256Pad"};
  return kNames[static_cast<int>(info.param.cipher)];
}

INSTANTIATE_TEST_SUITE_P(Ciphers, PskcWriterCipherTest,
                         ::testing::Values(CipherCase{PskcCipher::kAes128Cbc, 16},
                                           CipherCase{PskcCipher::kAes192Cbc, 24},
                                           CipherCase{PskcCipher::kAes256Cbc, 32},
                                           CipherCase{PskcCipher::kKwAes128Pad, 16},
                                           CipherCase{PskcCipher::kKwAes256Pad, 32}),
                         CipherCaseName);

TEST(PskcWriterTest, PasswordRoundTripWithRandomSalt) {
  std::vector<TokenRecord> tokens = SampleTokens();
  auto options = [] {
    PskcWriterOptions o;
    o.protection = PskcProtection::kPassword;
    o.key = Bytes("correct horse battery staple");
    o.key_name = "batch 7";
    o.pbkdf2_iterations = 2000;
    o.mac = engine::HashAlgorithm::kSha256;  // the cipher tests cover the default HMAC-SHA1
    return o;
  };
  base::StatusOr<std::string> doc = Export(options(), tokens);
  base::StatusOr<std::string> doc2 = Export(options(), tokens);
  ASSERT_TRUE(doc.ok() && doc2.ok());
  EXPECT_NE(*doc, *doc2);  // fresh salt, IVs and MAC key every time
  EXPECT_NE(doc->find("<IterationCount>2000</IterationCount>"), std::string::npos);
  EXPECT_NE(doc->find("xmldsig-more#hmac-sha256"), std::string::npos);

  PskcSecrets secrets = Now();
  secrets.password = Bytes("correct horse battery staple");
  CollectingSink sink;
  std::istringstream in(*doc);
  base::Status status = ParsePskc(in, secrets, &sink);
  ASSERT_TRUE(status.ok()) << status;
  ExpectSameTokens(tokens, sink);

  secrets.password = Bytes("Correct horse battery staple");
  CollectingSink rejected;
  std::istringstream again(*doc2);
  status = ParsePskc(again, secrets, &rejected);
  EXPECT_TRUE(base::IsUnauthenticated(status)) << status;
  EXPECT_NE(status.message().find("wrong password or pre-shared key"), std::string_view::npos);
  EXPECT_TRUE(rejected.tokens.empty());
}

TEST(PskcWriterTest, RejectsBadOptions) {
  std::ostringstream out;
  PskcWriterOptions psk;
  psk.protection = PskcProtection::kPreSharedKey;
  psk.key = base::SecretBytes(15);
  EXPECT_TRUE(base::IsInvalidArgument(PskcWriter::Create(out, std::move(psk)).status()));

  PskcWriterOptions empty_password;
  empty_password.protection = PskcProtection::kPassword;
  EXPECT_TRUE(base::IsInvalidArgument(PskcWriter::Create(out, std::move(empty_password)).status()));

  PskcWriterOptions few_iterations;
  few_iterations.protection = PskcProtection::kPassword;
  few_iterations.key = Bytes("pw");
  few_iterations.pbkdf2_iterations = 10;
  EXPECT_TRUE(base::IsInvalidArgument(PskcWriter::Create(out, std::move(few_iterations)).status()));
}

// Peak resident set size of this process in KiB (VmHWM), or 0 if unknown.
size_t PeakRssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoul(line.substr(6));
  }
  return 0;
}

// Counts tokens and checks each, without keeping them: what an importer does.
class CountingSink : public TokenSink {
 public:
  base::Status OnToken(TokenRecord token) override {
    ++count;
    ok = ok && token.position == count && token.seed.size() == 20 &&
         token.serial == "S" + std::to_string(count);
    return base::OkStatus();
  }
  void OnError(RowError) override { ++errors; }
  size_t count = 0;
  size_t errors = 0;
  bool ok = true;
};

TEST(PskcStreamingTest, HundredThousandEncryptedKeysInBoundedMemory) {
  constexpr size_t kKeys = 100000;
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("otpd_pskc_stream_" + std::to_string(getpid()) + ".xml");
  PskcWriterOptions options;
  options.protection = PskcProtection::kPreSharedKey;
  options.key = base::SecretBytes(16);
  {
    std::ofstream out(path, std::ios::binary);
    auto writer = PskcWriter::Create(out, std::move(options));
    ASSERT_TRUE(writer.ok()) << writer.status();
    TokenRecord token;
    token.seed = Bytes(kSeed20);
    token.manufacturer = "Streaming Test Manufacturer Ltd.";
    token.model = "Model with a long name to make every KeyPackage larger";
    for (size_t i = 1; i <= kKeys; ++i) {
      token.serial = "S" + std::to_string(i);
      ASSERT_TRUE((*writer)->Add(token).ok());
    }
    ASSERT_TRUE((*writer)->Finish().ok());
  }
  size_t file_kib = std::filesystem::file_size(path) / 1024;
  ASSERT_GT(file_kib, 50u * 1024);  // the file is big enough for the bound to mean something

  size_t before = PeakRssKib();
  CountingSink sink;
  PskcSecrets secrets = Now();
  secrets.pre_shared_key = base::SecretBytes(16);
  {
    std::ifstream in(path, std::ios::binary);
    base::Status status = ParsePskc(in, secrets, &sink);
    ASSERT_TRUE(status.ok()) << status;
  }
  size_t after = PeakRssKib();
  std::filesystem::remove(path);
  EXPECT_EQ(sink.count, kKeys);
  EXPECT_EQ(sink.errors, 0u);
  EXPECT_TRUE(sink.ok);
  // Reading the whole file would raise the peak by at least its size; streaming keeps to the
  // parser's buffers plus the serial set used for the duplicate check. (Under a sanitizer RSS
  // says little: the figures are recorded, not checked.)
  ::testing::Test::RecordProperty("file_kib", static_cast<int>(file_kib));
  ::testing::Test::RecordProperty("peak_rss_growth_kib", static_cast<int>(after - before));
  if (before > 0 && !otpd::testing::kSanitized) {
    EXPECT_LT(after - before, file_kib / 4) << "file " << file_kib << " KiB";
  }
}

}  // namespace
}  // namespace otpd::tokenio
