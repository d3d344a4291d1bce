// liboath is the independent oracle: for random seeds, algorithms, digits, periods, epochs, times
// and counters, our codes must equal liboath's, and our window verdicts must agree with liboath's
// validate functions wherever the two are comparable.

#include <gtest/gtest.h>
#include <liboath/oath.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/credential.h"
#include "engine/verifier.h"

namespace otpd::engine {
namespace {

class LiboathPropertyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_EQ(oath_init(), OATH_OK); }
  static void TearDownTestSuite() { oath_done(); }

  std::vector<uint8_t> RandomSeed() {
    std::uniform_int_distribution<size_t> len(10, 100);
    std::uniform_int_distribution<int> byte(0, 255);
    std::vector<uint8_t> seed(len(rng_));
    for (auto& b : seed) b = static_cast<uint8_t>(byte(rng_));
    return seed;
  }

  static int OathFlags(HashAlgorithm a) {
    switch (a) {
      case HashAlgorithm::kSha1:
        return 0;
      case HashAlgorithm::kSha256:
        return OATH_TOTP_HMAC_SHA256;
      case HashAlgorithm::kSha512:
        return OATH_TOTP_HMAC_SHA512;
    }
    return 0;
  }

  template <typename T>
  T Pick(std::initializer_list<T> options) {
    std::uniform_int_distribution<size_t> i(0, options.size() - 1);
    return options.begin()[i(rng_)];
  }

  std::mt19937_64 rng_{20261128};
};

TEST_F(LiboathPropertyTest, TotpCodesAgree) {
  for (int i = 0; i < 3000; ++i) {
    auto seed = RandomSeed();
    OtpParams p;
    p.algorithm = Pick({HashAlgorithm::kSha1, HashAlgorithm::kSha256, HashAlgorithm::kSha512});
    p.digits = Pick({6, 7, 8});  // liboath's range
    p.period = Pick<uint32_t>({30, 60, 1, 17, 300});
    p.t0 = Pick<int64_t>({0, 0, 1000, 123456});
    // Well past 2038 and far into the future: 64-bit time steps.
    std::uniform_int_distribution<int64_t> when(p.t0, int64_t{1} << 40);
    int64_t now = when(rng_);
    auto cred = Credential::Create(p, seed);
    ASSERT_TRUE(cred.ok());
    char expected[16] = {};
    ASSERT_EQ(oath_totp_generate2(reinterpret_cast<const char*>(seed.data()), seed.size(), now,
                                  p.period, p.t0, static_cast<unsigned>(p.digits),
                                  OathFlags(p.algorithm), expected),
              OATH_OK);
    ASSERT_EQ(cred->TotpAt(now), expected) << "iteration " << i;
  }
}

TEST_F(LiboathPropertyTest, HotpCodesAgree) {
  std::uniform_int_distribution<uint64_t> counter(0, UINT64_MAX);
  for (int i = 0; i < 3000; ++i) {
    auto seed = RandomSeed();
    OtpParams p{.type = OtpType::kHotp, .digits = Pick({6, 7, 8})};
    auto cred = Credential::Create(p, seed);
    ASSERT_TRUE(cred.ok());
    uint64_t c = counter(rng_);
    char expected[16] = {};
    ASSERT_EQ(oath_hotp_generate(reinterpret_cast<const char*>(seed.data()), seed.size(), c,
                                 static_cast<unsigned>(p.digits), false, SIZE_MAX, expected),
              OATH_OK);
    ASSERT_EQ(cred->FormatCodeAt(c), expected) << "iteration " << i;
  }
}

TEST_F(LiboathPropertyTest, TotpWindowVerdictsAgree) {
  std::uniform_int_distribution<int> offset(-5, 5);
  std::uniform_int_distribution<uint32_t> any_code(0, 99999999);
  for (int i = 0; i < 2000; ++i) {
    auto seed = RandomSeed();
    OtpParams p;
    p.algorithm = Pick({HashAlgorithm::kSha1, HashAlgorithm::kSha256, HashAlgorithm::kSha512});
    p.digits = Pick({6, 8});
    p.period = Pick<uint32_t>({30, 60});
    int64_t now = std::uniform_int_distribution<int64_t>(1'000'000'000, 5'000'000'000)(rng_);
    uint32_t window = Pick<uint32_t>({1, 2, 3});
    auto cred = Credential::Create(p, seed);
    ASSERT_TRUE(cred.ok());
    std::string code;
    if (i % 2 == 0) {
      code = cred->TotpAt(now + int64_t{offset(rng_)} * p.period);
    } else {
      code = FormatCode(any_code(rng_) % DigitsModulus(p.digits), p.digits);
    }
    int pos = 0;
    uint64_t oath_step = 0;
    int rc =
        oath_totp_validate4(reinterpret_cast<const char*>(seed.data()), seed.size(), now, p.period,
                            0, window, &pos, &oath_step, OathFlags(p.algorithm), code.c_str());
    WindowPolicy policy{.totp_window = window, .totp_near_miss_window = 0};
    Verdict v = Verify(*cred, TokenState{}, code, now, policy);
    ASSERT_EQ(v.accepted(), rc >= 0) << "iteration " << i;
    if (v.accepted()) {
      // Both search the same set; with a unique match they find the same step.
      EXPECT_EQ(static_cast<int64_t>(v.step) - static_cast<int64_t>(TimeStep(p, now)), pos)
          << "iteration " << i;
    }
  }
}

TEST_F(LiboathPropertyTest, HotpWindowVerdictsAgree) {
  std::uniform_int_distribution<uint64_t> start(0, 1'000'000'000);
  std::uniform_int_distribution<int> ahead(-3, 14);
  for (int i = 0; i < 2000; ++i) {
    auto seed = RandomSeed();
    OtpParams p{.type = OtpType::kHotp, .digits = 6};
    auto cred = Credential::Create(p, seed);
    ASSERT_TRUE(cred.ok());
    uint64_t watermark = start(rng_);
    std::string code = cred->FormatCodeAt(watermark + ahead(rng_));
    int rc = oath_hotp_validate(reinterpret_cast<const char*>(seed.data()), seed.size(), watermark,
                                10, code.c_str());
    WindowPolicy policy{.hotp_look_ahead = 10, .hotp_look_behind = 0};
    Verdict v = Verify(*cred, TokenState{.watermark = watermark}, code, 0, policy);
    ASSERT_EQ(v.accepted(), rc >= 0) << "iteration " << i;
    if (v.accepted()) {
      EXPECT_EQ(v.step, watermark + static_cast<uint64_t>(rc));
    }
  }
}

}  // namespace
}  // namespace otpd::engine
