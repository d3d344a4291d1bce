// otpd: the verification daemon. Opens the data directory, serves the verify socket (Unix and/or
// TCP) until SIGTERM or SIGINT, reloads what is safe to reload on SIGHUP. Logs one line per start,
// stop and error, never a code or a secret. Under systemd it reports when it is ready, reloading
// and stopping (tools/otpd/systemd_notify.h) and logs in the journal's form
// (tools/otpd/daemon_log.h).

#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "server/admin/admin_server.h"
#include "server/config.h"
#include "server/hooks/hook_config.h"
#include "server/io_runner.h"
#include "server/validate/validate_server.h"
#include "server/verify_server.h"
#include "service/admin/api_keys.h"
#include "service/admin/inventory.h"
#include "service/admin/method_admin.h"
#include "service/admin/user_actions.h"
#include "service/admin/user_admin.h"
#include "service/credentials/app_passwords.h"
#include "service/credentials/temporary_access_pass.h"
#include "service/signin/sign_in_verifier.h"
#include "tools/backup.h"
#include "tools/open_store.h"
#include "tools/otpd/daemon_actions.h"
#include "tools/otpd/daemon_log.h"
#include "tools/otpd/systemd_notify.h"

namespace {

// Logs errors of one kind at most one line a second (a failing disk fails every request), with
// the number of errors since the last line.
class ErrorLog {
 public:
  explicit ErrorLog(std::string what) : what_(std::move(what)) {}

  void Report(const otpd::base::Status& status) {
    const int64_t now = otpd::base::RealClock::Get()->NowUnixSeconds();
    last_error_.store(now);
    const uint64_t count = errors_.fetch_add(1) + 1;
    int64_t last = last_logged_.load();
    if (now > last && last_logged_.compare_exchange_strong(last, now)) {
      const uint64_t since = count - logged_count_.exchange(count);
      spdlog::error("{} ({} since the last report): {}", what_, since, status.message());
    }
  }

  // Unix seconds of the last error, 0 if none.
  int64_t last_error() const { return last_error_.load(); }

