// Checks of the free text otpd stores for people to read back: display names of users, tokens
// and methods, API key and app password names, a token's manufacturer and model. Such text is
// shown in the console, in otpctl's tables and in the audit trail, where a control character
// could rewrite a terminal line or forge a log entry; so every door that stores it (the admin API,
// and through it otpctl online and offline) refuses it with the same check.
//
// Thread-safety: plain functions.

#ifndef OTPD_SERVICE_MODEL_TEXT_CHECKS_H_
#define OTPD_SERVICE_MODEL_TEXT_CHECKS_H_

#include <string>
#include <string_view>

#include "base/status.h"
#include "base/statusor.h"

namespace otpd::service {

// OK when `text` is well-formed UTF-8 without control characters (U+0000-U+001F, U+007F and the
// C1 controls U+0080-U+009F). Otherwise InvalidArgument naming `field` and the byte offset of the
// first offending character (never the text itself), e.g. "displayName contains a control
// character (U+000A) at byte 4".
base::Status CheckFreeText(std::string_view field, std::string_view text);

// OK for "+{1..4 digit country code} {4..15 digits}" with an optional "x{1..10 digits}";
// InvalidArgument saying the rule and an example otherwise, and the accepted form of a number
// written another common way ("+14255551234": did you mean "+1 4255551234"?).
base::Status CheckPhoneNumber(std::string_view number);
// Whether `number` is in the accepted form (CheckPhoneNumber without the message).
bool CheckPhoneNumberForm(std::string_view number);

// local@domain, at most 254 characters; lower-cased.
base::StatusOr<std::string> CheckEmailAddress(std::string_view address);

}  // namespace otpd::service

#endif  // OTPD_SERVICE_MODEL_TEXT_CHECKS_H_
