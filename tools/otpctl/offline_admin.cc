#include "tools/otpctl/offline_admin.h"

#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>

#include "base/clock.h"
#include "server/admin/admin_api.h"
#include "service/credentials/passwords.h"
#include "service/hooks/hooks.h"
#include "tools/backup.h"
#include "tools/display.h"
#include "tools/services.h"

namespace otpd::tools {
namespace {

namespace bhttp = boost::beast::http;

// Runs `write` (a backup) with standard error held back: RocksDB writes its own warnings there
// while it takes a checkpoint (it disables and re-enables file deletions, and says so), and a
// command that succeeds prints only its result. When `write` fails, what was held back follows
// the failure on standard error, since it may explain it.
base::StatusOr<BackupManifest> HoldingStderr(
    const std::function<base::StatusOr<BackupManifest>()>& write) {
  std::fflush(stderr);
  FILE* held = std::tmpfile();
  const int saved = held != nullptr ? dup(STDERR_FILENO) : -1;
  if (saved < 0 || dup2(fileno(held), STDERR_FILENO) < 0) {
    if (saved >= 0) close(saved);
    if (held != nullptr) std::fclose(held);
    return write();
  }
  base::StatusOr<BackupManifest> result = write();
  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  if (!result.ok()) {
    std::rewind(held);
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, held)) > 0;) std::fwrite(buf, 1, n, stderr);
  }
  std::fclose(held);
  return result;
}

// Members in construction order: each borrows the ones above it.
class OfflineTransport : public AdminTransport {
 public:
  OfflineTransport(DataDir dir, std::string data_dir, std::string actor)
      : dir_(std::move(dir)),
        data_dir_(std::move(data_dir)),
        actor_(std::move(actor)),
        hasher_(service::PasswordOptions{}),
        hooks_(*dir_.store, /*running=*/nullptr),
        services_({.store = *dir_.store,
                   .keys = *dir_.keys,
                   .clock = *base::RealClock::Get(),
                   .hasher = hasher_}),
        api_(services_.Admin(hooks_, {},
                             [this](const std::string& path) {
                               return HoldingStderr(
                                   [&] { return WriteBackup(dir_, data_dir_, path); });
                             }),
             server::admin::AdminApiOptions{}) {}
  ~OfflineTransport() override { hasher_.Stop(); }

  base::StatusOr<AdminReply> Exchange(const AdminRequest& r) override {
    server::http::Request request;
    request.method_string(r.method);
    request.target(r.target);
    request.version(11);
    if (!r.content_type.empty()) request.set(bhttp::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) request.set(name, value);
    request.body() = std::string(r.body.view());
    server::admin::ApiCall call;
    call.request = &request;
    call.principal = service::Principal::Owner(actor_);
    server::admin::ApiResponse answer = api_.Handle(call);
    base::Wipe(request.body().data(), request.body().size());
    AdminReply reply;
    reply.status = static_cast<int>(answer.status);
    if (answer.body) reply.body = boost::json::serialize(*answer.body);
    for (const auto& [name, value] : answer.headers) {
      if (name == "Location") reply.location = value;
    }
    return reply;
  }

  std::string Where() const override { return "the data directory " + PrintablePath(data_dir_); }

 private:
  DataDir dir_;
  std::string data_dir_;
  std::string actor_;
  service::PasswordHasher hasher_;
  // No daemon delivers here: the hook routes show and change what the store holds.
  service::HookAdmin hooks_;
  Services services_;
  server::admin::AdminApi api_;
};

}  // namespace

base::StatusOr<std::unique_ptr<AdminTransport>> OpenOfflineAdmin(const DataDirOptions& options,
                                                                 const std::string& actor) {
  OTPD_ASSIGN_OR_RETURN(DataDir dir, OpenDataDir(options));
  return std::unique_ptr<AdminTransport>(
      new OfflineTransport(std::move(dir), options.data_dir, actor));
}

}  // namespace otpd::tools
