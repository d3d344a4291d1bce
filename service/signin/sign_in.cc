#include "service/signin/sign_in.h"

#include "base/secret_bytes.h"

namespace otpd::service {

std::string_view OutcomeReason(Outcome outcome) {
  switch (outcome) {
    case Outcome::kAccepted:
      return "ok";
    case Outcome::kBadCode:
      return "bad_code";
    case Outcome::kReplayed:
      return "replayed";
    case Outcome::kLocked:
      return "locked";
    case Outcome::kDrift:
      return "drift";
    case Outcome::kNotActivated:
      return "not_activated";
    case Outcome::kRegistrationRequired:
      return "registration_required";
    case Outcome::kNoMethod:
      return "no_method";
    case Outcome::kUnknownUser:
      return "unknown_user";
    case Outcome::kBadRequest:
      return "bad_request";
    case Outcome::kUnavailable:
      return "unavailable";
    case Outcome::kUnauthorized:
      return "unauthorized";
    case Outcome::kBadPassword:
      return "bad_password";
    case Outcome::kRateLimited:
      return "rate_limited";
    case Outcome::kRevoked:
      return "revoked";
    case Outcome::kExpired:
      return "expired";
    case Outcome::kUnknownSession:
      return "unknown";
    case Outcome::kNotYetValid:
      return "not_yet_valid";
    case Outcome::kPolicy:
      return "policy";
    case Outcome::kTapRequired:
      return "tap_required";
    case Outcome::kRefused:
      return "refused";
  }
  return "unavailable";
}

namespace {
void NotOffered(SignInCallback& done) {
  SignInResult r;
  r.outcome = Outcome::kBadRequest;
  done(std::move(r));
}
}  // namespace

void SignInService::Password(const SecretRequest&, SignInCallback done) { NotOffered(done); }
void SignInService::AppPassword(const SecretRequest&, SignInCallback done) { NotOffered(done); }
void SignInService::Tap(const SecretRequest&, SignInCallback done) { NotOffered(done); }
void SignInService::Session(const SecretRequest&, SignInCallback done) { NotOffered(done); }
void SignInService::Challenge(const ChallengeRequest&, SignInCallback done) { NotOffered(done); }
void SignInService::CheckedFactor(const CheckedRequest&, SignInCallback done) { NotOffered(done); }

ActionResult::~ActionResult() {
  for (auto& [key, value] : fields) base::Wipe(value.data(), value.size());
}

}  // namespace otpd::service
