// The sign-in cache's types (service/signin/sign_in_verifier.h): what SignInVerifier keeps in
// memory for each user, the requests it defers, and the lock stripes. Not for use outside it.

#ifndef OTPD_SERVICE_INTERNAL_SIGN_IN_CACHE_H_
#define OTPD_SERVICE_INTERNAL_SIGN_IN_CACHE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/secret_bytes.h"
#include "engine/credential.h"
#include "engine/lockout.h"
#include "service/model/keyed_table.h"
#include "service/model/records.h"
#include "service/signin/sign_in.h"
#include "service/signin/sign_in_decision.h"

namespace otpd::service::internal {

struct CachedCredential {
  std::string method_id;
  MethodKind kind = MethodKind::kHardwareOath;
  std::string serial;     // hardware tokens
  std::string state_key;  // in the state namespace
  bool usable = false;    // activated (hardware) or confirmed (software)
  engine::Credential credential;
  CredentialState state;
  // The version of the state record `state` was loaded from, plus one for every commit of it
  // decided since: the next commit is conditional on it, so that a state another process wrote
  // meanwhile (another otpd node on a shared store) fails the commit instead of being
  // overwritten. 0: no record yet.
  uint64_t state_version = 0;
};

struct DeferredRequest;

// A phone of the user, for CHALLENGE.
struct CachedPhone {
  std::string method_id;
  PhoneType type = PhoneType::kMobile;
  std::string number;
};

// The user's temporary access pass and whether its one use happened.
struct CachedTap {
  std::string method_id;
  TemporaryAccessPassPayload pass;
  bool used = false;
};

struct CachedUser {
  uint64_t fence = 0;   // the version of users/<upn> this was loaded from
  bool broken = false;  // the user record failed its integrity check: answer unavailable
  bool registration_required = false;
  uint64_t sessions_epoch = 0;
  // The phone the user prefers to get codes on (their default sign-in method), if they do.
  std::optional<PreferredPhone> preferred_phone;
  std::vector<CachedCredential> credentials;
  engine::LockoutState lockout;
  uint64_t lockout_version = 0;  // as state_version, for the user's lockout record
  // The other factors: the password's hash (never the password), the pass's fingerprint, the
  // phones and the pending phone code (its fingerprint and rate-limit window).
  std::optional<PasswordPayload> password;
  std::optional<CachedTap> tap;
  std::vector<CachedPhone> phones;
  ChallengeState challenge;

  // Commits submitted for this user and not completed yet. While there are any, the user is not
  // evicted, and an invalidation leaves it cached but stale: requests then wait (parked) until
  // the commits complete, and the user is loaded again after them.
  uint32_t inflight = 0;
  bool stale = false;
  std::vector<std::unique_ptr<DeferredRequest>> parked;
  bool referenced = true;  // the eviction clock's bit
  size_t charge = 0;       // approximate bytes, counted against the stripe's budget
};

// A request that could not be decided from memory: owned copies of the attempt's fields (the
// codes wiped on destruction) and the callback.
struct DeferredRequest {
  Attempt::Mode mode = Attempt::Mode::kVerify;
  std::string user, serial, otp, otp2, method;
  std::string upn;  // normalised; empty until the owner of `serial` is known
  SignInCallback done;
  std::function<Outcome()> check;  // Attempt::Mode::kChecked
  int redecisions = 0;             // times decided again after the user's fence moved

  static std::unique_ptr<DeferredRequest> From(const Attempt& a, std::string upn,
                                               SignInCallback done) {
    auto d = std::make_unique<DeferredRequest>();
    d->mode = a.mode;
    d->user = std::string(a.user);
    d->serial = std::string(a.serial);
    d->otp = std::string(a.otp);
    d->otp2 = std::string(a.otp2);
    d->method = std::string(a.method);
    d->upn = std::move(upn);
    d->done = std::move(done);
    return d;
  }
  Attempt view() const { return Attempt{mode, user, serial, otp, otp2, method}; }
  ~DeferredRequest() {
    base::Wipe(otp.data(), otp.size());
    base::Wipe(otp2.data(), otp2.size());
  }
};

struct CacheStripe {
  base::Mutex mu;
  KeyedTable<CachedUser> users OTPD_GUARDED_BY(mu);  // by normalised UPN and its hash
  // Requests queued on a loader thread, per user: later requests for the user follow them there.
  KeyedTable<uint32_t> pending OTPD_GUARDED_BY(mu);
  uint64_t generation OTPD_GUARDED_BY(mu) = 0;  // bumped by every invalidation
  size_t bytes OTPD_GUARDED_BY(mu) = 0;         // charge of the cached users
  size_t hand OTPD_GUARDED_BY(mu) = 0;          // the eviction clock's position
};

}  // namespace otpd::service::internal

#endif  // OTPD_SERVICE_INTERNAL_SIGN_IN_CACHE_H_
