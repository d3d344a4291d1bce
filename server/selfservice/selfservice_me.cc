// Graph's /me paths for the user signed in to Security info.

#include <boost/beast/core/string.hpp>
#include <boost/json/serialize.hpp>
#include <deque>

#include "base/clock.h"
#include "base/codec.h"
#include "base/constant_time.h"
#include "base/mac.h"
#include "base/seal.h"
#include "server/admin/graph.h"
#include "server/selfservice/internal.h"
#include "server/selfservice/selfservice_server.h"
#include "service/admin/audit.h"
#include "service/admin/user_admin.h"
#include "service/hooks/outbox.h"
#include "service/model/text_checks.h"

namespace otpd::server::selfservice {

namespace bhttp = boost::beast::http;
namespace json = boost::json;
using service::Outcome;

namespace {

constexpr size_t kActivityShown = 50;
constexpr int64_t kActivityDays = 90;
constexpr int kPhoneCodeAttempts = 5;

std::vector<std::string> Segments(std::string_view rest) {
  std::vector<std::string> out;
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    out.emplace_back(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
  return out;
}

bool OneOf(std::string_view s, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), s) != names.end();
}

// What a user may do under /v1.0/me/authentication/ that the admin API answers as it answers
// an administrator for /users/{id}/authentication/: read their methods; add and remove an
// authenticator app and email; change the email; choose the second factor they prefer. Phones and
// confirming an app have their own steps here; everything else (passes, hardware tokens, lockout,
// re-registration) is an administrator's.
bool Forwarded(bhttp::verb verb, const std::vector<std::string>& s) {
  if (s.empty() || s.size() > 2) return false;
  switch (verb) {
    case bhttp::verb::get:
      return OneOf(s[0], {"methods", "softwareOathMethods", "phoneMethods", "emailMethods",
                          "hardwareOathMethods", "passwordMethods", "signInPreferences"});
    case bhttp::verb::post:
      return s.size() == 1 && OneOf(s[0], {"softwareOathMethods", "emailMethods"});
    case bhttp::verb::patch:
      return (s.size() == 2 && s[0] == "emailMethods") ||
             (s.size() == 1 && s[0] == "signInPreferences");
    case bhttp::verb::delete_:
      return s.size() == 2 && OneOf(s[0], {"softwareOathMethods", "phoneMethods", "emailMethods"});
    default:
      return false;
  }
}

std::string CodeDigest(std::string_view code) { return base::HexEncode(base::Sha256(code)); }

// Answers a self-service action (service::SelfService) as the API does.
void AnswerAction(SelfServiceServer::Call& call, const service::ActionResult& r,
                  std::string_view wrong) {
  std::string detail;
  for (const auto& [name, value] : r.fields) {
    if (name == "detail") detail = value;
  }
  switch (r.outcome) {
    case Outcome::kAccepted:
      return call.NoContent();
    case Outcome::kBadCode:
    case Outcome::kBadPassword:
      return call.Error(400, "invalidRequest", wrong);
    case Outcome::kPolicy:
    case Outcome::kBadRequest:
      return call.Error(400, "invalidRequest", detail.empty() ? wrong : detail);
    case Outcome::kLocked:
      return call.Locked(r.retry_after_seconds);
    case Outcome::kNoMethod:
    case Outcome::kUnknownUser:
      return call.Error(404, "itemNotFound", "no such method");
    case Outcome::kRefused:
      return call.Error(409, "notAllowed", detail.empty() ? "refused" : detail);
    default:
      return call.Error(503, "serviceNotAvailable", "the change could not be made now; try again");
  }
}

}  // namespace

