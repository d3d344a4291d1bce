#include "server/selfservice/selfservice_server.h"

#include <spdlog/spdlog.h>

#include <boost/beast/core/string.hpp>
#include <boost/json/serialize.hpp>

#include "base/constant_time.h"
#include "server/admin/graph.h"
#include "server/http/embedded_files.h"
#include "server/selfservice/internal.h"
#include "service/model/directory.h"

namespace otpd::server::selfservice {

namespace bhttp = boost::beast::http;

namespace {

constexpr size_t kWorkerQueue = 256;
constexpr uint64_t kBodyLimit = 16 << 10;  // the page's bodies are a few fields
constexpr std::string_view kPagePrefix = "/security-info";

// The value of cookie `name` in the request's Cookie headers; "" when absent.
std::string_view CookieValue(const http::Request& request, std::string_view name) {
  for (auto it = request.find(bhttp::field::cookie);
       it != request.end() && it->name() == bhttp::field::cookie; ++it) {
    std::string_view rest = it->value();
    while (!rest.empty()) {
      const size_t end = rest.find(';');
      std::string_view pair = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      while (pair.starts_with(' ')) pair.remove_prefix(1);
      if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
        return pair.substr(name.size() + 1);
      }
    }
  }
  return {};
}

// The page's file at `path` ("/security-info" and "/security-info/" are its index).
const http::EmbeddedFile* PageFile(std::string_view path) {
  if (path == kPagePrefix || path == "/security-info/") path = "/security-info/index.html";
  return http::FindEmbeddedFile(http::kSelfServiceAssets, path);
}

}  // namespace

std::string SessionCookie(std::string_view token) {
  // Secure: browsers send it over TLS only (and to localhost, which they count as secure);
  // HttpOnly: no script reads it; SameSite=Strict: no other site's page makes the browser send it.
  std::string cookie = std::string(kCookieName) + "=" + std::string(token) +
                       "; Path=/; HttpOnly; Secure; SameSite=Strict";
  if (token.empty()) cookie += "; Max-Age=0";
  return cookie;
}

void SelfServiceServer::Call::Answer(http::Response r) {
  r.set(bhttp::field::server, "otpd");
  r.set("request-id", request_id);
  r.set("client-request-id", admin::ClientRequestId(request["client-request-id"], request_id));
  r.set(bhttp::field::cache_control, "no-store");
  r.set("X-Content-Type-Options", "nosniff");
  r.set("Referrer-Policy", "no-referrer");
  if (!set_cookie.empty()) r.set(bhttp::field::set_cookie, set_cookie);
  for (const auto& [name, value] : headers) r.set(name, value);
  if (!token.empty()) reply.MarkAuthenticated();
  reply(std::move(r));
}

void SelfServiceServer::Call::Json(unsigned status, const boost::json::object& body) {
  Answer(http::MakeResponse(request, static_cast<bhttp::status>(status), "application/json",
                            boost::json::serialize(body)));
}

void SelfServiceServer::Call::Error(unsigned status, std::string_view code,
                                    std::string_view message) {
  Answer(http::MakeResponse(
      request, static_cast<bhttp::status>(status), "application/json",
      admin::GraphErrorBody(code, message, request_id,
                            admin::ClientRequestId(request["client-request-id"], request_id),
                            base::RealClock::Get()->NowUnixSeconds())));
}

void SelfServiceServer::Call::Error(const base::Status& status) {
  const admin::GraphError e = admin::ClassifyStatus(status);
  Error(e.http_status, e.code,
        e.http_status >= 500 ? "the request could not be served now; try again" : status.message());
}

void SelfServiceServer::Call::NoContent() {
  Answer(http::MakeResponse(request, bhttp::status::no_content, "", ""));
}

void SelfServiceServer::Call::Locked(int64_t retry_after_seconds) {
  headers.emplace_back("Retry-After", std::to_string(retry_after_seconds));
  Error(
      403, "locked",
      "too many wrong attempts: try again in " + std::to_string(retry_after_seconds) + " seconds");
}

SelfServiceOptions SelfServiceOptionsFrom(const ServerConfig& config) {
  SelfServiceOptions o;
  o.tcp_listen = config.selfservice_listen;
  o.tls_cert = config.selfservice_tls_cert;
  o.tls_key = config.selfservice_tls_key;
  o.registration_with_password = config.actions.registration_with_password;
  o.max_failed_signins = config.limits.selfservice_failed_signins;
  return o;
}

SelfServiceServer::SelfServiceServer(std::shared_ptr<IoRunner> runner, SelfServiceOptions options,
                                     admin::AdminServices services, service::SignInService& sign_in,
                                     service::SelfService& self_service)
    : runner_(std::move(runner)),
      options_(std::move(options)),
      services_(services),
      sign_in_(sign_in),
      self_service_(self_service),
      api_(std::move(services), admin::AdminApiOptions{}),
      sessions_(options_.sessions),
      address_guard_(*services_.clock,
                     [](const std::string& line) { spdlog::warn("selfservice: {}", line); }) {}

SelfServiceServer::~SelfServiceServer() { Stop(); }

uint16_t SelfServiceServer::tcp_port() const { return http_ ? http_->tcp_port() : 0; }

