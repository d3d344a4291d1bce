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
// BeginChange is steps 1 and 2 for the common case (audit target "user/<upn>"). A batch that
// changes several users at once (an import's chunk) holds them in StagedUsers, whose Commit is
// the commit under CommitChange. Not for use outside service/.

#ifndef OTPD_SERVICE_INTERNAL_STAGED_CHANGE_H_
#define OTPD_SERVICE_INTERNAL_STAGED_CHANGE_H_

#include <map>
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

// The users one batch changes, each begun once under its fence (an import's chunk: its rows
// authorize each user themselves, and carry their own audit records).
//
// Not thread-safe.
class StagedUsers {
 public:
  // `directory` must outlive this. With `create`, a user who does not exist is created by the
  // commit; without, Of answers NotFound for them.
  StagedUsers(const Directory& directory, bool create) : directory_(directory), create_(create) {}

  // The change to `upn` (normalised), begun on first use.
  base::StatusOr<UserChange*> Of(const std::string& upn, int64_t now);
  bool empty() const { return users_.empty(); }
  size_t size() const { return users_.size(); }
  // Forgets every user begun.
  void Clear() { users_.clear(); }

  // Fences every user begun (records rewritten with updated = `now`) in `batch`, commits it
  // durably (Aborted with `conflict` on a lost race), then tells `invalidator` (may be null)
  // about `serials` and the users and wakes the outbox's readers. Returns how many users the
  // commit created. The users are forgotten either way.
  base::StatusOr<uint64_t> Commit(storage::WriteBatch batch, int64_t now,
                                  std::span<const std::string> serials, std::string_view conflict,
                                  CacheInvalidator* invalidator);

 private:
  const Directory& directory_;
  const bool create_;
  std::map<std::string, UserChange> users_;
};

}  // namespace otpd::service::internal

#endif  // OTPD_SERVICE_INTERNAL_STAGED_CHANGE_H_
