#include "server/admin/admin_server.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <chrono>

#include "base/codec.h"
#include "base/seal.h"
#include "server/admin/console_assets.h"
#include "server/admin/graph.h"

namespace otpd::server::admin {

namespace bhttp = boost::beast::http;

namespace {

constexpr size_t kWorkerQueue = 256;
// Admin work yields the CPU to sign-ins: a bulk reader of the API must not raise their latency.
constexpr int kWorkerNice = 10;

// The admin socket's owner: a Unix peer running as the daemon's uid, or root (SO_PEERCRED).
bool IsOwner(const http::Peer& peer) {
  return !peer.tcp && peer.uid && (*peer.uid == ::geteuid() || *peer.uid == 0);
}

// Every answer names the request (`request-id`) and echoes the caller's `client-request-id`, as
// Graph does, so that a caller can match a failure (a 401 too) to the daemon's log.
void CommonHeaders(http::Response& response, const http::Request& request,
                   const std::string& request_id) {
  response.set(bhttp::field::server, "otpd");
  response.set("request-id", request_id);
  response.set("client-request-id", ClientRequestId(request["client-request-id"], request_id));
  response.set(bhttp::field::cache_control, "no-store");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Referrer-Policy", "no-referrer");
}

http::Response ErrorResponse(const http::Request& request, unsigned status, std::string_view code,
                             std::string_view message, const std::string& request_id) {
  http::Response r =
      http::MakeResponse(request, static_cast<bhttp::status>(status), "application/json",
                         GraphErrorBody(code, message, request_id,
                                        ClientRequestId(request["client-request-id"], request_id),
                                        base::RealClock::Get()->NowUnixSeconds()));
  CommonHeaders(r, request, request_id);
  return r;
}

}  // namespace

AdminServerOptions AdminOptionsFrom(const ServerConfig& config) {
  AdminServerOptions o;
  o.unix_path = config.admin_socket;
  o.tcp_listen = config.admin_listen;
  o.tls_cert = config.admin_tls_cert;
  o.tls_key = config.admin_tls_key;
  o.limits = config.admin;
  return o;
}

AdminServer::AdminServer(std::shared_ptr<IoRunner> runner, AdminServerOptions options,
                         AdminServices services)
    : runner_(std::move(runner)),
      options_(std::move(options)),
      services_(services),
      api_(std::move(services),
           AdminApiOptions{.activations_per_window = options_.limits.activations_per_window,
                           .activation_window = options_.limits.activation_window}) {}

AdminServer::~AdminServer() { Stop(); }

uint16_t AdminServer::tcp_port() const { return http_ ? http_->tcp_port() : 0; }

base::Status AdminServer::Start() {
  if (options_.unix_path.empty() && options_.tcp_listen.empty()) return base::OkStatus();
  http::HttpServerOptions o;
  o.name = "admin";
  o.unix_path = options_.unix_path;
  o.unix_mode = 0600;
  o.tcp_listen = options_.tcp_listen;
  if (!options_.tls_cert.empty()) {
    OTPD_ASSIGN_OR_RETURN(o.tls, http::MakeTlsContext(options_.tls_cert, options_.tls_key));
  }
  o.max_connections = options_.limits.max_connections;
  o.header_timeout = options_.limits.header_timeout;
  o.body_timeout = options_.limits.body_timeout;
  o.idle_timeout = options_.limits.idle_timeout;
  const uint64_t json_limit = uint64_t{options_.limits.max_body_kb} << 10;
  const uint64_t file_limit = uint64_t{options_.limits.max_import_mb} << 20;
  o.body_limit = [json_limit, file_limit](const http::RequestHeader& header) {
    return AdminApi::TakesTokenFile(header) ? file_limit : json_limit;
  };
  workers_ = std::make_unique<service::WorkerPool>(options_.limits.workers, kWorkerQueue,
                                                   "otpd-admin", kWorkerNice);
  http_ = std::make_unique<http::HttpServer>(
      runner_, std::move(o),
      [this](http::Request request, const http::Peer& peer, http::Reply reply) {
        OnRequest(std::move(request), peer, std::move(reply));
      });
  OTPD_RETURN_IF_ERROR(http_->Start());
  spdlog::info("admin: serving{}{}{}{}{}",
               options_.unix_path.empty() ? "" : " unix:", options_.unix_path,
               options_.tcp_listen.empty() ? "" : " tcp port ",
               options_.tcp_listen.empty() ? "" : std::to_string(http_->tcp_port()),
               options_.tls_cert.empty() ? "" : " (TLS)");
  return base::OkStatus();
}

void AdminServer::Stop() {
  if (http_) http_->Stop();
  if (workers_) workers_->Stop();
}

void AdminServer::OnRequest(http::Request request, const http::Peer& peer, http::Reply reply) {
  std::string request_id = NewRequestId();
  const std::string_view target = request.target();
  // Health, readiness and the console need no key; an answer to anyone but the owner then ends
  // the connection (http_server.h), so that unauthenticated callers cannot hold the listener.
  if (IsOwner(peer)) reply.MarkAuthenticated();
  // Liveness and readiness answer on the io thread: they must not queue behind slow requests.
  if (target == "/healthz" || target == "/readyz") {
    http::Response r = http::MakeResponse(request, bhttp::status::ok, "text/plain", "ok\n");
    if (target == "/readyz" && options_.ready) {
      if (base::Status s = options_.ready(); !s.ok()) {
        r = http::MakeResponse(request, bhttp::status::service_unavailable, "text/plain",
                               std::string(s.message()) + "\n");
      }
    }
    CommonHeaders(r, request, request_id);
    requests_.Count(std::string(bhttp::to_string(request.method())) + " " + std::string(target),
                    r.result_int());
    return reply(std::move(r));
  }
  // The console's files are constant bytes, public (they hold no data) and answered here too.
  if (IsConsoleTarget(target)) {
    http::Response r = ServeConsole(request);
    r.set("request-id", request_id);
    requests_.Count("GET /console", r.result_int());
    return reply(std::move(r));
  }
  auto shared = std::make_shared<http::Request>(std::move(request));
  const size_t key = next_worker_.fetch_add(1, std::memory_order_relaxed);
  const bool queued = workers_->TrySubmit(key, [this, shared, peer, reply, request_id] {
    bool authenticated = false;
    http::Response r = Serve(*shared, peer, request_id, &authenticated);
    if (authenticated) reply.MarkAuthenticated();
    reply(std::move(r));
  });
  if (!queued) {
    requests_.Count("unqueued", 503);
    http::Response r = ErrorResponse(*shared, 503, "serviceNotAvailable",
                                     "the admin API is busy; try again", request_id);
    r.set(bhttp::field::retry_after, "1");
    reply(std::move(r));
  }
}

http::Response AdminServer::Serve(const http::Request& request, const http::Peer& peer,
                                  const std::string& request_id, bool* authenticated) {
  const auto started = std::chrono::steady_clock::now();
  // Who is asking: the local owner on the Unix socket, else the holder of a bearer key.
  service::Principal principal;
  if (IsOwner(peer)) {
    principal = service::Principal::Owner("uid:" + std::to_string(*peer.uid));
  } else {
    std::string_view auth = request[bhttp::field::authorization];
    constexpr std::string_view kBearer = "Bearer ";
    base::StatusOr<service::Principal> who = base::UnauthenticatedError("");
    if (auth.size() > kBearer.size() && boost::beast::iequals(auth.substr(0, 7), kBearer)) {
      who = services_.api_keys->Authenticate(auth.substr(kBearer.size()));
    }
    // The key is read from the store on every request; when the store cannot answer, the key is
    // not known to be bad, and the client should try again rather than replace it.
    if (!who.ok() && who.status().code() != base::StatusCode::kUnauthenticated) {
      requests_.Count("unauthenticated", 503);
      spdlog::warn("admin: could not read an API key: {} (request {})", who.status().message(),
                   request_id);
      http::Response r =
          ErrorResponse(request, 503, "serviceNotAvailable",
                        "the API key could not be checked now; try again", request_id);
      r.set(bhttp::field::retry_after, "1");
      return r;
    }
    if (!who.ok()) {
      requests_.Count("unauthenticated", 401);
      http::Response r = ErrorResponse(
          request, 401, "InvalidAuthenticationToken",
          "send Authorization: Bearer with a current API key (otpctl apikey create)", request_id);
      r.set(bhttp::field::www_authenticate, "Bearer realm=\"otpd\"");
      return r;
    }
    principal = std::move(*who);
  }
  *authenticated = true;
  principal.request_id = request_id;

  if (request.target() == "/metrics") {
    if (request.method() != bhttp::verb::get) {
      return ErrorResponse(request, 405, "notAllowed", "/metrics takes GET", request_id);
    }
    if (base::Status s = service::Authorize(principal, service::Permission::kRead); !s.ok()) {
      return ErrorResponse(request, 403, "accessDenied", s.message(), request_id);
    }
    MetricsSources sources = options_.metrics;
    sources.admin_http = &http_->stats();
    sources.admin_requests = &requests_;
    http::Response r =
        http::MakeResponse(request, bhttp::status::ok, kMetricsContentType, RenderMetrics(sources));
    CommonHeaders(r, request, request_id);
    requests_.Count("GET /metrics", 200);
    return r;
  }

  ApiCall call;
  call.request = &request;
  call.principal = std::move(principal);
  call.request_id = request_id;
  call.client_request_id = ClientRequestId(request["client-request-id"], request_id);
  call.origin = std::string(peer.tls ? "https://" : "http://") + HostOf(request);
  ApiResponse answer = api_.Handle(call);

  http::Response r = http::MakeResponse(
      request, static_cast<bhttp::status>(answer.status), answer.body ? "application/json" : "",
      answer.body ? boost::json::serialize(*answer.body) : std::string());
  for (const auto& [name, value] : answer.headers) r.set(name, value);
  CommonHeaders(r, request, request_id);
  requests_.Count(answer.route, answer.status);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
  if (answer.status >= 500) {
    spdlog::error("admin: {} answered {} for {} (request {})", answer.route, answer.status,
                  call.principal.actor, request_id);
  } else {
    spdlog::debug("admin: {} answered {} for {} in {} us (request {})", answer.route, answer.status,
                  call.principal.actor, micros, request_id);
  }
  return r;
}

}  // namespace otpd::server::admin
