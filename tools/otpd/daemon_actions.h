// What otpd runs beside the verify server for the administrator's actions and the factors they
// govern: the password hasher (its pool), the self-service verbs (REMEMBER, SET_PASSWORD, ENROL,
// CONFIRM), the hook dispatcher with the configured [hooks.NAME] sinks, and the event feed that
// SUBSCRIBE reads. Kept apart from otpd.cc so that its main() only creates, starts and stops it.
//
// With store = "etcd", several nodes share the outbox: only the node that holds the store's
// "outbox" role (storage::Store::NewRole; on etcd an election, storage/etcd/etcd_election.h)
// delivers hooks and prunes old events; every node tries to take the role once a second while
// nobody holds it (docs/scale-out.md). A store without roles (RocksDB) needs no election.
//
// Order (otpd.cc): Create (before the SignInVerifier: its options need the hasher), then Attach
// to the verifier and the server, Start; at the end Stop after the server stopped and before the
// verifier and the store go.

#ifndef OTPD_TOOLS_OTPD_DAEMON_ACTIONS_H_
#define OTPD_TOOLS_OTPD_DAEMON_ACTIONS_H_

#include <map>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/statusor.h"
#include "server/config.h"
#include "server/hooks/hook_config.h"
#include "server/verify_server.h"
#include "service/admin/method_admin.h"
#include "service/credentials/passwords.h"
#include "service/hooks/hooks.h"
#include "service/model/directory.h"
#include "service/signin/self_service.h"
#include "service/signin/sign_in_verifier.h"
#include "storage/keyring.h"
#include "storage/store.h"

namespace otpd::tools {

class DaemonActions {
 public:
  // Reads the hooks of the configuration file (an error names the key at fault) and makes the
  // hasher. Nothing runs yet.
  static base::StatusOr<std::unique_ptr<DaemonActions>> Create(const server::ServerConfig& config,
                                                               storage::Store& store,
                                                               const storage::KeyRing& keys,
                                                               const base::Clock& clock);
  ~DaemonActions();  // Stop()

  service::PasswordHasher* hasher() { return hasher_.get(); }
  // After Start: the dispatcher (with no sinks when none is configured) and each configured
  // hook's kind ("exec", "webhook") by name, for the admin API.
  service::HookDispatcher* dispatcher() { return dispatcher_.get(); }
  // The self-service verbs, once attached (null before).
  service::SelfService* self_service() { return self_service_.get(); }
  const std::map<std::string, std::string, std::less<>>& hook_kinds() const { return hook_kinds_; }

  // Makes the services that need the verifier and gives the server its verbs' services.
  void Attach(service::SignInVerifier& verifier, server::VerifyServer& server);
  // Starts hook delivery (on etcd: the election for it) and the feed.
  base::Status Start();
  // Stops delivery, the feed, the self-service pool and the hasher (queued work finishes).
  // Idempotent.
  void Stop();

 private:
  DaemonActions(const server::ServerConfig& config, storage::Store& store,
                const storage::KeyRing& keys, const base::Clock& clock);

  const server::ActionsConfig options_;
  storage::Store& store_;
  const storage::KeyRing& keys_;
  const base::Clock& clock_;
  std::vector<server::hooks::HookConfig> hooks_;
  std::map<std::string, std::string, std::less<>> hook_kinds_;
  service::Directory directory_;
  std::unique_ptr<service::PasswordHasher> hasher_;
  std::unique_ptr<service::MethodAdmin> methods_;
  std::unique_ptr<service::SelfServiceActions> self_service_;
  std::unique_ptr<service::HookDispatcher> dispatcher_;
  std::unique_ptr<service::OutboxFeed> feed_;
  // The delivery role among nodes sharing the store; null for a store without roles (RocksDB).
  struct Role;
  std::unique_ptr<Role> role_;
  bool stopped_ = false;
};

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPD_DAEMON_ACTIONS_H_
