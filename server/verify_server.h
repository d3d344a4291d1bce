// VerifyServer serves protocol v1 (docs/protocol.md) on a Unix stream socket and/or a TCP port,
// answering VERIFY and RESYNC through a SignInService.
//
// Usage (otpd's main):
//   VerifyServer server(config, &sign_in_service, clock, runner);
//   if (Status s = server.Start(); !s.ok()) { ...exit... }
//   ... on SIGHUP: server.ApplyRuntimeConfig(*ReloadServerConfig(config));
//   server.Stop();  // graceful; also done by the destructor
//
// The service must outlive the server's Stop(); callbacks it runs after Stop() are dropped
// safely (they keep the server's internal state alive until they return).
//
// Thread-safety: Start and Stop are called by the owning thread, never from an io thread or a
// SignInService callback. stats(), tcp_port(), unix_socket_path() and ApplyRuntimeConfig may be
// called from any thread.

#ifndef OTPD_SERVER_VERIFY_SERVER_H_
#define OTPD_SERVER_VERIFY_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "server/config.h"
#include "server/io_runner.h"
#include "server/server_stats.h"
#include "service/signin/sign_in.h"

namespace otpd::server {

namespace internal {
class Core;
class Listener;
}  // namespace internal

class VerifyServer {
 public:
  // Uses config.socket_path (if not empty), config.listen (if not empty), limits, tcp_clients and
  // allow_unauthenticated_tcp. `service` and `clock` are not owned and must outlive the server.
  // Connections are served on `runner`'s io threads (shared with the daemon's other listeners);
  // without one the server runs its own, with config.io_threads threads.
  VerifyServer(const ServerConfig& config, service::SignInService* service,
               const base::Clock& clock = *base::RealClock::Get(),
               std::shared_ptr<IoRunner> runner = nullptr);
  ~VerifyServer();
  VerifyServer(const VerifyServer&) = delete;
  VerifyServer& operator=(const VerifyServer&) = delete;

  // The self-service verbs (REMEMBER, SET_PASSWORD, ENROL, CONFIRM) and SUBSCRIBE's event feed.
  // Optional; called before Start; both must outlive Stop(). Without them those verbs answer
  // `FAIL id reason=unavailable`.
  void SetSelfService(service::SelfService* self_service);
  void SetEventFeed(service::EventFeed* feed);

  // Binds the listeners and starts the io threads. Fails (and leaves nothing listening) when
  // a socket cannot be created: AlreadyExists when another process serves the Unix socket,
  // FailedPrecondition when the path is not a socket, Unavailable for bind/listen errors.
  // Start may be called once.
  base::Status Start();

  // Graceful stop: stops accepting, stops reading, lets requests in flight be answered for up
  // to limits.shutdown_grace, then closes every connection and joins the io threads. Idempotent.
  void Stop();

  // The bound TCP port (the ephemeral one when listen had port 0); 0 without a TCP listener or
  // before Start.
  uint16_t tcp_port() const { return tcp_port_; }
  const std::string& unix_socket_path() const { return unix_path_; }

  // Applies reloaded limits (max_line excepted) and TCP clients to new and existing
  // connections. The log level is process-wide: the caller sets it (spdlog::set_level).
  void ApplyRuntimeConfig(const RuntimeConfig& runtime);

  const ServerStats& stats() const;

  // Acts at once on every connection deadline (idle, line, HELLO, request) that has passed by
  // the clock's time. Timers do this by themselves as real time passes; tests that drive a
  // FakeClock call it after advancing the clock.
  void CheckDeadlines();

 private:
  const std::string unix_path_;
  const std::string listen_;
  std::atomic<int64_t> shutdown_grace_ms_;
  const bool own_runner_;
  std::shared_ptr<IoRunner> runner_;
  std::shared_ptr<internal::Core> core_;
  std::vector<std::shared_ptr<internal::Listener>> listeners_;
  uint16_t tcp_port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace otpd::server

#endif  // OTPD_SERVER_VERIFY_SERVER_H_
