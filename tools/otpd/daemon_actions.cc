#include "tools/otpd/daemon_actions.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <utility>

#include "base/mutex.h"
#include "base/thread_name.h"
#include "storage/store_role.h"

namespace otpd::tools {

// Tries to take the delivery role once a second while this node does not hold it.
struct DaemonActions::Role {
  std::unique_ptr<storage::StoreRole> election;
  base::Mutex mu;
  base::CondVar cv;
  bool stop OTPD_GUARDED_BY(mu) = false;
  std::thread thread;

  void Run() {
    bool held = false;
    for (;;) {
      {
        base::MutexLock lock(mu);
        if (stop) return;
      }
      if (!election->held()) {
        if (held) spdlog::warn("this node no longer delivers the outbox (hooks, pruning)");
        held = false;
        base::StatusOr<bool> taken = election->TryAcquire();
        if (!taken.ok()) {
          spdlog::debug("outbox role: {}", taken.status().message());
        } else if (*taken) {
          held = true;
          spdlog::info("this node delivers the outbox now (hooks, pruning)");
        }
      }
      base::MutexLock lock(mu);
      if (!stop) cv.WaitFor(lock, std::chrono::seconds(1));
    }
  }

  void Stop() {
    {
      base::MutexLock lock(mu);
      stop = true;
    }
    cv.SignalAll();
    if (thread.joinable()) thread.join();
  }
};

namespace {

// The outbox delivery role on a store that several nodes share; null for a store without roles
// (this process is its only writer, so this node delivers).
base::StatusOr<std::unique_ptr<storage::StoreRole>> DeliveryRole(const server::ServerConfig& config,
                                                                 const storage::Store& store) {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  storage::RoleOptions role;
  role.name = "outbox";
  role.holder = std::string(host) + ":" + std::to_string(getpid());
  role.ttl = std::chrono::seconds(config.etcd_lease_ttl_s);
  role.on_lost = [] { spdlog::warn("the outbox role was lost (its etcd lease ran out)"); };
  base::StatusOr<std::unique_ptr<storage::StoreRole>> held = store.NewRole(std::move(role));
  if (base::IsUnimplemented(held.status())) return std::unique_ptr<storage::StoreRole>();
  return held;
}

}  // namespace

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
  std::unique_ptr<DaemonActions> actions(new DaemonActions(config, store, keys, clock));
  OTPD_ASSIGN_OR_RETURN(std::unique_ptr<storage::StoreRole> role, DeliveryRole(config, store));
  if (role) {
    actions->role_ = std::make_unique<Role>();
    actions->role_->election = std::move(role);
  }
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
  self.registration_with_password = options_.registration_with_password;
  self_service_ = std::make_unique<service::SelfServiceActions>(
      directory_, clock_, verifier, *methods_, *hasher_, &verifier, self);
  feed_ = std::make_unique<service::OutboxFeed>(store_, service::FeedOptions{});
  server.SetSelfService(self_service_.get());
  server.SetEventFeed(feed_.get());
}

base::Status DaemonActions::Start() {
  service::HookOptions options;
  options.log = [](const std::string& line) { spdlog::warn("{}", line); };
  if (role_) {
    storage::StoreRole* election = role_->election.get();
    options.active = [election] { return election->held(); };
    Role* role = role_.get();
    role_->thread = std::thread([role] {
      base::SetCurrentThreadName("otpd-role");
      role->Run();
    });
  }
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
  if (role_) role_->Stop();
  if (dispatcher_) dispatcher_->Stop();
  // Another node takes the role at once instead of after the lease's TTL.
  if (role_ && role_->election) (void)role_->election->Resign();
  if (feed_) feed_->Stop();
  if (self_service_) self_service_->Stop();
  if (hasher_) hasher_->Stop();
}

}  // namespace otpd::tools
