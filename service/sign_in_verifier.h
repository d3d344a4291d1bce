// SignInVerifier is the sign-in hot path (ARCHITECTURE.md, "The sign-in verify path"): it answers
// "is this code right for this user?" from an in-memory cache of each user's OATH credentials
// (prepared HMAC keys, never seeds) and hot state, loaded from the Store on first use.
//
// A user not yet in the cache (or a serial whose owner is not) is loaded on a small loader pool,
// never on the caller's thread, since a cold Store read may wait for the disk.
//
// Per request: read the clock once; under the user's stripe lock, check lockout, run the engine
// on every usable credential, apply the new state to the cache at once (so a concurrent replay of
// the same code is already refused), and submit the state change to the Store's commit pipeline
// while still holding the lock (so commits for one user reach the Store in the order they were
// decided and a watermark never goes backwards on disk). The answer for an accepted code is
// delivered only from the commit's completion, after the new watermark is durable; a failed
// commit answers kUnavailable and the cache keeps the advanced watermark (stricter, safe).
//
// One wrong code counts one failure for the user, however many tokens the user has. Replays and
// near misses (kDrift) are not failures.
//
// Thread-safe. Admin changes made through TokenInventory reach it through CacheInvalidator.

#ifndef OTPD_SERVICE_SIGN_IN_VERIFIER_H_
#define OTPD_SERVICE_SIGN_IN_VERIFIER_H_

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "engine/credential.h"
#include "engine/lockout.h"
#include "engine/verifier.h"
#include "service/inventory.h"
#include "service/keyed_table.h"
#include "service/records.h"
#include "service/sign_in.h"
#include "service/worker_pool.h"
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
  // Called (from any thread, possibly the committer's) with every storage
  // error that made a request answer kUnavailable, for the daemon's log. The status never holds a
  // code or a secret. Default: none.
  std::function<void(const base::Status&)> on_storage_error;
};

struct SignInCounters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> hashes{0};
  std::atomic<uint64_t> cache_loads{0};
  std::atomic<uint64_t> commit_failures{0};
};

class SignInVerifier final : public SignInService, public CacheInvalidator {
 public:
  // `store`, `keys` and `clock` must outlive the verifier.
  SignInVerifier(storage::Store& store, const storage::KeyRing& keys, const base::Clock& clock,
                 SignInOptions options);
  ~SignInVerifier() override;

  void Verify(const VerifyRequest& request, SignInCallback done) override;
  void Resync(const ResyncRequest& request, SignInCallback done) override;

  // Finishes the loads already queued and refuses new ones (they answer kUnavailable). Call it
  // after the server stopped and before the Store is closed: queued loads still read the Store
  // and submit commits whose completions come back here.
  void StopLoading() { loader_.Stop(); }

  void InvalidateUser(std::string_view upn) override;
  void InvalidateSerial(std::string_view serial) override;

  const SignInCounters& counters() const { return counters_; }

 private:
  struct CachedCredential {
    std::string method_id;
    MethodKind kind = MethodKind::kHardwareOath;
    std::string serial;
    bool usable = false;  // activated
    engine::Credential credential;
    CredentialState state;
  };
  struct CachedUser {
    bool exists = false;
    bool registration_required = false;
    std::vector<CachedCredential> credentials;
    engine::LockoutState lockout;
  };
  struct Stripe {
    std::mutex mu;
    KeyedTable<CachedUser> users;  // by normalised UPN and UpnHash; guarded by mu
    uint64_t generation = 0;       // bumped by every invalidation; guarded by mu
  };

  enum class Mode { kVerify, kResync };

  // A request that could not be decided from memory, owned by the loader task.
  struct DeferredRequest {
    Mode mode = Mode::kVerify;
    std::string user, serial, otp, otp2;
    SignInCallback done;
    ~DeferredRequest();
  };

  void Handle(Mode mode, std::string_view user, std::string_view serial, std::string_view otp,
              std::string_view otp2, SignInCallback done);
  // On a loader thread: resolves the owner and loads the user, then decides.
  void HandleOnLoader(DeferredRequest& request);
  // Decides for the user `u` of stripe `lock` (held; released before any answer is delivered).
  void Decide(Mode mode, std::string_view upn, std::string_view serial, std::string_view otp,
              std::string_view otp2, CachedUser& u, std::unique_lock<std::mutex>& lock,
              SignInCallback done);
  // The upn a serial is assigned to; empty when the token is not assigned, NotFound when unknown.
  base::StatusOr<std::string> OwnerOf(std::string_view serial);
  static uint64_t UpnHash(std::string_view upn) { return std::hash<std::string_view>{}(upn); }
  Stripe& StripeFor(uint64_t upn_hash) { return *stripes_[upn_hash % stripes_.size()]; }
  base::StatusOr<std::unique_ptr<CachedUser>> LoadUser(const std::string& upn);

  storage::Store& store_;
  const storage::KeyRing& keys_;
  const base::Clock& clock_;
  const SignInOptions options_;
  std::vector<std::unique_ptr<Stripe>> stripes_;
  SignInCounters counters_;

  std::mutex owners_mu_;
  std::unordered_map<std::string, std::string> owners_;  // serial -> upn, guarded by owners_mu_

  // Last member: destroyed first, so queued loads finish while everything above still exists.
  WorkerPool loader_;
};

}  // namespace otpd::service

#endif  // OTPD_SERVICE_SIGN_IN_VERIFIER_H_
