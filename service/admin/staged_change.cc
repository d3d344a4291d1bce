#include "service/internal/staged_change.h"

#include <utility>

#include "service/hooks/outbox.h"

namespace otpd::service::internal {

namespace {

// Commits `batch` durably, then drops what the sign-in cache holds for `serials` and `upns`
// and wakes the outbox's readers.
base::Status CommitAndTell(const Directory& directory, storage::WriteBatch batch,
                           std::string_view conflict, std::span<const std::string> serials,
                           std::span<const std::string* const> upns,
                           CacheInvalidator* invalidator) {
  base::Status s = directory.store().Commit(std::move(batch), storage::Durability::kDurable);
  if (base::IsAborted(s)) return base::AbortedError(std::string(conflict));
  OTPD_RETURN_IF_ERROR(s);
  if (invalidator != nullptr) {
    for (const std::string& serial : serials) invalidator->InvalidateSerial(serial);
    for (const std::string* upn : upns) invalidator->InvalidateUser(*upn);
  }
  NotifyOutbox();
  return base::OkStatus();
}

}  // namespace

base::StatusOr<StagedChange> StageChange(const Directory& directory, std::string_view upn,
                                         int64_t now, AuditRecord audit, bool create) {
  StagedChange c;
  c.now = now;
  c.audit = std::move(audit);
  OTPD_ASSIGN_OR_RETURN(c.user, directory.BeginUserChange(upn, now, create));
  return c;
}

base::Status AuthorizeStaged(const Directory& directory, const Principal& by, Permission permission,
                             StagedChange& c) {
  base::Status allowed = AuthorizeChange(directory, by, permission, c.user.user);
  if (allowed.ok()) return allowed;
  return RecordRefusal(directory.store(), c.audit, std::move(allowed));
}

base::StatusOr<StagedChange> BeginChange(const Directory& directory, const base::Clock& clock,
                                         const Principal& by, Permission permission,
                                         std::string_view upn_in, std::string_view action,
                                         bool create) {
  OTPD_ASSIGN_OR_RETURN(const std::string upn, CheckUpn(upn_in));
  OTPD_ASSIGN_OR_RETURN(StagedChange c,
                        StageChange(directory, upn, clock.NowUnixSeconds(),
                                    MakeAudit(clock, by, action, "user/" + upn), create));
  OTPD_RETURN_IF_ERROR(AuthorizeStaged(directory, by, permission, c));
  return c;
}

base::Status CommitChange(const Directory& directory, StagedChange& c,
                          CacheInvalidator* invalidator) {
  if (c.delete_user) {
    c.batch.RequireVersion(storage::Namespace::kUsers, c.upn(), c.user.version);
    c.batch.Delete(storage::Namespace::kUsers, c.upn());
  } else {
    OTPD_RETURN_IF_ERROR(directory.Fence(c.batch, c.user, c.now));
  }
  // A user's own change (the actor is the user): one more event, for telling them. In this one
  // place, so that every change a user makes to their own methods or password has it.
  if (!c.delete_user && c.audit.actor == "user:" + c.upn()) {
    OTPD_RETURN_IF_ERROR(AddEventAt(c.batch, c.audit.time_micros, events::kSecurityInfoChanged,
                                    c.upn(), EventData().Str("change", c.audit.action)));
  }
  AddAudit(c.batch, c.audit);
  const std::string conflict =
      c.conflict.empty() ? "user " + c.upn() + " changed while the change was being made; try again"
                         : c.conflict;
  const std::string* upns[] = {&c.upn()};
  return CommitAndTell(directory, std::move(c.batch), conflict, c.serials, upns, invalidator);
}

base::StatusOr<UserChange*> StagedUsers::Of(const std::string& upn, int64_t now) {
  auto it = users_.find(upn);
  if (it == users_.end()) {
    OTPD_ASSIGN_OR_RETURN(UserChange change, directory_.BeginUserChange(upn, now, create_));
    it = users_.emplace(upn, std::move(change)).first;
  }
  return &it->second;
}

base::StatusOr<uint64_t> StagedUsers::Commit(storage::WriteBatch batch, int64_t now,
                                             std::span<const std::string> serials,
                                             std::string_view conflict,
                                             CacheInvalidator* invalidator) {
  std::map<std::string, UserChange> users = std::move(users_);
  users_.clear();
  std::vector<const std::string*> upns;
  uint64_t created = 0;
  for (auto& [upn, change] : users) {
    OTPD_RETURN_IF_ERROR(directory_.Fence(batch, change, now));
    upns.push_back(&upn);
    created += change.version == 0;
  }
  OTPD_RETURN_IF_ERROR(
      CommitAndTell(directory_, std::move(batch), conflict, serials, upns, invalidator));
  return created;
}

}  // namespace otpd::service::internal
