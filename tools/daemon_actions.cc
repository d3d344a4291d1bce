#include "tools/daemon_actions.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace otpd::tools {

DaemonActions::DaemonActions(const server::ServerConfig& config, storage::Store& store,
                             const storage::KeyRing& keys, const base::Clock& clock)
    : options_(config.actions),
      store_(store),
      keys_(keys),
      clock_(clock),
      directory_(store, keys) {}

base::StatusOr<std::unique_ptr<DaemonActions>> DaemonActions::Create(
    const server::ServerConfig& config, storage::Store& store, const storage::KeyRing& keys,
    const base::Clock& clock) {
  OTPD_ASSIGN_OR_RETURN(auto hooks, server::hooks::LoadHookConfig(config.config_file));
  if (config.store == server::StoreKind::kEtcd && !hooks.empty()) {
    return base::InvalidArgumentError(
        "[hooks] needs store = \"rocksdb\": several nodes on etcd do not record lifecycle "
        "events yet (docs/scale-out.md)");
  }
  std::unique_ptr<DaemonActions> actions(new DaemonActions(config, store, keys, clock));
  actions->hooks_ = std::move(hooks);
  service::PasswordOptions passwords;
  passwords.scrypt.log2_n = config.actions.scrypt_log2_n;
  passwords.threads = config.actions.password_threads;
  actions->hasher_ = std::make_unique<service::PasswordHasher>(passwords);
  return actions;
}

DaemonActions::~DaemonActions() { Stop(); }

void DaemonActions::Attach(service::SignInVerifier& verifier, server::VerifyServer& server) {
  methods_ = std::make_unique<service::MethodAdmin>(store_, keys_, clock_,
                                                    service::MethodAdminOptions{}, &verifier);
  service::SelfServiceOptions self;
  self.remember_default_days = options_.remember_default_days;
  self.registration_without_tap = options_.registration_without_tap;
  self_service_ = std::make_unique<service::SelfServiceActions>(
      directory_, clock_, verifier, *methods_, *hasher_, &verifier, self);
  feed_ = std::make_unique<service::OutboxFeed>(store_, service::FeedOptions{});
  server.SetSelfService(self_service_.get());
  server.SetEventFeed(feed_.get());
}

base::Status DaemonActions::Start() {
  service::HookOptions options;
  options.log = [](const std::string& line) { spdlog::warn("{}", line); };
  dispatcher_ = std::make_unique<service::HookDispatcher>(store_, keys_, clock_, options);
  const size_t count = hooks_.size();
  for (const server::hooks::HookConfig& h : hooks_) {
    hook_kinds_[h.name] = h.type == server::hooks::HookType::kExec ? "exec" : "webhook";
  }
  OTPD_RETURN_IF_ERROR(server::hooks::AddHooks(*dispatcher_, std::move(hooks_), clock_));
  hooks_.clear();
  OTPD_RETURN_IF_ERROR(dispatcher_->Start());
  if (count > 0) spdlog::info("delivering events to {} hook(s)", count);
  return base::OkStatus();
}

void DaemonActions::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (dispatcher_) dispatcher_->Stop();
  if (feed_) feed_->Stop();
  if (self_service_) self_service_->Stop();
  if (hasher_) hasher_->Stop();
}

}  // namespace otpd::tools
