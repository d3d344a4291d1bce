// otpd: the verification daemon. Opens the data directory, serves the verify socket (Unix and/or
// TCP) until SIGTERM or SIGINT, reloads what is safe to reload on SIGHUP. Logs one line per start,
// stop and error, never a code or a secret. Under systemd it reports when it is ready, reloading
// and stopping (tools/otpd/systemd_notify.h) and logs in the journal's form
// (tools/otpd/daemon_log.h).

#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "server/admin/admin_server.h"
#include "server/config.h"
#include "server/hooks/hook_config.h"
#include "server/io_runner.h"
#include "server/selfservice/selfservice_server.h"
#include "server/validate/validate_server.h"
#include "server/verify_server.h"
#include "service/signin/sign_in_verifier.h"
#include "tools/open_store.h"
#include "tools/otpd/daemon_actions.h"
#include "tools/otpd/daemon_log.h"
#include "tools/otpd/systemd_notify.h"
#include "tools/services.h"

namespace otpd::tools {
namespace {

// Logs errors of one kind at most one line a second (a failing disk fails every request), with
// the number of errors since the last line.
class ErrorLog {
 public:
  explicit ErrorLog(std::string what) : what_(std::move(what)) {}

  void Report(const base::Status& status) {
    const int64_t now = base::RealClock::Get()->NowUnixSeconds();
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
int CheckConfig(const server::ServerConfig& config) {
  std::vector<std::string> errors = config.check_errors;
  if (!config.config_file.empty()) {
    auto hooks = server::hooks::LoadHookConfig(config.config_file);
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
void Notify(const base::Status& status) {
  if (!status.ok()) spdlog::warn("cannot notify systemd: {}", status.message());
}

// Signals are taken synchronously by the main thread (sigwait); every thread started later
// inherits the mask. A closed client connection does not kill the daemon.
sigset_t TakeSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return signals;
}

// The exit code for a configuration that did not load: --help and --version print and exit 0.
int ConfigRefused(const base::Status& status) {
  if (base::IsCancelled(status)) {
    std::cout << status.message();
    return 0;
  }
  std::cerr << "otpd: " << status.message() << "\n";
  return 2;
}

// The sign-in service's options: the configuration's, failures reported through the error logs.
service::SignInOptions SignInOptionsFrom(const server::ServerConfig& config,
                                         ErrorLog& storage_errors, ErrorLog& integrity_errors,
                                         service::PasswordHasher* hasher) {
  service::SignInOptions options;
  options.on_storage_error = [&storage_errors](const base::Status& s) { storage_errors.Report(s); };
  options.on_integrity_error = [&integrity_errors](const base::Status& s) {
    integrity_errors.Report(s);
  };
  options.cache_bytes = size_t{config.cache_mb} << 20;
  options.failure_durability = config.durability == server::Durability::kSync
                                   ? storage::Durability::kDurable
                                   : storage::Durability::kRelaxed;
  options.hasher = hasher;
  return options;
}

// The running daemon's parts, declared in the order they are built: destroyed in reverse, and
// stopped in the order Stop gives. `dir` and `actions` outlive it.
class Daemon {
 public:
  Daemon(const server::ServerConfig& config, DaemonStore& dir, DaemonActions& actions)
      : config_(config),
        dir_(dir),
        actions_(actions),
        verifier_(*dir.store, *dir.keys, clock_,
                  SignInOptionsFrom(config, storage_errors_, integrity_errors_, actions.hasher())),
        runner_(std::make_shared<server::IoRunner>(config.io_threads)),
        server_(config, &verifier_, clock_, runner_),
        // The admin plane: the same Store and key ring, changes told to the verifier's cache.
        services_({.store = *dir.store,
                   .keys = *dir.keys,
                   .clock = clock_,
                   .hasher = *actions.hasher(),
                   .invalidator = &verifier_}),
        // The privacyIDEA-compatible validate API: the same sign-in service as the verify socket.
        validate_(runner_, server::validate::ValidateOptionsFrom(config), &verifier_,
                  config.tcp_clients, clock_),
        // The admin API has an io thread of its own at a lower priority: a client reading
        // thousands of records keeps that thread busy serialising and writing, and on a small
        // machine the sign-ins' io threads then lost CPU to it (docs/benchmarks.md, "The admin
        // API beside sign-ins").
        admin_runner_(std::make_shared<server::IoRunner>(1, "otpd-admin-io", 10)) {}

  // Watches the store for other nodes' changes, starts hook delivery and the verify socket.
  // Errors say which step failed.
  base::Status StartSignIns();
  // Starts the admin and validate APIs and reports the start (log, systemd). Errors as above.
  base::Status StartApis();
  // Serves signals until SIGTERM or SIGINT; SIGHUP reloads what may change while running.
  void ServeSignals(const sigset_t& signals);
  // Stops everything in the order the parts depend on each other, and closes the store.
  void Stop();

 private:
  server::admin::AdminServerOptions AdminOptions() const;
  void Reload();

  const base::Clock& clock_ = *base::RealClock::Get();
  const server::ServerConfig& config_;
  DaemonStore& dir_;
  DaemonActions& actions_;
  ErrorLog storage_errors_{"storage error, sign-ins answered unavailable"};
  ErrorLog integrity_errors_{"a record failed its integrity check and is not used"};
  service::SignInVerifier verifier_;
  std::shared_ptr<server::IoRunner> runner_;
  server::VerifyServer server_;
  Services services_;
  server::validate::ValidateServer validate_;
  std::shared_ptr<server::IoRunner> admin_runner_;
  // Built once hook delivery runs.
  std::optional<service::HookAdmin> hooks_;
  std::optional<server::admin::AdminServer> admin_;
  // The users' Security info page, when selfservice_listen is set.
  std::optional<server::selfservice::SelfServiceServer> selfservice_;
};

base::Status Daemon::StartSignIns() {
  // Other nodes' changes to users and tokens (a store shared through etcd) leave this cache.
  if (base::Status s =
          dir_.WatchForChanges(&verifier_, [](std::string_view why) { spdlog::warn("{}", why); });
      !s.ok()) {
    return s.WithContext("cannot watch the store for other nodes' changes");
  }
  actions_.Attach(verifier_, server_);
  validate_.SetSelfService(actions_.self_service());
  if (base::Status s = actions_.Start(); !s.ok()) {
    return s.WithContext("cannot start hook delivery");
  }
  if (base::Status s = server_.Start(); !s.ok()) {
    return s.WithContext("cannot start the verify server");
  }
  runner_->Start();
  return base::OkStatus();
}

server::admin::AdminServerOptions Daemon::AdminOptions() const {
  server::admin::AdminServerOptions options = server::admin::AdminOptionsFrom(config_);
  options.metrics.verify = &server_.stats();
  options.metrics.sign_in = &verifier_;
  options.metrics.pipeline = &dir_.store->pipeline();
  options.metrics.validate = &validate_.counters();
  options.metrics.validate_server = &validate_.stats();
  options.metrics.hooks = actions_.dispatcher();
  options.ready = [this]() -> base::Status {
    const int64_t last = storage_errors_.last_error();
    if (last != 0 && clock_.NowUnixSeconds() - last < 10) {
      return base::UnavailableError("storage errors in the last 10 seconds");
    }
    return base::OkStatus();
  };
  return options;
}

base::Status Daemon::StartApis() {
  admin_runner_->Start();
  hooks_.emplace(*dir_.store, actions_.dispatcher());
  admin_.emplace(admin_runner_, AdminOptions(),
                 services_.Admin(*hooks_, actions_.hook_kinds(), dir_.backup));
  if (base::Status s = admin_->Start(); !s.ok()) {
    return s.WithContext("cannot start the admin API");
  }
  if (base::Status s = validate_.Start(); !s.ok()) {
    return s.WithContext("cannot start the validate API");
  }
  if (!config_.selfservice_listen.empty()) {
    selfservice_.emplace(admin_runner_, server::selfservice::SelfServiceOptionsFrom(config_),
                         services_.Admin(*hooks_, actions_.hook_kinds(), dir_.backup), verifier_,
                         *actions_.self_service());
    if (base::Status s = selfservice_->Start(); !s.ok()) {
      return s.WithContext("cannot start the Security info page");
    }
  }
  spdlog::info(
      "started: {} socket={} tcp_port={} admin_socket={} admin_port={} validate_port={} "
      "selfservice_port={} durability={}",
      dir_.description, server_.unix_socket_path().empty() ? "none" : server_.unix_socket_path(),
      server_.tcp_port(), config_.admin_socket.empty() ? "none" : config_.admin_socket,
      admin_->tcp_port(), validate_.tcp_port(), selfservice_ ? selfservice_->tcp_port() : 0,
      server::DurabilityName(config_.durability));
  Notify(NotifyReady());
  return base::OkStatus();
}

void Daemon::ServeSignals(const sigset_t& signals) {
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig != SIGHUP) {
      spdlog::info("stopping on signal {}", sig);
      return;
    }
    Reload();
  }
}

void Daemon::Reload() {
  Notify(NotifyReloading());
  auto runtime = server::ReloadServerConfig(config_);
  if (!runtime.ok()) {
    spdlog::error("reload refused: {}", runtime.status().message());
    Notify(NotifyReady());
    return;
  }
  for (const std::string& field : runtime->needs_restart) {
    spdlog::warn("{} changed in the configuration; it takes effect at the next restart", field);
  }
  server_.ApplyRuntimeConfig(*runtime);
  validate_.ReplaceClients(runtime->tcp_clients, runtime->validate_keyless_clients);
  spdlog::set_level(runtime->log_level);
  spdlog::info("configuration reloaded");
  Notify(NotifyReady());
}

void Daemon::Stop() {
  Notify(NotifyStopping());
  validate_.Stop();
  if (selfservice_) selfservice_->Stop();
  if (admin_) admin_->Stop();
  admin_runner_->Stop();
  server_.Stop();
  runner_->Stop();
  actions_.Stop();
  // The admin API's counts of refused codes, while the store is open.
  services_.methods().FlushRefusalAudit();
  // In this order: loads still queued finish (they read the Store and submit commits), then the
  // commit pipeline drains (its completions call back into the verifier), then RocksDB closes.
  dir_.StopWatching();
  verifier_.StopLoading();
  dir_.store->Close();
  dir_.store.reset();
  spdlog::info("stopped");
}

int Run(int argc, char** argv) {
  const sigset_t signals = TakeSignals();
  auto config = server::LoadServerConfig(argc, argv);
  if (!config.ok()) return ConfigRefused(config.status());
  if (config->check_only) return CheckConfig(*config);
  SetUpDaemonLog(config->log_level);

  auto dir = OpenDaemonStore(*config);
  if (!dir.ok()) {
    spdlog::error("cannot open the store: {}", dir.status().message());
    return 1;
  }
  auto actions = DaemonActions::Create(*config, *dir->store, *dir->keys, *base::RealClock::Get());
  if (!actions.ok()) {
    std::cerr << "otpd: " << actions.status().message() << "\n";
    return 2;
  }
  Daemon daemon(*config, *dir, **actions);
  if (base::Status s = daemon.StartSignIns(); !s.ok()) {
    spdlog::error("{}", s.message());
    return 1;
  }
  int exit_code = 0;
  if (base::Status s = daemon.StartApis(); !s.ok()) {
    spdlog::error("{}", s.message());
    exit_code = 1;
  } else {
    daemon.ServeSignals(signals);
  }
  daemon.Stop();
  return exit_code;
}

}  // namespace
}  // namespace otpd::tools

int main(int argc, char** argv) {
  try {
    return otpd::tools::Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "otpd: fatal: %s\n", e.what());
    return 1;
  }
}