void SelfServiceServer::Me(std::shared_ptr<Call> call) {
  const bhttp::verb verb = call->request.method();
  const std::string& path = call->path;
  if (path == "/v1.0/me" && verb == bhttp::verb::get) {
    json::object o;
    o["id"] = call->user.upn;
    o["userPrincipalName"] = call->user.upn;
    o["displayName"] = call->user.display_name;
    return call->Json(200, o);
  }
  if (path == "/v1.0/me/activity" && verb == bhttp::verb::get) return Activity(*call);
  if (path == "/v1.0/me/signInActivity" && verb == bhttp::verb::get) {
    return SignInActivity(*call);
  }
  if (verb != bhttp::verb::get && call->session.fresh_until <= services_.clock->NowUnixSeconds()) {
    return call->Error(403, "reauthenticationRequired",
                       "confirm it is you: enter a code from your app or token again");
  }
  if (path == "/v1.0/me/changePassword" && verb == bhttp::verb::post) {
    return ChangePassword(call);
  }
  if (path == "/v1.0/me/revokeSignInSessions" && verb == bhttp::verb::post) {
    return RevokeSessions(*call);
  }
  constexpr std::string_view kAuthentication = "/v1.0/me/authentication/";
  if (!path.starts_with(kAuthentication)) {
    return call->Error(404, "itemNotFound", "no such resource here");
  }
  const std::string rest = path.substr(kAuthentication.size());
  const std::vector<std::string> s = Segments(rest);
  if (!s.empty() && s[0] == "phoneMethods" &&
      ((verb == bhttp::verb::post && s.size() == 1) ||
       (verb == bhttp::verb::patch && s.size() == 2))) {
    return PhoneMethod(call, rest);
  }
  if (verb == bhttp::verb::post && s.size() == 3 && s[0] == "softwareOathMethods" &&
      s[2] == "confirm") {
    return ConfirmApp(call, s[1]);
  }
  if (!Forwarded(verb, s)) {
    return call->Error(403, "accessDenied",
                       "this is not something users change themselves: ask an administrator");
  }
  Forward(*call, rest, call->request.body());
}

void SelfServiceServer::Forward(Call& call, const std::string& rest, std::string body) {
  http::Request forwarded = call.request;
  const std::string users = "/v1.0/users/" + call.user.upn;
  forwarded.target(users + "/authentication/" + rest + call.query);
  forwarded.body() = std::move(body);
  forwarded.prepare_payload();
  admin::ApiCall api;
  api.request = &forwarded;
  api.principal = service::Principal::SelfService(call.user.upn);
  api.principal.request_id = call.request_id;
  api.request_id = call.request_id;
  api.client_request_id =
      admin::ClientRequestId(call.request["client-request-id"], call.request_id);
  api.origin = std::string(call.peer.tls ? "https://" : "http://") + admin::HostOf(call.request);
  admin::ApiResponse answer = api_.Handle(api);
  for (auto& [name, value] : answer.headers) {
    // Links name the user's methods by Graph's /me paths, as the caller asked.
    if (const size_t at = value.find(users); name == "Location" && at != std::string::npos) {
      value.replace(at, users.size(), "/v1.0/me");
    }
    call.headers.emplace_back(name, value);
  }
  call.Answer(http::MakeResponse(call.request, static_cast<bhttp::status>(answer.status),
                                 answer.body ? "application/json" : "",
                                 answer.body ? json::serialize(*answer.body) : std::string()));
}

void SelfServiceServer::PhoneMethod(std::shared_ptr<Call> call, const std::string& rest) {
  auto body = admin::ParseObjectBody(call->request.body());
  if (!body.ok()) return call->Error(body.status());
  admin::FieldReader in(*body);
  const std::vector<std::string> s = Segments(rest);
  const std::string method = s.size() == 2 ? s[1] : "";
  const std::string number = in.String("phoneNumber", admin::FieldReader::kRequired);
  std::string type = in.String(
      "phoneType", method.empty() ? admin::FieldReader::kRequired : admin::FieldReader::kOptional);
  std::string code = in.String("verificationCode");
  in.Allow("@odata.type");
  in.Allow("id");
  base::Status read = in.Finish();
  const base::SecretBytes typed = base::SecretBytes::FromString(code);
  base::Wipe(code.data(), code.size());
  if (!read.ok()) return call->Error(read);
  if (base::Status s = service::CheckPhoneNumber(number); !s.ok()) {
    return call->Error(s.WithContext("phoneNumber"));
  }
  // A change keeps the phone's type unless it names another.
  for (service::PhoneType t : {service::PhoneType::kMobile, service::PhoneType::kAlternateMobile,
                               service::PhoneType::kOffice}) {
    if (type.empty() && method == service::PhoneMethodId(t)) type = service::PhoneTypeName(t);
  }
  if (!service::ParsePhoneType(type)) {
    return call->Error(400, "invalidRequest",
                       "phoneType must be mobile, alternateMobile or office");
  }
  if (typed.empty()) return SendPhoneCode(*call, number, type, method);

  // The code must be the one sent to this number for this change, within its time and tries.
  const int64_t now = services_.clock->NowUnixSeconds();
  std::string refusal;
  sessions_.Update(call->token, [&](PageSession& session) {
    std::optional<PhoneProof>& p = session.proof;
    if (!p || p->number != number || p->type != type || p->method != method || now >= p->expires) {
      refusal = "no code was sent to this number lately: ask for a new one";
    } else if (++p->attempts > kPhoneCodeAttempts) {
      refusal = "too many wrong codes: ask for a new one";
    } else if (!base::ConstantTimeEquals(CodeDigest(typed.view()), p->code_digest)) {
      refusal = "the code is not right: type the code sent to the phone";
    } else {
      p.reset();
    }
    if (!refusal.empty() && p && p->attempts > kPhoneCodeAttempts) p.reset();
  });
  if (!refusal.empty()) return call->Error(400, "invalidRequest", refusal);
  json::object saved;
  saved["phoneNumber"] = number;
  saved["phoneType"] = type;
  Forward(*call, rest, json::serialize(saved));
}

