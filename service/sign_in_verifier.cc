#include "service/sign_in_verifier.h"

#include <algorithm>
#include <functional>
#include <utility>

namespace otpd::service {

using storage::Namespace;

namespace {

SignInResult Answer(Outcome outcome) {
  SignInResult r;
  r.outcome = outcome;
  return r;
}

}  // namespace

SignInVerifier::SignInVerifier(storage::Store& store, const storage::KeyRing& keys,
                               const base::Clock& clock, SignInOptions options)
    : store_(store),
      keys_(keys),
      clock_(clock),
      options_(std::move(options)),
      loader_(options_.loader_threads,
              std::max<size_t>(
                  1, options_.max_pending_loads / std::max<size_t>(1, options_.loader_threads)),
              "otpd-load") {
  const size_t n = options_.stripes == 0 ? 1 : options_.stripes;
  stripes_.reserve(n);
  for (size_t i = 0; i < n; ++i) stripes_.push_back(std::make_unique<Stripe>());
}

SignInVerifier::~SignInVerifier() = default;

void SignInVerifier::Verify(const VerifyRequest& request, SignInCallback done) {
  Handle(Mode::kVerify, request.user, request.serial, request.otp, {}, std::move(done));
}

void SignInVerifier::Resync(const ResyncRequest& request, SignInCallback done) {
  Handle(Mode::kResync, request.user, request.serial, request.otp, request.otp2, std::move(done));
}

void SignInVerifier::InvalidateUser(std::string_view upn) {
  const std::string key = NormaliseUpn(upn);
  const uint64_t hash = UpnHash(key);
  Stripe& stripe = StripeFor(hash);
  std::lock_guard lock(stripe.mu);
  stripe.users.Erase(key, hash);
  ++stripe.generation;
}

void SignInVerifier::InvalidateSerial(std::string_view serial) {
  std::lock_guard lock(owners_mu_);
  owners_.erase(std::string(serial));
}

base::StatusOr<std::string> SignInVerifier::OwnerOf(std::string_view serial) {
  {
    std::lock_guard lock(owners_mu_);
    auto it = owners_.find(std::string(serial));
    if (it != owners_.end()) return it->second;
  }
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> record,
                        store_.Get(Namespace::kTokens, serial));
  if (!record) return base::NotFoundError("unknown token");
  OTPD_ASSIGN_OR_RETURN(TokenRecord token, DecodeToken(record->value));
  if (!token.assigned_to.empty()) {
    std::lock_guard lock(owners_mu_);
    owners_.emplace(std::string(serial), token.assigned_to);
  }
  return token.assigned_to;
}

base::StatusOr<std::unique_ptr<SignInVerifier::CachedUser>> SignInVerifier::LoadUser(
    const std::string& upn) {
  auto user = std::make_unique<CachedUser>();
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> user_record,
                        store_.Get(Namespace::kUsers, upn));
  if (!user_record) return user;  // exists == false
  OTPD_ASSIGN_OR_RETURN(UserRecord record, DecodeUser(user_record->value));
  user->exists = true;
  user->registration_required = record.mfa_registration_required;

  OTPD_ASSIGN_OR_RETURN(std::vector<MethodRecord> methods, ListMethods(store_, upn));

  for (const MethodRecord& method : methods) {
    if (method.kind != MethodKind::kHardwareOath) continue;
    OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> token_record,
                          store_.Get(Namespace::kTokens, method.serial));
    if (!token_record) continue;  // the method outlived its token; nothing to verify against
    OTPD_ASSIGN_OR_RETURN(TokenRecord token, DecodeToken(token_record->value));
    if (token.assigned_to != upn) continue;
    OTPD_ASSIGN_OR_RETURN(engine::Credential credential, OpenCredential(keys_, token));
    OTPD_ASSIGN_OR_RETURN(CredentialState state, LoadCredentialState(store_, token));
    user->credentials.push_back(CachedCredential{
        .method_id = method.id,
        .kind = method.kind,
        .serial = token.serial,
        .usable = token.status == TokenStatus::kActivated,
        .credential = std::move(credential),
        .state = state,
    });
  }

  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> lockout_record,
                        store_.Get(Namespace::kState, LockoutKey(upn)));
  if (lockout_record) {
    OTPD_ASSIGN_OR_RETURN(user->lockout, DecodeLockout(lockout_record->value));
  }
  counters_.cache_loads.fetch_add(1, std::memory_order_relaxed);
  return user;
}

