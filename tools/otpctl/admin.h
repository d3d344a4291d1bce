// How an otpctl command reaches the data: through the running daemon's admin API, or directly in
// the data directory when no daemon runs.
//
//   --admin-socket PATH   the daemon's admin socket (default <data dir>/admin.sock)
//   --admin URL           the admin API over TCP: http://127.0.0.1:PORT (loopback only) or
//                         https://HOST:PORT; needs an API key
//   --admin-ca-file PEM   CAs to trust for https:// instead of the system's
//   --api-key-file PATH   the API key (one line), else $OTPD_API_KEY; never an argument, which
//                         anyone could read in the process list
//   --online / --offline  insist on one mode
//
// Without --online or --offline a command goes online when the admin socket answers (or --admin
// is given) and offline otherwise. Commands that change data must go online while the daemon
// runs: it holds the database's lock.

#ifndef OTPD_TOOLS_OTPCTL_ADMIN_H_
#define OTPD_TOOLS_OTPCTL_ADMIN_H_

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "base/statusor.h"
#include "tools/otpctl/admin_client.h"
#include "tools/otpctl/data_dir.h"

namespace otpd::tools {

inline constexpr char kApiKeyEnvVar[] = "OTPD_API_KEY";

struct AdminFlags {
  std::string socket;
  std::string url;
  std::string ca_file;
  std::string api_key_file;
  bool online = false;
  bool offline = false;
};

// Adds the flags above to `cmd`, which must already have the data directory flags; --data-dir
// becomes optional there (--admin needs none) and is checked by CheckAdminFlags.
void AddAdminFlags(CLI::App* cmd, AdminFlags& flags);

// Usage errors, before anything is opened: prints "otpctl WHAT: ..." and returns 2, or 0 when the
// flags make sense together.
int CheckAdminFlags(const AdminFlags& flags, const DataDirFlags& dir, std::string_view what);

// The daemon's admin API when it runs (or --online / --admin insist on it); nullptr when the
// command should work offline. Errors: --online and nothing answers ("is not running" at the
// socket or URL), a key file that cannot be read, TLS failures.
base::StatusOr<std::unique_ptr<AdminClient>> ConnectIfRunning(const AdminFlags& flags,
                                                              const DataDirFlags& dir);

// ConnectIfRunning, or when the daemon is not running, the admin API run in this process on the
// data directory (tools/otpctl/offline_admin.h) as the owner named `actor`. `read_only` opens the
// data directory read-only (a read works even beside a running daemon).
base::StatusOr<std::unique_ptr<AdminClient>> OpenAdmin(const AdminFlags& flags,
                                                       const DataDirFlags& dir,
                                                       const std::string& actor, bool read_only);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_ADMIN_H_
