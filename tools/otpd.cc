// otpd: the verification daemon. Opens the data directory, serves the verify socket (Unix and/or
// TCP) until SIGTERM or SIGINT, reloads what is safe to reload on SIGHUP. Logs one line per start,
// stop and error, never a code or a secret.

#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <iostream>

#include "base/clock.h"
#include "server/config.h"
#include "server/io_runner.h"
#include "server/verify_server.h"
#include "service/sign_in_verifier.h"
#include "tools/daemon_actions.h"
#include "tools/data_dir.h"

namespace {

// Logs errors of one kind at most one line a second (a failing disk fails every request), with
// the number of errors since the last line.
class ErrorLog {
 public:
  explicit ErrorLog(std::string what) : what_(std::move(what)) {}

  void Report(const otpd::base::Status& status) {
    const int64_t now = otpd::base::RealClock::Get()->NowUnixSeconds();
    const uint64_t count = errors_.fetch_add(1) + 1;
    int64_t last = last_logged_.load();
    if (now > last && last_logged_.compare_exchange_strong(last, now)) {
      const uint64_t since = count - logged_count_.exchange(count);
      spdlog::error("{} ({} since the last report): {}", what_, since, status.message());
    }
  }

 private:
  const std::string what_;
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> logged_count_{0};
  std::atomic<int64_t> last_logged_{0};
};

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
  auto logger = spdlog::stderr_logger_mt("otpd");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z otpd %l: %v");
  spdlog::set_level(config->log_level);

  auto dir = otpd::tools::OpenDataDir(
      otpd::tools::DataDirOptions{.data_dir = config->data_dir,
                                  .key_file = config->key_file,
                                  .access = otpd::tools::DataDirAccess::kOpenOrCreate,
                                  .allow_key_in_data_dir = config->insecure_key_in_data_dir});
  if (!dir.ok()) {
    spdlog::error("cannot open data directory: {}", dir.status().message());
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
  spdlog::info("started: data_dir={} socket={} tcp_port={} durability={}", config->data_dir,
               server.unix_socket_path().empty() ? "none" : server.unix_socket_path(),
               server.tcp_port(), otpd::server::DurabilityName(config->durability));

  while (true) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig != SIGHUP) {
      spdlog::info("stopping on signal {}", sig);
      break;
    }
    auto runtime = otpd::server::ReloadServerConfig(*config);
    if (!runtime.ok()) {
      spdlog::error("reload refused: {}", runtime.status().message());
      continue;
    }
    for (const std::string& field : runtime->needs_restart) {
      spdlog::warn("{} changed in the configuration; it takes effect at the next restart", field);
    }
    server.ApplyRuntimeConfig(*runtime);
    spdlog::set_level(runtime->log_level);
    spdlog::info("configuration reloaded");
  }
  server.Stop();
  runner->Stop();
  (*actions)->Stop();
  // In this order: loads still queued finish (they read the Store and submit commits), then the
  // commit pipeline drains (its completions call back into the verifier), then RocksDB closes.
  verifier.StopLoading();
  dir->store->Close();
  dir->store.reset();
  spdlog::info("stopped");
  return 0;
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
