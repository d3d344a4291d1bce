// Clearing a user's sign-in lockout from the tools (otpctl user unlock), until the service layer
// offers it: the `state` namespace record LockoutKey(upn) is deleted and an audit record written,
// in one durable batch.

#ifndef OTPD_TOOLS_USER_LOCKOUT_H_
#define OTPD_TOOLS_USER_LOCKOUT_H_

#include <optional>
#include <string_view>

#include "base/clock.h"
#include "base/statusor.h"
#include "engine/lockout.h"
#include "storage/store.h"

namespace otpd::tools {

// Deletes `upn`'s lockout state (consecutive failures and any lock) together with an audit
// record (action "unlock", target "user/<upn>", the actor given) in one durable batch,
// conditional on the state not having changed since it was read. Returns the state that was
// cleared, or nullopt when the user had none (then nothing is written). `upn` must be
// normalised (tokenio::NormaliseUpn). Errors: NotFound when no such user exists; Aborted when
// the state changed meanwhile; storage errors.
base::StatusOr<std::optional<engine::LockoutState>> UnlockUser(storage::Store& store,
                                                               const base::Clock& clock,
                                                               std::string_view upn,
                                                               std::string_view actor);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_USER_LOCKOUT_H_
