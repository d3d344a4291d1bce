// OfflineAdmin: the admin API run inside otpctl on a data directory that no daemon holds. It
// opens the directory, builds the services where otpd builds them (tools/services.h) and answers
// requests with the same AdminApi, as the owner named `actor` in the audit log, so that every
// otpctl command works the same with the daemon stopped. The hook routes show the hook state the
// directory holds (service::HookAdmin without a dispatcher).
//
// Thread-safety: one thread at a time.

#ifndef OTPD_TOOLS_OTPCTL_OFFLINE_ADMIN_H_
#define OTPD_TOOLS_OTPCTL_OFFLINE_ADMIN_H_

#include <memory>
#include <string>

#include "base/statusor.h"
#include "tools/data_dir.h"
#include "tools/otpctl/admin_client.h"

namespace otpd::tools {

// Opens `options` (the daemon must be stopped for read-write access: RocksDB's lock) and returns
// a transport answering from it. The errors of OpenDataDir.
base::StatusOr<std::unique_ptr<AdminTransport>> OpenOfflineAdmin(const DataDirOptions& options,
                                                                 const std::string& actor);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_OFFLINE_ADMIN_H_