base::Status SelfServiceServer::Start() {
  if (options_.tcp_listen.empty()) return base::OkStatus();
  http::HttpServerOptions o;
  o.name = "selfservice";
  o.tcp_listen = options_.tcp_listen;
  if (!options_.tls_cert.empty()) {
    OTPD_ASSIGN_OR_RETURN(o.tls, http::MakeTlsContext(options_.tls_cert, options_.tls_key));
  }
  o.max_connections = options_.max_connections;
  o.body_limit = [](const http::RequestHeader&) { return kBodyLimit; };
  workers_ =
      std::make_unique<service::WorkerPool>(options_.workers, kWorkerQueue, "otpd-selfsvc", 10);
  http_ = std::make_unique<http::HttpServer>(
      runner_, std::move(o),
      [this](http::Request request, const http::Peer& peer, http::Reply reply) {
        OnRequest(std::move(request), peer, std::move(reply));
      });
  OTPD_RETURN_IF_ERROR(http_->Start());
  spdlog::info("selfservice: serving tcp port {}{}", http_->tcp_port(),
               options_.tls_cert.empty() ? "" : " (TLS)");
  return base::OkStatus();
}

void SelfServiceServer::Stop() {
  if (http_) http_->Stop();
  if (workers_) workers_->Stop();
}

void SelfServiceServer::OnRequest(http::Request request, const http::Peer& peer,
                                  http::Reply reply) {
  auto call = std::make_shared<Call>();
  call->request_id = admin::NewRequestId();
  const std::string_view target = request.target();
  const size_t q = target.find('?');
  call->path = std::string(target.substr(0, q));
  call->query = q == std::string_view::npos ? "" : std::string(target.substr(q));
  call->request = std::move(request);
  call->peer = peer;
  call->reply = std::move(reply);
  // The page's files are constant bytes, public, and answered on the io thread.
  if (call->path == "/") {
    http::Response r = http::MakeResponse(call->request, bhttp::status::found, "", "");
    r.set(bhttp::field::location, "/security-info/");
    return call->Answer(std::move(r));
  }
  if (call->path == kPagePrefix || call->path.starts_with("/security-info/")) {
    http::Response r = http::ServeEmbeddedFile(call->request, PageFile(call->path));
    r.set("request-id", call->request_id);
    return call->reply(std::move(r));
  }
  OnWorker(call, [this, call] { Serve(call); });
}

void SelfServiceServer::OnWorker(std::shared_ptr<Call> call, std::function<void()> task) {
  const size_t key = next_worker_.fetch_add(1, std::memory_order_relaxed);
  if (!workers_->TrySubmit(key, std::move(task))) {
    call->Error(503, "serviceNotAvailable", "the page is busy; try again");
  }
}

void SelfServiceServer::Serve(std::shared_ptr<Call> call) {
  const bhttp::verb verb = call->request.method();
  const std::string& path = call->path;
  if (path == "/selfservice/signin") {
    if (verb != bhttp::verb::post) return call->Error(405, "notAllowed", "sign in with POST");
    return SignIn(call);
  }
  if (path == "/selfservice/options" && verb == bhttp::verb::get) {
    // What the sign-in form may ask for, before anyone signs in: no user's state in it.
    boost::json::object o;
    o["registrationWithPassword"] = options_.registration_with_password;
    return call->Json(200, o);
  }
  const bool me = path == "/v1.0/me" || path.starts_with("/v1.0/me/");
  if (!me && !path.starts_with("/selfservice/")) {
    return call->Error(404, "itemNotFound", "no such resource here");
  }
  if (!Admit(*call, verb != bhttp::verb::get)) return;
  if (me) return Me(call);
  if (path == "/selfservice/session" && verb == bhttp::verb::get) return SessionInfo(*call);
  if (path == "/selfservice/reauth" && verb == bhttp::verb::post) return Reauthenticate(call);
  if (path == "/selfservice/signout" && verb == bhttp::verb::post) return SignOut(*call);
  call->Error(404, "itemNotFound", "no such resource here");
}

bool SelfServiceServer::Admit(Call& call, bool write) {
  const int64_t now = services_.clock->NowUnixSeconds();
  const std::string_view token = CookieValue(call.request, kCookieName);
  std::optional<PageSession> session;
  if (!token.empty()) session = sessions_.Use(token, now);
  if (!session) {
    call.Error(401, "InvalidAuthenticationToken", "sign in to Security info first");
    return false;
  }
  if (write) {
    // A page of another site cannot read the token, so cannot send it: its forged request
    // carries the cookie (SameSite=Strict aside) but not this header.
    const std::string_view sent = call.request["X-CSRF-Token"];
    if (sent.empty() || !base::ConstantTimeEquals(sent, session->csrf)) {
      call.Error(403, sent.empty() ? "csrfTokenMissing" : "csrfTokenWrong",
                 "a change needs the X-CSRF-Token header of this session");
      return false;
    }
  }
  auto user = service::Directory(*services_.store, *services_.keys).GetUser(session->upn);
  if (!user.ok()) {
    call.Error(503, "serviceNotAvailable", "the request could not be served now; try again");
    return false;
  }
  if (!*user || (*user)->record.sessions_epoch != session->sessions_epoch) {
    // Deleted, or their sessions were revoked since this one began.
    sessions_.End(token);
    call.set_cookie = SessionCookie("");
    call.Error(401, "InvalidAuthenticationToken", "the session has ended; sign in again");
    return false;
  }
  call.token = std::string(token);
  call.session = std::move(*session);
  call.user = std::move((*user)->record);
  return true;
}

}  // namespace otpd::server::selfservice
