#include "server/validate/validate_answer.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#ifndef OTPD_VERSION
#define OTPD_VERSION "0"
#endif

namespace otpd::server::validate {
namespace {

namespace json = boost::json;
using service::Outcome;

json::object Envelope(double now) {
  json::object o;
  o["id"] = 1;
  o["jsonrpc"] = "2.0";
  o["version"] = "otpd " OTPD_VERSION;
  o["versionnumber"] = OTPD_VERSION;
  o["time"] = now;
  return o;
}

// The envelope with a decided result: `value` true only for an accepted code; `authentication`
// is ACCEPT, REJECT or CHALLENGE.
json::object Decided(double now, bool value, std::string_view authentication) {
  json::object o = Envelope(now);
  json::object result;
  result["status"] = true;
  result["value"] = value;
  result["authentication"] = authentication;
  o["result"] = std::move(result);
  return o;
}

// privacyIDEA's detail.message for a refusal, where it has one.
std::string_view RefusalMessage(Outcome outcome) {
  switch (outcome) {
    case Outcome::kReplayed:
      return "wrong otp value. previous otp used again";
    case Outcome::kLocked:
      return "matching 1 tokens, Failcounter exceeded";
    case Outcome::kNotActivated:
      return "matching 1 tokens, Token is disabled";
    case Outcome::kNoMethod:
      return "The user has no tokens assigned";
    case Outcome::kRegistrationRequired:
      return "The user must register a method again";
    case Outcome::kRateLimited:
      return "Too many codes were sent; try again later";
    default:
      return "wrong otp value";
  }
}

}  // namespace

Answer ErrorAnswer(unsigned http_status, int code, std::string_view message, double now) {
  json::object o = Envelope(now);
  json::object error;
  error["code"] = code;
  error["message"] = "ERR" + std::to_string(code) + ": " + std::string(message);
  json::object result;
  result["status"] = false;
  result["error"] = std::move(error);
  o["result"] = std::move(result);
  o["detail"] = nullptr;
  return Answer{http_status, json::serialize(o)};
}

Answer PollPendingAnswer(double now) {
  json::object o = Envelope(now);
  json::object result;
  result["status"] = true;
  result["value"] = false;
  o["result"] = std::move(result);
  json::object detail;
  detail["challenge_status"] = "pending";
  o["detail"] = std::move(detail);
  return Answer{200, json::serialize(o)};
}

Answer CheckAnswer(const service::SignInResult& r, bool by_serial, double now) {
  switch (r.outcome) {
    case Outcome::kUnknownUser:
      return by_serial
                 ? ErrorAnswer(404, kErrorNotFound, "The requested token could not be found.", now)
                 : ErrorAnswer(400, kErrorUser,
                               "The user can not be found in any resolver in this realm!", now);
    case Outcome::kUnavailable:
      return ErrorAnswer(503, kErrorServer, "otpd could not decide; try again", now);
    case Outcome::kUnauthorized:  // not sent by the service; here for completeness
      return ErrorAnswer(401, kErrorWrongClient, "the client is not authenticated", now);
    default:
      break;
  }
  const bool accepted = r.outcome == Outcome::kAccepted;
  json::object o = Decided(now, accepted, accepted ? "ACCEPT" : "REJECT");
  json::object detail;
  detail["message"] = accepted ? std::string_view("matching 1 tokens") : RefusalMessage(r.outcome);
  if (r.method_kind == service::MethodKind::kPhone && !r.method_id.empty()) {
    // A phone's code: privacyIDEA's sms (or voice) token, under the phone's own serial.
    if (!r.phone_serial.empty()) detail["serial"] = r.phone_serial;
    detail["type"] = r.channel.empty() ? "sms" : r.channel;
  } else if (!r.method_id.empty()) {
    if (!r.serial.empty()) detail["serial"] = r.serial;
    detail["type"] = r.otp_type == engine::OtpType::kHotp ? "hotp" : "totp";
    if (r.digits > 0) detail["otplen"] = r.digits;
  }
  if (!accepted) detail["otpd_reason"] = service::OutcomeReason(r.outcome);
  if (r.outcome == Outcome::kLocked) detail["retry_after"] = r.retry_after_seconds;
  o["detail"] = std::move(detail);
  return Answer{200, json::serialize(o)};
}

Answer ChallengeAnswer(const ChallengeSent& c, double now) {
  json::object o = Decided(now, false, "CHALLENGE");
  json::object challenge;
  challenge["transaction_id"] = c.transaction_id;
  challenge["serial"] = c.serial;
  challenge["type"] = c.type;
  challenge["message"] = c.message;
  challenge["client_mode"] = "interactive";
  challenge["attributes"] = nullptr;
  json::object detail;
  if (!c.image.empty()) {
    challenge["image"] = c.image;
    challenge["otpauth_uri"] = c.otpauth_uri;
    detail["image"] = c.image;
    detail["otpauth_uri"] = c.otpauth_uri;
    detail["enroll_via_multichallenge"] = true;
  }
  detail["message"] = c.message;
  detail["messages"] = json::array{json::string(c.message)};
  detail["multi_challenge"] = json::array{std::move(challenge)};
  detail["serial"] = c.serial;
  detail["type"] = c.type;
  detail["transaction_id"] = c.transaction_id;
  detail["transaction_ids"] = json::array{json::string(c.transaction_id)};
  detail["client_mode"] = "interactive";
  detail["preferred_client_mode"] = "interactive";
  detail["expires_in"] = c.expires_in_seconds;
  o["detail"] = std::move(detail);
  return Answer{200, json::serialize(o)};
}

namespace {

Answer Reject(std::string_view message, std::string_view reason, int64_t retry_after, double now) {
  json::object o = Decided(now, false, "REJECT");
  json::object detail;
  detail["message"] = message;
  detail["otpd_reason"] = reason;
  if (retry_after > 0) detail["retry_after"] = retry_after;
  o["detail"] = std::move(detail);
  return Answer{200, json::serialize(o)};
}

std::string RadiusBody(json::object attributes) { return json::serialize(attributes); }

}  // namespace

Answer TransactionRefusedAnswer(TransactionCheck check, double now) {
  return check == TransactionCheck::kExpired
             ? Reject("The challenge has expired; ask for a new code", "expired", 0, now)
             : Reject("No such challenge for this user (unknown transaction_id)", "unknown", 0,
                      now);
}

Answer RateLimitedAnswer(int64_t retry_after_seconds, double now) {
  return Reject(RefusalMessage(Outcome::kRateLimited),
                service::OutcomeReason(Outcome::kRateLimited), retry_after_seconds, now);
}

std::string RadiusChallengeBody(std::string_view transaction_id) {
  json::object a;
  a["control:Response-Packet-Type"] = "Access-Challenge";
  a["reply:State"] = transaction_id;
  a["reply:Reply-Message"] = kChallengeMessage;
  return RadiusBody(std::move(a));
}

std::string RadiusRefusalBody(std::string_view message) {
  json::object a;
  a["reply:Reply-Message"] = message;
  return RadiusBody(std::move(a));
}

std::string RegistrationMessage(std::string_view registration_url) {
  if (registration_url.empty()) {
    return "Register an authenticator app first: sign in once on the web or over SSH, where a QR "
           "code can be shown, or ask your administrator";
  }
  return "Register an authenticator app first, at " + std::string(registration_url);
}

unsigned RadiusStatus(Outcome outcome) {
  switch (outcome) {
    case Outcome::kAccepted:
      return 204;
    case Outcome::kLocked:
      return 403;
    case Outcome::kUnavailable:
      return 503;
    default:
      return 400;
  }
}

}  // namespace otpd::server::validate
