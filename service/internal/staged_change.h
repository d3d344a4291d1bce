// The shape every change to a user takes, administrative or the user's own (service/admin/,
// service/credentials/, service/signin/self_service.h):
//
//   1. begin: the name normalised, the user loaded under its fence (StageChange);
//   2. authorize the principal for the permission on that user; a refusal is audited with the
//      change's own audit record and returned (AuthorizeStaged);
//   3. stage the records, the audit detail and the outbox events in the change's batch;
//   4. commit: one durable batch with the fence, the audit record and the events, a lost race
//      returned as Aborted with a sentence, then the sign-in cache told and the outbox's readers
//      woken (CommitChange).
//
// BeginChange is steps 1 and 2 for the common case (audit target "user/<upn>"). A change to
// several users in one batch (an import's chunk) ends with CommitFenced, the commit under
// CommitChange. Not for use outside service/.

#ifndef OTPD_SERVICE_INTERNAL_STAGED_CHANGE_H_
#define OTPD_SERVICE_INTERNAL_STAGED_CHANGE_H_

#include <span>
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
  // The sentence a lost race returns (Aborted); empty: "user <upn> changed while the change was
  // being made; try again".
  std::string conflict;
  // The change deletes the user: the commit is conditional on the version read and removes the
  // record instead of rewriting it.
  bool delete_user = false;

  const std::string& upn() const { return user.user.upn; }
};

// Begins a change of `upn` (normalised already) audited as `audit`: NotFound unless `create`,
// in which case a missing user is created by the commit. Nobody is authorized yet.
base::StatusOr<StagedChange> StageChange(const Directory& directory, std::string_view upn,
                                         int64_t now, AuditRecord audit, bool create = false);

// Authorizes `by` for `permission` on the change's user (AuthorizeChange); a refusal is audited
// with the change's audit record and returned as PermissionDenied.
base::Status AuthorizeStaged(const Directory& directory, const Principal& by, Permission permission,
                             StagedChange& change);

// Normalises `upn`, begins a change of it audited as `action` on "user/<upn>" (NotFound unless
// `create`), and authorizes `by` for `permission` on it.
base::StatusOr<StagedChange> BeginChange(const Directory& directory, const base::Clock& clock,
                                         const Principal& by, Permission permission,
                                         std::string_view upn, std::string_view action,
                                         bool create = false);

// Adds the fence (or the user's deletion) and the audit record, commits durably (Aborted, with
// the change's sentence, when the user changed meanwhile), then tells `invalidator` (may be
// null) and wakes the outbox's readers.
base::Status CommitChange(const Directory& directory, StagedChange& change,
                          CacheInvalidator* invalidator);

// The commit of a batch that changes several users: fences each of `users` (their records
// rewritten with updated = `now`), commits durably (Aborted with `conflict` on a lost race),
// then tells `invalidator` (may be null) about `serials` and the users, and wakes the outbox's
// readers. The batch carries its own audit records.
base::Status CommitFenced(const Directory& directory, storage::WriteBatch batch,
                          std::span<UserChange* const> users, int64_t now,
                          std::span<const std::string> serials, std::string_view conflict,
                          CacheInvalidator* invalidator);

}  // namespace otpd::service::internal

#endif  // OTPD_SERVICE_INTERNAL_STAGED_CHANGE_H_
