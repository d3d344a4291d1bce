// The sign-in verification interface the verify socket calls: "is this code right for this
// user (or this token)?". The implementation lives in service/ (SignInVerifier); servers and
// tests depend only on this interface.

#ifndef OTPD_SERVICE_SIGN_IN_H_
#define OTPD_SERVICE_SIGN_IN_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "engine/otp_params.h"
#include "service/method_kind.h"

namespace otpd::service {

// What a sign-in attempt came to. The names returned by OutcomeReason() are the protocol's
// `reason=` values (docs/protocol.md); every FAIL reason the verify socket sends is one of them.
enum class Outcome : uint8_t {
  kAccepted,
  kBadCode,               // wrong code; counts one failure toward the user's lockout
  kReplayed,              // right code, already used (at or below the watermark)
  kLocked,                // too many failures; retry_after_seconds says when to try again
  kDrift,                 // right code far outside the sign-in window; not accepted, no failure
  kNotActivated,          // the token exists but is not activated (or was deactivated)
  kRegistrationRequired,  // the user must register MFA again
  kNoMethod,              // the user has no usable OATH method
  kUnknownUser,           // no such user or token
  kBadRequest,            // malformed request (e.g. a code of the wrong length or non-digits)
  kUnavailable,           // could not decide (storage failure, overload); never "accepted"
  kUnauthorized,          // the client did not authenticate (HELLO missing or wrong)
};
inline constexpr size_t kOutcomeCount = 12;

// "bad_code", "replayed", ... ; "ok" for kAccepted.
std::string_view OutcomeReason(Outcome outcome);

struct SignInResult {
  Outcome outcome = Outcome::kUnavailable;
  // Set when a credential matched (accepted, replayed, drift):
  std::string method_id;
  MethodKind method_kind = MethodKind::kHardwareOath;
  std::string serial;  // hardware tokens only
  engine::OtpType otp_type = engine::OtpType::kTotp;
  int digits = 0;                   // the matched credential's code length
  uint64_t step = 0;                // matched TOTP step or HOTP counter
  int64_t drift = 0;                // learnt (accepted) or observed (drift) offset in steps
  int64_t retry_after_seconds = 0;  // kLocked only
};

// Request fields are views valid only for the duration of the call; implementations copy what
// they keep. Exactly one of `user` and `serial` is set.
struct VerifyRequest {
  std::string_view user;    // UPN, case-insensitive
  std::string_view serial;  // hardware token serial
  std::string_view otp;
};

struct ResyncRequest {
  std::string_view user;
  std::string_view serial;
  std::string_view otp;   // first code
  std::string_view otp2;  // the code that follows it
};

// Called exactly once per request. It may run before the call that started it returns (answers
// that need no durable write) or later on a storage thread (after the new watermark is durable),
// so it must be cheap and must not block: servers post it to their connection's executor.
using SignInCallback = std::function<void(SignInResult)>;

// What a service reports about its user cache (STATS, /metrics).
struct SignInServiceStats {
  uint64_t cache_hits = 0;    // requests decided from a cached user
  uint64_t cache_misses = 0;  // users loaded from storage
  uint64_t cache_evictions = 0;
  uint64_t cache_users = 0;  // users cached now
  uint64_t cache_bytes = 0;  // their approximate memory
};

// Thread-safe: Verify and Resync may be called from many threads at once.
class SignInService {
 public:
  virtual ~SignInService() = default;

  // Checks `request.otp` against every usable OATH credential of the user (or the one token).
  // An accepted result is delivered only after the new watermark is durable; a storage failure
  // delivers kUnavailable.
  virtual void Verify(const VerifyRequest& request, SignInCallback done) = 0;

  // Re-centres a token's drift (TOTP) or counter (HOTP) from two consecutive codes found within
  // the wide resync window. kAccepted carries the new drift.
  virtual void Resync(const ResyncRequest& request, SignInCallback done) = 0;

  // Counters of the service's cache; zero for a service without one.
  virtual SignInServiceStats stats() const { return {}; }
};

}  // namespace otpd::service

#endif  // OTPD_SERVICE_SIGN_IN_H_