 private:
  const std::string what_;
  std::atomic<int64_t> last_error_{0};
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> logged_count_{0};
  std::atomic<int64_t> last_logged_{0};
};

// otpd --check-config: prints every error of the configuration (its options, then its hooks) or
// "configuration OK"; 0 when it is valid, 2 otherwise. Nothing is opened or started.
int CheckConfig(const otpd::server::ServerConfig& config) {
  std::vector<std::string> errors = config.check_errors;
  if (!config.config_file.empty()) {
    auto hooks = otpd::server::hooks::LoadHookConfig(config.config_file);
    if (!hooks.ok()) errors.emplace_back(hooks.status().message());
  }
  if (errors.empty()) {
    std::cout << "configuration OK\n";
    return 0;
  }
  std::cerr << "otpd: " << errors.size() << (errors.size() == 1 ? " error" : " errors")
            << " in the configuration:\n";
  for (const std::string& e : errors) std::cerr << "  " << e << "\n";
  return 2;
}

// Logs a notification to systemd that could not be sent (tools/otpd/systemd_notify.h).
void Notify(const otpd::base::Status& status) {
  if (!status.ok()) spdlog::warn("cannot notify systemd: {}", status.message());
}

int Run(int argc, char** argv) {
  // Signals are taken synchronously by this thread; every thread started later inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto config = otpd::server::LoadServerConfig(argc, argv);
  if (!config.ok()) {
    if (otpd::base::IsCancelled(config.status())) {
      std::cout << config.status().message();
      return 0;
    }
    std::cerr << "otpd: " << config.status().message() << "\n";
    return 2;
  }
  if (config->check_only) return CheckConfig(*config);
  otpd::tools::SetUpDaemonLog(config->log_level);

  auto dir = otpd::tools::OpenDaemonStore(*config);
  if (!dir.ok()) {
    spdlog::error("cannot open the store: {}", dir.status().message());
    return 1;
  }
  ErrorLog storage_errors("storage error, sign-ins answered unavailable");
  ErrorLog integrity_errors("a record failed its integrity check and is not used");
  otpd::service::SignInOptions options;
  options.on_storage_error = [&](const otpd::base::Status& s) { storage_errors.Report(s); };
  options.on_integrity_error = [&](const otpd::base::Status& s) { integrity_errors.Report(s); };
  options.cache_bytes = size_t{config->cache_mb} << 20;
  options.failure_durability = config->durability == otpd::server::Durability::kSync
                                   ? otpd::storage::Durability::kDurable
                                   : otpd::storage::Durability::kRelaxed;
  auto actions = otpd::tools::DaemonActions::Create(*config, *dir->store, *dir->keys,
                                                    *otpd::base::RealClock::Get());
  if (!actions.ok()) {
    std::cerr << "otpd: " << actions.status().message() << "\n";
    return 2;
  }
  options.hasher = (*actions)->hasher();
  otpd::service::SignInVerifier verifier(*dir->store, *dir->keys, *otpd::base::RealClock::Get(),
                                         options);
  // Other nodes' changes to users and tokens (a store shared through etcd) leave this cache.
  if (otpd::base::Status s =
          dir->WatchForChanges(&verifier, [](std::string_view why) { spdlog::warn("{}", why); });
      !s.ok()) {
    spdlog::error("cannot watch the store for other nodes' changes: {}", s.message());
    return 1;
  }
  auto runner = std::make_shared<otpd::server::IoRunner>(config->io_threads);
  otpd::server::VerifyServer server(*config, &verifier, *otpd::base::RealClock::Get(), runner);
  (*actions)->Attach(verifier, server);
  if (otpd::base::Status s = (*actions)->Start(); !s.ok()) {
    spdlog::error("cannot start hook delivery: {}", s.message());
    return 1;
  }
  if (otpd::base::Status s = server.Start(); !s.ok()) {
    spdlog::error("cannot start the verify server: {}", s.message());
    return 1;
  }
  runner->Start();

  // The admin plane: the same Store and key ring, changes told to the verifier's cache.
  const otpd::base::Clock& clock = *otpd::base::RealClock::Get();
  otpd::service::Directory directory(*dir->store, *dir->keys);
  otpd::service::TokenInventory inventory(*dir->store, *dir->keys, clock,
                                          otpd::service::InventoryOptions{}, &verifier);
  otpd::service::MethodAdmin methods(*dir->store, *dir->keys, clock,
                                     otpd::service::MethodAdminOptions{}, &verifier);
  otpd::service::UserAdmin users(directory, clock, &verifier);
  otpd::service::ApiKeys api_keys(directory, clock);
  otpd::service::UserActions user_actions(directory, clock, *(*actions)->hasher(), &verifier);
  otpd::service::AppPasswords app_passwords(directory, clock, &verifier);
  otpd::service::TemporaryAccessPasses taps(directory, clock, otpd::service::TapPolicy{},
                                            &verifier);
  otpd::server::admin::AdminServices services;
  services.store = dir->store.get();
  services.keys = dir->keys.get();
  services.clock = &clock;
  services.inventory = &inventory;
  services.methods = &methods;
  services.users = &users;
  services.api_keys = &api_keys;
  services.invalidator = &verifier;
  services.user_actions = &user_actions;
  services.app_passwords = &app_passwords;
  services.taps = &taps;
  services.hooks = (*actions)->dispatcher();
  services.hook_kinds = (*actions)->hook_kinds();
  services.backup = [&](const std::string& path) -> otpd::base::StatusOr<boost::json::value> {
    OTPD_ASSIGN_OR_RETURN(otpd::tools::BackupManifest manifest, dir->backup(path));
    boost::json::object out;
    out["backup"] = path;
    out["manifest"] = boost::json::parse(otpd::tools::ManifestJson(manifest));
    return boost::json::value(std::move(out));
  };
  // The privacyIDEA-compatible validate API: the same sign-in service as the verify socket.
  otpd::server::validate::ValidateServer validate(
      runner, otpd::server::validate::ValidateOptionsFrom(*config), &verifier, config->tcp_clients,
      clock);
  otpd::server::admin::AdminServerOptions admin_options =
      otpd::server::admin::AdminOptionsFrom(*config);
  admin_options.metrics.verify = &server.stats();
  admin_options.metrics.sign_in = &verifier;
  admin_options.metrics.pipeline = &dir->store->pipeline();
  admin_options.metrics.validate = &validate.counters();
  admin_options.metrics.validate_server = &validate.stats();
  admin_options.metrics.hooks = (*actions)->dispatcher();
  admin_options.ready = [&storage_errors]() -> otpd::base::Status {
    const int64_t last = storage_errors.last_error();
    if (last != 0 && otpd::base::RealClock::Get()->NowUnixSeconds() - last < 10) {
      return otpd::base::UnavailableError("storage errors in the last 10 seconds");
    }
    return otpd::base::OkStatus();
  };
  // The admin API has an io thread of its own at a lower priority: a client reading thousands of
  // records keeps that thread busy serialising and writing, and on a small machine the sign-ins'
  // io threads then lost CPU to it (docs/benchmarks.md, "The admin API beside sign-ins").
  auto admin_runner = std::make_shared<otpd::server::IoRunner>(1, "otpd-admin-io", 10);
  admin_runner->Start();
  otpd::server::admin::AdminServer admin(admin_runner, std::move(admin_options), services);
  int exit_code = 0;
  if (otpd::base::Status s = admin.Start(); !s.ok()) {
    spdlog::error("cannot start the admin API: {}", s.message());
    exit_code = 1;
  } else if (otpd::base::Status v = validate.Start(); !v.ok()) {
    spdlog::error("cannot start the validate API: {}", v.message());
    exit_code = 1;
  } else {
    spdlog::info(
        "started: {} socket={} tcp_port={} admin_socket={} admin_port={} validate_port={} "
        "durability={}",
        dir->description, server.unix_socket_path().empty() ? "none" : server.unix_socket_path(),
        server.tcp_port(), config->admin_socket.empty() ? "none" : config->admin_socket,
        admin.tcp_port(), validate.tcp_port(), otpd::server::DurabilityName(config->durability));
    Notify(otpd::tools::NotifyReady());
  }

  while (exit_code == 0) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig != SIGHUP) {
      spdlog::info("stopping on signal {}", sig);
      break;
    }
    Notify(otpd::tools::NotifyReloading());
    auto runtime = otpd::server::ReloadServerConfig(*config);
    if (!runtime.ok()) {
      spdlog::error("reload refused: {}", runtime.status().message());
      Notify(otpd::tools::NotifyReady());
      continue;
    }
    for (const std::string& field : runtime->needs_restart) {
      spdlog::warn("{} changed in the configuration; it takes effect at the next restart", field);
    }
    server.ApplyRuntimeConfig(*runtime);
    validate.ReplaceClients(runtime->tcp_clients);
    spdlog::set_level(runtime->log_level);
    spdlog::info("configuration reloaded");
    Notify(otpd::tools::NotifyReady());
  }
  Notify(otpd::tools::NotifyStopping());
  validate.Stop();
  admin.Stop();
  admin_runner->Stop();
  server.Stop();
  runner->Stop();
  (*actions)->Stop();
  methods.FlushRefusalAudit();  // the admin API's counts of refused codes, while the store is open
  // In this order: loads still queued finish (they read the Store and submit commits), then the
  // commit pipeline drains (its completions call back into the verifier), then RocksDB closes.
  dir->StopWatching();
  verifier.StopLoading();
  dir->store->Close();
  dir->store.reset();
  spdlog::info("stopped");
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "otpd: fatal: %s\n", e.what());
    return 1;
  }
}
