// Services: the one composition root of the administrative services. otpd (tools/otpd/otpd.cc)
// and otpctl's in-process admin API (tools/otpctl/offline_admin.h) both build them here, from the
// store, its key ring, the clock, the password hasher and the sign-in cache to tell of changes,
// and hand the admin API its bundle (server::admin::AdminServices) from Admin(). What differs
// between the two is given, not chosen here: the invalidator (the daemon's sign-in verifier; none
// offline), the hook state (with the running dispatcher; without it offline) and how a backup
// is written.
//
// Thread-safety: the services are; build and destroy from one thread.

#ifndef OTPD_TOOLS_SERVICES_H_
#define OTPD_TOOLS_SERVICES_H_

#include <functional>
#include <map>
#include <string>

#include "base/clock.h"
#include "base/statusor.h"
#include "server/admin/admin_api.h"
#include "service/admin/api_keys.h"
#include "service/admin/inventory.h"
#include "service/admin/method_admin.h"
#include "service/admin/user_actions.h"
#include "service/admin/user_admin.h"
#include "service/credentials/app_passwords.h"
#include "service/credentials/passwords.h"
#include "service/credentials/temporary_access_pass.h"
#include "service/hooks/hooks.h"
#include "service/model/directory.h"
#include "storage/keyring.h"
#include "storage/store.h"
#include "tools/backup_manifest.h"

namespace otpd::tools {

// What the services are built from. Everything must outlive the Services.
struct ServiceInputs {
  storage::Store& store;
  const storage::KeyRing& keys;
  const base::Clock& clock;
  service::PasswordHasher& hasher;
  // Told of every change to a user or token (the daemon's sign-in verifier); null offline.
  service::CacheInvalidator* invalidator = nullptr;
};

// Writes a backup into the directory `dest` (which must not exist) and returns its manifest.
using BackupWriter = std::function<base::StatusOr<BackupManifest>(const std::string& dest)>;

class Services {
 public:
  explicit Services(const ServiceInputs& in);
  Services(const Services&) = delete;
  Services& operator=(const Services&) = delete;

  // The admin API's bundle over these services. `hooks` answers the hook routes and `hook_kinds`
  // names each hook's kind; `backup` writes the backup route's backups (answered as the path and
  // its manifest). `hooks` and what `backup` uses must outlive the AdminApi.
  server::admin::AdminServices Admin(service::HookAdmin& hooks,
                                     std::map<std::string, std::string, std::less<>> hook_kinds,
                                     BackupWriter backup);

  service::MethodAdmin& methods() { return methods_; }

 private:
  // Members in construction order: each service borrows the ones above it.
  const ServiceInputs in_;
  service::Directory directory_;
  service::TokenInventory inventory_;
  service::MethodAdmin methods_;
  service::UserAdmin users_;
  service::ApiKeys api_keys_;
  service::UserActions user_actions_;
  service::AppPasswords app_passwords_;
  service::TemporaryAccessPasses taps_;
};

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_SERVICES_H_