void SelfServiceServer::SendPhoneCode(Call& call, const std::string& number,
                                      const std::string& type, const std::string& method) {
  const int64_t now = services_.clock->NowUnixSeconds();
  bool allowed = false;
  sessions_.Update(call.token, [&](PageSession& s) {
    if (now >= s.codes_window_start + options_.phone_code_window.count()) {
      s.codes_window_start = now;
      s.codes_sent = 0;
    }
    allowed = s.codes_sent < options_.max_phone_codes;
    if (allowed) ++s.codes_sent;
  });
  if (!allowed) {
    return call.Error(429, "tooManyRequests",
                      "too many codes sent: wait a few minutes before asking for another");
  }
  auto code = base::RandomSixDigits();
  if (!code.ok()) return call.Error(code.status());
  const int64_t expires = now + options_.phone_code_ttl.count();
  const auto phone_type = *service::ParsePhoneType(type);
  // A mobile gets a text, the other phones a call, through the same hooks as a sign-in's code.
  const bool sms = phone_type == service::PhoneType::kMobile;
  storage::WriteBatch batch;
  base::Status evented = service::AddEvent(
      batch, *services_.clock, sms ? service::events::kSmsSend : service::events::kVoiceCall,
      call.user.upn,
      service::EventData()
          .Str("to", number)
          .Str("method", type)
          .Str("method_id", service::PhoneMethodId(phone_type))
          .Str("purpose", "registration")
          .Int("expires", expires)
          .Int("ttl_seconds", options_.phone_code_ttl.count())
          .Secret("code", *code),
      &*services_.keys);
  PhoneProof proof{.number = number,
                   .type = type,
                   .method = method,
                   .code_digest = CodeDigest(*code),
                   .expires = expires};
  base::Wipe(code->data(), code->size());
  if (evented.ok())
    evented = services_.store->Commit(std::move(batch), storage::Durability::kDurable);
  if (!evented.ok()) return call.Error(evented);
  sessions_.Update(call.token, [&](PageSession& s) { s.proof = std::move(proof); });
  json::object o;
  o["verificationExpiresDateTime"] = base::FormatIsoTime(expires);
  o["channel"] = sms ? "sms" : "voice";
  call.Json(202, o);
}

void SelfServiceServer::ConfirmApp(std::shared_ptr<Call> call, const std::string& method) {
  auto body = admin::ParseObjectBody(call->request.body());
  if (!body.ok()) return call->Error(body.status());
  admin::FieldReader in(*body);
  std::string code = in.String("verificationCode", admin::FieldReader::kRequired);
  base::Status read = in.Finish();
  auto typed = std::make_shared<base::SecretBytes>(base::SecretBytes::FromString(code));
  base::Wipe(code.data(), code.size());
  if (!read.ok()) return call->Error(read);
  // Checked as the verify socket's CONFIRM: under the user's lockout, a wrong code counting.
  self_service_.Confirm({.user = call->user.upn, .method = method, .otp = typed->view()},
                        [call, typed](service::ActionResult r) {
                          AnswerAction(*call, r,
                                       "the code is not right: type the code your app shows now");
                        });
}

