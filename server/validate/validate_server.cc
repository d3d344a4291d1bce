#include "server/validate/validate_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/string.hpp>
#include <optional>
#include <set>

#include "base/codec.h"
#include "server/internal/hello_guard.h"
#include "server/validate/not_served.h"
#include "server/validate/transaction_id.h"
#include "server/validate/validate_answer.h"
#include "server/validate/validate_request.h"
#include "tokenio/qr.h"

namespace otpd::server::validate {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

// What the server's requests share with the service callbacks that may outlive it.
class ValidateServer::State {
 public:
  State(service::SignInService* service, const ClientTable& clients,
        const ClientNetworkTable& keyless, const base::Clock& clock)
      : service(service),
        clock(clock),
        clients(clients),
        keyless(keyless),
        guard(clock, [](const std::string& line) { spdlog::warn("validate: {}", line); }) {
    SetNames(clients);
  }

  double Now() const { return static_cast<double>(clock.NowUnixMicros()) / 1e6; }

  void SetNames(const ClientTable& table) {
    std::set<std::string, std::less<>> names;
    for (const auto& [name, key] : table) names.insert(name);
    base::MutexLock lock(names_mu);
    configured = std::move(names);
  }
  // What failed authentications are counted under: the address and the client, so that one
  // misconfigured client does not lock out the others on its host. Names that are not configured
  // share one count per address, so that inventing names earns no guesses and no table entries.
  std::string ThrottleKey(std::string_view address, std::string_view name) {
    base::MutexLock lock(names_mu);
    if (!name.empty() && configured.contains(name)) {
      return std::string(address) + ", client " + std::string(name);
    }
    return std::string(address) + ", no configured client";
  }

  service::SignInService* const service;
  service::SelfService* self = nullptr;  // set before Start; null: no registration at sign-in
  std::string registration_url;          // ValidateServerOptions::registration_url
  const base::Clock& clock;
  ClientKeys clients;
  ClientNetworks keyless;  // clients admitted without a key, by source network
  internal::HelloGuard guard;
  ServerStats stats;
  ValidateStats counters;
  std::optional<TransactionIds> ids;  // set by Start, before the first request

 private:
  base::Mutex names_mu;
  std::set<std::string, std::less<>> configured OTPD_GUARDED_BY(names_mu);
};

enum class Route { kCheck, kRadiusCheck };
// What a request asks of the service: a code to check, a phone code to send, or (after a code
// refused because the user must register) an app to enrol with a pass or to confirm.
enum class Mode { kVerify, kChallenge, kEnrol, kConfirm };

// How long an enrolment's transaction id stays valid: as long as the app may stay unconfirmed.
constexpr int64_t kEnrolmentSeconds = 600;

// What a deferred answer needs of its request.
struct PendingCall {
  Route route;
  Mode mode = Mode::kVerify;
  bool by_serial = false;
  std::string user;  // the user named (a challenge's transaction id is bound to it)
  // /validate/check's pass, kept for a registration that follows the code's refusal.
  base::SecretBytes pass;
  bool transaction = false;  // a valid transaction_id came with it
  unsigned version = 11;
  bool keep_alive = true;
  std::chrono::steady_clock::time_point start;
  http::Reply reply;
  bool answered = false;  // on `strand`
  std::optional<asio::strand<asio::io_context::executor_type>> strand;
  std::optional<asio::steady_timer> deadline;  // on `strand`

