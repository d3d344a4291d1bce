// Engine micro-benchmarks: code generation and worst-case window verification, ours and
// liboath's on the same inputs in the same binary. Results: docs/benchmarks.md.

#include <benchmark/benchmark.h>
#include <liboath/oath.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/credential.h"
#include "engine/verifier.h"

namespace otpd::engine {
namespace {

constexpr int64_t kNow = 1'800'000'000;

const std::string& Seed(HashAlgorithm a) {
  static const std::string seeds[] = {
      "12345678901234567890", "12345678901234567890123456789012",
      "1234567890123456789012345678901234567890123456789012345678901234"};
  return seeds[static_cast<int>(a)];
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

int OathFlags(HashAlgorithm a) {
  return a == HashAlgorithm::kSha256   ? OATH_TOTP_HMAC_SHA256
         : a == HashAlgorithm::kSha512 ? OATH_TOTP_HMAC_SHA512
                                       : 0;
}

Credential Make(OtpType type, HashAlgorithm a) {
  OtpParams p{.type = type, .algorithm = a, .digits = 6, .period = 30};
  return std::move(Credential::Create(p, Bytes(Seed(a))).value());
}

// A 6-digit code that matches no value in [from, to].
std::string CodeMatchingNothing(const Credential& c, uint64_t from, uint64_t to) {
  for (uint32_t guess = 0;; ++guess) {
    bool used = false;
    for (uint64_t v = from; v <= to && !used; ++v) used = c.CodeAt(v) == guess;
    if (!used) return FormatCode(guess, 6);
  }
}

void BM_HotpGenerate(benchmark::State& state) {
  auto a = static_cast<HashAlgorithm>(state.range(0));
  Credential c = Make(OtpType::kHotp, a);
  PreparedKey::Scratch scratch(a);
  uint64_t counter = 0;
  for (auto _ : state) benchmark::DoNotOptimize(c.CodeAt(counter++, &scratch));
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(HashAlgorithmName(a)));
}
BENCHMARK(BM_HotpGenerate)->Arg(0)->Arg(1)->Arg(2);

void BM_LiboathHotpGenerate(benchmark::State& state) {
  auto a = static_cast<HashAlgorithm>(state.range(0));
  const std::string& seed = Seed(a);
  char out[16];
  uint64_t counter = 0;
  oath_init();
  for (auto _ : state) {
    if (a == HashAlgorithm::kSha1) {
      oath_hotp_generate(seed.data(), seed.size(), counter++, 6, false, SIZE_MAX, out);
    } else {
      // liboath has no HOTP entry point for SHA-2; TOTP with a 1-second step is HOTP(now).
      oath_totp_generate2(seed.data(), seed.size(), static_cast<time_t>(counter++), 1, 0, 6,
                          OathFlags(a), out);
    }
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(HashAlgorithmName(a)));
}
BENCHMARK(BM_LiboathHotpGenerate)->Arg(0)->Arg(1)->Arg(2);

// TOTP worst case: a wrong code, so every candidate of the +/-2 window is computed. Arg 1 adds
// the default near-miss scan (+/-10), which a wrong code also pays for.
void BM_TotpVerifyWorstCase(benchmark::State& state) {
  Credential c = Make(OtpType::kTotp, HashAlgorithm::kSha1);
  const uint64_t current = TimeStep(c.params(), kNow);
  WindowPolicy policy{.totp_window = 2, .totp_near_miss_window = state.range(0) ? 10u : 0u};
  std::string wrong = CodeMatchingNothing(c, current - 10, current + 10);
  TokenState token;
  for (auto _ : state) {
    Verdict v = Verify(c, token, wrong, kNow, policy);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(state.range(0) ? "window 2 + near-miss 10 (21 HMACs)" : "window 2 (5 HMACs)");
}
BENCHMARK(BM_TotpVerifyWorstCase)->Arg(0)->Arg(1);

void BM_LiboathTotpValidateWorstCase(benchmark::State& state) {
  Credential c = Make(OtpType::kTotp, HashAlgorithm::kSha1);
  const uint64_t current = TimeStep(c.params(), kNow);
  std::string wrong = CodeMatchingNothing(c, current - 10, current + 10);
  const std::string& seed = Seed(HashAlgorithm::kSha1);
  oath_init();
  for (auto _ : state) {
    int rc = oath_totp_validate(seed.data(), seed.size(), kNow, 30, 0, 2, wrong.c_str());
    benchmark::DoNotOptimize(rc);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("window 2 (5 HMACs)");
}
BENCHMARK(BM_LiboathTotpValidateWorstCase);

// HOTP worst case: a wrong code with look-ahead 10 (11 candidates). Arg 1 adds the default
// look-behind of 10 used to report replays (21 candidates).
void BM_HotpVerifyWorstCase(benchmark::State& state) {
  Credential c = Make(OtpType::kHotp, HashAlgorithm::kSha1);
  const uint64_t watermark = 1000;
  WindowPolicy policy{.hotp_look_ahead = 10, .hotp_look_behind = state.range(0) ? 10u : 0u};
  std::string wrong = CodeMatchingNothing(c, watermark - 10, watermark + 10);
  TokenState token{.watermark = watermark};
  for (auto _ : state) {
    Verdict v = Verify(c, token, wrong, 0, policy);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(state.range(0) ? "look-ahead 10 + look-behind 10" : "look-ahead 10");
}
BENCHMARK(BM_HotpVerifyWorstCase)->Arg(0)->Arg(1);

void BM_LiboathHotpValidateWorstCase(benchmark::State& state) {
  Credential c = Make(OtpType::kHotp, HashAlgorithm::kSha1);
  const uint64_t watermark = 1000;
  std::string wrong = CodeMatchingNothing(c, watermark - 10, watermark + 10);
  const std::string& seed = Seed(HashAlgorithm::kSha1);
  oath_init();
  for (auto _ : state) {
    int rc = oath_hotp_validate(seed.data(), seed.size(), watermark, 10, wrong.c_str());
    benchmark::DoNotOptimize(rc);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("look-ahead 10");
}
BENCHMARK(BM_LiboathHotpValidateWorstCase);

// Activation: the +/-2880-step window (5761 HMACs) with a wrong code.
void BM_TotpActivateWorstCase(benchmark::State& state) {
  Credential c = Make(OtpType::kTotp, HashAlgorithm::kSha1);
  WindowPolicy policy;
  TokenState token;
  for (auto _ : state) {
    Verdict v = Activate(c, token, "000000", kNow, policy);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TotpActivateWorstCase);

}  // namespace
}  // namespace otpd::engine

BENCHMARK_MAIN();
