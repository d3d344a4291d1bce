// Replays every input of the committed fuzz corpora (fuzz/corpus/<target>/) through the fuzz
// targets' own checks, in the ordinary build and under the sanitizers. A crash that fuzzing
// finds is fixed, and its input is added to the target's corpus: from then on it is a
// regression test here (docs/hardening.md). A target's checks trap on a violated invariant, so
// a regression fails this binary.

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

extern "C" int FuzzProtocol(const uint8_t* data, size_t size);
extern "C" int FuzzAdminRequest(const uint8_t* data, size_t size);
extern "C" int FuzzValidateRequest(const uint8_t* data, size_t size);
extern "C" int FuzzCodec(const uint8_t* data, size_t size);
extern "C" int FuzzOtpauth(const uint8_t* data, size_t size);
extern "C" int FuzzEntraCsv(const uint8_t* data, size_t size);
extern "C" int FuzzOathCsv(const uint8_t* data, size_t size);
extern "C" int FuzzPskc(const uint8_t* data, size_t size);
extern "C" int FuzzPskcEncrypted(const uint8_t* data, size_t size);

namespace {

struct Target {
  const char* name;
  int (*entry)(const uint8_t*, size_t);
};

class FuzzCorpusTest : public ::testing::TestWithParam<Target> {};

TEST_P(FuzzCorpusTest, EveryCorpusInputPassesTheTargetsChecks) {
  std::filesystem::path dir = std::filesystem::path("fuzz/corpus") / GetParam().name;
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  size_t inputs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(entry.path().string());
    EXPECT_EQ(GetParam().entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0);
    ++inputs;
  }
  EXPECT_GT(inputs, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Corpora, FuzzCorpusTest,
    ::testing::Values(Target{"protocol_fuzzer", FuzzProtocol},
                      Target{"admin_request_fuzzer", FuzzAdminRequest},
                      Target{"validate_request_fuzzer", FuzzValidateRequest},
                      Target{"codec_fuzzer", FuzzCodec}, Target{"otpauth_fuzzer", FuzzOtpauth},
                      Target{"entra_csv_fuzzer", FuzzEntraCsv},
                      Target{"oath_csv_fuzzer", FuzzOathCsv}, Target{"pskc_fuzzer", FuzzPskc},
                      Target{"pskc_encrypted_fuzzer", FuzzPskcEncrypted}),
    [](const ::testing::TestParamInfo<Target>& info) { return std::string(info.param.name); });

}  // namespace
