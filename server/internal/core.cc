#include "server/internal/core.h"

#include "base/constant_time.h"

namespace otpd::server::internal {

Core::Core(service::SignInService* service, const ServerConfig& config)
    : service_(service),
      max_line_(config.limits.max_line),
      allow_unauthenticated_tcp_(config.allow_unauthenticated_tcp),
      dummy_key_(base::SecretBytes(32)),
      io_(static_cast<int>(config.io_threads)) {
  ApplyLimits(config.limits);
  auto clients = std::make_shared<ClientTable>();
  for (const auto& [name, key] : config.tcp_clients) clients->emplace(name, key.Clone());
  clients_ = std::move(clients);
}

void Core::ApplyLimits(const ServerLimits& limits) {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  max_connections_.store(limits.max_connections, kRelaxed);
  max_in_flight_.store(limits.max_in_flight, kRelaxed);
  pipeline_depth_.store(limits.pipeline_depth, kRelaxed);
  idle_timeout_ms_.store(limits.idle_timeout.count(), kRelaxed);
  line_timeout_ms_.store(limits.line_timeout.count(), kRelaxed);
  request_deadline_ms_.store(limits.request_deadline.count(), kRelaxed);
}

void Core::ReplaceClients(const ClientTable& clients) {
  auto table = std::make_shared<ClientTable>();
  for (const auto& [name, key] : clients) table->emplace(name, key.Clone());
  std::lock_guard<std::mutex> lock(clients_mu_);
  clients_ = std::move(table);
}

bool Core::Authenticate(std::string_view client, std::string_view key) const {
  std::shared_ptr<const ClientTable> table;
  {
    std::lock_guard<std::mutex> lock(clients_mu_);
    table = clients_;
  }
  auto it = table->find(client);
  bool known = it != table->end();
  // Compare against a dummy key for an unknown client, so that the time taken does not tell
  // which client names exist.
  const base::SecretBytes& expected = known ? it->second : dummy_key_;
  bool equal = base::ConstantTimeEquals(expected.view(), key);
  return known & equal;
}

void Core::Register(const std::shared_ptr<Session>& session) {
  std::lock_guard<std::mutex> lock(sessions_mu_);
  sessions_.emplace(session.get(), session);
}

void Core::Unregister(Session* session) {
  std::lock_guard<std::mutex> lock(sessions_mu_);
  sessions_.erase(session);
  if (sessions_.empty()) sessions_cv_.notify_all();
}

std::vector<std::shared_ptr<Session>> Core::LiveSessions() {
  std::vector<std::shared_ptr<Session>> live;
  std::lock_guard<std::mutex> lock(sessions_mu_);
  for (auto& [ptr, weak] : sessions_) {
    if (auto s = weak.lock()) live.push_back(std::move(s));
  }
  return live;
}

bool Core::WaitForNoSessions(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(sessions_mu_);
  return sessions_cv_.wait_for(lock, timeout, [this] { return sessions_.empty(); });
}

}  // namespace otpd::server::internal
