// The shape every administrative change to one user takes (service/admin/user_actions.h,
// service/credentials/app_passwords.h, service/credentials/temporary_access_pass.h): authorize,
// begin the change under the user's fence, stage the records, then one durable batch with the
// fence, the audit record and the outbox events, and finally tell the sign-in cache. Not for use
// outside service/.

#ifndef OTPD_SERVICE_INTERNAL_STAGED_CHANGE_H_
#define OTPD_SERVICE_INTERNAL_STAGED_CHANGE_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/statusor.h"
#include "service/admin/audit.h"
#include "service/admin/inventory.h"
#include "service/admin/roles.h"
#include "service/hooks/outbox.h"
#include "service/model/directory.h"

namespace otpd::service::internal {

struct StagedChange {
  UserChange user;
  storage::WriteBatch batch;
  AuditRecord audit;
  int64_t now = 0;
  std::vector<std::string> serials;  // tokens whose owner cache entries must be dropped too

  const std::string& upn() const { return user.user.upn; }
};

// Normalises `upn`, begins a change of it (NotFound unless `create`), and authorizes `by` for
// `permission` on it; a refusal is audited and returned as PermissionDenied.
base::StatusOr<StagedChange> BeginChange(const Directory& directory, const base::Clock& clock,
                                         const Principal& by, Permission permission,
                                         std::string_view upn, std::string_view action,
                                         bool create = false);

// Adds the fence and the audit record, commits durably (Aborted, with a sentence, when the user
// changed meanwhile), then tells `invalidator` (may be null) and wakes the outbox's readers.
base::Status CommitChange(const Directory& directory, StagedChange& change,
                          CacheInvalidator* invalidator);

}  // namespace otpd::service::internal

#endif  // OTPD_SERVICE_INTERNAL_STAGED_CHANGE_H_
