// The user principal name check every token import applies (and the inventory commands reuse):
// an e-mail address local@domain.tld, stored lower-cased.

#ifndef OTPD_TOKENIO_UPN_H_
#define OTPD_TOKENIO_UPN_H_

#include <string>
#include <string_view>

#include "base/statusor.h"

namespace otpd::tokenio {

// Trims `upn`, checks it is shaped local@domain.tld (RFC 5322 dot-atom local part of at most 64
// characters, DNS labels, a top-level domain of two or more letters, 254 characters in all) and
// returns it lower-cased. InvalidArgument names what is wrong; the address itself is never
// repeated in the message.
base::StatusOr<std::string> NormaliseUpn(std::string_view upn);

}  // namespace otpd::tokenio

#endif  // OTPD_TOKENIO_UPN_H_
