// Temporary access passes, as Graph's temporaryAccessPassAuthenticationMethod: a time-limited
// pass an administrator gives a user to sign in (TAP on the verify socket) and register their
// methods (ENROL). At most one per user: a new one replaces the old. The pass is shown only when
// it is created; only a keyed fingerprint of it is kept (KeyRing::Fingerprint, purpose "tap").
//
// Graph's fields: lifetimeInMinutes 10..43200 (default 60), isUsableOnce, startDateTime (default
// now), and methodUsabilityReason: enabledByPolicy, disabledByPolicy, expired, notYetValid,
// oneTimeUsed.
//
// Changes are authorized (Permission::kManageUserMethods), fenced, audited, evented (tap.created,
// tap.deleted) and told to the sign-in cache. Errors as service/admin/user_actions.h.
//
// Thread-safe; calls block on the Store.

#ifndef OTPD_SERVICE_CREDENTIALS_TEMPORARY_ACCESS_PASS_H_
#define OTPD_SERVICE_CREDENTIALS_TEMPORARY_ACCESS_PASS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/secret_bytes.h"
#include "base/statusor.h"
#include "service/admin/inventory.h"
#include "service/admin/roles.h"
#include "service/model/directory.h"
#include "service/model/records.h"

namespace otpd::service {

inline constexpr std::string_view kTapFingerprintPurpose = "tap";

struct TapPolicy {
  // The policy allows passes at all (false: every pass is disabledByPolicy). Default true.
  bool enabled = true;
  uint32_t default_lifetime_minutes = 60;
  uint32_t min_lifetime_minutes = 10;
  uint32_t max_lifetime_minutes = 43200;
  // Characters in a generated pass (of a 32-letter alphabet). Default 12: 60 bits.
  uint32_t length = 12;
};

struct TapRequest {
  std::optional<uint32_t> lifetime_minutes;  // default: the policy's
  bool usable_once = false;
  std::optional<int64_t> start;  // Unix seconds; default now; not more than 5 minutes ago
};

// "enabledByPolicy", "disabledByPolicy", "expired", "notYetValid", "oneTimeUsed".
enum class TapUsability : uint8_t { kEnabled, kDisabledByPolicy, kExpired, kNotYetValid, kUsed };
std::string_view TapUsabilityName(TapUsability u);
// Whether `tap` can sign in at `now` (`used`: a one-time pass that signed in already).
TapUsability EvaluateTap(const TemporaryAccessPassPayload& tap, bool used, bool enabled,
                         int64_t now);

struct TapView {
  MethodRecord method;  // its payload is a TemporaryAccessPassPayload
  TapUsability usability = TapUsability::kEnabled;
  bool usable() const { return usability == TapUsability::kEnabled; }
};

struct CreatedTap {
  TapView tap;
  base::SecretBytes pass;  // shown once
};

// The keyed fingerprint of a pass for `upn`.
base::StatusOr<std::string> TapFingerprint(const storage::KeyRing& keys, std::string_view upn,
                                           std::string_view pass);

class TemporaryAccessPasses {
 public:
  TemporaryAccessPasses(const Directory& directory, const base::Clock& clock, TapPolicy policy,
                        CacheInvalidator* invalidator)
      : directory_(directory), clock_(clock), policy_(policy), invalidator_(invalidator) {}

  // InvalidArgument for a lifetime outside the policy's range or a start in the past;
  // FailedPrecondition when the policy disables passes; NotFound for an unknown user.
  base::StatusOr<CreatedTap> Create(const Principal& by, std::string_view upn,
                                    const TapRequest& request);
  // NotFound when the user has none.
  base::StatusOr<TapView> Get(const Principal& by, std::string_view upn) const;
  // Deletes the user's pass; with `id`, only when the pass is that one (NotFound otherwise), so
  // that a pass that replaced it meanwhile is never deleted in its place.
  base::Status Delete(const Principal& by, std::string_view upn,
                      std::optional<std::string_view> id = std::nullopt);

 private:
  const Directory& directory_;
  const base::Clock& clock_;
  const TapPolicy policy_;
  CacheInvalidator* const invalidator_;
};

}  // namespace otpd::service

#endif  // OTPD_SERVICE_CREDENTIALS_TEMPORARY_ACCESS_PASS_H_
