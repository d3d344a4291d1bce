#include "server/validate/validate_answer.h"

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
  json::object o = Envelope(now);
  json::object result;
  result["status"] = true;
  result["value"] = accepted;
  result["authentication"] = accepted ? "ACCEPT" : "REJECT";
  o["result"] = std::move(result);
  json::object detail;
  detail["message"] = accepted ? std::string_view("matching 1 tokens") : RefusalMessage(r.outcome);
  if (!r.method_id.empty()) {
    if (!r.serial.empty()) detail["serial"] = r.serial;
    detail["type"] = r.otp_type == engine::OtpType::kHotp ? "hotp" : "totp";
    if (r.digits > 0) detail["otplen"] = r.digits;
  }
  if (!accepted) detail["otpd_reason"] = service::OutcomeReason(r.outcome);
  if (r.outcome == Outcome::kLocked) detail["retry_after"] = r.retry_after_seconds;
  o["detail"] = std::move(detail);
  return Answer{200, json::serialize(o)};
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
