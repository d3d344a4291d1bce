// Administrative actions on a user that are not about one token: today, clearing a lockout.
// Each is one durable batch with its audit record, under the user's fence (service/directory.h),
// so a sign-in decided before the change cannot undo it afterwards.
//
// Thread-safety: plain functions; the Store serialises the commits.

#ifndef OTPD_SERVICE_USER_ADMIN_H_
#define OTPD_SERVICE_USER_ADMIN_H_

#include <optional>
#include <string_view>

#include "base/clock.h"
#include "base/statusor.h"
#include "engine/lockout.h"
#include "service/directory.h"
#include "service/inventory.h"

namespace otpd::service {

// Clears `upn`'s lockout state (consecutive failures and any lock), with an audit record (action
// "unlock", target "user/<upn>", `actor`) in the same durable batch. Returns the state that was
// cleared, or nullopt when the user had none (nothing is written then). `upn` is normalised
// here. Errors: InvalidArgument for a malformed UPN; NotFound when no such user exists; Aborted
// when the user changed meanwhile; storage errors. `invalidator` (may be null) is told after the
// commit.
base::StatusOr<std::optional<engine::LockoutState>> UnlockUser(const Directory& directory,
                                                               const base::Clock& clock,
                                                               std::string_view upn,
                                                               std::string_view actor,
                                                               CacheInvalidator* invalidator);

}  // namespace otpd::service

#endif  // OTPD_SERVICE_USER_ADMIN_H_
