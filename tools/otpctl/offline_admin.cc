#include "tools/otpctl/offline_admin.h"

#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <functional>

#include "base/clock.h"
#include "server/admin/admin_api.h"
#include "service/admin/api_keys.h"
#include "service/admin/inventory.h"
#include "service/admin/method_admin.h"
#include "service/admin/user_actions.h"
#include "service/admin/user_admin.h"
#include "service/credentials/app_passwords.h"
#include "service/credentials/passwords.h"
#include "service/credentials/temporary_access_pass.h"
#include "service/model/directory.h"
#include "tools/backup.h"
#include "tools/backup_manifest.h"
#include "tools/display.h"

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

// Members in construction order: each service borrows the ones above it.
class OfflineTransport : public AdminTransport {
 public:
  OfflineTransport(DataDir dir, std::string data_dir, std::string actor)
      : dir_(std::move(dir)),
        data_dir_(std::move(data_dir)),
        actor_(std::move(actor)),
        directory_(*dir_.store, *dir_.keys),
        inventory_(*dir_.store, *dir_.keys, clock_, service::InventoryOptions{}),
        methods_(*dir_.store, *dir_.keys, clock_, service::MethodAdminOptions{}),
        users_(directory_, clock_, nullptr),
        api_keys_(directory_, clock_),
        hasher_(service::PasswordOptions{}),
        user_actions_(directory_, clock_, hasher_, nullptr),
        app_passwords_(directory_, clock_, nullptr),
        taps_(directory_, clock_, service::TapPolicy{}, nullptr),
        api_(Services(), server::admin::AdminApiOptions{}) {}
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
  server::admin::AdminServices Services() {
    server::admin::AdminServices s;
    s.store = dir_.store.get();
    s.keys = dir_.keys.get();
    s.clock = &clock_;
    s.inventory = &inventory_;
    s.methods = &methods_;
    s.users = &users_;
    s.api_keys = &api_keys_;
    s.user_actions = &user_actions_;
    s.app_passwords = &app_passwords_;
    s.taps = &taps_;
    s.backup = [this](const std::string& path) -> base::StatusOr<boost::json::value> {
      OTPD_ASSIGN_OR_RETURN(BackupManifest manifest,
                            HoldingStderr([&] { return WriteBackup(dir_, data_dir_, path); }));
      boost::json::object out;
      out["backup"] = path;
      out["manifest"] = boost::json::parse(ManifestJson(manifest));
      return boost::json::value(std::move(out));
    };
    return s;
  }

  DataDir dir_;
  std::string data_dir_;
  std::string actor_;
  const base::Clock& clock_ = *base::RealClock::Get();
  service::Directory directory_;
  service::TokenInventory inventory_;
  service::MethodAdmin methods_;
  service::UserAdmin users_;
  service::ApiKeys api_keys_;
  service::PasswordHasher hasher_;
  service::UserActions user_actions_;
  service::AppPasswords app_passwords_;
  service::TemporaryAccessPasses taps_;
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
