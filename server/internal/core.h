// The state shared by the verify server's listeners and sessions: the sign-in service, the
// statistics, the limits (which a reload may change), the TCP clients, the failed-HELLO guard,
// the clock and the registry of live sessions. Sessions own it (shared_ptr); it only refers to
// the IoRunner (weak_ptr), so that handlers queued in the io_context, which own sessions, never
// keep the io_context alive through it. A SignInService callback holds the runner itself until
// it has posted its answer.
//
// Thread-safety: every method may be called from any thread.

#ifndef OTPD_SERVER_INTERNAL_CORE_H_
#define OTPD_SERVER_INTERNAL_CORE_H_

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/mac.h"
#include "base/mutex.h"
#include "base/secret_bytes.h"
#include "server/client_keys.h"
#include "server/config.h"
#include "server/internal/hello_guard.h"
#include "server/io_runner.h"
#include "server/server_stats.h"
#include "service/signin/sign_in.h"

namespace otpd::server::internal {

class Session;

using ClientTable = server::ClientTable;

class Core : public std::enable_shared_from_this<Core> {
 public:
  // `service` and `clock` must outlive every session.
  Core(service::SignInService* service, const ServerConfig& config, const base::Clock& clock,
       std::shared_ptr<IoRunner> runner);
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  service::SignInService* service() const { return service_; }
  // The self-service verbs and the event feed (SUBSCRIBE); null when not offered (the verbs
  // then answer unavailable). Set before the server starts.
  service::SelfService* self_service() const { return self_service_; }
  service::EventFeed* feed() const { return feed_; }
  void SetSelfService(service::SelfService* s) { self_service_ = s; }
  void SetFeed(service::EventFeed* f) { feed_ = f; }
  ServerStats& stats() { return stats_; }
  const base::Clock& clock() const { return clock_; }
  HelloGuard& hello_guard() { return hello_guard_; }
  uint32_t max_line() const { return max_line_; }
  bool allow_unauthenticated_tcp() const { return allow_unauthenticated_tcp_; }

  // Runtime limits (changed by ApplyLimits from any thread).
  uint32_t max_connections() const { return max_connections_.load(std::memory_order_relaxed); }
  uint32_t max_tcp_connections() const {
    return max_tcp_connections_.load(std::memory_order_relaxed);
  }
  uint32_t max_in_flight() const { return max_in_flight_.load(std::memory_order_relaxed); }
  uint32_t pipeline_depth() const { return pipeline_depth_.load(std::memory_order_relaxed); }
  uint32_t max_failed_hellos() const { return max_failed_hellos_.load(std::memory_order_relaxed); }
  std::chrono::milliseconds idle_timeout() const { return Ms(idle_timeout_ms_); }
  std::chrono::milliseconds line_timeout() const { return Ms(line_timeout_ms_); }
  std::chrono::milliseconds hello_timeout() const { return Ms(hello_timeout_ms_); }
  std::chrono::milliseconds request_deadline() const { return Ms(request_deadline_ms_); }
  void ApplyLimits(const ServerLimits& limits);
  void ReplaceClients(const ClientTable& clients) { clients_.Replace(clients); }

  // True when `client` is configured and `key` is its key (ClientKeys::Authenticate).
  bool Authenticate(std::string_view client, std::string_view key) const {
    return clients_.Authenticate(client, key);
  }

  // The registry of live sessions, for Stop().
  void Register(const std::shared_ptr<Session>& session);
  void Unregister(Session* session);
  std::vector<std::shared_ptr<Session>> LiveSessions();
  // Waits until no session is registered or `timeout` passes; true when none is left.
  bool WaitForNoSessions(std::chrono::milliseconds timeout);

  boost::asio::io_context& io() { return io_; }
  // The runner, while it exists (null after it was destroyed).
  std::shared_ptr<IoRunner> runner() const { return runner_.lock(); }

 private:
  static std::chrono::milliseconds Ms(const std::atomic<int64_t>& v) {
    return std::chrono::milliseconds(v.load(std::memory_order_relaxed));
  }

  service::SignInService* const service_;
  service::SelfService* self_service_ = nullptr;
  service::EventFeed* feed_ = nullptr;
  const base::Clock& clock_;
  ServerStats stats_;
  HelloGuard hello_guard_;
  const uint32_t max_line_;
  const bool allow_unauthenticated_tcp_;
  std::atomic<uint32_t> max_connections_;
  std::atomic<uint32_t> max_tcp_connections_;
  std::atomic<uint32_t> max_in_flight_;
  std::atomic<uint32_t> pipeline_depth_;
  std::atomic<uint32_t> max_failed_hellos_;
  std::atomic<int64_t> idle_timeout_ms_;
  std::atomic<int64_t> line_timeout_ms_;
  std::atomic<int64_t> hello_timeout_ms_;
  std::atomic<int64_t> request_deadline_ms_;

  ClientKeys clients_;

  base::Mutex sessions_mu_;
  base::CondVar sessions_cv_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_ OTPD_GUARDED_BY(sessions_mu_);

  const std::weak_ptr<IoRunner> runner_;
  boost::asio::io_context& io_;
};

}  // namespace otpd::server::internal

#endif  // OTPD_SERVER_INTERNAL_CORE_H_
