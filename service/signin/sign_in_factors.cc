// SignInVerifier's other factors: PASSWORD, APP_PASSWORD, TAP, SESSION, a secret the caller
// checks (CheckedFactor: CONFIRM's code), and the phone CHALLENGE
// (service/signin/sign_in_verifier.h). They are decided on the cached user, under its stripe lock
// and its fence, in three steps:
//
//   1. on a loader thread, with the user cached: the checks that need only memory (a broken
//      record, a lock), and a copy of what the check needs (the password's hash, the pass's
//      fingerprint) together with the fence it belongs to;
//   2. without any lock: the check itself, on the PasswordHasher's threads for scrypt, or after a
//      Store read on the loader thread (app passwords, a session record, the caller's check);
//   3. FactorDecide, under the lock again: if the user's fence is still the one of step 1, the
//      outcome is applied like a code's (a failure counts toward the lockout, a success but a
//      password's clears it, a one-time pass is used up) and the answer waits for a commit
//      conditional on that fence; otherwise the request starts again from step 1 with what is
//      current.
//
// So an answer that a factor is right is never given for a state an administrator's change has
// already replaced: the change moved the fence, and the commit refuses.

#include <algorithm>
#include <cctype>

#include "base/codec.h"
#include "base/constant_time.h"
#include "base/mac.h"
#include "base/seal.h"
#include "service/credentials/app_passwords.h"
#include "service/credentials/temporary_access_pass.h"
#include "service/hooks/outbox.h"
#include "service/signin/sign_in_verifier.h"

