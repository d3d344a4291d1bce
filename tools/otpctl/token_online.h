// `otpctl token ...` on the admin API, whichever way it goes: the running daemon's, or the one
// run in-process on a stopped daemon's data directory (tools/otpctl/offline_admin.h). One set of
// requests and one printer, so both ways print the same; from the API's hardwareOathDevices and
// hardwareOathMethods.

#ifndef OTPD_TOOLS_OTPCTL_TOKEN_ONLINE_H_
#define OTPD_TOOLS_OTPCTL_TOKEN_ONLINE_H_

#include <string>

#include "tools/otpctl/admin_client.h"
#include "tools/otpctl/token.h"

namespace otpd::tools {

// Runs `verb` (list, show, assign, activate, deactivate, unassign, delete) with `upn` and
// `code` already checked. Exit codes as RunTokenCommand.
int RunTokenOnline(AdminClient& admin, const std::string& verb, const TokenCommandOptions& options,
                   const std::string& upn, std::string code);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_TOKEN_ONLINE_H_
