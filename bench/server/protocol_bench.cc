// Cost of parsing protocol v1 request lines and formatting replies.

#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

#include "server/protocol.h"

namespace otpd::server {
namespace {

void ParseLine(benchmark::State& state, const std::string& line) {
  std::string buffer = line;
  for (auto _ : state) {
    // The parser unescapes in place: restore the bytes each time (a memcpy, as a read would).
    std::memcpy(buffer.data(), line.data(), line.size());
    ParseResult r = ParseRequest(std::span<char>(buffer));
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * line.size()));
}

void BM_ParseVerify(benchmark::State& state) {
  ParseLine(state, "VERIFY\t123456\tuser=alice.smith@contoso.example\totp=287082");
}
BENCHMARK(BM_ParseVerify);

void BM_ParseVerifyEscaped(benchmark::State& state) {
  ParseLine(state, "VERIFY\t123456\tuser=alice\\tsmith\\\\x@contoso.example\totp=287082");
}
BENCHMARK(BM_ParseVerifyEscaped);

void BM_ParseMalformed(benchmark::State& state) {
  ParseLine(state, "VERIFY\t123456\tuser=alice@contoso.example\tserial=X\totp=287082");
}
BENCHMARK(BM_ParseMalformed);

void BM_FormatAccepted(benchmark::State& state) {
  service::SignInResult r;
  r.outcome = service::Outcome::kAccepted;
  r.method_id = "7f3a9c";
  r.method_kind = service::MethodKind::kHardwareOath;
  r.serial = "HW-000123";
  r.step = 56666667;
  r.drift = -1;
  for (auto _ : state) {
    std::string reply = FormatSignInReply("123456", r);
    benchmark::DoNotOptimize(reply);
  }
}
BENCHMARK(BM_FormatAccepted);

}  // namespace
}  // namespace otpd::server

BENCHMARK_MAIN();
