// The answers of the validate endpoint in privacyIDEA's JSON shape (docs/validate-api.md):
//   {"id":1,"jsonrpc":"2.0","result":{"status":true,"value":true,"authentication":"ACCEPT"},
//    "detail":{"message":"matching 1 tokens","serial":"...","type":"totp","otplen":6},
//    "version":"otpd X","versionnumber":"X","time":1700000000.123}
// a challenge as {"result":{"status":true,"value":false,"authentication":"CHALLENGE"},
//  "detail":{"message":..,"transaction_id":..,"multi_challenge":[{..}],..},...}, and errors as
// {"result":{"status":false,"error":{"code":905,"message":"ERR905: ..."}},"detail":null,...}.
//
// Thread-safety: plain functions.

#ifndef OTPD_SERVER_VALIDATE_VALIDATE_ANSWER_H_
#define OTPD_SERVER_VALIDATE_VALIDATE_ANSWER_H_

#include <string>
#include <string_view>

#include "server/validate/transaction_id.h"
#include "service/signin/sign_in.h"

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
  std::string body;   // JSON
  std::string allow;  // a 405's Allow header
};

// The answer of /validate/check to a sign-in result. `by_serial` says the request named a token.
// A decided sign-in (accepted or refused) is HTTP 200 with result.status true; an unknown user
// or token and `unavailable` are errors.
Answer CheckAnswer(const service::SignInResult& result, bool by_serial, double now);

// The message shown to the user with a challenge (detail.message, RADIUS Reply-Message).
inline constexpr std::string_view kChallengeMessage = "Enter the code sent to your phone";
// The message of an enrolment challenge.
inline constexpr std::string_view kEnrolmentMessage =
    "Scan the QR code with your authenticator app, then enter the code it shows";

// A challenge that was made: a phone's code sent, or an authenticator app enrolled (privacyIDEA's
// enrolment via multichallenge), and what its answer says.
struct ChallengeSent {
  std::string transaction_id;
  std::string serial;  // the phone's serial (SignInResult::phone_serial), or the new app's id
  std::string type;    // privacyIDEA's token type: "sms", "totp"
  int64_t expires_in_seconds = 0;
  std::string_view message = kChallengeMessage;
  // An enrolment: the QR code as a data: URI (multi_challenge[].image) and the otpauth:// URI it
  // encodes (otpd's `otpauth_uri`, for front ends that draw the code themselves). Both hold the
  // new app's secret.
  std::string image;
  std::string otpauth_uri;
};

// The answer of /validate/check that starts a challenge: HTTP 200, result.value false,
// authentication CHALLENGE, detail.transaction_id and detail.multi_challenge.
Answer ChallengeAnswer(const ChallengeSent& challenge, double now);

// The REJECT of /validate/check for a transaction_id that is not valid for the user (`check` is
// kExpired or kUnknown); nothing reached the sign-in.
Answer TransactionRefusedAnswer(TransactionCheck check, double now);

// The REJECT of /validate/check for a challenge that was not sent because the user asked for too
// many (the outcome kRateLimited), with detail.retry_after.
Answer RateLimitedAnswer(int64_t retry_after_seconds, double now);

// The JSON bodies of /validate/radiuscheck that rlm_rest maps to RADIUS attributes
// (docs/radius.md): a challenge (control:Response-Packet-Type = Access-Challenge, reply:State =
// the transaction id, reply:Reply-Message), and a refusal with a Reply-Message.
std::string RadiusChallengeBody(std::string_view transaction_id);
std::string RadiusRefusalBody(std::string_view message);

// privacyIDEA's /validate/polltransaction answer for a transaction that no one answered out of
// band: HTTP 200, result.value false, detail.challenge_status "pending".
Answer PollPendingAnswer(double now);

// An error answer: result.status false, result.error {code, "ERR<code>: message"}.
Answer ErrorAnswer(unsigned http_status, int code, std::string_view message, double now);

// The HTTP status of /validate/radiuscheck for a result: 204 accepted, 403 locked, 503
// unavailable, 400 every other refusal.
// What a RADIUS user who must register is told: to go to `registration_url`, or ("" ) to sign in
// once where a QR code can be shown, or to ask an administrator.
std::string RegistrationMessage(std::string_view registration_url);

unsigned RadiusStatus(service::Outcome outcome);

}  // namespace otpd::server::validate

#endif  // OTPD_SERVER_VALIDATE_VALIDATE_ANSWER_H_
