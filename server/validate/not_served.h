// The answers to privacyIDEA endpoints that otpd does not serve but that privacyIDEA's own
// clients (or plug-ins written for privacyIDEA) call, in privacyIDEA's shapes rather than a bare
// 404, so that a client reads "nothing here" the way it reads it from privacyIDEA
// (docs/validate-api.md, "privacyIDEA's own clients"):
//   GET /validate/polltransaction[/ID]?transaction_id=ID  200, result.value false,
//       detail.challenge_status "pending": otpd sends no push challenge, so none is ever answered
//       out of band (the PAM module polls after a push challenge);
//   POST /validate/offlinerefill  400, error 905, privacyIDEA's refusal of a token that is not
//       an offline token: otpd hands out no offline codes (auth_items.offline), so none is
//       refilled;
//   /validate/triggerchallenge    401, error 4033: privacyIDEA serves it to administrators only;
//       otpd starts a challenge with /validate/check and an empty pass;
//   /auth                         401, error 4031: otpd issues no privacyIDEA administrator tokens.
//
// Thread-safety: plain functions.

#ifndef OTPD_SERVER_VALIDATE_NOT_SERVED_H_
#define OTPD_SERVER_VALIDATE_NOT_SERVED_H_

#include <optional>
#include <string_view>

#include "server/http/http_server.h"
#include "server/validate/validate_answer.h"

namespace otpd::server::validate {

// The answer to `request` (whose path without the query is `path`) when the path is one of the
// above; nullopt for any other path. The request's parameters are read only to find
// polltransaction's transaction id; nothing of them is echoed.
std::optional<Answer> NotServedAnswer(std::string_view path, const http::Request& request,
                                      double now);

}  // namespace otpd::server::validate

#endif  // OTPD_SERVER_VALIDATE_NOT_SERVED_H_
