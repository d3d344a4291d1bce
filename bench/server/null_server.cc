// otpd-null: the verify socket with nothing behind it, the ceiling otpd's verify benchmarks are
// measured against. It serves otpd's own VerifyServer (the same listener, sessions, protocol
// parsing, limits and io threads as the daemon with its default configuration) on a Unix socket,
// with bench/server/instant_service.h's InstantService in place of the sign-in service: every
// VERIFY and RESYNC answers OK at once, on the io thread that read it. No store, no keys.
//
//   otpd-null --unix /tmp/null.sock [--io-threads N]
//
// Logs (on stderr) "started" once it listens, and stops gracefully on SIGTERM or SIGINT (exit 0).
// bench/server/daemon_bench.sh runs every otpd-loadgen run against it too.

#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdio>
#include <string>

#include "bench/server/instant_service.h"
#include "server/config.h"
#include "server/verify_server.h"

namespace otpd::bench {
namespace {

// As otpd takes them: SIGTERM and SIGINT waited for by the main thread (sigwait), blocked in
// every thread started later; a client that closes its end does not kill the process.
sigset_t TakeStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return signals;
}

int Main(int argc, char** argv) {
  // otpd's defaults: everything but the socket (and the io threads, when given) is left as a
  // daemon started without a configuration file has it.
  server::ServerConfig config;
  CLI::App app{"otpd-null: otpd's verify socket answering OK to every request, doing nothing"};
  app.add_option("--unix", config.socket_path, "Unix socket path to serve")->required();
  app.add_option("--io-threads", config.io_threads, "threads serving connections (otpd's default)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  const sigset_t signals = TakeStopSignals();
  // On stderr, as otpd logs: stdout is left to what a caller may want to read.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("otpd-null"));

  InstantService instant;
  // Without a runner of its own the server runs one with config.io_threads threads, as otpd's
  // runner has (the daemon shares it with the validate API, which is off by default).
  server::VerifyServer verify(config, &instant);
  if (base::Status s = verify.Start(); !s.ok()) {
    spdlog::error("{}", s.message());
    return 1;
  }
  spdlog::info("started: socket={} io_threads={}", verify.unix_socket_path(), config.io_threads);
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) == 0) break;
  }
  verify.Stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace
}  // namespace otpd::bench

int main(int argc, char** argv) {
  try {
    return otpd::bench::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "otpd-null: fatal: %s\n", e.what());
    return 1;
  }
}
