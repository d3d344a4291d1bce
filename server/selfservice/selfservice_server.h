// SelfServiceServer serves the users' Security info page (selfservice/ in the source tree,
// docs/selfservice.md) and the API behind it on a TCP listener of its own (selfservice_listen;
// TLS required off loopback), apart from the admin listener: administrators' keys never work
// here and users' sessions never work there.
//
//   GET  /security-info/...               the page's files (http/embedded_files.h)
//   GET  /selfservice/options             what the sign-in form may ask for
//   POST /selfservice/signin              UPN + password + a code from the user's token or app,
//                                         or UPN + temporary access pass: starts a session (or
//                                         UPN + password alone to register, where the operator
//                                         trusts the password for that)
//   GET  /selfservice/session             the session's user and CSRF token
//   POST /selfservice/reauth              a fresh second factor for the writes that need one
//   POST /selfservice/signout             ends the session
//   /v1.0/me/...                          Graph's /me paths for the signed-in user: the methods
//                                         (the admin API's own answers for /users/{upn}/...,
//                                         server/admin/admin_api.h), changePassword,
//                                         revokeSignInSessions, and otpd's /v1.0/me/activity
//                                         and /v1.0/me/signInActivity
//
// Who the caller is: a session cookie (session_table.h; HttpOnly, Secure, SameSite=Strict) and,
// for every write, its CSRF token in X-CSRF-Token. A write to methods or the password needs a
// second factor proven in the last SessionLimits::fresh (the sign-in itself, or /reauth). A
// session also ends when the user's remembered sessions are revoked (their sessions epoch moves
// on) or the user is deleted: both are read from the store on every request. The caller acts as
// service::Principal::SelfService(upn): the services refuse it anything but the user's own
// records (service/admin/roles.h). Factors are checked by the sign-in service, with the same
// per-user lockout as every other door; each change is audited with the actor "user:<upn>".
//
// A phone is saved only once the user typed the code otpd sent to it (an sms.send or voice.call
// event for the hooks, as a sign-in's code); a user never deletes their last second factor.
//
// Thread-safety: Start and Stop are called by the owning thread. Stop it before the sign-in
// service stops: answers to factors it checks call back into this server.

#ifndef OTPD_SERVER_SELFSERVICE_SELFSERVICE_SERVER_H_
#define OTPD_SERVER_SELFSERVICE_SELFSERVICE_SERVER_H_

#include <atomic>
#include <memory>
#include <string>

#include "base/status.h"
#include "server/admin/admin_api.h"
#include "server/config.h"
#include "server/http/http_server.h"
#include "server/internal/hello_guard.h"
#include "server/io_runner.h"
#include "server/selfservice/session_table.h"
#include "service/signin/sign_in.h"
#include "service/signin/worker_pool.h"

namespace otpd::server::selfservice {

struct SelfServiceOptions {
  std::string tcp_listen;  // HOST:PORT; "" = none (Start does nothing)
  std::string tls_cert, tls_key;
  SessionLimits sessions;
  uint32_t max_connections = 256;
  size_t workers = 2;
  // Codes sent to phones being added, per session and window, and how long one is good for.
  int max_phone_codes = 5;
  std::chrono::seconds phone_code_window{600};
  std::chrono::seconds phone_code_ttl{600};
  // A user who may register and holds no temporary access pass signs in with their password
  // alone to register (service::RegistrationFactorFor; [actions] registration_with_password).
  bool registration_with_password = false;
  // Wrong sign-ins and re-authentications an address may make in a minute before its next ones
  // are refused unread (429) for a while, as failed HELLOs are; 0: no such limit (behind a
  // proxy, where every user comes from its address). The user's own lockout holds either way.
  uint32_t max_failed_signins = 20;
};

SelfServiceOptions SelfServiceOptionsFrom(const ServerConfig& config);

class SelfServiceServer {
 public:
  // Everything must outlive the server.
  SelfServiceServer(std::shared_ptr<IoRunner> runner, SelfServiceOptions options,
                    admin::AdminServices services, service::SignInService& sign_in,
                    service::SelfService& self_service);
  ~SelfServiceServer();  // Stop()
  SelfServiceServer(const SelfServiceServer&) = delete;
  SelfServiceServer& operator=(const SelfServiceServer&) = delete;

  base::Status Start();
  void Stop();
  uint16_t tcp_port() const;

  struct Call;  // one request being answered (selfservice_server.cc)

 private:
  void OnRequest(http::Request request, const http::Peer& peer, http::Reply reply);
  void Serve(std::shared_ptr<Call> call);
  // Finds the caller's session and user, or answers the refusal and returns false.
  bool Admit(Call& call, bool write);
  // Runs `task` on a worker; answers 503 when they are all busy.
  void OnWorker(std::shared_ptr<Call> call, std::function<void()> task);

  // selfservice_signin.cc
  void SignIn(std::shared_ptr<Call> call);
  void StartSession(std::shared_ptr<Call> call, const std::string& upn);
  // A session after the password alone, for a user RegistrationFactorFor lets register with it;
  // refused as a wrong factor otherwise.
  void StartRegistration(std::shared_ptr<Call> call, const std::string& upn);
  void SessionInfo(Call& call);
  void Reauthenticate(std::shared_ptr<Call> call);
  void SignOut(Call& call);
  // False, with the 429 answered, while the caller's address is throttled for wrong factors.
  bool AddressAllowed(Call& call);
  // Answers a refused factor (and counts a wrong one against the caller's address).
  void RefuseFactor(Call& call, const service::SignInResult& r, std::string_view code);

  // selfservice_me.cc
  void Me(std::shared_ptr<Call> call);
  void Forward(Call& call, const std::string& rest, std::string body);
  void PhoneMethod(std::shared_ptr<Call> call, const std::string& rest);
  void SendPhoneCode(Call& call, const std::string& number, const std::string& type,
                     const std::string& method);
  void ConfirmApp(std::shared_ptr<Call> call, const std::string& method);
  void ChangePassword(std::shared_ptr<Call> call);
  void RevokeSessions(Call& call);
  void Activity(Call& call);
  // When each method last signed the user in, and the failures since (service::SignInActivity).
  void SignInActivity(Call& call);

  std::shared_ptr<IoRunner> runner_;
  const SelfServiceOptions options_;
  const admin::AdminServices services_;
  service::SignInService& sign_in_;
  service::SelfService& self_service_;
  admin::AdminApi api_;
  SessionTable sessions_;
  internal::HelloGuard address_guard_;  // wrong factors per source address
  std::unique_ptr<service::WorkerPool> workers_;
  std::unique_ptr<http::HttpServer> http_;
  std::atomic<uint64_t> next_worker_{0};
};

}  // namespace otpd::server::selfservice

#endif  // OTPD_SERVER_SELFSERVICE_SELFSERVICE_SERVER_H_
