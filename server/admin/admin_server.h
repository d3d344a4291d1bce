// AdminServer serves the admin API (admin_api.h), /metrics, /healthz and /readyz over HTTP on the
// io runner it is given (otpd gives it one of its own, at a lower priority than the sign-ins'): on
// the Unix socket <data-dir>/admin.sock (mode 0600; a peer whose uid is the daemon's or root is the
// owner, by SO_PEERCRED) and, when configured, on TCP (TLS required off loopback), where every
// request carries `Authorization: Bearer KEY`.
//
// Requests run on a small worker pool of their own (they read and write the Store, parse token
// files, hash), never on an io thread. Every answer carries a request-id header, the same id the
// audit log records for changes.
//
// Thread-safety: Start and Stop are called by the owning thread.

#ifndef OTPD_SERVER_ADMIN_ADMIN_SERVER_H_
#define OTPD_SERVER_ADMIN_ADMIN_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "server/admin/admin_api.h"
#include "server/config.h"
#include "server/http/http_server.h"
#include "server/io_runner.h"
#include "server/metrics.h"
#include "service/signin/worker_pool.h"

namespace otpd::server::admin {

struct AdminServerOptions {
  std::string unix_path;   // "" = none
  std::string tcp_listen;  // "" = none
  std::string tls_cert, tls_key;
  AdminLimits limits;
  // Reports whether the daemon can serve (store open, commit pipeline healthy) without blocking.
  std::function<base::Status()> ready;
  // Where /metrics reads from; the admin series are added by the server itself.
  MetricsSources metrics;
};

// Reads the admin fields of a ServerConfig.
AdminServerOptions AdminOptionsFrom(const ServerConfig& config);

class AdminServer {
 public:
  AdminServer(std::shared_ptr<IoRunner> runner, AdminServerOptions options, AdminServices services);
  ~AdminServer();  // Stop()
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Loads the TLS certificate (if any) and binds the listeners.
  base::Status Start();
  // Stops accepting, lets requests being served finish (up to 5 s), then stops the workers.
  void Stop();

  uint16_t tcp_port() const;

 private:
  void OnRequest(http::Request request, const http::Peer& peer, http::Reply reply);
  // Answers a request on a worker; *authenticated tells whether its caller proved who it is
  // (the owner, or a current API key).
  http::Response Serve(const http::Request& request, const http::Peer& peer,
                       const std::string& request_id, bool* authenticated);

  std::shared_ptr<IoRunner> runner_;
  AdminServerOptions options_;
  AdminServices services_;
  AdminApi api_;
  RequestCounters requests_;
  std::unique_ptr<service::WorkerPool> workers_;
  std::unique_ptr<http::HttpServer> http_;
  std::atomic<uint64_t> next_worker_{0};
};

}  // namespace otpd::server::admin

#endif  // OTPD_SERVER_ADMIN_ADMIN_SERVER_H_