namespace otpd::service {

using storage::Namespace;

namespace {

constexpr int kMaxRedecisions = 3;
constexpr std::string_view kChallengePurpose = "challenge";

bool HasPhone(const internal::CachedUser& u, PhoneType type) {
  return std::any_of(u.phones.begin(), u.phones.end(),
                     [type](const internal::CachedPhone& p) { return p.type == type; });
}
constexpr std::string_view kPhoneSerialPurpose = "phone-serial";

SignInResult Result(Outcome outcome) {
  SignInResult r;
  r.outcome = outcome;
  return r;
}

// scrypt of something for a user without a password, so that such a user's answer takes as long
// as anyone's.
const base::PasswordHash& DummyHash(const base::ScryptParams& params) {
  static const base::PasswordHash* const hash = [&] {
    auto* h = new base::PasswordHash();
    h->params = params;
    h->salt.assign(base::kPasswordSaltBytes, '\0');
    h->key.assign(base::kPasswordKeyBytes, '\0');
    return h;
  }();
  return *hash;
}

bool IsHex16(std::string_view s) {
  return s.size() == 16 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

void SignInVerifier::Password(const SecretRequest& r, SignInCallback done) {
  HandleFactor(Attempt{.mode = Attempt::Mode::kPassword, .user = r.user, .otp = r.secret},
               std::move(done));
}

void SignInVerifier::AppPassword(const SecretRequest& r, SignInCallback done) {
  HandleFactor(Attempt{.mode = Attempt::Mode::kAppPassword, .user = r.user, .otp = r.secret},
               std::move(done));
}

void SignInVerifier::Tap(const SecretRequest& r, SignInCallback done) {
  HandleFactor(Attempt{.mode = Attempt::Mode::kTap, .user = r.user, .otp = r.secret},
               std::move(done));
}

void SignInVerifier::Session(const SecretRequest& r, SignInCallback done) {
  HandleFactor(Attempt{.mode = Attempt::Mode::kSession, .user = r.user, .otp = r.secret},
               std::move(done));
}

void SignInVerifier::Challenge(const ChallengeRequest& r, SignInCallback done) {
  HandleFactor(
      Attempt{
          .mode = Attempt::Mode::kChallenge, .user = r.user, .otp2 = r.channel, .method = r.method},
      std::move(done));
}

void SignInVerifier::CheckedFactor(const CheckedRequest& r, SignInCallback done) {
  HandleFactor(Attempt{.mode = Attempt::Mode::kChecked, .user = r.user}, std::move(done), r.check);
}

void SignInVerifier::HandleFactor(const Attempt& attempt, SignInCallback done,
                                  std::function<Outcome()> check) {
  counters_.requests.fetch_add(1, std::memory_order_relaxed);
  if (attempt.user.empty() || (attempt.mode == Attempt::Mode::kChecked && !check)) {
    Deliver(Delivery{std::move(done), Result(Outcome::kBadRequest), {}});
    return;
  }
  // Never decided on the calling (io) thread: a factor needs a hash, a Store read or a commit.
  auto request = Deferred::From(attempt, NormaliseUpn(attempt.user), std::move(done));
  request->check = std::move(check);
  Route(std::move(request));
}

base::StatusOr<std::string> SignInVerifier::ChallengeFingerprint(std::string_view upn,
                                                                 std::string_view code) const {
  std::string data(upn);
  data.push_back('\0');
  data.append(code);
  auto fp = keys_.Fingerprint(
      kChallengePurpose,
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
  base::Wipe(data.data(), data.size());
  return fp;
}

base::StatusOr<std::string> SignInVerifier::PhoneSerial(std::string_view upn,
                                                        std::string_view method_id) const {
  std::string data(upn);
  data.push_back('\0');
  data.append(method_id);
  OTPD_ASSIGN_OR_RETURN(
      std::string fp,
      keys_.Fingerprint(
          kPhoneSerialPurpose,
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size())));
  std::string serial = "PHONE" + fp.substr(0, 16);
  for (char& c : serial) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return serial;
}

void SignInVerifier::DescribeMatchedPhone(std::string_view upn, const CachedUser& u,
                                          SignInResult& result) const {
  // How the code went; a record from before the channel was kept: as each phone type's default.
  result.channel = u.challenge.channel;
  for (const internal::CachedPhone& p : u.phones) {
    if (p.method_id == u.challenge.method_id && result.channel.empty()) {
      result.channel = p.type == PhoneType::kMobile ? "sms" : "voice";
    }
  }
  // Without the serial the answer still decides; only its description is shorter.
  if (auto serial = PhoneSerial(upn, u.challenge.method_id); serial.ok()) {
    result.phone_serial = std::move(*serial);
  }
}

void SignInVerifier::Redecide(std::unique_ptr<Deferred> request) {
  if (request->redecisions >= kMaxRedecisions) {
    Deliver(Delivery{std::move(request->done), Result(Outcome::kUnavailable),
                     base::AbortedError("the user kept changing while a factor was checked")});
    return;
  }
  counters_.redecided.fetch_add(1, std::memory_order_relaxed);
  ++request->redecisions;
  Dispatch(std::move(request));
}

std::function<void()> SignInVerifier::FactorBegin(Stripe& stripe, CachedUser& u,
                                                  std::unique_ptr<Deferred> request_in) {
  // What runs after the lock is released owns the request.
  auto request = std::make_shared<std::unique_ptr<Deferred>>(std::move(request_in));
  const int64_t now = clock_.NowUnixSeconds();
  auto answer = [this, request](SignInResult result) -> std::function<void()> {
    return [this, request, result = std::move(result)]() mutable {
      Deliver(Delivery{std::move((*request)->done), std::move(result), {}});
    };
  };
  if (u.broken) return answer(Result(Outcome::kUnavailable));
  Deferred& r = **request;
  if (r.mode == Attempt::Mode::kChallenge) {
    auto now_answer = std::make_shared<std::optional<Delivery>>(
        ChallengeLocked(stripe, r.upn, u, std::move(*request)));
    return [this, now_answer] { Deliver(std::move(*now_answer)); };
  }
  const uint64_t fence = u.fence;
  if (r.mode == Attempt::Mode::kSession) {
    // A remembered session is not throttled by the lockout: its token cannot be guessed, and a
    // lock caused by someone else's wrong codes must not also end the user's sessions.
    if (u.registration_required) return answer(Result(Outcome::kRegistrationRequired));
    const uint64_t epoch = u.sessions_epoch;
    return [this, request, fence, epoch, now] {
      CheckSession(std::move(*request), fence, epoch, now);
    };
  }
  if (int64_t wait = engine::RetryAfter(u.lockout, now); wait > 0) {
    SignInResult locked = Result(Outcome::kLocked);
    locked.retry_after_seconds = wait;
    return answer(std::move(locked));
  }
  switch (r.mode) {
    case Attempt::Mode::kPassword:
      return [this, request, fence, password = u.password] {
        CheckPassword(std::move(*request), fence, password);
      };
    case Attempt::Mode::kTap:
      return [this, request, fence, tap = u.tap, now] {
        CheckTap(std::move(*request), fence, tap, now);
      };
    case Attempt::Mode::kAppPassword:
      return [this, request, fence] { CheckAppPassword(std::move(*request), fence); };
    case Attempt::Mode::kChecked:
      return [this, request, fence] { CheckByCaller(std::move(*request), fence); };
    default:
      return answer(Result(Outcome::kBadRequest));
  }
}

void SignInVerifier::CheckSession(std::unique_ptr<Deferred> request, uint64_t fence, uint64_t epoch,
                                  int64_t now) {
  SignInResult result;
  Outcome checked = Outcome::kUnknownSession;
  const std::string& token = request->otp;
  const size_t dot = token.find('.');
  const std::string_view sid = std::string_view(token).substr(0, dot);
  if (dot != std::string::npos && IsHex16(sid)) {
    auto stored = directory_.GetSigned(Namespace::kSessions, SessionKey(request->upn, sid));
    if (!stored.ok() && !base::IsDataLoss(stored.status())) {
      Deliver(Delivery{std::move(request->done), Result(Outcome::kUnavailable), stored.status()});
      return;
    }
    if (!stored.ok()) ReportIntegrity(stored.status());
    if (stored.ok() && *stored) {
      auto session = DecodeSession((*stored)->record);
      const std::string digest =
          base::HexEncode(base::Sha256(std::string_view(token).substr(dot + 1)));
      if (session.ok() && base::ConstantTimeEquals(digest, session->secret_sha256)) {
        // An epoch above the cached one means the cache is behind: the fenced commit decides.
        checked = session->epoch < epoch    ? Outcome::kRevoked
                  : session->expires <= now ? Outcome::kExpired
                                            : Outcome::kAccepted;
        result.method_id = session->id;
        result.expires_in_seconds = std::max<int64_t>(0, session->expires - now);
      }
    }
  }
  FactorDecide(std::move(request), fence, checked, std::move(result));
}

void SignInVerifier::CheckPassword(std::unique_ptr<Deferred> request, uint64_t fence,
                                   const std::optional<PasswordPayload>& password) {
  if (options_.hasher == nullptr) {
    Deliver(Delivery{std::move(request->done), Result(Outcome::kUnavailable), {}});
    return;
  }
  SignInResult result;
  result.method_id = std::string(kPasswordMethodId);
  result.method_kind = MethodKind::kPassword;
  result.must_change = password && password->must_change;
  const bool has_password = password.has_value();
  base::SecretBytes secret = base::SecretBytes::FromString(request->otp);
  auto held = std::make_shared<std::unique_ptr<Deferred>>(std::move(request));
  // scrypt on the hashing pool; the decision continues there, taking the stripe lock again.
  const bool queued = options_.hasher->VerifyAsync(
      std::move(secret), has_password ? password->hash : DummyHash(options_.hasher->params()),
      [this, held, fence, has_password, result](base::StatusOr<bool> right) mutable {
        if (!right.ok()) {
          Deliver(
              Delivery{std::move((*held)->done), Result(Outcome::kUnavailable), right.status()});
          return;
        }
        FactorDecide(std::move(*held), fence,
                     *right && has_password ? Outcome::kAccepted : Outcome::kBadPassword,
                     std::move(result));
      });
  if (!queued) Deliver(Delivery{std::move((*held)->done), Result(Outcome::kUnavailable), {}});
}

void SignInVerifier::CheckTap(std::unique_ptr<Deferred> request, uint64_t fence,
                              const std::optional<internal::CachedTap>& tap, int64_t now) {
  SignInResult result;
  Outcome checked = Outcome::kBadPassword;
  if (tap) {
    auto fp = TapFingerprint(keys_, request->upn, request->otp);
    if (fp.ok() && base::ConstantTimeEquals(*fp, tap->pass.fingerprint)) {
      result.method_id = tap->method_id;
      result.method_kind = MethodKind::kTemporaryAccessPass;
      result.usable_once = tap->pass.usable_once;
      switch (EvaluateTap(tap->pass, tap->used, options_.tap_enabled, now)) {
        case TapUsability::kEnabled:
          checked = Outcome::kAccepted;
          break;
        case TapUsability::kDisabledByPolicy:
          checked = Outcome::kNoMethod;
          break;
        case TapUsability::kExpired:
          checked = Outcome::kExpired;
          break;
        case TapUsability::kNotYetValid:
          checked = Outcome::kNotYetValid;
          break;
        case TapUsability::kUsed:
          checked = Outcome::kReplayed;
          break;
      }
    }
  }
  FactorDecide(std::move(request), fence, checked, std::move(result));
}

void SignInVerifier::CheckAppPassword(std::unique_ptr<Deferred> request, uint64_t fence) {
  auto list = ReadAppPasswords(directory_, request->upn);
  if (!list.ok()) {
    Deliver(Delivery{std::move(request->done), Result(Outcome::kUnavailable), list.status()});
    return;
  }
  const std::string digest = AppPasswords::Digest(request->otp);
  SignInResult result;
  result.method_kind = MethodKind::kPassword;
  bool found = false;
  // Every stored digest is compared: the time does not tell which one matched.
  for (const AppPasswordRecord& r : *list) {
    if (base::ConstantTimeEquals(digest, r.sha256) && !found) {
      found = true;
      result.method_id = r.id;
    }
  }
  FactorDecide(std::move(request), fence, found ? Outcome::kAccepted : Outcome::kBadPassword,
               std::move(result));
}

void SignInVerifier::CheckByCaller(std::unique_ptr<Deferred> request, uint64_t fence) {
  // On this loader thread, with no lock held: the caller's check may read the Store.
  const Outcome checked = request->check();
  FactorDecide(std::move(request), fence, checked, SignInResult{});
}

void SignInVerifier::FactorDecide(std::unique_ptr<Deferred> request, uint64_t fence,
                                  Outcome checked, SignInResult result) {
  const uint64_t hash = UpnHash(request->upn);
  Stripe& stripe = StripeFor(hash);
  std::optional<Delivery> now_answer;
  {
    base::MutexLock lock(stripe.mu);
    CachedUser* u = stripe.users.Find(request->upn, hash);
    if (u == nullptr || u->stale || u->fence != fence) {
      // The user changed (or was dropped) while the secret was being checked: check again
      // against what is current.
      lock.Unlock();
      Redecide(std::move(request));
      return;
    }
    const int64_t now = clock_.NowUnixSeconds();
    const Attempt::Mode mode = request->mode;
    result.fence = fence;
    // A lock that began while the password was being hashed (other failures) wins.
    if (mode != Attempt::Mode::kSession) {
      if (int64_t wait = engine::RetryAfter(u->lockout, now); wait > 0) {
        SignInResult locked = Result(Outcome::kLocked);
        locked.retry_after_seconds = wait;
        lock.Unlock();
        Deliver(Delivery{std::move(request->done), std::move(locked), {}});
        return;
      }
    }
    storage::WriteBatch batch;
    storage::Durability durability = storage::Durability::kRelaxed;
    bool evented = false;
    if (checked == Outcome::kBadPassword || checked == Outcome::kBadCode) {
      // One failure toward the lockout, whichever factor it was: VERIFY's count.
      evented = StageLockout(batch, request->upn, *u,
                             engine::RecordFailure(u->lockout, now, policy_.lockout), now);
      durability = options_.failure_durability;
    } else if (checked == Outcome::kAccepted) {
      // A password is a first factor: its success leaves the count of wrong codes as it is, or
      // whoever knows it could sign in with it between guesses and walk the code space. A
      // session token cannot be guessed and is no proof of anything new either.
      const bool clears = mode != Attempt::Mode::kSession && mode != Attempt::Mode::kPassword;
      if (clears && u->lockout != engine::LockoutState{}) {
        StageLockout(batch, request->upn, *u, engine::RecordSuccess(), now);
      }
      if (mode == Attempt::Mode::kTap && result.usable_once) {
        // Used up at once in the cache, so that a concurrent use of the same pass is refused.
        if (!u->tap || u->tap->method_id != result.method_id || u->tap->used) {
          checked = Outcome::kReplayed;
        } else {
          u->tap->used = true;
          batch.Put(Namespace::kState, TapUseKey(request->upn), u->tap->method_id);
          durability = storage::Durability::kDurable;
        }
      }
    }
    result.outcome = checked;
    if (checked != Outcome::kAccepted && checked != Outcome::kBadPassword &&
        checked != Outcome::kBadCode) {
      // A refusal that changes nothing (expired, revoked, unknown, used) is answered now.
      SignInResult refusal = Result(checked);
      refusal.method_id = std::move(result.method_id);
      lock.Unlock();
      Deliver(Delivery{std::move(request->done), std::move(refusal), {}});
      return;
    }
    // Successes too wait for a commit conditional on the fence (conditions only when nothing
    // changes: no write, no fsync), so that they are ordered against administrators' changes.
    now_answer = SubmitLocked(stripe, *u, std::move(batch), durability, std::move(request),
                              std::move(result), evented);
  }
  Deliver(std::move(now_answer));
}

std::optional<SignInVerifier::Delivery> SignInVerifier::ChallengeLocked(
    Stripe& stripe, std::string_view upn, CachedUser& u, std::unique_ptr<Deferred> request) {
  const int64_t now = clock_.NowUnixSeconds();
  auto refuse = [&](Outcome o, int64_t retry_after = 0) {
    SignInResult r = Result(o);
    r.retry_after_seconds = retry_after;
    return Delivery{std::move(request->done), std::move(r), {}};
  };
  if (u.registration_required) return refuse(Outcome::kRegistrationRequired);
  if (int64_t wait = engine::RetryAfter(u.lockout, now); wait > 0) {
    return refuse(Outcome::kLocked, wait);
  }
  // No phone named: the one the user prefers, if they have it still, else their mobile by SMS.
  std::string_view preferred_channel;
  std::optional<PhoneType> type;
  if (request->method.empty()) {
    type = PhoneType::kMobile;
    if (u.preferred_phone && HasPhone(u, u.preferred_phone->type)) {
      type = u.preferred_phone->type;
      preferred_channel = u.preferred_phone->channel;
    }
  } else {
    type = ParsePhoneType(request->method);
  }
  if (!type) return refuse(Outcome::kBadRequest);
  const internal::CachedPhone* phone = nullptr;
  for (const auto& p : u.phones) {
    if (p.type == *type) phone = &p;
  }
  if (phone == nullptr) return refuse(Outcome::kNoMethod);
  auto serial = PhoneSerial(upn, phone->method_id);
  if (!serial.ok()) {
    return Delivery{std::move(request->done), Result(Outcome::kUnavailable), serial.status()};
  }
  // Only a mobile receives SMS; the others are called. Email is never a factor.
  std::string channel = !request->otp2.empty()       ? request->otp2
                        : !preferred_channel.empty() ? std::string(preferred_channel)
                        : std::string(*type == PhoneType::kMobile ? "sms" : "voice");
  if (channel != "sms" && channel != "voice") return refuse(Outcome::kBadRequest);
  if (channel == "sms" && *type != PhoneType::kMobile) return refuse(Outcome::kBadRequest);

  ChallengeState next = u.challenge;
  if (now >= next.window_start + options_.challenge_window_seconds) {
    next.window_start = now;
    next.window_count = 0;
  }
  if (next.window_count >= options_.max_challenges) {
    return refuse(Outcome::kRateLimited,
                  next.window_start + options_.challenge_window_seconds - now);
  }
  auto code = base::RandomSixDigits();
  if (!code.ok())
    return Delivery{std::move(request->done), Result(Outcome::kUnavailable), code.status()};
  auto fp = ChallengeFingerprint(upn, *code);
  if (!fp.ok()) {
    base::Wipe(code->data(), code->size());
    return Delivery{std::move(request->done), Result(Outcome::kUnavailable), fp.status()};
  }
  next.fingerprint = std::move(*fp);
  next.method_id = phone->method_id;
  next.channel = channel;
  next.expires = now + options_.challenge_ttl_seconds;
  next.used = false;
  ++next.window_count;

  storage::WriteBatch batch;
  batch.Put(Namespace::kState, ChallengeKey(upn), EncodeChallenge(next));
  // The code travels to the carrier's hook in the event (sealed in the outbox); otpd talks to no
  // carrier itself.
  base::Status evented =
      AddEvent(batch, clock_, channel == "sms" ? events::kSmsSend : events::kVoiceCall, upn,
               EventData()
                   .Str("to", phone->number)
                   .Str("method", PhoneTypeName(phone->type))
                   .Str("method_id", phone->method_id)
                   .Int("expires", next.expires)
                   .Int("ttl_seconds", options_.challenge_ttl_seconds)
                   .Secret("code", *code),
               &keys_);
  base::Wipe(code->data(), code->size());
  if (!evented.ok())
    return Delivery{std::move(request->done), Result(Outcome::kUnavailable), evented};
  // The cache takes the new code at once; nobody knows it before the event is delivered, which
  // happens only after the commit.
  u.challenge = next;
  counters_.challenges_sent.fetch_add(1, std::memory_order_relaxed);
  SignInResult result;
  result.outcome = Outcome::kAccepted;
  result.method_id = phone->method_id;
  result.method_kind = MethodKind::kPhone;
  result.channel = channel;
  result.phone_serial = std::move(*serial);
  result.expires_in_seconds = options_.challenge_ttl_seconds;
  return SubmitLocked(stripe, u, std::move(batch), storage::Durability::kDurable,
                      std::move(request), std::move(result), /*evented=*/true);
}

}  // namespace otpd::service
