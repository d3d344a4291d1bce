#include "service/signin/sign_in_verifier.h"

#include <algorithm>
#include <array>
#include <utility>

#include "base/constant_time.h"
#include "service/hooks/outbox.h"

namespace otpd::service {

using storage::Namespace;

namespace {

constexpr int kMaxRedecisions = 3;

SignInResult Result(Outcome outcome) {
  SignInResult r;
  r.outcome = outcome;
  return r;
}

void AddPending(KeyedTable<uint32_t>& pending, std::string_view upn, uint64_t hash, int delta) {
  uint32_t& n = pending.Insert(upn, hash, 0);
  n = static_cast<uint32_t>(static_cast<int64_t>(n) + delta);
  if (n == 0) pending.Erase(upn, hash);
}

}  // namespace

// ---- construction ----------------------------------------------------------------------------

SignInVerifier::SignInVerifier(storage::Store& store, const storage::KeyRing& keys,
                               const base::Clock& clock, SignInOptions options)
    : store_(store),
      keys_(keys),
      directory_(store, keys),
      clock_(clock),
      options_(std::move(options)),
      policy_{options_.windows, options_.lockout},
      stripe_budget_(
          std::max<size_t>(options_.cache_bytes / std::max<size_t>(1, options_.stripes), 4096)),
      loader_(options_.loader_threads,
              std::max<size_t>(
                  1, options_.max_pending_loads / std::max<size_t>(1, options_.loader_threads)),
              "otpd-load"),
      sequencer_(1, std::max<size_t>(1, options_.max_pending_loads), "otpd-order") {
  const size_t n = options_.stripes == 0 ? 1 : options_.stripes;
  stripes_.reserve(n);
  for (size_t i = 0; i < n; ++i) stripes_.push_back(std::make_unique<Stripe>());
}

SignInVerifier::~SignInVerifier() = default;

void SignInVerifier::StopLoading() {
  sequencer_.Stop();
  loader_.Stop();
}

SignInServiceStats SignInVerifier::stats() const {
  SignInServiceStats s;
  s.cache_hits = counters_.cache_hits.load(std::memory_order_relaxed);
  s.cache_misses = counters_.cache_loads.load(std::memory_order_relaxed);
  s.cache_evictions = counters_.cache_evictions.load(std::memory_order_relaxed);
  s.cache_users = static_cast<uint64_t>(std::max<int64_t>(0, cached_users_.load()));
  s.cache_bytes = static_cast<uint64_t>(std::max<int64_t>(0, cached_bytes_.load()));
  return s;
}

void SignInVerifier::Verify(const VerifyRequest& request, SignInCallback done) {
  Handle(Attempt{Attempt::Mode::kVerify, request.user, request.serial, request.otp, {}},
         std::move(done));
}

void SignInVerifier::Resync(const ResyncRequest& request, SignInCallback done) {
  Handle(Attempt{Attempt::Mode::kResync, request.user, request.serial, request.otp, request.otp2},
         std::move(done));
}

void SignInVerifier::Deliver(Delivery delivery) {
  if (!delivery.storage_error.ok()) {
    counters_.commit_failures.fetch_add(1, std::memory_order_relaxed);
    if (options_.on_storage_error) options_.on_storage_error(delivery.storage_error);
  }
  (delivery.result.outcome == Outcome::kAccepted ? counters_.accepted : counters_.rejected)
      .fetch_add(1, std::memory_order_relaxed);
  delivery.done(std::move(delivery.result));
}

// ---- routing ---------------------------------------------------------------------------------

void SignInVerifier::Handle(const Attempt& attempt, SignInCallback done) {
  counters_.requests.fetch_add(1, std::memory_order_relaxed);
  // The fast path needs nothing but memory: the token's owner (for serial=) and the user's
  // cached credentials, with nothing of the user's queued elsewhere.
  std::string owner_or_lowered;
  std::string_view upn;
  if (!attempt.serial.empty()) {
    base::MutexLock owners_lock(owners_mu_);
    auto it = owners_.find(std::string(attempt.serial));
    if (it != owners_.end()) upn = owner_or_lowered = it->second;
  } else if (IsNormalisedUpn(attempt.user)) {
    upn = attempt.user;
  } else {
    upn = owner_or_lowered = NormaliseUpn(attempt.user);
  }
  if (!upn.empty() && sequenced_.load() == 0) {
    const uint64_t hash = UpnHash(upn);
    Stripe& stripe = StripeFor(hash);
    base::MutexLock lock(stripe.mu);
    CachedUser* cached = stripe.users.Find(upn, hash);
    if (cached != nullptr && !cached->stale && stripe.pending.Find(upn, hash) == nullptr) {
      counters_.cache_hits.fetch_add(1, std::memory_order_relaxed);
      cached->referenced = true;
      std::optional<Delivery> now = Decide(stripe, upn, *cached, attempt, std::move(done), 0);
      lock.Unlock();
      Deliver(std::move(now));
      return;
    }
  }
  // The attempt's views die with this call: the deferred request owns copies.
  Route(Deferred::From(attempt, std::string(upn), std::move(done)));
}

void SignInVerifier::Route(std::unique_ptr<Deferred> request) {
  if (request->upn.empty() || sequenced_.load() > 0) {
    sequenced_.fetch_add(1);
    auto* raw = request.release();
    if (!sequencer_.TrySubmit(0, [this, raw] { Sequence(std::unique_ptr<Deferred>(raw)); })) {
      std::unique_ptr<Deferred> refused(raw);
      sequenced_.fetch_sub(1);
      Deliver(Delivery{std::move(refused->done), Result(Outcome::kUnavailable), {}});
    }
    return;
  }
  Dispatch(std::move(request));
}

void SignInVerifier::Sequence(std::unique_ptr<Deferred> request) {
  if (request->upn.empty()) {
    auto owner = OwnerOf(request->serial);
    if (!owner.ok() || owner->empty()) {
      sequenced_.fetch_sub(1);
      if (owner.ok()) {
        Deliver(Delivery{std::move(request->done), Result(Outcome::kNotActivated), {}});
      } else if (base::IsNotFound(owner.status())) {
        Deliver(Delivery{std::move(request->done), Result(Outcome::kUnknownUser), {}});
      } else {
        Deliver(Delivery{std::move(request->done), Result(Outcome::kUnavailable), owner.status()});
      }
      return;
    }
    request->upn = std::move(*owner);
  }
  // Dispatched before the count drops: a request that finds the queue empty is behind this one.
  Dispatch(std::move(request));
  sequenced_.fetch_sub(1);
}

void SignInVerifier::Dispatch(std::unique_ptr<Deferred> request) {
  Stripe& stripe = StripeFor(UpnHash(request->upn));
  Deliveries refused;
  {
    base::MutexLock lock(stripe.mu);
    DispatchLocked(stripe, std::move(request), &refused);
  }
  Deliver(std::move(refused));
}

void SignInVerifier::DispatchLocked(Stripe& stripe, std::unique_ptr<Deferred> request,
                                    Deliveries* out) {
  const uint64_t hash = UpnHash(request->upn);
  CachedUser* cached = stripe.users.Find(request->upn, hash);
  if (cached != nullptr && cached->stale && cached->inflight > 0) {
    cached->parked.push_back(std::move(request));
    return;
  }
  const std::string upn = request->upn;
  AddPending(stripe.pending, upn, hash, +1);
  // Queued under the stripe lock, so that requests for one user enter their loader thread's
  // queue in the order they were dispatched.
  auto* raw = request.release();
  if (!loader_.TrySubmit(hash, [this, raw] { LoadAndDecide(std::unique_ptr<Deferred>(raw)); })) {
    std::unique_ptr<Deferred> refused(raw);
    AddPending(stripe.pending, upn, hash, -1);
    out->push_back(Delivery{std::move(refused->done), Result(Outcome::kUnavailable), {}});
  }
}

// ---- loading ---------------------------------------------------------------------------------

void SignInVerifier::LoadAndDecide(std::unique_ptr<Deferred> request) {
  const std::string& upn = request->upn;
  const uint64_t hash = UpnHash(upn);
  Stripe& stripe = StripeFor(hash);
  // Load without holding the stripe lock. An invalidation that lands while we load bumps the
  // stripe's generation; then what we loaded may be stale, so load again.
  for (int attempt = 0;; ++attempt) {
    uint64_t generation;
    {
      base::MutexLock lock(stripe.mu);
      CachedUser* cached = stripe.users.Find(upn, hash);
      if (cached != nullptr && cached->stale) {
        if (cached->inflight > 0) {
          AddPending(stripe.pending, upn, hash, -1);
          cached->parked.push_back(std::move(request));
          return;
        }
        EraseLocked(stripe, upn, hash, *cached);
        cached = nullptr;
      }
      if (cached != nullptr) {
        counters_.cache_hits.fetch_add(1, std::memory_order_relaxed);
        cached->referenced = true;
        AddPending(stripe.pending, upn, hash, -1);
        if (request->mode > Attempt::Mode::kResync) {
          std::function<void()> next = FactorBegin(stripe, *cached, std::move(request));
          lock.Unlock();
          next();
          return;
        }
        std::optional<Delivery> now = Decide(stripe, upn, *cached, request->view(),
                                             std::move(request->done), request->redecisions);
        lock.Unlock();
        Deliver(std::move(now));
        return;
      }
      generation = stripe.generation;
    }
    auto loaded = LoadUser(upn);
    base::MutexLock lock(stripe.mu);
    if (stripe.generation != generation && attempt < 3) continue;
    AddPending(stripe.pending, upn, hash, -1);
    if (!loaded.ok() || *loaded == nullptr) {
      lock.Unlock();
      // Unknown users are not cached, so a spray of made-up names cannot fill memory.
      Deliver(loaded.ok() ? Delivery{std::move(request->done), Result(Outcome::kUnknownUser), {}}
                          : Delivery{std::move(request->done), Result(Outcome::kUnavailable),
                                     loaded.status()});
      return;
    }
    CachedUser& cached = stripe.users.Insert(upn, hash, std::move(**loaded));
    stripe.bytes += cached.charge;
    cached_bytes_.fetch_add(static_cast<int64_t>(cached.charge));
    cached_users_.fetch_add(1);
    if (request->mode > Attempt::Mode::kResync) {
      std::function<void()> next = FactorBegin(stripe, cached, std::move(request));
      if (stripe.bytes > stripe_budget_) EvictLocked(stripe);
      lock.Unlock();
      next();
      return;
    }
    std::optional<Delivery> now = Decide(stripe, upn, cached, request->view(),
                                         std::move(request->done), request->redecisions);
    if (stripe.bytes > stripe_budget_) EvictLocked(stripe);
    lock.Unlock();
    Deliver(std::move(now));
    return;
  }
}

// ---- deciding --------------------------------------------------------------------------------

std::optional<SignInVerifier::Delivery> SignInVerifier::Decide(Stripe& stripe, std::string_view upn,
                                                               CachedUser& u,
                                                               const Attempt& attempt,
                                                               SignInCallback done,
                                                               int redecisions) {
  const int64_t now = clock_.NowUnixSeconds();
  if (u.broken) return Delivery{std::move(done), Result(Outcome::kUnavailable), {}};
  std::array<CredentialInput, 8> small;
  std::vector<CredentialInput> large;
  std::span<CredentialInput> inputs;
  if (u.credentials.size() <= small.size()) {
    inputs = std::span<CredentialInput>(small.data(), u.credentials.size());
  } else {
    large.resize(u.credentials.size());
    inputs = large;
  }
  for (size_t i = 0; i < u.credentials.size(); ++i) {
    const CachedCredential& c = u.credentials[i];
    inputs[i] = CredentialInput{&c.credential, c.state.token, c.serial, c.usable};
  }
  // A pending phone code is one more credential of a VERIFY by user: compared by its keyed
  // fingerprint (one HMAC), only while it is valid.
  ChallengeInput challenge;
  const ChallengeInput* pending = nullptr;
  if (attempt.mode == Attempt::Mode::kVerify && attempt.serial.empty() &&
      !u.challenge.fingerprint.empty() && u.challenge.expires > now) {
    auto fp = ChallengeFingerprint(upn, attempt.otp);
    challenge.matches = fp.ok() && base::ConstantTimeEquals(*fp, u.challenge.fingerprint);
    challenge.used = u.challenge.used;
    pending = &challenge;
  }
  const SignInDecision d = DecideSignIn(
      UserInput{true, u.registration_required, u.lockout, inputs, pending}, attempt, now, policy_);
  counters_.hashes.fetch_add(d.hashes, std::memory_order_relaxed);

  SignInResult result;
  result.outcome = d.outcome;
  result.retry_after_seconds = d.retry_after_seconds;
  CachedCredential* matched = d.matched >= 0 ? &u.credentials[d.matched] : nullptr;
  if (matched != nullptr) {
    result.method_id = matched->method_id;
    result.method_kind = matched->kind;
    result.serial = matched->serial;
    result.otp_type = matched->credential.params().type;
    result.digits = matched->credential.params().digits;
    result.step = d.verdict.step;
    result.drift = d.verdict.drift;
  } else if (d.challenge_accepted || (pending != nullptr && d.outcome == Outcome::kReplayed)) {
    result.method_id = u.challenge.method_id;
    result.method_kind = MethodKind::kPhone;
    DescribeMatchedPhone(upn, u, result);
  }
  if (!d.advances && !d.lockout && !d.challenge_accepted) {
    return Delivery{std::move(done), std::move(result), {}};
  }

  // Apply: the cache moves first (a concurrent replay of this code is refused from now on), and
  // the batch carries the same change, conditional on the fence this user was loaded with and on
  // the versions of the state records it rewrites. In one process the cache is the only writer
  // of those records; on a store that several otpd nodes share, another node may have accepted
  // this very code meanwhile, and the state condition is what refuses the second acceptance.
  storage::WriteBatch batch;
  storage::Durability durability = options_.failure_durability;
  if (d.advances) {
    matched->state.token = d.verdict.new_state;
    matched->state.last_used = now;
    batch.RequireVersion(Namespace::kState, matched->state_key, matched->state_version++);
    batch.Put(Namespace::kState, matched->state_key, EncodeCredentialState(matched->state));
    durability = storage::Durability::kDurable;
  }
  if (d.challenge_accepted) {
    u.challenge.used = true;
    batch.Put(Namespace::kState, ChallengeKey(upn), EncodeChallenge(u.challenge));
    durability = storage::Durability::kDurable;
  }
  bool evented = false;
  if (d.lockout) evented = StageLockout(batch, upn, u, *d.lockout, now);
  // The completion owns a copy of the attempt, in case the fence moved and it must be decided
  // again.
  auto retry = Deferred::From(attempt, std::string(upn), std::move(done));
  retry->redecisions = redecisions;
  return SubmitLocked(stripe, u, std::move(batch), durability, std::move(retry), std::move(result),
                      evented);
}

std::optional<SignInVerifier::Delivery> SignInVerifier::SubmitLocked(
    Stripe& stripe, CachedUser& u, storage::WriteBatch batch, storage::Durability durability,
    std::unique_ptr<Deferred> request, SignInResult result, bool evented) {
  (void)stripe;
  batch.RequireVersion(Namespace::kUsers, request->upn, u.fence);
  auto* raw = request.release();
  ++u.inflight;
  // Submitted under the lock: this user's changes reach the pipeline in decision order. The
  // completion never runs inline.
  base::Status queued =
      store_.Submit(std::move(batch), durability,
                    [this, raw, evented, result = std::move(result)](base::Status s) {
                      if (evented && s.ok()) NotifyOutbox();
                      OnCommitted(std::move(s), std::unique_ptr<Deferred>(raw), result);
                    });
  if (queued.ok()) return std::nullopt;
  std::unique_ptr<Deferred> refused(raw);
  --u.inflight;
  return Delivery{std::move(refused->done), Result(Outcome::kUnavailable), queued};
}

bool SignInVerifier::StageLockout(storage::WriteBatch& batch, std::string_view upn, CachedUser& u,
                                  const engine::LockoutState& next, int64_t now) {
  const bool starts_lock =
      engine::RetryAfter(u.lockout, now) == 0 && engine::RetryAfter(next, now) > 0;
  u.lockout = next;
  // Conditional like the token state: on a store several nodes share, the other node's count is
  // not overwritten with an older one.
  batch.RequireVersion(Namespace::kState, LockoutKey(upn), u.lockout_version++);
  batch.Put(Namespace::kState, LockoutKey(upn), EncodeLockout(next));
  if (!starts_lock) return false;
  // The event carries no secret; it cannot fail to be added.
  (void)AddEvent(batch, clock_, events::kUserLocked, upn,
                 EventData()
                     .Int("failures", next.failures)
                     .Int("locked_until", next.locked_until)
                     .Int("retry_after", engine::RetryAfter(next, now)));
  return true;
}

void SignInVerifier::OnCommitted(base::Status status, std::unique_ptr<Deferred> request,
                                 SignInResult result) {
  const uint64_t hash = UpnHash(request->upn);
  Stripe& stripe = StripeFor(hash);
  Deliveries deliveries;
  {
    base::MutexLock lock(stripe.mu);
    CachedUser* u = stripe.users.Find(request->upn, hash);
    if (u != nullptr) --u->inflight;
    // Aborted: the fence moved (an administrator changed this user after the decision) or a state
    // record did (another otpd node sharing the store signed the user in), and what the cache
    // holds is older than that change. A stale user is dropped once its last commit is in.
    if (u != nullptr && (base::IsAborted(status) || (u->stale && u->inflight == 0))) {
      InvalidateLocked(stripe, request->upn, hash, &deliveries);
    }
    if (base::IsAborted(status) && request->redecisions < kMaxRedecisions) {
      counters_.redecided.fetch_add(1, std::memory_order_relaxed);
      ++request->redecisions;
      DispatchLocked(stripe, std::move(request), &deliveries);
      request = nullptr;
    }
  }
  Deliver(std::move(deliveries));
  if (request == nullptr) return;
  if (!status.ok()) {
    Deliver(Delivery{std::move(request->done), Result(Outcome::kUnavailable), status});
    return;
  }
  Deliver(Delivery{std::move(request->done), std::move(result), {}});
}

}  // namespace otpd::service
