// The sign-in verification interface the verify socket calls: "is this code right for this
// user (or this token)?". The implementation lives in service/ (SignInVerifier); servers and
// tests depend only on this interface.

#ifndef OTPD_SERVICE_SIGNIN_SIGN_IN_H_
#define OTPD_SERVICE_SIGNIN_SIGN_IN_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/otp_params.h"
#include "service/model/method_kind.h"

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
  kBadPassword,           // wrong password, app password or temporary access pass; a failure
  kRateLimited,           // too many phone challenges; retry_after_seconds says when
  kRevoked,               // a remembered session revoked (revokeMfaSessions)
  kExpired,               // a remembered session or temporary access pass past its end
  kUnknownSession,        // no such remembered session, or not this one's secret
  kNotYetValid,           // a temporary access pass before its start
  kPolicy,                // SET_PASSWORD: the new password breaks the password policy
  kTapRequired,           // ENROL without a temporary access pass where one is needed
  kRefused,               // a self-service change refused by a rule (a limit, a lapsed enrolment)
};
inline constexpr size_t kOutcomeCount = 21;

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
  int64_t retry_after_seconds = 0;  // kLocked and kRateLimited
  bool must_change = false;         // PASSWORD accepted: the password must be changed now
  bool usable_once = false;         // TAP accepted: the pass is used up
  std::string channel;              // CHALLENGE: "sms" or "voice"; a phone code matched: the
                                    // mobile's "sms", the other phones' "voice"
  // A phone challenged or its code matched: the serial privacyIDEA's clients are shown for it
  // ("PHONE" and 16 hex digits keyed by the installation's data key over the user and the phone),
  // so that no two users and no two installations share one (Graph's phone method ids do).
  std::string phone_serial;
  int64_t expires_in_seconds = 0;  // CHALLENGE: how long the code is valid
  // PASSWORD and TAP accepted: the fence (the user record's version) the decision was made
  // under, so that a change that depends on it (SET_PASSWORD, ENROL) can be made conditional on
  // nothing having changed since.
  uint64_t fence = 0;
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

// PASSWORD, APP_PASSWORD, TAP (`secret` is the password or pass), SESSION (`secret` is the
// session token).
struct SecretRequest {
  std::string_view user;
  std::string_view secret;
};

// A secret that only the caller can check, checked under the user's lockout (CONFIRM's code,
// which MethodAdmin checks against the pending app).
struct CheckedRequest {
  std::string_view user;
  // Called once the user is known and not locked, on a service thread with no lock held (it may
  // read the Store), possibly more than once (again after the user changed meanwhile). Answers
  // kAccepted, kBadCode (a wrong secret: one failure toward the user's lockout, as a wrong code
  // at VERIFY) or another refusal, which counts nothing (kNoMethod, kRefused, kUnavailable).
  std::function<Outcome()> check;
};

// CHALLENGE: a one-time code to one of the user's phones.
struct ChallengeRequest {
  std::string_view user;
  std::string_view method;   // "mobile", "alternateMobile" or "office"
  std::string_view channel;  // "sms", "voice", or empty for the phone's default
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

  // The other factors (docs/protocol.md). A service that does not offer one answers kBadRequest,
  // as the socket does for an unknown verb. Failures count toward the user's lockout as wrong
  // codes do, except SESSION's (a session token cannot be guessed).
  virtual void Password(const SecretRequest& request, SignInCallback done);
  virtual void AppPassword(const SecretRequest& request, SignInCallback done);
  virtual void Tap(const SecretRequest& request, SignInCallback done);
  virtual void Session(const SecretRequest& request, SignInCallback done);
  // Sends a one-time code to a phone of the user (through an outbox event) that VERIFY then
  // accepts once.
  virtual void Challenge(const ChallengeRequest& request, SignInCallback done);
  // Runs `request.check` under the user's lockout: kLocked (with retry_after) without calling it
  // while the user is locked; its kBadCode counts one failure and its kAccepted clears them, as
  // a code's at VERIFY; a kAccepted answer carries the fence it was decided under.
  virtual void CheckedFactor(const CheckedRequest& request, SignInCallback done);
};

// What a self-service verb came to: an outcome, and on success the reply's fields in order.
// Values may be secrets shown once (a session token, an otpauth URI): whoever writes them out
// wipes its copies.
struct ActionResult {
  Outcome outcome = Outcome::kUnavailable;
  int64_t retry_after_seconds = 0;
  std::vector<std::pair<std::string, std::string>> fields;

  ActionResult() = default;
  explicit ActionResult(Outcome o) : outcome(o) {}
  ActionResult(ActionResult&&) noexcept = default;
  ActionResult& operator=(ActionResult&&) noexcept = default;
  ~ActionResult();
};
using ActionCallback = std::function<void(ActionResult)>;

struct RememberRequest {
  std::string_view user;  // proven by an MFA success on the same connection (the server checks)
  uint32_t days = 0;      // 0: the configured default
};
struct SetPasswordRequest {
  std::string_view user;
  std::string_view old_password;
  std::string_view new_password;
};
struct EnrolRequest {
  std::string_view user;
  std::string_view tap;   // empty: registration without a pass (only if configured)
  std::string_view name;  // the app's display name; may be empty
  // Registration offered at a sign-in (the validate API's enrolment challenge): only for a user
  // who may register there (MayRegisterAtSignIn), checked before the pass is, so that a pass is
  // not used up for nothing. Refused as kRefused otherwise. `tap` then holds the first factor
  // RegistrationFactorFor names: the user's pass, or their password where that is trusted.
  bool at_sign_in = false;
};
struct ConfirmRequest {
  std::string_view user;
  std::string_view method;  // empty: the user's newest pending authenticator app
  std::string_view otp;
};

// The verify socket's self-service verbs (REMEMBER, SET_PASSWORD, ENROL, CONFIRM). Callbacks
// follow SignInCallback's rules: called exactly once, possibly on another thread, cheap.
class SelfService {
 public:
  virtual ~SelfService() = default;
  virtual void Remember(const RememberRequest& request, ActionCallback done) = 0;
  virtual void SetPassword(const SetPasswordRequest& request, ActionCallback done) = 0;
  virtual void Enrol(const EnrolRequest& request, ActionCallback done) = 0;
  virtual void Confirm(const ConfirmRequest& request, ActionCallback done) = 0;
};

// One event of the outbox as a subscriber sees it (SUBSCRIBE): never a secret.
struct FeedEvent {
  uint64_t seq = 0;
  std::string id;
  std::string type;
  std::string user;
  int64_t time_micros = 0;
  std::string data_json;
};

// A live subscription; Cancel stops deliveries (idempotent; a delivery in progress may finish).
class FeedSubscription {
 public:
  virtual ~FeedSubscription() = default;
  virtual void Cancel() = 0;
};

// The outbox as a stream (SUBSCRIBE). `deliver` gets the events from sequence `from` on, in
// order and in batches, on the feed's thread; it must not block. It returns false to end the
// subscription (the subscriber fell behind). Deliveries stop once the subscription is cancelled
// or destroyed.
class EventFeed {
 public:
  virtual ~EventFeed() = default;
  virtual std::shared_ptr<FeedSubscription> Subscribe(
      uint64_t from, std::function<bool(std::vector<FeedEvent>)> deliver) = 0;
  // The number the next event will have (1 + the last committed).
  virtual uint64_t NextSequence() const = 0;
};

}  // namespace otpd::service

#endif  // OTPD_SERVICE_SIGNIN_SIGN_IN_H_
