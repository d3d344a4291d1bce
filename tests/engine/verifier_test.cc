#include "engine/verifier.h"

#include <gtest/gtest.h>

#include <string>

namespace otpd::engine {
namespace {

constexpr int64_t kNow = 1'800'000'000;  // a fixed wall time, step 60'000'000 at 30 s

std::span<const uint8_t> Ascii(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Credential Totp(uint32_t period = 30, HashAlgorithm a = HashAlgorithm::kSha1, int digits = 6) {
  OtpParams p{.type = OtpType::kTotp, .algorithm = a, .digits = digits, .period = period};
  return std::move(Credential::Create(p, Ascii("12345678901234567890")).value());
}

Credential Hotp(HashAlgorithm a = HashAlgorithm::kSha1, int digits = 6) {
  OtpParams p{.type = OtpType::kHotp, .algorithm = a, .digits = digits};
  return std::move(Credential::Create(p, Ascii("12345678901234567890")).value());
}

// The code the token shows `steps` steps away from the server's current step.
std::string CodeAtOffset(const Credential& c, int64_t steps, int64_t now = kNow) {
  return c.TotpAt(now + steps * c.params().period);
}

// Whether `code` also matches some other step in [from, to]; tests that need a unique match skip
// the (rare) seeds where a 6-digit collision would make the answer ambiguous.
bool CollidesElsewhere(const Credential& c, uint64_t step, uint64_t from, uint64_t to) {
  uint32_t code = c.CodeAt(step);
  for (uint64_t s = from; s <= to; ++s) {
    if (s != step && c.CodeAt(s) == code) return true;
  }
  return false;
}

TEST(VerifierTest, AcceptsCurrentCodeAndAdvancesWatermark) {
  Credential c = Totp();
  const uint64_t current = TimeStep(c.params(), kNow);
  Verdict v = Verify(c, TokenState{}, CodeAtOffset(c, 0), kNow, WindowPolicy{});
  ASSERT_EQ(v.kind, VerdictKind::kAccepted);
  EXPECT_EQ(v.step, current);
  EXPECT_EQ(v.drift, 0);
  EXPECT_EQ(v.new_state.watermark, current + 1);
  EXPECT_EQ(v.hashes, 5u);
}

TEST(VerifierTest, TotpWindowEdges) {
  Credential c = Totp();
  WindowPolicy policy{.totp_window = 2, .totp_near_miss_window = 0};
  for (int64_t off : {-2, -1, 1, 2}) {
    Verdict v = Verify(c, TokenState{}, CodeAtOffset(c, off), kNow, policy);
    EXPECT_EQ(v.kind, VerdictKind::kAccepted) << off;
    EXPECT_EQ(v.drift, off);
  }
  for (int64_t off : {-3, 3}) {
    const uint64_t step = TimeStep(c.params(), kNow) + off;
    if (CollidesElsewhere(c, step, step - 5, step + 5)) continue;
    EXPECT_EQ(Verify(c, TokenState{}, CodeAtOffset(c, off), kNow, policy).kind,
              VerdictKind::kBadCode)
        << off;
  }
}

TEST(VerifierTest, SixtySecondTokensUseTheSameStepWindow) {
  // +/-2 steps of 60 s is Entra's +/-2 minutes.
  Credential c = Totp(60);
  WindowPolicy policy{.totp_near_miss_window = 0};
  EXPECT_TRUE(Verify(c, TokenState{}, c.TotpAt(kNow + 120), kNow, policy).accepted());
  EXPECT_TRUE(Verify(c, TokenState{}, c.TotpAt(kNow - 120), kNow, policy).accepted());
  EXPECT_FALSE(Verify(c, TokenState{}, c.TotpAt(kNow + 180), kNow, policy).accepted());
}

TEST(VerifierTest, ReplayAtBelowAndAboveWatermark) {
  Credential c = Totp();
  const uint64_t current = TimeStep(c.params(), kNow);
  TokenState state{.watermark = current};  // step `current` is still usable, current-1 is not
  WindowPolicy policy;
  Verdict at = Verify(c, state, CodeAtOffset(c, 0), kNow, policy);
  EXPECT_EQ(at.kind, VerdictKind::kAccepted);
  Verdict below = Verify(c, state, CodeAtOffset(c, -1), kNow, policy);
  EXPECT_EQ(below.kind, VerdictKind::kReplayed);
  EXPECT_EQ(below.step, current - 1);
  EXPECT_EQ(below.new_state, state);  // nothing changes on a replay
  Verdict above = Verify(c, state, CodeAtOffset(c, 1), kNow, policy);
  EXPECT_EQ(above.kind, VerdictKind::kAccepted);
  // The same code twice: the second is a replay.
  Verdict again = Verify(c, at.new_state, CodeAtOffset(c, 0), kNow, policy);
  EXPECT_EQ(again.kind, VerdictKind::kReplayed);
  // An accepted later code burns the earlier steps too.
  Verdict earlier = Verify(c, above.new_state, CodeAtOffset(c, 0), kNow, policy);
  EXPECT_EQ(earlier.kind, VerdictKind::kReplayed);
}

TEST(VerifierTest, DriftIsLearntOverSuccessiveSignIns) {
  // A token whose clock runs fast gains one step every few sign-ins; the window follows it, so
  // it keeps signing in long after it is more than 2 steps from the server's clock.
  Credential c = Totp();
  TokenState state;
  WindowPolicy policy{.totp_near_miss_window = 0};
  int64_t now = kNow;
  for (int64_t token_offset = 0; token_offset <= 8; ++token_offset) {
    now += 600;  // ten minutes later
    Verdict v = Verify(c, state, CodeAtOffset(c, token_offset, now), now, policy);
    ASSERT_EQ(v.kind, VerdictKind::kAccepted) << "offset " << token_offset;
    EXPECT_EQ(v.drift, token_offset);
    EXPECT_EQ(v.new_state.drift, token_offset);
    state = v.new_state;
  }
  // Without the learnt drift the same code would be far outside the window.
  now += 600;
  std::string code = CodeAtOffset(c, 8, now);
  EXPECT_TRUE(Verify(c, state, code, now, policy).accepted());
  EXPECT_FALSE(Verify(c, TokenState{}, code, now, policy).accepted());
}

TEST(VerifierTest, NearMissReportsDriftWithoutAccepting) {
  Credential c = Totp();
  const uint64_t current = TimeStep(c.params(), kNow);
  for (int64_t off : {-10, -6, -3, 3, 7, 10}) {
    if (CollidesElsewhere(c, current + off, current - 12, current + 12)) continue;
    Verdict v = Verify(c, TokenState{}, CodeAtOffset(c, off), kNow, WindowPolicy{});
    EXPECT_EQ(v.kind, VerdictKind::kDrift) << off;
    EXPECT_EQ(v.drift, off);
    EXPECT_EQ(v.new_state, TokenState{});
    EXPECT_EQ(v.hashes, 21u);
  }
  if (!CollidesElsewhere(c, current + 11, current - 13, current + 13)) {
    EXPECT_EQ(Verify(c, TokenState{}, CodeAtOffset(c, 11), kNow, WindowPolicy{}).kind,
              VerdictKind::kBadCode);
  }
  // A near-miss code below the watermark is a replay, not drift.
  TokenState used{.watermark = current + 8};
  EXPECT_EQ(Verify(c, used, CodeAtOffset(c, 7), kNow, WindowPolicy{}).kind, VerdictKind::kReplayed);
}

TEST(VerifierTest, MalformedCodesComputeNothing) {
  Credential c = Totp();
  for (std::string_view bad : {"", "12345", "1234567", "12a456", " 23456", "12345\n", "-12345"}) {
    Verdict v = Verify(c, TokenState{}, bad, kNow, WindowPolicy{});
    EXPECT_EQ(v.kind, VerdictKind::kMalformed) << bad;
    EXPECT_EQ(v.hashes, 0u);
  }
  Credential eight = Totp(30, HashAlgorithm::kSha256, 8);
  EXPECT_EQ(Verify(eight, TokenState{}, "123456", kNow, WindowPolicy{}).kind,
            VerdictKind::kMalformed);
}

TEST(VerifierTest, AllAlgorithmsAndDigits) {
  for (HashAlgorithm a : {HashAlgorithm::kSha1, HashAlgorithm::kSha256, HashAlgorithm::kSha512}) {
    for (int digits = 6; digits <= 9; ++digits) {
      Credential t = Totp(30, a, digits);
      EXPECT_TRUE(Verify(t, TokenState{}, CodeAtOffset(t, 1), kNow, WindowPolicy{}).accepted());
      Credential h = Hotp(a, digits);
      EXPECT_TRUE(
          Verify(h, TokenState{.watermark = 5}, h.FormatCodeAt(7), 0, WindowPolicy{}).accepted());
    }
  }
}

TEST(VerifierTest, HotpLookAheadAndReplay) {
  Credential c = Hotp();
  WindowPolicy policy;  // look-ahead 10, look-behind 10
  TokenState state{.watermark = 100};
  Verdict v = Verify(c, state, c.FormatCodeAt(100), 0, policy);
  ASSERT_TRUE(v.accepted());
  EXPECT_EQ(v.new_state.watermark, 101u);
  EXPECT_EQ(v.drift, 0);
  Verdict edge = Verify(c, state, c.FormatCodeAt(110), 0, policy);
  ASSERT_TRUE(edge.accepted());
  EXPECT_EQ(edge.drift, 10);
  EXPECT_EQ(edge.new_state.watermark, 111u);
  if (!CollidesElsewhere(c, 111, 85, 115)) {
    EXPECT_EQ(Verify(c, state, c.FormatCodeAt(111), 0, policy).kind, VerdictKind::kBadCode);
  }
  EXPECT_EQ(Verify(c, v.new_state, c.FormatCodeAt(100), 0, policy).kind, VerdictKind::kReplayed);
  EXPECT_EQ(Verify(c, state, c.FormatCodeAt(95), 0, policy).kind, VerdictKind::kReplayed);
  // The counter never rewinds: after accepting 110, codes 100..109 are burnt.
  EXPECT_EQ(Verify(c, edge.new_state, c.FormatCodeAt(105), 0, policy).kind, VerdictKind::kReplayed);
}

TEST(VerifierTest, ActivationWindowIsWide) {
  Credential c = Totp();
  WindowPolicy policy;
  // A token whose clock is 20 hours fast: far outside sign-in, inside activation (+/-1 day).
  const int64_t off = 20 * 120;
  Verdict v = Activate(c, TokenState{}, CodeAtOffset(c, off), kNow, policy);
  ASSERT_EQ(v.kind, VerdictKind::kAccepted);
  EXPECT_EQ(v.drift, off);
  EXPECT_EQ(v.new_state.drift, off);
  EXPECT_EQ(v.hashes, 2u * 2880 + 1);
  // After activation, sign-ins follow the learnt drift.
  Verdict next = Verify(c, v.new_state, CodeAtOffset(c, off + 1, kNow + 30), kNow + 30, policy);
  EXPECT_TRUE(next.accepted());
  // Beyond a day it fails (unless a 6-digit collision happens in 5761 candidates).
  const uint64_t far = TimeStep(c.params(), kNow) + 2881;
  if (!CollidesElsewhere(c, far, far - 5800, far + 1)) {
    EXPECT_EQ(Activate(c, TokenState{}, CodeAtOffset(c, 2881), kNow, policy).kind,
              VerdictKind::kBadCode);
  }
}

TEST(VerifierTest, HotpActivationSearchesResyncWindow) {
  Credential c = Hotp();
  Verdict v = Activate(c, TokenState{}, c.FormatCodeAt(640), 0, WindowPolicy{});
  ASSERT_TRUE(v.accepted());
  EXPECT_EQ(v.new_state.watermark, 641u);
}

TEST(VerifierTest, ResyncWithTwoConsecutiveCodes) {
  Credential c = Totp();
  const uint64_t current = TimeStep(c.params(), kNow);
  const int64_t off = -1500;  // 12.5 hours slow
  Verdict v =
      Resync(c, TokenState{}, CodeAtOffset(c, off), CodeAtOffset(c, off + 1), kNow, WindowPolicy{});
  ASSERT_EQ(v.kind, VerdictKind::kAccepted);
  EXPECT_EQ(v.step, current + off + 1);
  EXPECT_EQ(v.new_state.drift, off + 1);
  EXPECT_EQ(v.new_state.watermark, current + off + 2);
  // Two codes that are not consecutive do not resync.
  EXPECT_EQ(
      Resync(c, TokenState{}, CodeAtOffset(c, off), CodeAtOffset(c, off + 2), kNow, WindowPolicy{})
          .kind,
      VerdictKind::kBadCode);
  // Codes below the watermark cannot be used to resync (no rewinding through resync).
  TokenState used{.watermark = current + off + 5};
  EXPECT_EQ(
      Resync(c, used, CodeAtOffset(c, off), CodeAtOffset(c, off + 1), kNow, WindowPolicy{}).kind,
      VerdictKind::kBadCode);
}

TEST(VerifierTest, HotpResync) {
  Credential c = Hotp();
  TokenState state{.watermark = 10};
  Verdict v = Resync(c, state, c.FormatCodeAt(700), c.FormatCodeAt(701), 0, WindowPolicy{});
  ASSERT_TRUE(v.accepted());
  EXPECT_EQ(v.new_state.watermark, 702u);
  EXPECT_EQ(Resync(c, state, c.FormatCodeAt(1200), c.FormatCodeAt(1201), 0, WindowPolicy{}).kind,
            VerdictKind::kBadCode);
}

TEST(VerifierTest, FarFutureAndZeroTime) {
  Credential c = Totp();
  const int64_t far = int64_t{1} << 45;  // a million years ahead
  Verdict v = Verify(c, TokenState{}, c.TotpAt(far), far, WindowPolicy{});
  ASSERT_TRUE(v.accepted());
  EXPECT_EQ(v.step, static_cast<uint64_t>(far / 30));
  // Near step 0 the window is clipped, not wrapped.
  Verdict zero = Verify(c, TokenState{}, c.TotpAt(0), 0, WindowPolicy{});
  EXPECT_TRUE(zero.accepted());
  EXPECT_EQ(zero.step, 0u);
  // Past 2038.
  const int64_t y2040 = 2'208'988'800;
  EXPECT_TRUE(Verify(c, TokenState{}, c.TotpAt(y2040), y2040, WindowPolicy{}).accepted());
}

// At the top of the counter range a code must still be accepted at most once. The last value,
// 2^64-1, can never be accepted: the watermark would have to move past the end of the range.
TEST(VerifierTest, TheTopOfTheCounterRangeAcceptsNothingTwice) {
  Credential c = Hotp();
  const uint64_t last = UINT64_MAX;
  for (uint64_t a = last - 20; a != last; ++a) {  // the RFC seed's codes up there are distinct
    ASSERT_NE(c.CodeAt(a), c.CodeAt(last)) << a;
    if (a != last - 1) {
      ASSERT_NE(c.CodeAt(a), c.CodeAt(last - 1)) << a;
    }
  }
  TokenState state{.watermark = last - 3};
  for (int i = 0; i < 3; ++i) {
    Verdict v = Verify(c, state, c.FormatCodeAt(last), 0, WindowPolicy{});
    EXPECT_FALSE(v.accepted()) << i;
    state = v.new_state;
  }
  Verdict v = Verify(c, state, c.FormatCodeAt(last - 1), 0, WindowPolicy{});
  ASSERT_TRUE(v.accepted());
  EXPECT_EQ(v.new_state.watermark, last);
  state = v.new_state;
  EXPECT_EQ(Verify(c, state, c.FormatCodeAt(last - 1), 0, WindowPolicy{}).kind,
            VerdictKind::kReplayed);
  EXPECT_EQ(Verify(c, state, c.FormatCodeAt(last), 0, WindowPolicy{}).kind, VerdictKind::kReplayed);
  // Neither activation nor resync can land on the last value either.
  EXPECT_FALSE(
      Activate(c, TokenState{.watermark = last - 5}, c.FormatCodeAt(last), 0, WindowPolicy{})
          .accepted());
  EXPECT_FALSE(Resync(c, TokenState{.watermark = last - 5}, c.FormatCodeAt(last - 1),
                      c.FormatCodeAt(last), 0, WindowPolicy{})
                   .accepted());
  // A TOTP token's drift cannot push its window past the end and wrap.
  Credential t = Totp();
  TokenState far{.watermark = 0, .drift = INT64_MAX};
  EXPECT_FALSE(Verify(t, far, t.FormatCodeAt(last), kNow, WindowPolicy{}).accepted());
}

TEST(VerifierTest, PolicyBudget) {
  EXPECT_TRUE(WindowPolicy{}.Validate().ok());
  WindowPolicy huge{.totp_activation_window = 100000};
  base::Status s = huge.Validate();
  EXPECT_TRUE(IsInvalidArgument(s));
  EXPECT_NE(s.message().find("totp_activation_window"), std::string_view::npos);
}

}  // namespace
}  // namespace otpd::engine
