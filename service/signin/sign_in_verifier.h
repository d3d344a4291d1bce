// SignInVerifier is the sign-in hot path: it answers "is this code right for this user?" from an
// in-memory cache of each user's OATH credentials (prepared HMAC keys, never seeds) and their
// state, loaded from the Store on first use and bounded in memory (SignInOptions::cache_bytes).
//
// A request is handled in three steps: a pure decision (service/signin/sign_in_decision.h) under
// the user's stripe lock, applying it (the cache moves at once, so a concurrent replay of the same
// code is already refused, and a write batch is built), and submitting the batch to the Store's
// commit pipeline, still under the lock so that one user's commits reach the Store in the order
// they were decided. An accepted code is answered only from the commit's completion, after the
// new watermark is durable; a failed commit answers kUnavailable and the cache keeps the advanced
// watermark (stricter, safe). No answer is ever delivered while a lock is held.
//
// The cache is a hint, never the truth: every sign-in commit is conditional on the version of
// the user's record it loaded (the per-user fence, service/model/directory.h) and on the versions
// of the state records it rewrites (watermark, lockout). An administrator's change moves the fence
// in the same batch as the change, and another otpd node sharing the store (etcd) moves the
// state records it commits, so a sign-in decided on state older than either fails its
// condition; it is then decided again on a fresh load. A user is never
// loaded while commits decided for it are still in flight, so a load never reads a watermark
// older than one already decided.
//
// Order: requests for one user are decided in the order they arrive, also when some name the
// user and others a token's serial, and while the user is being loaded: requests that cannot be
// decided from memory go through one ordering queue (which resolves a serial's owner) onto a
// loader thread per user, and later requests for that user follow them there. The one exception
// is a request decided again after an administrator's change: it may then be decided after
// requests that arrived later.
//
// The other factors (PASSWORD, APP_PASSWORD, TAP, SESSION, and secrets the caller checks itself,
// CONFIRM's code) and phone challenges are decided on the same cached user, under the same lock
// and the same fence (service/signin/sign_in_factors.cc): a wrong password or confirming code
// counts toward the same lockout as a wrong code, and an answer that a factor is right is given
// only after a commit conditional on the fence, so that an administrator's change that returned
// orders itself after it or refuses it. Password hashing runs on the PasswordHasher's threads,
// never under a lock; what needs a Store read (app passwords, a session record) is read on a loader
// thread.
//
// Records that fail their integrity check (edited without the master key) make only that
// credential unusable (a user record that fails answers kUnavailable); each is reported once per
// load through SignInOptions::on_integrity_error.
//
// Thread-safe. Admin changes reach it through CacheInvalidator.

#ifndef OTPD_SERVICE_SIGNIN_SIGN_IN_VERIFIER_H_
#define OTPD_SERVICE_SIGNIN_SIGN_IN_VERIFIER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "engine/credential.h"
#include "engine/lockout.h"
#include "engine/verifier.h"
#include "service/admin/inventory.h"
#include "service/credentials/passwords.h"
#include "service/internal/sign_in_cache.h"
#include "service/model/directory.h"
#include "service/model/keyed_table.h"
#include "service/model/records.h"
#include "service/signin/sign_in.h"
#include "service/signin/sign_in_decision.h"
#include "service/signin/worker_pool.h"
#include "storage/keyring.h"
#include "storage/store.h"

namespace otpd::service {

struct SignInOptions {
  // Sign-in, near-miss and resync windows. Default: WindowPolicy{}.
  engine::WindowPolicy windows;
  // Failure throttling per user. Default: LockoutPolicy{} (5 failures, 30 s doubling, 15 min).
  engine::LockoutPolicy lockout;
  // Durability of failure counters. Default kDurable; kRelaxed lets a machine crash forget the
  // last few failures. (An accepted code's new watermark is always durable before the answer:
  // that is not configurable.)
  storage::Durability failure_durability = storage::Durability::kDurable;
  // Number of lock stripes (users hash onto them). Default 256.
  size_t stripes = 256;
  // Threads that load users missing from the cache (Store reads, which may go to disk), so that
  // the callers' io threads never block on storage. Default 4.
  size_t loader_threads = 4;
  // Requests that may wait for the loader; beyond that they answer kUnavailable. Default 4096.
  size_t max_pending_loads = 4096;
  // Memory the user cache may use, approximately; least recently used users are dropped beyond
  // it (they are loaded again when they next sign in). Default 640 MiB: a million users with
  // one hardware token each take about 450 MiB.
  size_t cache_bytes = size_t{640} << 20;
  // Called (from any thread, possibly the committer's) with every storage error that made a
  // request answer kUnavailable, for the daemon's log. The status never holds a code or a
  // secret. Default: none.
  std::function<void(const base::Status&)> on_storage_error;
  // Called once per load with each record that failed its integrity check (or could not be
  // opened) and was therefore left out. Default: none.
  std::function<void(const base::Status&)> on_integrity_error;
  // Hashes for PASSWORD (not owned; must outlive the verifier). Null: PASSWORD answers
  // unavailable.
  PasswordHasher* hasher = nullptr;
  // Whether temporary access passes may sign in (the policy). Default true.
  bool tap_enabled = true;
  // Phone challenges: how long a code is valid (default 300 s), and at most `max_challenges`
  // codes per user in a window of `challenge_window` (default 5 in 15 minutes).
  int64_t challenge_ttl_seconds = 300;
  int64_t challenge_window_seconds = 900;
  uint32_t max_challenges = 5;
};

struct SignInCounters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> hashes{0};
  std::atomic<uint64_t> cache_hits{0};   // requests decided from a cached user
  std::atomic<uint64_t> cache_loads{0};  // users loaded from the Store
  std::atomic<uint64_t> cache_evictions{0};
  std::atomic<uint64_t> commit_failures{0};
  std::atomic<uint64_t> redecided{0};  // decided again after the user's fence moved
  std::atomic<uint64_t> integrity_failures{0};
  std::atomic<uint64_t> challenges_sent{0};
};

