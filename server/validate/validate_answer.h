// The answers of the validate endpoint in privacyIDEA's JSON shape (docs/validate-api.md):
//   {"id":1,"jsonrpc":"2.0","result":{"status":true,"value":true,"authentication":"ACCEPT"},
//    "detail":{"message":"matching 1 tokens","serial":"...","type":"totp","otplen":6},
//    "version":"otpd X","versionnumber":"X","time":1700000000.123}
// and errors as {"result":{"status":false,"error":{"code":905,"message":"ERR905: ..."}},
// "detail":null,...}.
//
// Thread-safety: plain functions.

#ifndef OTPD_SERVER_VALIDATE_VALIDATE_ANSWER_H_
#define OTPD_SERVER_VALIDATE_VALIDATE_ANSWER_H_

#include <string>
#include <string_view>

#include "service/sign_in.h"

namespace otpd::server::validate {

// privacyIDEA's error codes where it has one for the case.
inline constexpr int kErrorValidate = 401;       // the request cannot be validated (challenges)
inline constexpr int kErrorWrongClient = 4031;   // wrong client credentials
inline constexpr int kErrorNoClientAuth = 4033;  // no (or a malformed) Authorization header
inline constexpr int kErrorNotFound = 601;       // no such token (serial), or no such route
inline constexpr int kErrorServer = 903;         // could not decide (storage, overload)
inline constexpr int kErrorUser = 904;           // no such user
inline constexpr int kErrorParameter = 905;      // a parameter is missing or malformed

struct Answer {
  unsigned http_status = 200;
  std::string body;  // JSON
};

// The answer of /validate/check to a sign-in result. `by_serial` says the request named a token.
// A decided sign-in (accepted or refused) is HTTP 200 with result.status true; an unknown user
// or token and `unavailable` are errors.
Answer CheckAnswer(const service::SignInResult& result, bool by_serial, double now);

// An error answer: result.status false, result.error {code, "ERR<code>: message"}.
Answer ErrorAnswer(unsigned http_status, int code, std::string_view message, double now);

// The HTTP status of /validate/radiuscheck for a result: 204 accepted, 403 locked, 503
// unavailable, 400 every other refusal.
unsigned RadiusStatus(service::Outcome outcome);

}  // namespace otpd::server::validate

#endif  // OTPD_SERVER_VALIDATE_VALIDATE_ANSWER_H_
