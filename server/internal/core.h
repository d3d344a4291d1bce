// The state shared by the verify server's listeners and sessions. It owns the io_context, so
// whatever keeps a Core alive (the VerifyServer, a SignInService callback not yet run) keeps the
// executors that callbacks post to valid.
//
// Thread-safety: atomics and mutex-guarded members may be used from any thread; `io` is
// thread-safe as Asio documents.

#ifndef OTPD_SERVER_INTERNAL_CORE_H_
#define OTPD_SERVER_INTERNAL_CORE_H_

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/secret_bytes.h"
#include "server/config.h"
#include "server/server_stats.h"
#include "service/sign_in.h"

namespace otpd::server::internal {

class Session;

using ClientTable = std::map<std::string, base::SecretBytes, std::less<>>;

class Core : public std::enable_shared_from_this<Core> {
 public:
  Core(service::SignInService* service, const ServerConfig& config);
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  service::SignInService* service() const { return service_; }
  ServerStats& stats() { return stats_; }
  uint32_t max_line() const { return max_line_; }
  bool allow_unauthenticated_tcp() const { return allow_unauthenticated_tcp_; }

  // Runtime limits (changed by ApplyLimits from any thread).
  uint32_t max_connections() const { return max_connections_.load(std::memory_order_relaxed); }
  uint32_t max_in_flight() const { return max_in_flight_.load(std::memory_order_relaxed); }
  uint32_t pipeline_depth() const { return pipeline_depth_.load(std::memory_order_relaxed); }
  std::chrono::milliseconds idle_timeout() const {
    return std::chrono::milliseconds(idle_timeout_ms_.load(std::memory_order_relaxed));
  }
  std::chrono::milliseconds line_timeout() const {
    return std::chrono::milliseconds(line_timeout_ms_.load(std::memory_order_relaxed));
  }
  std::chrono::milliseconds request_deadline() const {
    return std::chrono::milliseconds(request_deadline_ms_.load(std::memory_order_relaxed));
  }
  void ApplyLimits(const ServerLimits& limits);
  void ReplaceClients(const ClientTable& clients);

  // True when `client` is configured and `key` is its key. The key comparison takes the same
  // time whether or not the client exists.
  bool Authenticate(std::string_view client, std::string_view key) const;

  // The registry of live sessions, for Stop().
  void Register(const std::shared_ptr<Session>& session);
  void Unregister(Session* session);
  std::vector<std::shared_ptr<Session>> LiveSessions();
  // Waits until no session is registered or `timeout` passes; true when none is left.
  bool WaitForNoSessions(std::chrono::milliseconds timeout);

  boost::asio::io_context& io() { return io_; }

 private:
  service::SignInService* const service_;
  ServerStats stats_;
  const uint32_t max_line_;
  const bool allow_unauthenticated_tcp_;
  std::atomic<uint32_t> max_connections_;
  std::atomic<uint32_t> max_in_flight_;
  std::atomic<uint32_t> pipeline_depth_;
  std::atomic<int64_t> idle_timeout_ms_;
  std::atomic<int64_t> line_timeout_ms_;
  std::atomic<int64_t> request_deadline_ms_;

  mutable std::mutex clients_mu_;
  std::shared_ptr<const ClientTable> clients_;  // guarded by clients_mu_
  const base::SecretBytes dummy_key_;

  std::mutex sessions_mu_;
  std::condition_variable sessions_cv_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;  // guarded by sessions_mu_

  // Last, so that it is destroyed first: destroying it destroys the handlers that own
  // sessions, whose destructors still use the members above.
  boost::asio::io_context io_;
};

}  // namespace otpd::server::internal

#endif  // OTPD_SERVER_INTERNAL_CORE_H_