class SignInVerifier final : public SignInService, public CacheInvalidator {
 public:
  // `store`, `keys` and `clock` must outlive the verifier.
  SignInVerifier(storage::Store& store, const storage::KeyRing& keys, const base::Clock& clock,
                 SignInOptions options);
  ~SignInVerifier() override;

  void Verify(const VerifyRequest& request, SignInCallback done) override;
  void Resync(const ResyncRequest& request, SignInCallback done) override;
  void Password(const SecretRequest& request, SignInCallback done) override;
  void AppPassword(const SecretRequest& request, SignInCallback done) override;
  void Tap(const SecretRequest& request, SignInCallback done) override;
  void Session(const SecretRequest& request, SignInCallback done) override;
  void Challenge(const ChallengeRequest& request, SignInCallback done) override;
  void CheckedFactor(const CheckedRequest& request, SignInCallback done) override;
  SignInServiceStats stats() const override;

  // Finishes the loads already queued and refuses new ones (they answer kUnavailable). Call it
  // after the server stopped and before the Store is closed: queued loads still read the Store
  // and submit commits whose completions come back here.
  void StopLoading();

  void InvalidateUser(std::string_view upn) override;
  void InvalidateSerial(std::string_view serial) override;

  const SignInCounters& counters() const { return counters_; }

 private:
  using CachedCredential = internal::CachedCredential;
  using CachedUser = internal::CachedUser;
  using Deferred = internal::DeferredRequest;
  using Stripe = internal::CacheStripe;
  // An answer decided under a lock, delivered once the lock is released.
  struct Delivery {
    SignInCallback done;
    SignInResult result;
    base::Status storage_error;  // reported through on_storage_error when not OK
  };
  using Deliveries = std::vector<Delivery>;

  void Handle(const Attempt& attempt, SignInCallback done);
  // Sends a request that cannot be decided from memory on its way: through the ordering queue
  // when its owner is unknown or the queue is busy, else straight to its user's loader thread.
  void Route(std::unique_ptr<Deferred> request);
  // On the ordering queue: resolves the owner of a serial if needed, then Dispatch.
  void Sequence(std::unique_ptr<Deferred> request);
  // Queues `request` on its user's loader thread (or parks it while the user's in-flight commits
  // drain).
  void Dispatch(std::unique_ptr<Deferred> request);
  // Refused requests (the loader's queue is full) are added to `out`, to answer after unlocking.
  void DispatchLocked(Stripe& stripe, std::unique_ptr<Deferred> request, Deliveries* out)
      OTPD_REQUIRES(stripe.mu);
  // On a loader thread: loads the user if needed, then decides.
  void LoadAndDecide(std::unique_ptr<Deferred> request);
  // Decides for the cached `user`: applies the decision to the cache and submits its batch. The
  // answer is returned when it can be given now (the caller delivers it after releasing the
  // lock); it comes from the commit's completion otherwise.
  std::optional<Delivery> Decide(Stripe& stripe, std::string_view upn, CachedUser& user,
                                 const Attempt& attempt, SignInCallback done, int redecisions)
      OTPD_REQUIRES(stripe.mu);
  // The commit pipeline's completion of a sign-in batch.
  void OnCommitted(base::Status status, std::unique_ptr<Deferred> request, SignInResult result);
  // Submits `batch` (made conditional on the user's fence here) for `request`, answered with
  // `result` once committed; the user's in-flight count covers it. Returns the answer to give
  // now when the batch is refused at once.
  std::optional<Delivery> SubmitLocked(Stripe& stripe, CachedUser& u, storage::WriteBatch batch,
                                       storage::Durability durability,
                                       std::unique_ptr<Deferred> request, SignInResult result,
                                       bool evented) OTPD_REQUIRES(stripe.mu);