  ValidateStats::Endpoint endpoint() const {
    return route == Route::kCheck ? ValidateStats::kCheck : ValidateStats::kRadiusCheck;
  }
};

namespace {

using service::Outcome;
using Result = ValidateStats::Result;
using Call = PendingCall;

http::Response Respond(const Call& call, unsigned status, std::string body) {
  http::Response r{static_cast<bhttp::status>(status), call.version};
  r.set(bhttp::field::server, "otpd");
  r.set(bhttp::field::cache_control, "no-store");
  if (!body.empty()) r.set(bhttp::field::content_type, "application/json");
  r.keep_alive(call.keep_alive);
  r.body() = std::move(body);
  r.prepare_payload();
  return r;
}

// An answer that is not a sign-in decision: an error JSON body on /validate/check, the bare status
// on /validate/radiuscheck.
http::Response Refuse(const Call& call, unsigned status, int code, std::string_view message,
                      double now) {
  if (call.route == Route::kRadiusCheck) return Respond(call, status, "");
  return Respond(call, status, ErrorAnswer(status, code, message, now).body);
}

// What `Authorization: Basic base64(NAME:KEY)` says.
struct BasicCredentials {
  bool present = false;        // a Basic header was sent at all
  std::string name;            // the client it names ("" when unreadable)
  bool authenticated = false;  // NAME is configured and KEY is its key
};

BasicCredentials ReadBasic(const ClientKeys& clients, std::string_view header) {
  constexpr std::string_view kBasic = "Basic ";
  BasicCredentials out;
  out.present = header.size() > kBasic.size() &&
                boost::beast::iequals(header.substr(0, kBasic.size()), kBasic);
  if (!out.present) return out;
  base::StatusOr<base::SecretBytes> decoded = base::Base64Decode(header.substr(kBasic.size()));
  if (!decoded.ok()) return out;
  const std::string_view text = decoded->view();
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return out;
  out.name = std::string(text.substr(0, colon));
  out.authenticated = clients.Authenticate(out.name, text.substr(colon + 1));
  return out;
}

void Submit(const std::shared_ptr<ValidateServer::State>& state, const std::shared_ptr<Call>& call,
            Mode mode, std::string_view user, std::string_view serial, std::string_view pass);
void Decide(ValidateServer::State& s, Call& call, const service::SignInResult& result);
bool MayRegister(const ValidateServer::State& s, const Call& call, Outcome outcome);
void Register(const std::shared_ptr<ValidateServer::State>& state,
              const std::shared_ptr<Call>& call, service::SignInResult refused);
void FinishRegistration(ValidateServer::State& s, Call& call, const service::SignInResult& refused,
                        const service::ActionResult& r);

// The answer to a challenge's result, or false when the result is answered as a sign-in's.
bool AnswerChallenge(ValidateServer::State& s, Call& call, const service::SignInResult& result) {
  if (result.outcome == Outcome::kRateLimited) {
    s.counters.Count(call.endpoint(), Result::kReject);
    s.stats.CountFail(result.outcome);
    if (call.route == Route::kRadiusCheck) {
      call.reply(
          Respond(call, 200,
                  RadiusRefusalBody("Too many codes were sent; try again in " +
                                    std::to_string(result.retry_after_seconds) + " seconds")));
      return true;
    }
    Answer answer = RateLimitedAnswer(result.retry_after_seconds, s.Now());
    call.reply(Respond(call, answer.http_status, std::move(answer.body)));
    return true;
  }
  if (result.outcome != Outcome::kAccepted) return false;
  const int64_t expires = s.clock.NowUnixSeconds() + result.expires_in_seconds;
  base::StatusOr<std::string> id = s.ids->Issue(call.user, expires);
  if (!id.ok()) {
    spdlog::error("validate: cannot issue a transaction id: {}", id.status().message());
    s.counters.Count(call.endpoint(), Result::kError);
    s.stats.CountFail(Outcome::kUnavailable);
    call.reply(Refuse(call, 503, kErrorServer, "otpd could not decide; try again", s.Now()));
    return true;
  }
  s.counters.Count(call.endpoint(), Result::kChallenge);
  if (call.route == Route::kRadiusCheck) {
    call.reply(Respond(call, 200, RadiusChallengeBody(*id)));
    return true;
  }
  Answer answer = ChallengeAnswer(
      ChallengeSent{*id, result.phone_serial, result.channel, result.expires_in_seconds}, s.Now());
  call.reply(Respond(call, answer.http_status, std::move(answer.body)));
  return true;
}

// Answers once: the service's result, or `unavailable` at the deadline (whichever comes first),
// on the call's strand (an io thread, not the commit pipeline's).
void Finish(const std::shared_ptr<ValidateServer::State>& state, const std::shared_ptr<Call>& call,
            service::SignInResult result) {
  if (call->answered) return;
  ValidateServer::State& s = *state;
  if (call->mode == Mode::kChallenge && result.outcome == Outcome::kNoMethod) {
    // No phone to send a code to: the empty `pass` is checked as a code, as it was before
    // challenges (a REJECT, or "no tokens" for a user without any method).
    call->mode = Mode::kVerify;
    const std::string user = call->user;
    s.stats.in_flight.fetch_add(1, std::memory_order_relaxed);
    return Submit(state, call, Mode::kVerify, user, "", "");
  }
  if (call->mode == Mode::kVerify && MayRegister(s, *call, result.outcome)) {
    return Register(state, call, std::move(result));
  }
  call->answered = true;
  call->deadline->cancel();
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(s.clock.SteadyNow() - call->start)
          .count();
  s.stats.RecordLatency(micros < 0 ? 0 : static_cast<uint64_t>(micros));
  if (call->mode == Mode::kChallenge && AnswerChallenge(s, *call, result)) return;
  Decide(s, *call, result);
}

// Answers a sign-in's decision.
void Decide(ValidateServer::State& s, Call& call, const service::SignInResult& result) {
  if (result.outcome == Outcome::kAccepted) {
    s.stats.accepted.fetch_add(1, std::memory_order_relaxed);
  } else {
    s.stats.CountFail(result.outcome);
  }
  s.counters.Count(call.endpoint(), result.outcome == Outcome::kAccepted      ? Result::kAccept
                                    : result.outcome == Outcome::kUnavailable ? Result::kError
                                                                              : Result::kReject);
  if (call.route == Route::kRadiusCheck) {
    // RADIUS cannot show a QR code: the user is told where to register, never let in.
    if (result.outcome == Outcome::kRegistrationRequired || result.outcome == Outcome::kNoMethod) {
      return call.reply(
          Respond(call, 200, RadiusRefusalBody(RegistrationMessage(s.registration_url))));
    }
    return call.reply(Respond(call, RadiusStatus(result.outcome), ""));
  }
  Answer answer = CheckAnswer(result, call.by_serial, s.Now());
  call.reply(Respond(call, answer.http_status, std::move(answer.body)));
}

// Whether a code refused with `outcome` may be the start or the end of a registration: the user
// must register (or has no second factor: the service decides who may) and sent something.
bool MayRegister(const ValidateServer::State& s, const Call& call, Outcome outcome) {
  if (s.self == nullptr || call.route != Route::kCheck || call.by_serial || call.pass.empty()) {
    return false;
  }
  // With a transaction id: the new app's code. Without: the first factor the service trusts for
  // a registration (service::RegistrationFactorFor), which refuses digits where a pass is due.
  if (call.transaction) {
    return outcome == Outcome::kRegistrationRequired || outcome == Outcome::kNoMethod;
  }
  // A pass is no code: refused as malformed, maybe before the user's state was read.
  return outcome == Outcome::kRegistrationRequired || outcome == Outcome::kNoMethod ||
         outcome == Outcome::kBadRequest;
}

// With a transaction id, the code confirms the app enrolled by the challenge; without one, the
// pass is taken as the first factor of a registration (a temporary access pass, or the user's
// password where the operator trusts it) to enrol one. `refused` is answered if neither
// applies (the service refuses: not a user who may register, no pending app).
void Register(const std::shared_ptr<ValidateServer::State>& state,
              const std::shared_ptr<Call>& call, service::SignInResult refused) {
  call->mode = call->transaction ? Mode::kConfirm : Mode::kEnrol;
  state->stats.in_flight.fetch_add(1, std::memory_order_relaxed);
  service::ActionCallback done = [state, call,
                                  refused = std::move(refused)](service::ActionResult r) mutable {
    state->stats.in_flight.fetch_sub(1, std::memory_order_relaxed);
    asio::post(*call->strand, [state, call, refused = std::move(refused), r = std::move(r)]() {
      FinishRegistration(*state, *call, refused, r);
    });
  };
  if (call->mode == Mode::kConfirm) {
    state->self->Confirm(service::ConfirmRequest{.user = call->user, .otp = call->pass.view()},
                         std::move(done));
  } else {
    state->self->Enrol(
        service::EnrolRequest{.user = call->user, .tap = call->pass.view(), .at_sign_in = true},
        std::move(done));
  }
}

void FinishRegistration(ValidateServer::State& s, Call& call, const service::SignInResult& refused,
                        const service::ActionResult& r) {
  if (call.answered) return;  // the deadline answered first
  call.answered = true;
  call.deadline->cancel();
  // Neither a user who may register nor a pass or app to register with: the code's refusal.
  if (r.outcome == Outcome::kRefused || r.outcome == Outcome::kTapRequired ||
      (r.outcome == Outcome::kNoMethod && call.mode == Mode::kConfirm) ||
      (r.outcome == Outcome::kBadRequest && call.mode == Mode::kEnrol)) {
    return Decide(s, call, refused);
  }
  service::SignInResult decided;
  decided.outcome = r.outcome;
  decided.retry_after_seconds = r.retry_after_seconds;
  if (r.outcome != Outcome::kAccepted || call.mode == Mode::kConfirm) {
    if (r.outcome == Outcome::kAccepted) decided.method_kind = service::MethodKind::kSoftwareOath;
    return Decide(s, call, decided);
  }
  // An app was enrolled: its QR code, under a transaction id that its first code answers.
  std::string method, uri;
  for (const auto& [name, value] : r.fields) {
    if (name == "method") method = value;
    if (name == "uri") uri = value;
  }
  base::StatusOr<std::string> id =
      s.ids->Issue(call.user, s.clock.NowUnixSeconds() + kEnrolmentSeconds);
  base::StatusOr<base::SecretBytes> svg = tokenio::QrSvg(uri);
  base::Wipe(uri.data(), uri.size());
  if (!id.ok() || !svg.ok()) {
    spdlog::error("validate: cannot answer an enrolment: {}",
                  (!id.ok() ? id.status() : svg.status()).message());
    decided.outcome = Outcome::kUnavailable;
    return Decide(s, call, decided);
  }
  s.counters.Count(call.endpoint(), Result::kChallenge);
  ChallengeSent enrolment{.transaction_id = *id,
                          .serial = method,
                          .type = "totp",
                          .expires_in_seconds = kEnrolmentSeconds,
                          .message = kEnrolmentMessage};
  for (const auto& [name, value] : r.fields) {
    if (name == "uri") enrolment.otpauth_uri = value;
  }
  enrolment.image = "data:image/svg+xml;base64," + base::Base64Encode(svg->span());
  Answer answer = ChallengeAnswer(enrolment, s.Now());
  base::Wipe(enrolment.image.data(), enrolment.image.size());
  base::Wipe(enrolment.otpauth_uri.data(), enrolment.otpauth_uri.size());
  call.reply(Respond(call, answer.http_status, std::move(answer.body)));
}

// Hands the call to the service (the caller has counted it in stats.in_flight); its result comes
// back to Finish on the call's strand. `mode` is passed rather than read from the call, which
// the deadline may change on the strand meanwhile.
void Submit(const std::shared_ptr<ValidateServer::State>& state, const std::shared_ptr<Call>& call,
            Mode mode, std::string_view user, std::string_view serial, std::string_view pass) {
  service::SignInCallback done = [state, call](service::SignInResult result) {
    state->stats.in_flight.fetch_sub(1, std::memory_order_relaxed);
    asio::post(*call->strand, [state, call, result = std::move(result)]() mutable {
      Finish(state, call, std::move(result));
    });
  };
  if (mode == Mode::kChallenge) {
    // A code to the phone of the user's default sign-in method (a call where it says so), else
    // an SMS to their mobile: the one phone privacyIDEA's "sms" type stands for.
    state->service->Challenge(service::ChallengeRequest{user, "", ""}, std::move(done));
  } else {
    state->service->Verify(service::VerifyRequest{user, serial, pass}, std::move(done));
  }
}

}  // namespace

ValidateServerOptions ValidateOptionsFrom(const ServerConfig& config) {
  ValidateServerOptions o;
  o.tcp_listen = config.validate_listen;
  o.tls_cert = config.validate_tls_cert;
  o.tls_key = config.validate_tls_key;
  o.max_connections = config.limits.max_tcp_connections;
  o.max_in_flight = config.limits.max_in_flight;
  o.max_failed_auths = config.limits.max_failed_hellos;
  o.request_deadline = config.limits.request_deadline;
  o.keyless_clients = config.validate_keyless_clients;
  o.registration_url = config.actions.registration_url;
  return o;
}

ValidateServer::ValidateServer(std::shared_ptr<IoRunner> runner, ValidateServerOptions options,
                               service::SignInService* service, const ClientTable& clients,
                               const base::Clock& clock)
    : runner_(std::move(runner)),
      options_(std::move(options)),
      state_(std::make_shared<State>(service, clients, options_.keyless_clients, clock)) {
  state_->registration_url = options_.registration_url;
}

ValidateServer::~ValidateServer() { Stop(); }

void ValidateServer::SetSelfService(service::SelfService* self_service) {
  state_->self = self_service;
}

uint16_t ValidateServer::tcp_port() const { return http_ ? http_->tcp_port() : 0; }
const ServerStats& ValidateServer::stats() const { return state_->stats; }
const ValidateStats& ValidateServer::counters() const { return state_->counters; }
void ValidateServer::ReplaceClients(const ClientTable& clients, const ClientNetworkTable& keyless) {
  state_->clients.Replace(clients);
  state_->keyless.Replace(keyless);
  state_->SetNames(clients);
}

base::Status ValidateServer::Start() {
  if (options_.tcp_listen.empty()) return base::OkStatus();
  // Said in a RADIUS Reply-Message (at most 253 bytes with the sentence around it).
  const std::string_view url = options_.registration_url;
  if (!url.empty() &&
      (url.size() > 200 || !(url.starts_with("https://") || url.starts_with("http://")))) {
    return base::InvalidArgumentError(
        "actions.registration_url must be an http:// or https:// address of at most 200 "
        "characters");
  }
  OTPD_ASSIGN_OR_RETURN(TransactionIds ids, TransactionIds::Create());
  state_->ids.emplace(std::move(ids));
  http::HttpServerOptions o;
  o.name = "validate";
  o.tcp_listen = options_.tcp_listen;
  if (!options_.tls_cert.empty()) {
    OTPD_ASSIGN_OR_RETURN(o.tls, http::MakeTlsContext(options_.tls_cert, options_.tls_key));
  }
  o.max_connections = options_.max_connections;
  o.header_timeout = options_.header_timeout;
  o.body_timeout = options_.header_timeout;
  o.idle_timeout = options_.idle_timeout;
  o.body_limit = [](const http::RequestHeader&) { return kMaxBody; };
  http_ = std::make_unique<http::HttpServer>(
      runner_, std::move(o),
      [this](http::Request request, const http::Peer& peer, http::Reply reply) {
        OnRequest(std::move(request), peer, std::move(reply));
      });
  OTPD_RETURN_IF_ERROR(http_->Start());
  spdlog::info("validate: serving tcp port {}{}", http_->tcp_port(),
               options_.tls_cert.empty() ? "" : " (TLS)");
  return base::OkStatus();
}

void ValidateServer::Stop() {
  if (http_) http_->Stop();
}

void ValidateServer::OnRequest(http::Request request, const http::Peer& peer, http::Reply reply) {
  State& s = *state_;
  s.stats.requests.fetch_add(1, std::memory_order_relaxed);
  auto call = std::make_shared<Call>();
  call->version = request.version();
  call->keep_alive = request.keep_alive();
  call->start = s.clock.SteadyNow();
  call->reply = std::move(reply);
  // The body may hold a code: wipe it however this request ends.
  struct WipeBody {
    std::string& body;
    ~WipeBody() { base::Wipe(body.data(), body.size()); }
  } wipe_body{request.body()};

  std::string_view path = request.target();
  path = path.substr(0, path.find('?'));
  const bool known = path == "/validate/check" || path == "/validate/radiuscheck";
  call->route = path == "/validate/radiuscheck" ? Route::kRadiusCheck : Route::kCheck;
  // Every request authenticates before anything else is answered, so that a client without a key
  // learns nothing, is counted toward the throttle, and loses its connection with the answer.
  if (!Authenticate(request, peer, *call)) return;
  call->reply.MarkAuthenticated();
  if (!known) {
    s.counters.Count(ValidateStats::kCheck, Result::kError);
    // privacyIDEA's other endpoints that its clients call answer in its shapes.
    if (std::optional<Answer> answer = NotServedAnswer(path, request, s.Now())) {
      http::Response r = Respond(*call, answer->http_status, std::move(answer->body));
      if (!answer->allow.empty()) r.set(bhttp::field::allow, answer->allow);
      return call->reply(std::move(r));
    }
    return call->reply(Refuse(*call, 404, kErrorNotFound,
                              "the validate listener serves /validate/check and "
                              "/validate/radiuscheck",
                              s.Now()));
  }
  if (request.method() != bhttp::verb::get && request.method() != bhttp::verb::post) {
    s.counters.Count(call->endpoint(), Result::kError);
    http::Response r = Refuse(*call, 405, kErrorParameter, "use GET or POST", s.Now());
    r.set(bhttp::field::allow, "GET, POST");
    return call->reply(std::move(r));
  }

  base::StatusOr<ValidateParams> params = ParseValidateRequest(request);
  if (!params.ok()) {
    s.stats.CountFail(Outcome::kBadRequest);
    s.counters.Count(call->endpoint(), Result::kError);
    SPDLOG_DEBUG("validate: bad request: {}", params.status().message());
    return call->reply(Refuse(*call, 400, kErrorParameter, params.status().message(), s.Now()));
  }
  Begin(std::move(call), *params);
}

bool ValidateServer::Authenticate(const http::Request& request, const http::Peer& peer,
                                  PendingCall& call) {
  // HTTP Basic with a [clients.NAME] key, throttled per address and client (State::ThrottleKey).
  State& s = *state_;
  // No credentials at all: admitted only from the networks of a client that opted in
  // (validate_without_key). A request that sends a header is judged by it, wherever it comes
  // from.
  if (request.find(bhttp::field::authorization) == request.end()) {
    if (std::optional<std::string> client = s.keyless.Match(peer.address)) {
      s.counters.CountAdmitted(*client, /*by_network=*/true);
      return true;
    }
  }
  const BasicCredentials given = ReadBasic(s.clients, request[bhttp::field::authorization]);
  const std::string key = s.ThrottleKey(peer.address, given.name);
  if (!s.guard.Allowed(key)) {
    s.guard.Failed(key, options_.max_failed_auths, /*throttled=*/true);
    s.stats.hellos_throttled.fetch_add(1, std::memory_order_relaxed);
    s.counters.auth_throttled.fetch_add(1, std::memory_order_relaxed);
    s.counters.Count(call.endpoint(), Result::kError);
    http::Response r =
        Refuse(call, 429, kErrorWrongClient,
               "too many failed authentications from this address and client", s.Now());
    r.set(bhttp::field::retry_after, "60");
    call.reply(std::move(r));
    return false;
  }
  if (given.authenticated) {
    s.counters.CountAdmitted(given.name, /*by_network=*/false);
    return true;
  }
  s.guard.Failed(key, options_.max_failed_auths);
  s.stats.hellos_failed.fetch_add(1, std::memory_order_relaxed);
  s.stats.CountFail(Outcome::kUnauthorized);
  s.counters.auth_failed.fetch_add(1, std::memory_order_relaxed);
  s.counters.Count(call.endpoint(), Result::kError);
  http::Response r =
      given.present
          ? Refuse(call, 401, kErrorWrongClient, "wrong client name or key", s.Now())
          : Refuse(call, 401, kErrorNoClientAuth,
                   "send Authorization: Basic with a client name and key ([clients.NAME])",
                   s.Now());
  r.set(bhttp::field::www_authenticate, "Basic realm=\"otpd\"");
  call.reply(std::move(r));
  return false;
}

bool ValidateServer::TransactionAllowed(PendingCall& call, const ValidateParams& params) {
  // The answer to a challenge: the transaction id must be this user's and unexpired; then the
  // code is checked as any code of the user (the phone's code is one of them).
  State& s = *state_;
  if (call.by_serial) {
    s.counters.Count(call.endpoint(), Result::kError);
    call.reply(Refuse(call, 400, kErrorParameter,
                      "a transaction_id is answered with 'user', not 'serial'", s.Now()));
    return false;
  }
  const TransactionCheck check =
      s.ids->Check(params.transaction_id, params.user, s.clock.NowUnixSeconds());
  if (check == TransactionCheck::kValid) return true;
  s.counters.Count(call.endpoint(), Result::kReject);
  if (call.route == Route::kRadiusCheck) {
    call.reply(Respond(call, 400, ""));
  } else {
    Answer answer = TransactionRefusedAnswer(check, s.Now());
    call.reply(Respond(call, answer.http_status, std::move(answer.body)));
  }
  return false;
}

void ValidateServer::Begin(std::shared_ptr<PendingCall> call, const ValidateParams& params) {
  State& s = *state_;
  call->by_serial = !params.serial.empty();
  call->user = params.user;
  if (call->route == Route::kCheck && !call->by_serial && s.self != nullptr) {
    call->pass = base::SecretBytes::FromString(params.pass.view());
  }
  if (!params.transaction_id.empty()) {
    if (!TransactionAllowed(*call, params)) return;
    call->transaction = true;
  } else if (params.pass.empty() && !call->by_serial) {
    call->mode = Mode::kChallenge;
  }

  if (s.stats.in_flight.fetch_add(1, std::memory_order_relaxed) >=
      static_cast<int64_t>(options_.max_in_flight)) {
    s.stats.in_flight.fetch_sub(1, std::memory_order_relaxed);
    s.stats.CountFail(Outcome::kUnavailable);
    s.counters.Count(call->endpoint(), Result::kError);
    http::Response r = Refuse(*call, 503, kErrorServer, "otpd is busy; try again", s.Now());
    r.set(bhttp::field::retry_after, "1");
    return call->reply(std::move(r));
  }

  const Mode mode = call->mode;
  call->strand.emplace(asio::make_strand(runner_->io()));
  call->deadline.emplace(*call->strand);
  call->deadline->expires_after(options_.request_deadline);
  call->deadline->async_wait([state = state_, call](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    service::SignInResult late;
    late.outcome = Outcome::kUnavailable;
    call->mode = Mode::kVerify;  // answered as a sign-in that could not be decided
    Finish(state, call, std::move(late));
  });
  Submit(state_, call, mode, params.user, params.serial, params.pass.view());
}

}  // namespace otpd::server::validate
