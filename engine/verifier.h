// The verification decisions for one OATH credential: sign-in, activation and resynchronisation.
// Pure functions: no I/O, no clock reads, no locks. The caller passes the credential, its current
// state and `now`, and gets back a Verdict that carries the new state to persist.
//
// Every function computes every candidate in its window and selects the match without an early
// exit, so the time taken does not reveal where in the window a code matched.

#ifndef OTPD_ENGINE_VERIFIER_H_
#define OTPD_ENGINE_VERIFIER_H_

#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "engine/credential.h"

namespace otpd::engine {

// The durable per-credential state the verifier reads and advances.
struct TokenState {
  // The lowest TOTP step or HOTP counter that may still be accepted. Every value below it has been
  // used (or skipped over by a later accepted code): a match below it is a replay. Accepting a
  // code at value v moves the watermark to v + 1; it never moves backwards. The last value of
  // the range, 2^64-1, is never accepted (its watermark would not fit), so no code can be
  // accepted twice even there.
  uint64_t watermark = 0;
  // TOTP: the token's learnt clock offset in steps (token step - server step); the sign-in
  // window is centred on current step + drift. HOTP: unused (the watermark is the expected
  // counter).
  int64_t drift = 0;

  friend bool operator==(const TokenState&, const TokenState&) = default;
};

// Window sizes. The defaults follow Microsoft Entra for hardware tokens (docs/engine.md):
// +/-2 steps is +/-1 minute for 30 s tokens and +/-2 minutes for 60 s tokens; the activation
// window of +/-2880 steps is +/-1 day for 30 s tokens and +/-2 days for 60 s tokens.
struct WindowPolicy {
  // TOTP sign-in: steps accepted either side of the expected step. Default 2.
  uint32_t totp_window = 2;
  // TOTP near miss: when the sign-in window has no match, steps either side (of the expected
  // step) also scanned; a match there is reported as kDrift, not accepted and not a failure.
  // 0 or a value <= totp_window disables the scan. Default 10.
  uint32_t totp_near_miss_window = 10;
  // TOTP activation: steps either side of the current step (+ any drift already known).
  // Default 2880.
  uint32_t totp_activation_window = 2880;
  // TOTP resync with two consecutive codes: steps either side of the current step. Default 2880.
  uint32_t totp_resync_window = 2880;
  // HOTP sign-in: counters after the expected one that are accepted. Default 10: the expected
  // counter and the 10 following it.
  uint32_t hotp_look_ahead = 10;
  // HOTP: counters before the watermark checked so a reused code is reported as kReplayed
  // rather than kBadCode. Default 10.
  uint32_t hotp_look_behind = 10;
  // HOTP activation and resync: counters after the expected one searched. Default 1000.
  uint32_t hotp_resync_window = 1000;
  // The most HMAC computations any single decision may cost. Validate() refuses windows that
  // would exceed it, so a request's cost is bounded by configuration. Default 12000.
  uint32_t max_hashes_per_decision = 12000;

  // OK when the windows fit within the hash budget.
  base::Status Validate() const;
};

enum class VerdictKind : uint8_t {
  kAccepted,   // matched at a fresh step/counter; new_state advanced
  kBadCode,    // no match in any window searched
  kReplayed,   // matched only at a step/counter below the watermark
  kDrift,      // TOTP: matched only in the near-miss band; not accepted, not a failure
  kMalformed,  // wrong length or a non-digit; nothing was computed
};

struct Verdict {
  VerdictKind kind = VerdictKind::kBadCode;
  // The matched TOTP step or HOTP counter (kAccepted, kReplayed, kDrift).
  uint64_t step = 0;
  // TOTP: matched step - current step; on kAccepted this is the newly learnt drift.
  // HOTP: matched counter - expected counter (how many codes the token skipped ahead).
  int64_t drift = 0;
  // The state to persist. Equal to the input unless kind == kAccepted.
  TokenState new_state;
  // HMACs computed to reach this verdict (for the budget and for statistics).
  uint32_t hashes = 0;

  bool accepted() const { return kind == VerdictKind::kAccepted; }
};

// A sign-in attempt with `code` at `now_unix` (seconds).
Verdict Verify(const Credential& credential, const TokenState& state, std::string_view code,
               int64_t now_unix, const WindowPolicy& policy);

// Activation of a token with the code it shows now, searched in the wide activation window. On
// success the watermark and drift are set from the match, as for a sign-in.
Verdict Activate(const Credential& credential, const TokenState& state, std::string_view code,
                 int64_t now_unix, const WindowPolicy& policy);

// Resynchronisation from two consecutive codes (`code` at v and `next_code` at v + 1) found in the
// wide resync window at or above the watermark. On success the watermark moves past v + 1 and the
// drift is re-centred on v + 1. Anything else is kBadCode (or kMalformed), never a partial change.
Verdict Resync(const Credential& credential, const TokenState& state, std::string_view code,
               std::string_view next_code, int64_t now_unix, const WindowPolicy& policy);

}  // namespace otpd::engine

#endif  // OTPD_ENGINE_VERIFIER_H_