void SelfServiceServer::ChangePassword(std::shared_ptr<Call> call) {
  auto body = admin::ParseObjectBody(call->request.body());
  if (!body.ok()) return call->Error(body.status());
  admin::FieldReader in(*body);
  std::string current = in.String("currentPassword", admin::FieldReader::kRequired);
  std::string next = in.String("newPassword", admin::FieldReader::kRequired);
  base::Status read = in.Finish();
  auto secrets = std::make_shared<std::pair<base::SecretBytes, base::SecretBytes>>(
      base::SecretBytes::FromString(current), base::SecretBytes::FromString(next));
  base::Wipe(current.data(), current.size());
  base::Wipe(next.data(), next.size());
  if (!read.ok()) return call->Error(read);
  self_service_.SetPassword({.user = call->user.upn,
                             .old_password = secrets->first.view(),
                             .new_password = secrets->second.view()},
                            [call, secrets](service::ActionResult r) {
                              AnswerAction(*call, r, "currentPassword is not right");
                            });
}

void SelfServiceServer::RevokeSessions(Call& call) {
  service::Principal me = service::Principal::SelfService(call.user.upn);
  me.request_id = call.request_id;
  auto epoch = services_.user_actions->RevokeMfaSessions(me, call.user.upn);
  if (!epoch.ok()) return call.Error(epoch.status());
  // This session goes on under the new epoch; every other one of the user's ends.
  sessions_.Update(call.token, [&](PageSession& s) { s.sessions_epoch = *epoch; });
  sessions_.EndOthers(call.user.upn, call.token);
  json::object o;
  o["@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean";
  o["value"] = true;
  call.Json(200, o);
}

void SelfServiceServer::Activity(Call& call) {
  const int64_t now = services_.clock->NowUnixSeconds();
  service::AuditFilter filter{.target = "user/" + call.user.upn,
                              .since_micros = (now - kActivityDays * 86400) * 1'000'000};
  std::deque<service::AuditRecord> last;
  base::Status listed = service::ListAudit(*services_.store, filter, "",
                                           [&](std::string_view, const service::AuditRecord& a) {
                                             last.push_back(a);
                                             if (last.size() > kActivityShown) last.pop_front();
                                             return true;
                                           });
  if (!listed.ok()) return call.Error(listed);
  json::array items;
  for (auto it = last.rbegin(); it != last.rend(); ++it) {
    json::object o;
    o["dateTime"] = base::FormatIsoTimeMicros(it->time_micros);
    o["action"] = it->action;
    o["result"] = it->result;
    o["detail"] = it->detail;
    // Users see who in words, not the names of administrators' keys.
    o["by"] = it->actor == "user:" + call.user.upn ? "you"
              : it->actor.starts_with("user:")     ? "another user"
                                                   : "an administrator";
    items.push_back(std::move(o));
  }
  json::object out;
  out["value"] = std::move(items);
  call.Json(200, out);
}

void SelfServiceServer::SignInActivity(Call& call) {
  auto read = service::ReadSignInActivity(service::Directory(*services_.store, *services_.keys),
                                          call.user.upn);
  if (!read.ok()) return call.Error(read.status());
  auto at = [](int64_t unix_seconds) -> json::value {
    if (unix_seconds == 0) return nullptr;
    return json::value(base::FormatIsoTime(unix_seconds));
  };
  json::array methods;
  int64_t last_success = 0;
  for (const service::MethodLastUse& m : read->methods) {
    json::object o;
    o["id"] = m.method_id;
    o["@odata.type"] = service::DescribeMethodKind(m.kind).odata_type;
    o["displayName"] = m.label;
    o["lastUsedDateTime"] = at(m.last_used);
    methods.push_back(std::move(o));
    last_success = std::max(last_success, m.last_used);
  }
  const engine::LockoutState& lockout = read->lockout;
  json::object out;
  out["lastSuccessfulSignInDateTime"] = at(last_success);
  out["failedSignInsSinceLastSuccess"] = lockout.failures;
  out["lastFailedSignInDateTime"] = at(lockout.failures > 0 ? lockout.last_failure : 0);
  out["lockedUntilDateTime"] =
      at(lockout.locked_until > services_.clock->NowUnixSeconds() ? lockout.locked_until : 0);
  out["methods"] = std::move(methods);
  call.Json(200, out);
}

}  // namespace otpd::server::selfservice