  // ---- the other factors (sign_in_factors.cc) ----
  // The factor modes always go to a loader thread (Route), where the user is loaded if needed.
  void HandleFactor(const Attempt& attempt, SignInCallback done,
                    std::function<Outcome()> check = {});
  // On a loader thread with the user cached and its stripe locked: the checks that need only
  // memory, and a copy of what the check needs. Returns what to run once the lock is released:
  // the answer, or the check (a Store read or a hash) that ends in FactorDecide.
  std::function<void()> FactorBegin(Stripe& stripe, CachedUser& u,
                                    std::unique_ptr<Deferred> request) OTPD_REQUIRES(stripe.mu);
  void CheckSession(std::unique_ptr<Deferred> request, uint64_t fence, uint64_t epoch, int64_t now);
  void CheckPassword(std::unique_ptr<Deferred> request, uint64_t fence,
                     const std::optional<PasswordPayload>& password);
  void CheckTap(std::unique_ptr<Deferred> request, uint64_t fence,
                const std::optional<internal::CachedTap>& tap, int64_t now);
  void CheckAppPassword(std::unique_ptr<Deferred> request, uint64_t fence);
  void CheckByCaller(std::unique_ptr<Deferred> request, uint64_t fence);
  // Decides a factor whose secret was checked with the user at `fence`: the lockout, the
  // outcome, the commit. Takes the stripe lock.
  void FactorDecide(std::unique_ptr<Deferred> request, uint64_t fence, Outcome checked,
                    SignInResult result);
  std::optional<Delivery> ChallengeLocked(Stripe& stripe, std::string_view upn, CachedUser& u,
                                          std::unique_ptr<Deferred> request)
      OTPD_REQUIRES(stripe.mu);
  // Sends a request decided again (the fence moved while it was being checked) back to the
  // loader, or answers unavailable after too many tries.
  void Redecide(std::unique_ptr<Deferred> request);
  // Adds the lockout change to `batch` (and user.locked when it starts a lock).
  bool StageLockout(storage::WriteBatch& batch, std::string_view upn, CachedUser& u,
                    const engine::LockoutState& next, int64_t now);
  // Drops what the cache knows of a user; waits for its in-flight commits if it has any.
  void InvalidateLocked(Stripe& stripe, std::string_view upn, uint64_t hash, Deliveries* out)
      OTPD_REQUIRES(stripe.mu);
  void EraseLocked(Stripe& stripe, std::string_view upn, uint64_t hash, CachedUser& user)
      OTPD_REQUIRES(stripe.mu);
  void EvictLocked(Stripe& stripe) OTPD_REQUIRES(stripe.mu);
  void Deliver(Delivery delivery);
  void Deliver(std::optional<Delivery> delivery) {
    if (delivery) Deliver(std::move(*delivery));
  }
  void Deliver(Deliveries deliveries) {
    for (Delivery& d : deliveries) Deliver(std::move(d));
  }

  // The upn a serial is assigned to; empty when the token is not assigned, NotFound when unknown.
  base::StatusOr<std::string> OwnerOf(std::string_view serial);
  base::StatusOr<std::unique_ptr<CachedUser>> LoadUser(const std::string& upn);
  base::StatusOr<std::optional<CachedCredential>> LoadCredential(const std::string& upn,
                                                                 const MethodRecord& method);
  // The fingerprint a phone code for `upn` is kept as.
  base::StatusOr<std::string> ChallengeFingerprint(std::string_view upn,
                                                   std::string_view code) const;
  // The serial of `upn`'s phone `method_id` (SignInResult::phone_serial).
  base::StatusOr<std::string> PhoneSerial(std::string_view upn, std::string_view method_id) const;
  // Fills `result`'s phone fields for the phone code `u` had pending that the decision matched.
  void DescribeMatchedPhone(std::string_view upn, const CachedUser& u, SignInResult& result) const;
  void ReportIntegrity(const base::Status& status);

  static uint64_t UpnHash(std::string_view upn) { return std::hash<std::string_view>{}(upn); }
  Stripe& StripeFor(uint64_t upn_hash) { return *stripes_[upn_hash % stripes_.size()]; }

  storage::Store& store_;
  const storage::KeyRing& keys_;
  const Directory directory_;
  const base::Clock& clock_;
  const SignInOptions options_;
  const SignInPolicy policy_;
  const size_t stripe_budget_;  // cache_bytes per stripe
  std::vector<std::unique_ptr<Stripe>> stripes_;
  SignInCounters counters_;
  std::atomic<int64_t> cached_users_{0};
  std::atomic<int64_t> cached_bytes_{0};

  base::Mutex owners_mu_;
  std::unordered_map<std::string, std::string> owners_ OTPD_GUARDED_BY(owners_mu_);  // serial->upn

  // Requests in (or on their way through) the ordering queue. While it is not zero, every request
  // that is not answered from memory at once goes through the queue, behind them.
  std::atomic<int64_t> sequenced_{0};

  // Last members: destroyed first, so queued work finishes while everything above still exists.
  WorkerPool loader_;
  WorkerPool sequencer_;
};

}  // namespace otpd::service

#endif  // OTPD_SERVICE_SIGNIN_SIGN_IN_VERIFIER_H_
