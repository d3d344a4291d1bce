// Signing in to Security info, re-authenticating, the session's answer and signing out.

#include <spdlog/spdlog.h>

#include <boost/beast/core/string.hpp>

#include "base/clock.h"
#include "base/secret_bytes.h"
#include "server/admin/graph.h"
#include "server/selfservice/internal.h"
#include "server/selfservice/selfservice_server.h"
#include "service/model/directory.h"
#include "service/signin/self_service.h"

namespace otpd::server::selfservice {

namespace bhttp = boost::beast::http;
using service::Outcome;
using service::SignInResult;

namespace {

// The factors a sign-in or re-authentication sent, copied out of the body and wiped after.
struct Factors {
  std::string upn;
  base::SecretBytes password, code, pass;
};

// Reads the factors of a body: `password` with `verificationCode` (or alone, when
// `password_alone`), or `temporaryAccessPass` alone; `with_user` when the body names the user too.
base::StatusOr<std::shared_ptr<Factors>> ReadFactors(const http::Request& request, bool with_user,
                                                     bool password_alone = false) {
  OTPD_ASSIGN_OR_RETURN(boost::json::object body, admin::ParseObjectBody(request.body()));
  admin::FieldReader in(body);
  auto f = std::make_shared<Factors>();
  if (with_user) f->upn = in.String("userPrincipalName", admin::FieldReader::kRequired);
  std::string password = with_user ? in.String("password") : "";
  std::string code = in.String("verificationCode");
  std::string pass = in.String("temporaryAccessPass");
  base::Status read = in.Finish();
  f->password = base::SecretBytes::FromString(password);
  f->code = base::SecretBytes::FromString(code);
  f->pass = base::SecretBytes::FromString(pass);
  for (std::string* s : {&password, &code, &pass}) base::Wipe(s->data(), s->size());
  OTPD_RETURN_IF_ERROR(read);
  if (!f->pass.empty()) {
    if (!f->password.empty() || !f->code.empty()) {
      return base::InvalidArgumentError(
          "temporaryAccessPass goes alone: send it without password and verificationCode");
    }
    return f;
  }
  if (with_user && f->password.empty()) {
    return base::InvalidArgumentError("password is required (or a temporaryAccessPass)");
  }
  if (f->code.empty() && !password_alone) {
    return base::InvalidArgumentError(
        "verificationCode is required: a code from your authenticator app or hardware token");
  }
  return f;
}

// A JSON body from a page of this origin: a form of another site cannot send one (its fetch
// would need a preflight this server never grants), nor can it claim this origin.
base::Status FromThisOrigin(const http::Request& request, const http::Peer& peer) {
  if (!boost::beast::iequals(request[bhttp::field::content_type].substr(0, 16),
                             "application/json")) {
    return base::InvalidArgumentError("send the body as Content-Type: application/json");
  }
  const std::string_view origin = request[bhttp::field::origin];
  const std::string own = std::string(peer.tls ? "https://" : "http://") + admin::HostOf(request);
  if (!origin.empty() && origin != own) {
    return base::PermissionDeniedError("a sign-in from another site's page is refused");
  }
  return base::OkStatus();
}

}  // namespace

bool SelfServiceServer::AddressAllowed(Call& call) {
  if (options_.max_failed_signins == 0 || address_guard_.Allowed(call.peer.address)) return true;
  address_guard_.Failed(call.peer.address, options_.max_failed_signins, /*throttled=*/true);
  call.headers.emplace_back("Retry-After", "60");
  call.Error(429, "tooManyRequests",
             "too many wrong sign-ins from this address: try again in a minute");
  return false;
}

// Answers a refused factor: when to retry for a lock, 503 when it could not be decided, and
// otherwise one message whatever was wrong, so that the answer tells nothing about which it was.
// That last kind counts against the caller's address.
void SelfServiceServer::RefuseFactor(Call& call, const SignInResult& r, std::string_view code) {
  spdlog::info("selfservice: a factor was refused ({}; request {})",
               service::OutcomeReason(r.outcome), call.request_id);
  switch (r.outcome) {
    case Outcome::kLocked:
      return call.Locked(r.retry_after_seconds);
    case Outcome::kUnavailable:
      return call.Error(503, "serviceNotAvailable", "sign-in could not be checked now; try again");
    case Outcome::kRegistrationRequired:
      return call.Error(403, "registrationRequired",
                        "your organisation needs you to set up your sign-in methods again: sign "
                        "in with a Temporary Access Pass from your administrator");
    default:
      if (options_.max_failed_signins > 0) {
        address_guard_.Failed(call.peer.address, options_.max_failed_signins);
      }
      return call.Error(401, code, "the user name, password, code or pass is not right");
  }
}

void SelfServiceServer::SignIn(std::shared_ptr<Call> call) {
  if (base::Status s = FromThisOrigin(call->request, call->peer); !s.ok()) return call->Error(s);
  if (!AddressAllowed(*call)) return;
  auto factors = ReadFactors(call->request, /*with_user=*/true,
                             /*password_alone=*/options_.registration_with_password);
  if (!factors.ok()) return call->Error(factors.status());
  std::shared_ptr<Factors> f = std::move(*factors);
  auto refuse = [this, call](const SignInResult& r) { RefuseFactor(*call, r, "signInFailed"); };
  if (!f->pass.empty()) {
    sign_in_.Tap({.user = f->upn, .secret = f->pass.view()},
                 [this, call, f, refuse](SignInResult r) {
                   if (r.outcome != Outcome::kAccepted) return refuse(r);
                   OnWorker(call, [this, call, f] { StartSession(call, f->upn); });
                 });
    return;
  }
  sign_in_.Password(
      {.user = f->upn, .secret = f->password.view()}, [this, call, f, refuse](SignInResult r) {
        if (r.outcome != Outcome::kAccepted) return refuse(r);
        if (f->code.empty()) {
          // The password alone: enough only to register, where the operator trusts it.
          return OnWorker(call, [this, call, f] { StartRegistration(call, f->upn); });
        }
        // The code is checked only after the password, as every door does.
        OnWorker(call, [this, call, f, refuse] {
          sign_in_.Verify({.user = f->upn, .otp = f->code.view()},
                          [this, call, f, refuse](SignInResult v) {
                            if (v.outcome != Outcome::kAccepted) return refuse(v);
                            OnWorker(call, [this, call, f] { StartSession(call, f->upn); });
                          });
        });
      });
}

namespace {

// The session as the page reads it.
void AnswerSession(SelfServiceServer::Call& call, const SessionLimits& limits,
                   const service::Directory& directory) {
  auto methods = directory.ReadMethods(call.user.upn);
  if (!methods.ok()) return call.Error(methods.status());
  std::vector<service::MethodRecord> readable;
  for (auto& m : *methods) {
    if (m.ok()) readable.push_back(std::move(*m));
  }
  boost::json::object o;
  o["userPrincipalName"] = call.user.upn;
  o["displayName"] = call.user.display_name;
  o["csrfToken"] = call.session.csrf;
  o["mustRegister"] = service::MayRegisterAtSignIn(call.user, readable);
  o["idleTimeoutSeconds"] = limits.idle.count();
  o["expiresDateTime"] = base::FormatIsoTime(call.session.started + limits.absolute.count());
  call.Json(200, o);
}

}  // namespace

void SelfServiceServer::StartSession(std::shared_ptr<Call> call, const std::string& upn) {
  service::Directory directory(*services_.store, *services_.keys);
  auto user = directory.GetUser(upn);
  if (!user.ok()) return call->Error(user.status());
  if (!*user) {
    return RefuseFactor(*call, SignInResult{.outcome = Outcome::kRefused}, "signInFailed");
  }
  const int64_t now = services_.clock->NowUnixSeconds();
  call->user = std::move((*user)->record);
  auto token = sessions_.Begin(call->user.upn, call->user.sessions_epoch, now);
  if (!token.ok()) return call->Error(token.status());
  auto session = sessions_.Use(token->view(), now);
  if (!session) return call->Error(503, "serviceNotAvailable", "try again");
  call->token = std::string(token->view());
  call->session = std::move(*session);
  call->set_cookie = SessionCookie(call->token);
  AnswerSession(*call, sessions_.limits(), directory);
}

void SelfServiceServer::StartRegistration(std::shared_ptr<Call> call, const std::string& upn) {
  service::Directory directory(*services_.store, *services_.keys);
  auto user = directory.GetUser(upn);
  auto methods = directory.ReadMethods(upn);
  if (!user.ok() || !methods.ok()) {
    return call->Error(!user.ok() ? user.status() : methods.status());
  }
  std::vector<service::MethodRecord> readable;
  for (auto& m : *methods) {
    // A record that does not open is counted as a factor: never a reason to let someone in.
    if (!m.ok()) {
      return RefuseFactor(*call, SignInResult{.outcome = Outcome::kRefused}, "signInFailed");
    }
    readable.push_back(std::move(*m));
  }
  if (!*user || service::RegistrationFactorFor((*user)->record, readable,
                                               options_.registration_with_password) !=
                    service::RegistrationFactor::kPassword) {
    // The same answer as a wrong password: it tells nothing about the user's methods.
    return RefuseFactor(*call, SignInResult{.outcome = Outcome::kRefused}, "signInFailed");
  }
  StartSession(std::move(call), upn);
}

void SelfServiceServer::SessionInfo(Call& call) {
  AnswerSession(call, sessions_.limits(), service::Directory(*services_.store, *services_.keys));
}

void SelfServiceServer::Reauthenticate(std::shared_ptr<Call> call) {
  if (base::Status s = FromThisOrigin(call->request, call->peer); !s.ok()) return call->Error(s);
  if (!AddressAllowed(*call)) return;
  auto factors = ReadFactors(call->request, /*with_user=*/false);
  if (!factors.ok()) return call->Error(factors.status());
  std::shared_ptr<Factors> f = std::move(*factors);
  auto done = [this, call, f](SignInResult r) {
    if (r.outcome != Outcome::kAccepted) return RefuseFactor(*call, r, "wrongCode");
    const int64_t fresh = services_.clock->NowUnixSeconds() + sessions_.limits().fresh.count();
    if (!sessions_.Update(call->token, [fresh](PageSession& s) { s.fresh_until = fresh; })) {
      return call->Error(401, "InvalidAuthenticationToken", "the session has ended");
    }
    call->NoContent();
  };
  if (!f->pass.empty()) {
    sign_in_.Tap({.user = call->user.upn, .secret = f->pass.view()}, done);
  } else {
    sign_in_.Verify({.user = call->user.upn, .otp = f->code.view()}, done);
  }
}

void SelfServiceServer::SignOut(Call& call) {
  sessions_.End(call.token);
  call.token.clear();
  call.set_cookie = SessionCookie("");
  call.NoContent();
}

}  // namespace otpd::server::selfservice
