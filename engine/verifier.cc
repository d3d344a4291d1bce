#include "engine/verifier.h"

#include <limits>
#include <string>

#include "base/constant_time.h"

namespace otpd::engine {
namespace {

using base::ConstantTimeEqMask;
using base::ConstantTimeLtMask;
using base::ConstantTimeSelect;

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

uint64_t SaturatingAdd(uint64_t a, uint64_t b) { return a > kMax - b ? kMax : a + b; }
uint64_t SaturatingSub(uint64_t a, uint64_t b) { return a < b ? 0 : a - b; }

uint64_t Offset(uint64_t base, int64_t delta) {
  if (delta >= 0) return SaturatingAdd(base, static_cast<uint64_t>(delta));
  // -(INT64_MIN) does not fit; compute the magnitude in unsigned arithmetic.
  return SaturatingSub(base, 0 - static_cast<uint64_t>(delta));
}

// The best match seen so far in one class (fresh or replayed), chosen as the one nearest the
// centre, without branching on secret-dependent values.
struct Best {
  uint64_t found = 0;  // all-ones once any candidate matched
  uint64_t at = 0;
  uint64_t distance = kMax;

  void Offer(uint64_t match, uint64_t value, uint64_t dist) {
    uint64_t better = match & ConstantTimeLtMask(dist, distance);
    at = ConstantTimeSelect(better, value, at);
    distance = ConstantTimeSelect(better, dist, distance);
    found |= match;
  }
};

struct Scan {
  Best fresh;     // matches at or above the watermark (and below the last value)
  Best replayed;  // matches below it, or at the last value
  uint32_t hashes = 0;
};

// All-ones for values that may be accepted at `watermark`: at or above it, and below the last
// value of the range. Accepting v moves the watermark to v + 1, so the last value can never be
// accepted: its watermark would not fit, and a saturated one would leave it fresh for ever.
uint64_t AcceptableMask(uint64_t v, uint64_t watermark) {
  return ~ConstantTimeLtMask(v, watermark) & ~ConstantTimeEqMask(v, kMax);
}

// Computes the code for every value in [first, last] and offers each match to `scan`. The loop
// runs the same number of times and does the same work whatever the code.
void ScanRange(const Credential& credential, uint32_t code, uint64_t first, uint64_t last,
               uint64_t watermark, uint64_t centre, Scan* scan) {
  if (first > last) return;
  PreparedKey::Scratch scratch(credential.params().algorithm);
  uint64_t v = first;
  while (true) {
    uint32_t candidate = credential.CodeAt(v, &scratch);
    uint64_t match = ConstantTimeEqMask(candidate, code);
    uint64_t acceptable = AcceptableMask(v, watermark);
    uint64_t before_centre = ConstantTimeLtMask(v, centre);
    uint64_t dist = ConstantTimeSelect(before_centre, centre - v, v - centre);
    scan->fresh.Offer(match & acceptable, v, dist);
    scan->replayed.Offer(match & ~acceptable, v, dist);
    ++scan->hashes;
    if (v == last) break;
    ++v;
  }
}

// The window [centre - before, centre + after], clipped to the value range.
void ScanAround(const Credential& credential, uint32_t code, uint64_t centre, uint64_t before,
                uint64_t after, uint64_t watermark, Scan* scan) {
  ScanRange(credential, code, SaturatingSub(centre, before), SaturatingAdd(centre, after),
            watermark, centre, scan);
}

uint64_t TotpCentre(const Credential& credential, const TokenState& state, int64_t now_unix) {
  return Offset(TimeStep(credential.params(), now_unix), state.drift);
}

int64_t SignedDiff(uint64_t a, uint64_t b) { return static_cast<int64_t>(a - b); }

// Turns a scan into a verdict. `reference` is what drift is measured from: the current step for
// TOTP, the watermark (expected counter) for HOTP.
Verdict Decide(const Credential& credential, const TokenState& state, const Scan& scan,
               uint64_t reference) {
  Verdict v;
  v.new_state = state;
  v.hashes = scan.hashes;
  if (scan.fresh.found) {
    v.kind = VerdictKind::kAccepted;
    v.step = scan.fresh.at;
    v.drift = SignedDiff(v.step, reference);
    v.new_state.watermark = v.step + 1;  // step < kMax (AcceptableMask)
    if (credential.params().type == OtpType::kTotp) v.new_state.drift = v.drift;
  } else if (scan.replayed.found) {
    v.kind = VerdictKind::kReplayed;
    v.step = scan.replayed.at;
    v.drift = SignedDiff(v.step, reference);
  } else {
    v.kind = VerdictKind::kBadCode;
  }
  return v;
}

// A HOTP decision over the counters from `behind` before the watermark to `ahead` after it, drift
// measured from the watermark.
Verdict DecideHotp(const Credential& credential, const TokenState& state, uint32_t code,
                   uint64_t behind, uint64_t ahead) {
  Scan scan;
  ScanAround(credential, code, state.watermark, behind, ahead, state.watermark, &scan);
  return Decide(credential, state, scan, state.watermark);
}

Verdict Malformed(const TokenState& state) {
  Verdict v;
  v.kind = VerdictKind::kMalformed;
  v.new_state = state;
  return v;
}

}  // namespace

base::Status WindowPolicy::Validate() const {
  auto span = [](uint64_t before, uint64_t after) { return before + after + 1; };
  const std::pair<const char*, uint64_t> costs[] = {
      {"totp_window", span(totp_window, totp_window)},
      {"totp_near_miss_window", span(totp_near_miss_window, totp_near_miss_window)},
      {"totp_activation_window", span(totp_activation_window, totp_activation_window)},
      {"totp_resync_window", span(totp_resync_window, totp_resync_window) + 1},
      {"hotp_look_ahead", span(hotp_look_behind, hotp_look_ahead)},
      {"hotp_resync_window", span(0, hotp_resync_window) + 1},
  };
  for (const auto& [name, cost] : costs) {
    if (cost > max_hashes_per_decision) {
      return base::InvalidArgumentError(std::string(name) + " needs " + std::to_string(cost) +
                                        " HMACs per decision, over the budget of " +
                                        std::to_string(max_hashes_per_decision));
    }
  }
  return base::OkStatus();
}

Verdict Verify(const Credential& credential, const TokenState& state, std::string_view code,
               int64_t now_unix, const WindowPolicy& policy) {
  const OtpParams& p = credential.params();
  std::optional<uint32_t> wanted = ParseCode(code, p.digits);
  if (!wanted) return Malformed(state);

  if (p.type == OtpType::kHotp) {
    return DecideHotp(credential, state, *wanted, policy.hotp_look_behind, policy.hotp_look_ahead);
  }

  const uint64_t current = TimeStep(p, now_unix);
  const uint64_t centre = TotpCentre(credential, state, now_unix);
  Scan scan;
  ScanAround(credential, *wanted, centre, policy.totp_window, policy.totp_window, state.watermark,
             &scan);
  if (scan.fresh.found || scan.replayed.found ||
      policy.totp_near_miss_window <= policy.totp_window) {
    return Decide(credential, state, scan, current);
  }

  // Not in the sign-in window: look in the near-miss band on both sides. The time this takes
  // reveals only that the sign-in window failed, which the answer says anyway.
  Scan wide;
  wide.hashes = scan.hashes;
  const uint64_t inner = policy.totp_window;
  const uint64_t outer = policy.totp_near_miss_window;
  if (centre > inner) {
    ScanRange(credential, *wanted, SaturatingSub(centre, outer), centre - inner - 1,
              state.watermark, centre, &wide);
  }
  if (centre < kMax - inner) {
    ScanRange(credential, *wanted, centre + inner + 1, SaturatingAdd(centre, outer),
              state.watermark, centre, &wide);
  }
  Verdict v = Decide(credential, state, wide, current);
  if (v.kind == VerdictKind::kAccepted) {
    // A fresh match far from the window is evidence of drift, not a sign-in.
    v.kind = VerdictKind::kDrift;
    v.new_state = state;
  }
  return v;
}

Verdict Activate(const Credential& credential, const TokenState& state, std::string_view code,
                 int64_t now_unix, const WindowPolicy& policy) {
  const OtpParams& p = credential.params();
  std::optional<uint32_t> wanted = ParseCode(code, p.digits);
  if (!wanted) return Malformed(state);

  if (p.type == OtpType::kHotp) {
    return DecideHotp(credential, state, *wanted, 0, policy.hotp_resync_window);
  }
  const uint64_t centre = TotpCentre(credential, state, now_unix);
  Scan scan;
  ScanAround(credential, *wanted, centre, policy.totp_activation_window,
             policy.totp_activation_window, state.watermark, &scan);
  return Decide(credential, state, scan, TimeStep(p, now_unix));
}

Verdict Resync(const Credential& credential, const TokenState& state, std::string_view code,
               std::string_view next_code, int64_t now_unix, const WindowPolicy& policy) {
  const OtpParams& p = credential.params();
  std::optional<uint32_t> first = ParseCode(code, p.digits);
  std::optional<uint32_t> second = ParseCode(next_code, p.digits);
  if (!first || !second) return Malformed(state);

  const bool hotp = p.type == OtpType::kHotp;
  const uint64_t reference = hotp ? state.watermark : TimeStep(p, now_unix);
  const uint64_t lo = hotp ? state.watermark : SaturatingSub(reference, policy.totp_resync_window);
  const uint64_t hi = SaturatingAdd(hotp ? state.watermark : reference,
                                    hotp ? policy.hotp_resync_window : policy.totp_resync_window);
  if (hi == lo) return Decide(credential, state, Scan{}, reference);

  // Pair v with v + 1: keep the previous candidate's match mask as the loop advances, so every
  // value is hashed once and every pair is examined.
  PreparedKey::Scratch scratch(p.algorithm);
  Scan scan;
  uint64_t prev_first_match = ConstantTimeEqMask(credential.CodeAt(lo, &scratch), *first);
  scan.hashes = 1;
  for (uint64_t v = lo + 1;; ++v) {
    uint32_t candidate = credential.CodeAt(v, &scratch);
    ++scan.hashes;
    uint64_t pair = prev_first_match & ConstantTimeEqMask(candidate, *second);
    uint64_t start = v - 1;
    uint64_t fresh = ~ConstantTimeLtMask(start, state.watermark) & AcceptableMask(v, 0);
    uint64_t before = ConstantTimeLtMask(v, reference);
    uint64_t dist = ConstantTimeSelect(before, reference - v, v - reference);
    // Record the second code's position: that is where the token is now.
    scan.fresh.Offer(pair & fresh, v, dist);
    prev_first_match = ConstantTimeEqMask(candidate, *first);
    if (v == hi) break;
  }
  Verdict v = Decide(credential, state, scan, reference);
  return v;
}

}  // namespace otpd::engine
