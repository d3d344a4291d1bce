#include "server/verify_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <exception>
#include <string>

#include "base/thread_name.h"
#include "server/internal/core.h"
#include "server/internal/listeners.h"
#include "server/internal/session.h"

namespace otpd::server {

namespace {
// How long Stop() waits for connections to go after closing them forcibly.
constexpr std::chrono::milliseconds kAbortWait{2000};
}  // namespace

VerifyServer::VerifyServer(const ServerConfig& config, service::SignInService* service)
    : unix_path_(config.socket_path),
      listen_(config.listen),
      io_threads_(config.io_threads == 0 ? 1 : config.io_threads),
      shutdown_grace_ms_(config.limits.shutdown_grace.count()),
      core_(std::make_shared<internal::Core>(service, config)) {}

VerifyServer::~VerifyServer() { Stop(); }

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
  if (!unix_path_.empty()) {
    auto listener = std::make_shared<internal::Listener>(*core_);
    listeners_.push_back(listener);
    base::Status s = listener->OpenUnix(unix_path_);
    if (!s.ok()) return fail(s.WithContext("verify socket"));
  }
  if (!listen_.empty()) {
    auto listener = std::make_shared<internal::Listener>(*core_);
    listeners_.push_back(listener);
    base::Status s = listener->OpenTcp(listen_, core_->allow_unauthenticated_tcp());
    if (!s.ok()) return fail(s.WithContext("verify listener"));
    tcp_port_ = listener->port();
  }
  for (auto& listener : listeners_) listener->Start();
  for (uint32_t i = 0; i < io_threads_; ++i) {
    threads_.emplace_back([core = core_, i] {
      base::SetCurrentThreadName("otpd-io-" + std::to_string(i));
      auto guard = boost::asio::make_work_guard(core->io());
      while (true) {
        try {
          core->io().run();
          return;
        } catch (const std::exception& e) {
          // Our handlers do not throw; this is a defect elsewhere. Keep serving.
          spdlog::error("verify: io thread caught an exception: {}", e.what());
        }
      }
    });
  }
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
  core_->io().stop();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  listeners_.clear();
  spdlog::info("verify: stopped");
}

void VerifyServer::ApplyRuntimeConfig(const RuntimeConfig& runtime) {
  core_->ApplyLimits(runtime.limits);
  core_->ReplaceClients(runtime.tcp_clients);
  shutdown_grace_ms_.store(runtime.limits.shutdown_grace.count());
}

const ServerStats& VerifyServer::stats() const { return core_->stats(); }

}  // namespace otpd::server
