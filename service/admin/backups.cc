#include "service/admin/backups.h"

#include <utility>

#include "service/admin/audit.h"

namespace otpd::service {

base::Status CreateBackup(storage::Store& store, const base::Clock& clock, const Principal& by,
                          const std::string& path, const std::function<base::Status()>& write) {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kBackup));
  AuditRecord audit = MakeAudit(clock, by, "backup.create", "backup");
  if (base::Status written = write(); !written.ok()) {
    return RecordRefusal(store, std::move(audit), std::move(written));
  }
  storage::WriteBatch batch;
  audit.detail = path;
  AddAudit(batch, audit);
  return store.Commit(std::move(batch), storage::Durability::kDurable);
}

}  // namespace otpd::service
