// The daemon's metrics in the Prometheus text exposition format (version 0.0.4), for
// GET /metrics on the admin listeners: sign-ins by result and their latency, the commit
// pipeline's batches per write and fsync latency, connections, the sign-in cache, and admin
// requests by route and status. docs/admin-api.md lists every series.
//
// Thread-safety: RequestCounters may be used from any thread; RenderMetrics reads relaxed
// atomics and may run while the counters move.

#ifndef OTPD_SERVER_METRICS_H_
#define OTPD_SERVER_METRICS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "base/mutex.h"
#include "server/http/http_server.h"
#include "server/server_stats.h"
#include "service/hooks/hooks.h"
#include "service/signin/sign_in.h"
#include "storage/commit_pipeline.h"

namespace otpd::server {

// Admin requests answered, by route and HTTP status.
class RequestCounters {
 public:
  void Count(std::string_view route, unsigned status);
  std::map<std::pair<std::string, unsigned>, uint64_t> Snapshot() const;

 private:
  mutable base::Mutex mu_;
  std::map<std::pair<std::string, unsigned>, uint64_t> counts_ OTPD_GUARDED_BY(mu_);
};

// What the metrics are read from; any may be null (its series are left out).
struct MetricsSources {
  const ServerStats* verify = nullptr;
  const service::SignInService* sign_in = nullptr;
  const storage::CommitPipeline* pipeline = nullptr;
  const http::HttpServerStats* admin_http = nullptr;
  const RequestCounters* admin_requests = nullptr;
  // The validate listener (docs/validate-api.md): its answers and its sign-ins' latency.
  const ValidateStats* validate = nullptr;
  const ServerStats* validate_server = nullptr;
  // Event delivery to the configured hooks (null: none runs).
  const service::HookDispatcher* hooks = nullptr;
};

std::string RenderMetrics(const MetricsSources& sources);

// The Content-Type of RenderMetrics' output.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace otpd::server

#endif  // OTPD_SERVER_METRICS_H_
