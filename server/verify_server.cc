#include "server/verify_server.h"

#include <spdlog/spdlog.h>

#include <string>

#include "server/internal/core.h"
#include "server/internal/listener.h"
#include "server/internal/session.h"

namespace otpd::server {

namespace {
// How long Stop() waits for connections to go after closing them forcibly.
constexpr std::chrono::milliseconds kAbortWait{2000};
}  // namespace

VerifyServer::VerifyServer(const ServerConfig& config, service::SignInService* service,
                           const base::Clock& clock, std::shared_ptr<IoRunner> runner)
    : unix_path_(config.socket_path),
      listen_(config.listen),
      shutdown_grace_ms_(config.limits.shutdown_grace.count()),
      own_runner_(runner == nullptr),
      runner_(runner ? std::move(runner) : std::make_shared<IoRunner>(config.io_threads)),
      core_(std::make_shared<internal::Core>(service, config, clock, runner_)) {}

VerifyServer::~VerifyServer() { Stop(); }

void VerifyServer::SetSelfService(service::SelfService* self_service) {
  core_->SetSelfService(self_service);
}

void VerifyServer::SetEventFeed(service::EventFeed* feed) { core_->SetFeed(feed); }

base::Status VerifyServer::Start() {
  if (started_) return base::FailedPreconditionError("VerifyServer::Start called twice");
  started_ = true;
  if (unix_path_.empty() && listen_.empty()) {
    return base::InvalidArgumentError("the verify server needs a socket path or a listen address");
  }
  auto fail = [this](base::Status status) {
    for (auto& listener : listeners_) listener->Close(/*io_running=*/false);
    listeners_.clear();
    stopped_ = true;
    return status;
  };
  // Every connection becomes a Session; each listener counts its own against its own limit.
  auto factory = [core = core_](internal::Socket socket, bool tcp, internal::ConnectionSlot slot) {
    core->stats().connections_accepted.fetch_add(1, std::memory_order_relaxed);
    auto session =
        std::make_shared<internal::Session>(core, std::move(socket), tcp, std::move(slot));
    core->Register(session);
    session->Start();
  };
  auto options = [this](bool tcp) {
    internal::ListenerOptions o;
    o.name = "verify";
    internal::Core* core = core_.get();
    o.max_connections =
        tcp ? std::function<uint32_t()>([core] { return core->max_tcp_connections(); })
            : std::function<uint32_t()>([core] { return core->max_connections(); });
    o.refusal = "FAIL\t-\treason=unavailable\n";
    o.refused = &core_->stats().connections_refused;
    return o;
  };
  if (!unix_path_.empty()) {
    auto listener = std::make_shared<internal::Listener>(core_->io(), options(false), factory);
    listeners_.push_back(listener);
    base::Status s = listener->OpenUnix(unix_path_);
    if (!s.ok()) return fail(s.WithContext("verify socket"));
  }
  if (!listen_.empty()) {
    auto listener = std::make_shared<internal::Listener>(core_->io(), options(true), factory);
    listeners_.push_back(listener);
    base::Status s = listener->OpenTcp(listen_);
    if (!s.ok()) return fail(s.WithContext("verify listener"));
    tcp_port_ = listener->port();
  }
  for (auto& listener : listeners_) listener->Start();
  if (own_runner_) runner_->Start();
  spdlog::info("verify: serving{}{}{}{}", unix_path_.empty() ? "" : " unix:", unix_path_,
               listen_.empty() ? "" : " tcp port ",
               listen_.empty() ? "" : std::to_string(tcp_port_));
  return base::OkStatus();
}

void VerifyServer::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  for (auto& listener : listeners_) listener->Close(/*io_running=*/true);
  for (auto& session : core_->LiveSessions()) session->Drain();
  if (!core_->WaitForNoSessions(std::chrono::milliseconds(shutdown_grace_ms_.load()))) {
    spdlog::warn("verify: closing connections with requests still in flight");
    for (auto& session : core_->LiveSessions()) session->Abort();
    core_->WaitForNoSessions(kAbortWait);
  }
  core_->hello_guard().Flush();
  if (own_runner_) runner_->Stop();
  listeners_.clear();
  spdlog::info("verify: stopped");
}

void VerifyServer::ApplyRuntimeConfig(const RuntimeConfig& runtime) {
  core_->ApplyLimits(runtime.limits);
  core_->ReplaceClients(runtime.tcp_clients);
  shutdown_grace_ms_.store(runtime.limits.shutdown_grace.count());
}

const ServerStats& VerifyServer::stats() const { return core_->stats(); }

void VerifyServer::CheckDeadlines() {
  for (auto& session : core_->LiveSessions()) session->CheckDeadlines();
}

}  // namespace otpd::server
