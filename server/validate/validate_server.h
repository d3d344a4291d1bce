// ValidateServer serves a privacyIDEA-compatible validate API on its own TCP listener
// (validate_listen; TLS required off loopback), on the daemon's io threads:
//   GET|POST /validate/check        privacyIDEA's JSON answer (validate_answer.h)
//   GET|POST /validate/radiuscheck  204 accepted, 400 refused, 403 locked (FreeRADIUS rlm_rest);
//                                   200 with RADIUS attributes for a challenge
// A request naming a user with an empty `pass` starts a phone challenge (an SMS to the user's
// mobile) through the service's Challenge, as the verify socket's CHALLENGE does, and is answered
// with a transaction id (transaction_id.h); the follow-up request with that transaction id and
// the code is a VERIFY of the user.
// Every request authenticates as one of the verify socket's TCP clients ([clients.NAME]) with
// `Authorization: Basic base64(NAME:KEY)` before anything else about it is answered (an unknown
// path without a key is a 401, not a 404). A request without any Authorization header is
// admitted instead when its source address is in the networks of a client configured with
// validate_without_key (client_networks.h): privacyIDEA's own PAM module and FreeRADIUS plugin
// cannot send credentials. A request that sends a header is judged by it alone. Failed
// authentications lock out, as failed HELLOs do (limits.max_failed_hellos a minute), the source
// address with the client they name: a client with a wrong key does not lock out the other clients
// on its host; names that are not configured share one count per address. An answer to a request
// that did not authenticate closes its connection (http_server.h).
//
// A sign-in runs through the same SignInService as the verify socket's VERIFY: the same user
// cache and per-user lock (a code accepted on one door is replayed on the other), the same fence,
// and an ACCEPT is sent only once the new watermark is durable. Requests are parsed and decided
// on the io thread (nothing in the handler blocks); limits.max_in_flight bounds the sign-ins in
// the service at once and limits.request_deadline answers one that takes longer `unavailable`.
//
// Thread-safety: Start and Stop are called by the owning thread; ReplaceClients and stats() from
// any thread.

#ifndef OTPD_SERVER_VALIDATE_VALIDATE_SERVER_H_
#define OTPD_SERVER_VALIDATE_VALIDATE_SERVER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "server/client_keys.h"
#include "server/client_networks.h"
#include "server/config.h"
#include "server/http/http_server.h"
#include "server/io_runner.h"
#include "server/server_stats.h"
#include "server/validate/validate_request.h"
#include "service/signin/sign_in.h"

namespace otpd::server::validate {

struct PendingCall;  // one request being answered (validate_server.cc)

struct ValidateServerOptions {
  std::string tcp_listen;  // HOST:PORT; "" = no listener (Start does nothing)
  std::string tls_cert, tls_key;
  uint32_t max_connections = 256;
  uint32_t max_in_flight = 4096;
  uint32_t max_failed_auths = 10;  // per source address and client, a minute
  std::chrono::milliseconds request_deadline{5000};
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  // Clients admitted without a key from their networks (validate_without_key); none by default.
  ClientNetworkTable keyless_clients;
  // Where users register themselves ([actions] registration_url), named in the Reply-Message of
  // /validate/radiuscheck for a user who must register; "" when there is none.
  std::string registration_url;
};

// Reads the validate fields of a ServerConfig (and the verify socket's limits it shares).
ValidateServerOptions ValidateOptionsFrom(const ServerConfig& config);

class ValidateServer {
 public:
  // `service` and `clock` must outlive the server.
  ValidateServer(std::shared_ptr<IoRunner> runner, ValidateServerOptions options,
                 service::SignInService* service, const ClientTable& clients,
                 const base::Clock& clock = *base::RealClock::Get());
  ~ValidateServer();  // Stop()
  ValidateServer(const ValidateServer&) = delete;
  ValidateServer& operator=(const ValidateServer&) = delete;

  // Loads the TLS certificate (if any) and binds the listener.
  base::Status Start();
  // Stops accepting and lets requests being served answer (up to 5 s). Idempotent.
  void Stop();

  // Registration at the next sign-in (docs/validate-api.md, "Registering at a sign-in"): a user
  // who may register and sends a temporary access pass as `pass` is answered with an enrolment
  // challenge, and the app's first code with its transaction_id confirms it. Null (the default)
  // offers none. `self_service` must outlive the server; set it before Start.
  void SetSelfService(service::SelfService* self_service);

  // Applies reloaded clients: the keys, and the networks of the clients admitted without one.
  void ReplaceClients(const ClientTable& clients, const ClientNetworkTable& keyless);

  uint16_t tcp_port() const;
  const ServerStats& stats() const;
  const ValidateStats& counters() const;

  class State;

 private:
  void OnRequest(http::Request request, const http::Peer& peer, http::Reply reply);
  // Checks the request's client (its key, or its network when it sends no credentials) and
  // counts it as admitted; on failure answers the request and returns false.
  bool Authenticate(const http::Request& request, const http::Peer& peer, PendingCall& call);
  // Whether a request's transaction_id is valid for its user; if not, answers it.
  bool TransactionAllowed(PendingCall& call, const ValidateParams& params);
  // Sends a parsed request to the service (a VERIFY, or a CHALLENGE for an empty `pass`).
  void Begin(std::shared_ptr<PendingCall> call, const ValidateParams& params);

  std::shared_ptr<IoRunner> runner_;
  ValidateServerOptions options_;
  std::shared_ptr<State> state_;
  std::unique_ptr<http::HttpServer> http_;
};

}  // namespace otpd::server::validate

#endif  // OTPD_SERVER_VALIDATE_VALIDATE_SERVER_H_