void SignInVerifier::Handle(Mode mode, std::string_view user, std::string_view serial,
                            std::string_view otp, std::string_view otp2, SignInCallback done) {
  counters_.requests.fetch_add(1, std::memory_order_relaxed);
  // The fast path needs nothing but memory: the token's owner (for serial=) and the user's
  // cached credentials. Anything else goes to the loader, off the caller's (io) thread.
  std::string owner_or_lowered;
  std::string_view upn;
  if (!serial.empty()) {
    std::lock_guard owners_lock(owners_mu_);
    auto it = owners_.find(std::string(serial));
    if (it != owners_.end()) upn = owner_or_lowered = it->second;
  } else if (IsNormalisedUpn(user)) {
    upn = user;
  } else {
    upn = owner_or_lowered = NormaliseUpn(user);
  }
  if (!upn.empty()) {
    const uint64_t hash = UpnHash(upn);
    Stripe& stripe = StripeFor(hash);
    std::unique_lock lock(stripe.mu);
    if (CachedUser* cached = stripe.users.Find(upn, hash)) {
      Decide(mode, upn, serial, otp, otp2, *cached, lock, std::move(done));
      return;
    }
  }
  // The request's views die with this call: the deferred task owns copies (wiped after use).
  auto request = std::make_shared<DeferredRequest>();
  request->mode = mode;
  request->user = std::string(user);
  request->serial = std::string(serial);
  request->otp = std::string(otp);
  request->otp2 = std::string(otp2);
  request->done = std::move(done);
  // Keyed by user (or by serial when the owner is not known yet): one user's requests are
  // decided in arrival order.
  const size_t key = std::hash<std::string_view>{}(upn.empty() ? serial : upn);
  if (!loader_.TrySubmit(key, [this, request] { HandleOnLoader(*request); })) {
    counters_.rejected.fetch_add(1, std::memory_order_relaxed);
    request->done(Answer(Outcome::kUnavailable));
  }
}

SignInVerifier::DeferredRequest::~DeferredRequest() {
  base::Wipe(otp.data(), otp.size());
  base::Wipe(otp2.data(), otp2.size());
}

void SignInVerifier::HandleOnLoader(DeferredRequest& request) {
  auto unavailable = [&](const base::Status& why) {
    if (options_.on_storage_error) options_.on_storage_error(why);
    counters_.rejected.fetch_add(1, std::memory_order_relaxed);
    request.done(Answer(Outcome::kUnavailable));
  };
  std::string upn;
  if (!request.serial.empty()) {
    auto owner = OwnerOf(request.serial);
    if (!owner.ok()) {
      if (!base::IsNotFound(owner.status())) return unavailable(owner.status());
      counters_.rejected.fetch_add(1, std::memory_order_relaxed);
      return request.done(Answer(Outcome::kUnknownUser));
    }
    if (owner->empty()) {
      counters_.rejected.fetch_add(1, std::memory_order_relaxed);
      return request.done(Answer(Outcome::kNotActivated));
    }
    upn = std::move(*owner);
  } else {
    upn = NormaliseUpn(request.user);
  }

  const uint64_t hash = UpnHash(upn);
  Stripe& stripe = StripeFor(hash);
  // Load without holding the stripe lock. An administrator's change that lands while we load
  // bumps the stripe's generation; then what we loaded may be stale, so load again.
  for (int attempt = 0;; ++attempt) {
    uint64_t generation;
    {
      std::unique_lock lock(stripe.mu);
      if (CachedUser* cached = stripe.users.Find(upn, hash)) {
        return Decide(request.mode, upn, request.serial, request.otp, request.otp2, *cached, lock,
                      std::move(request.done));
      }
      generation = stripe.generation;
    }
    auto loaded = LoadUser(upn);
    if (!loaded.ok()) return unavailable(loaded.status());
    std::unique_lock lock(stripe.mu);
    if (stripe.generation != generation && attempt < 3) continue;
    if (!(*loaded)->exists) {
      // Unknown users are not cached, so a spray of made-up names cannot fill memory.
      CachedUser unknown;
      return Decide(request.mode, upn, request.serial, request.otp, request.otp2, unknown, lock,
                    std::move(request.done));
    }
    CachedUser& cached = stripe.users.Insert(upn, hash, std::move(**loaded));
    return Decide(request.mode, upn, request.serial, request.otp, request.otp2, cached, lock,
                  std::move(request.done));
  }
}

