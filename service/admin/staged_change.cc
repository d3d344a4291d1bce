#include "service/internal/staged_change.h"

namespace otpd::service::internal {

base::StatusOr<StagedChange> BeginChange(const Directory& directory, const base::Clock& clock,
                                         const Principal& by, Permission permission,
                                         std::string_view upn_in, std::string_view action,
                                         bool create) {
  OTPD_ASSIGN_OR_RETURN(const std::string upn, CheckUpn(upn_in));
  StagedChange c;
  c.now = clock.NowUnixSeconds();
  c.audit = MakeAudit(clock, by, action, "user/" + upn);
  OTPD_ASSIGN_OR_RETURN(c.user, directory.BeginUserChange(upn, c.now, create));
  if (base::Status allowed = AuthorizeChange(directory, by, permission, c.user.user);
      !allowed.ok()) {
    return RecordRefusal(directory.store(), std::move(c.audit), allowed);
  }
  return c;
}

base::Status CommitChange(const Directory& directory, StagedChange& c,
                          CacheInvalidator* invalidator) {
  OTPD_RETURN_IF_ERROR(directory.Fence(c.batch, c.user, c.now));
  AddAudit(c.batch, c.audit);
  base::Status s = directory.store().Commit(std::move(c.batch), storage::Durability::kDurable);
  if (base::IsAborted(s)) {
    return base::AbortedError("user " + c.upn() +
                              " changed while the change was being made; try again");
  }
  OTPD_RETURN_IF_ERROR(s);
  if (invalidator != nullptr) {
    for (const std::string& serial : c.serials) invalidator->InvalidateSerial(serial);
    invalidator->InvalidateUser(c.upn());
  }
  NotifyOutbox();
  return base::OkStatus();
}

}  // namespace otpd::service::internal
