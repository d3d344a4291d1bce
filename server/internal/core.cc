#include "server/internal/core.h"

#include <spdlog/spdlog.h>

namespace otpd::server::internal {

Core::Core(service::SignInService* service, const ServerConfig& config, const base::Clock& clock,
           std::shared_ptr<IoRunner> runner)
    : service_(service),
      clock_(clock),
      hello_guard_(clock, [](const std::string& line) { spdlog::warn("{}", line); }),
      max_line_(config.limits.max_line),
      allow_unauthenticated_tcp_(config.allow_unauthenticated_tcp),
      clients_(config.tcp_clients),
      runner_(runner),
      io_(runner->io()) {
  ApplyLimits(config.limits);
}

void Core::ApplyLimits(const ServerLimits& limits) {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  max_connections_.store(limits.max_connections, kRelaxed);
  max_tcp_connections_.store(limits.max_tcp_connections, kRelaxed);
  max_in_flight_.store(limits.max_in_flight, kRelaxed);
  pipeline_depth_.store(limits.pipeline_depth, kRelaxed);
  max_failed_hellos_.store(limits.max_failed_hellos, kRelaxed);
  idle_timeout_ms_.store(limits.idle_timeout.count(), kRelaxed);
  line_timeout_ms_.store(limits.line_timeout.count(), kRelaxed);
  hello_timeout_ms_.store(limits.hello_timeout.count(), kRelaxed);
  request_deadline_ms_.store(limits.request_deadline.count(), kRelaxed);
}

void Core::Register(const std::shared_ptr<Session>& session) {
  base::MutexLock lock(sessions_mu_);
  sessions_.emplace(session.get(), session);
}

void Core::Unregister(Session* session) {
  base::MutexLock lock(sessions_mu_);
  sessions_.erase(session);
  if (sessions_.empty()) sessions_cv_.SignalAll();
}

std::vector<std::shared_ptr<Session>> Core::LiveSessions() {
  std::vector<std::shared_ptr<Session>> live;
  base::MutexLock lock(sessions_mu_);
  for (auto& [ptr, weak] : sessions_) {
    if (auto s = weak.lock()) live.push_back(std::move(s));
  }
  return live;
}

bool Core::WaitForNoSessions(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  base::MutexLock lock(sessions_mu_);
  while (!sessions_.empty()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds(0)) return false;
    sessions_cv_.WaitFor(lock, left);
  }
  return true;
}

}  // namespace otpd::server::internal
