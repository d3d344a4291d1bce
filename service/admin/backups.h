// An online backup asked for by an administrator: the owner's alone (Permission::kBackup), and
// audited: "backup.create" on target "backup" with the path as its detail once written, or the
// writer's error as a refusal. The writing itself is the caller's (the store's backup and its
// manifest): this decides who may, and records that it happened.
//
// Thread-safety: a plain function; blocks on `write` and the Store.

#ifndef OTPD_SERVICE_ADMIN_BACKUPS_H_
#define OTPD_SERVICE_ADMIN_BACKUPS_H_

#include <functional>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "service/admin/roles.h"
#include "storage/store.h"

namespace otpd::service {

// Authorizes `by` (PermissionDenied, not audited, writing nothing), then calls `write` and audits
// its outcome durably. Returns `write`'s error when it failed.
base::Status CreateBackup(storage::Store& store, const base::Clock& clock, const Principal& by,
                          const std::string& path, const std::function<base::Status()>& write);

}  // namespace otpd::service

#endif  // OTPD_SERVICE_ADMIN_BACKUPS_H_