void SignInVerifier::Decide(Mode mode, std::string_view upn, std::string_view serial,
                            std::string_view otp, std::string_view otp2, CachedUser& u,
                            std::unique_lock<std::mutex>& lock, SignInCallback done) {
  auto reject = [&](SignInResult r) {
    counters_.rejected.fetch_add(1, std::memory_order_relaxed);
    done(std::move(r));
  };
  const int64_t now = clock_.NowUnixSeconds();
  SignInResult result;
  if (!u.exists) {
    result.outcome = Outcome::kUnknownUser;
  } else if (u.registration_required) {
    result.outcome = Outcome::kRegistrationRequired;
  } else if (int64_t wait = engine::RetryAfter(u.lockout, now); wait > 0) {
    result.outcome = Outcome::kLocked;
    result.retry_after_seconds = wait;
  } else {
    // Every usable credential is tried (so the work done does not depend on which one matches).
    // An acceptance speaks for the user first, then a near miss, then a replay; the first of
    // each kind counts.
    struct Match {
      CachedCredential* credential = nullptr;
      engine::Verdict verdict;
    };
    Match accepted, drift, replayed;
    size_t matching = 0, tried = 0, malformed = 0;
    uint64_t hashes = 0;
    for (CachedCredential& c : u.credentials) {
      if (!serial.empty() && c.serial != serial) continue;
      ++matching;
      if (!c.usable) continue;
      ++tried;
      engine::Verdict v =
          mode == Mode::kVerify
              ? engine::Verify(c.credential, c.state.token, otp, now, options_.windows)
              : engine::Resync(c.credential, c.state.token, otp, otp2, now, options_.windows);
      hashes += v.hashes;
      Match* slot = v.kind == engine::VerdictKind::kAccepted   ? &accepted
                    : v.kind == engine::VerdictKind::kDrift    ? &drift
                    : v.kind == engine::VerdictKind::kReplayed ? &replayed
                                                               : nullptr;
      if (slot != nullptr && slot->credential == nullptr) *slot = Match{&c, v};
      if (v.kind == engine::VerdictKind::kMalformed) ++malformed;
    }
    if (matching == 0) {
      result.outcome = serial.empty() ? Outcome::kNoMethod : Outcome::kNotActivated;
    } else if (tried == 0) {
      result.outcome = Outcome::kNotActivated;
    }
    if (tried != 0) {
      counters_.hashes.fetch_add(hashes, std::memory_order_relaxed);

      storage::WriteBatch batch;
      storage::Durability durability = options_.failure_durability;
      if (accepted.credential != nullptr) {
        CachedCredential& c = *accepted.credential;
        const engine::Verdict& v = accepted.verdict;
        // The cache moves first: a concurrent replay of this code is refused from now on.
        c.state.token = v.new_state;
        c.state.last_used = now;
        batch.Put(Namespace::kState, TokenStateKey(c.serial), EncodeCredentialState(c.state));
        if (u.lockout != engine::LockoutState{}) {
          u.lockout = engine::RecordSuccess();
          batch.Put(Namespace::kState, LockoutKey(upn), EncodeLockout(u.lockout));
        }
        durability = storage::Durability::kDurable;
        result.outcome = Outcome::kAccepted;
        result.method_id = c.method_id;
        result.method_kind = c.kind;
        result.serial = c.serial;
        result.step = v.step;
        result.drift = v.drift;
      } else if (const Match& m = drift.credential != nullptr ? drift : replayed;
                 m.credential != nullptr) {
        const CachedCredential& c = *m.credential;
        result.outcome =
            m.verdict.kind == engine::VerdictKind::kDrift ? Outcome::kDrift : Outcome::kReplayed;
        result.method_id = c.method_id;
        result.method_kind = c.kind;
        result.serial = c.serial;
        result.step = m.verdict.step;
        result.drift = m.verdict.drift;
      } else if (malformed == tried) {
        // Not a code any of the user's tokens could show: a malformed request, not a guess.
        result.outcome = Outcome::kBadRequest;
      } else {
        u.lockout = engine::RecordFailure(u.lockout, now, options_.lockout);
        batch.Put(Namespace::kState, LockoutKey(upn), EncodeLockout(u.lockout));
        result.outcome = Outcome::kBadCode;
      }

      if (!batch.empty()) {
        const bool accepted = result.outcome == Outcome::kAccepted;
        // Submitted under the lock: this user's changes reach the pipeline in decision order.
        store_.Submit(std::move(batch), durability,
                      [this, accepted, result = std::move(result),
                       done = std::move(done)](base::Status s) mutable {
                        if (!s.ok()) {
                          counters_.commit_failures.fetch_add(1, std::memory_order_relaxed);
                          if (options_.on_storage_error) options_.on_storage_error(s);
                          result = Answer(Outcome::kUnavailable);
                        }
                        (s.ok() && accepted ? counters_.accepted : counters_.rejected)
                            .fetch_add(1, std::memory_order_relaxed);
                        done(std::move(result));
                      });
        return;
      }
    }
  }
  lock.unlock();
  reject(std::move(result));
}

}  // namespace otpd::service
