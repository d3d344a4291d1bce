#include "service/signin/sign_in_decision.h"

namespace otpd::service {
namespace {

SignInDecision Answer(Outcome outcome) {
  SignInDecision d;
  d.outcome = outcome;
  return d;
}

}  // namespace

SignInDecision DecideSignIn(const UserInput& user, const Attempt& attempt, int64_t now,
                            const SignInPolicy& policy) {
  if (!user.exists) return Answer(Outcome::kUnknownUser);
  if (user.registration_required) return Answer(Outcome::kRegistrationRequired);
  if (int64_t wait = engine::RetryAfter(user.lockout, now); wait > 0) {
    SignInDecision d = Answer(Outcome::kLocked);
    d.retry_after_seconds = wait;
    return d;
  }

  // The first of each kind of verdict, by credential index.
  int accepted = -1, drift = -1, replayed = -1;
  size_t matching = 0, tried = 0, malformed = 0;
  SignInDecision d;
  engine::Verdict verdicts[3];  // accepted, drift, replayed
  for (size_t i = 0; i < user.credentials.size(); ++i) {
    const CredentialInput& c = user.credentials[i];
    // A request naming a token is decided by that token, but every usable credential is still
    // asked whether the code was already used.
    const bool selected = attempt.serial.empty() || c.serial == attempt.serial;
    if (selected) ++matching;
    if (!c.usable) continue;
    if (selected) ++tried;
    engine::Verdict v =
        attempt.mode == Attempt::Mode::kVerify
            ? engine::Verify(*c.credential, c.state, attempt.otp, now, policy.windows)
            : engine::Resync(*c.credential, c.state, attempt.otp, attempt.otp2, now,
                             policy.windows);
    d.hashes += v.hashes;
    if (!selected && v.kind != engine::VerdictKind::kReplayed) continue;
    int* slot = v.kind == engine::VerdictKind::kAccepted   ? &accepted
                : v.kind == engine::VerdictKind::kDrift    ? &drift
                : v.kind == engine::VerdictKind::kReplayed ? &replayed
                                                           : nullptr;
    if (slot != nullptr && *slot < 0) {
      *slot = static_cast<int>(i);
      verdicts[slot == &accepted ? 0 : slot == &drift ? 1 : 2] = v;
    }
    if (v.kind == engine::VerdictKind::kMalformed) ++malformed;
  }
  // A phone code counts as one more credential for a request that names the user.
  const bool phone =
      user.challenge != nullptr && attempt.serial.empty() && attempt.mode == Attempt::Mode::kVerify;
  if (matching == 0 && !phone) {
    return Answer(attempt.serial.empty() ? Outcome::kNoMethod : Outcome::kNotActivated);
  }
  if (tried == 0 && !phone) return Answer(Outcome::kNotActivated);

  if (replayed >= 0) {
    d.outcome = Outcome::kReplayed;
    d.matched = replayed;
    d.verdict = verdicts[2];
  } else if (accepted >= 0) {
    d.outcome = Outcome::kAccepted;
    d.matched = accepted;
    d.verdict = verdicts[0];
    d.advances = true;
    if (user.lockout != engine::LockoutState{}) d.lockout = engine::RecordSuccess();
  } else if (phone && user.challenge->matches) {
    // Once only: a second use of the code is a replay, not a failure.
    if (user.challenge->used) {
      d.outcome = Outcome::kReplayed;
    } else {
      d.outcome = Outcome::kAccepted;
      d.challenge_accepted = true;
      if (user.lockout != engine::LockoutState{}) d.lockout = engine::RecordSuccess();
    }
  } else if (drift >= 0) {
    d.outcome = Outcome::kDrift;
    d.matched = drift;
    d.verdict = verdicts[1];
  } else if (tried > 0 && malformed == tried && !phone) {
    // Not a code any of the user's tokens could show: a malformed request, not a guess.
    d.outcome = Outcome::kBadRequest;
  } else {
    d.outcome = Outcome::kBadCode;
    d.lockout = engine::RecordFailure(user.lockout, now, policy.lockout);
  }
  return d;
}

}  // namespace otpd::service
