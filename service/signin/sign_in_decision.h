// The sign-in decision as a pure function: given what is known of a user (credentials, their
// state, the lockout state) and one attempt, what is the answer and what changes. No locks, no
// I/O, no clock: SignInVerifier applies the decision to its cache and to a write batch, then
// submits it.
//
// The rules, in order: an unknown user, a user who must register again, a locked user are
// answered without a code being checked. Otherwise every usable credential is tried (the work
// does not depend on which one matches). A code that any credential reports as already used is
// refused as replayed, even if another credential would accept it: two tokens sharing a seed, or
// two seeds that happen to give the same code, must not let one code in twice. Then an acceptance
// (the first), a near miss (drift), a malformed code (when every credential found it malformed),
// and finally a wrong code, which counts one failure for the user however many credentials
// were tried. A request that names a token's serial is decided by that token alone, except that
// a replay reported by any other credential still refuses it.

#ifndef OTPD_SERVICE_SIGNIN_SIGN_IN_DECISION_H_
#define OTPD_SERVICE_SIGNIN_SIGN_IN_DECISION_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "engine/credential.h"
#include "engine/lockout.h"
#include "engine/verifier.h"
#include "service/signin/sign_in.h"

namespace otpd::service {

// One attempt as it arrived. Views are valid for the duration of the call that receives it.
struct Attempt {
  // kVerify and kResync are decided here; the other modes are the other factors and the phone
  // challenge, decided by SignInVerifier (service/signin/sign_in_factors.cc) on the same cached
  // user.
  enum class Mode : uint8_t {
    kVerify,
    kResync,
    kPassword,
    kAppPassword,
    kTap,
    kSession,
    kChallenge,
    kChecked,  // a secret the caller checks (SignInService::CheckedFactor)
  };
  Mode mode = Mode::kVerify;
  std::string_view user;    // UPN as given (empty when `serial` names the token)
  std::string_view serial;  // restricts the attempt to that hardware token; empty: any credential
  std::string_view otp;     // the code; the password, pass or session token of the other modes
  std::string_view otp2;    // kResync: the code after `otp`; kChallenge: the channel
  std::string_view method;  // kChallenge: the phone ("mobile", "alternateMobile", "office")
};

// A phone code sent to the user (CHALLENGE) that has not expired.
struct ChallengeInput {
  bool matches = false;  // the attempt's code is the code sent (compared by keyed fingerprint)
  bool used = false;     // it was accepted once already
};

// What the decision needs of one credential.
struct CredentialInput {
  const engine::Credential* credential = nullptr;
  engine::TokenState state;
  std::string_view serial;  // hardware tokens; compared with Attempt::serial
  bool usable = false;      // activated (hardware) or confirmed (software)
};

struct UserInput {
  bool exists = false;
  bool registration_required = false;
  engine::LockoutState lockout;
  std::span<const CredentialInput> credentials;
  // The pending phone code, if any: a VERIFY by user (not serial) may be answered with it.
  const ChallengeInput* challenge = nullptr;
};

struct SignInPolicy {
  engine::WindowPolicy windows;
  engine::LockoutPolicy lockout;
};

struct SignInDecision {
  Outcome outcome = Outcome::kUnavailable;
  int64_t retry_after_seconds = 0;  // kLocked
  // The credential that matched (accepted, replayed, drift) as an index into
  // UserInput::credentials, or -1; its verdict.
  int matched = -1;
  engine::Verdict verdict;
  // kAccepted: the matched credential's state advances to verdict.new_state.
  bool advances = false;
  // kAccepted through the phone code (matched is -1): the code is used up.
  bool challenge_accepted = false;
  // The user's new lockout state when it changes (a failure, or a success clearing failures).
  std::optional<engine::LockoutState> lockout;
  uint64_t hashes = 0;  // HMACs computed
};

SignInDecision DecideSignIn(const UserInput& user, const Attempt& attempt, int64_t now,
                            const SignInPolicy& policy);

}  // namespace otpd::service

#endif  // OTPD_SERVICE_SIGNIN_SIGN_IN_DECISION_H_
