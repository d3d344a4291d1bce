// `otpctl token ...` through the daemon's admin API: the same commands, arguments and output as
// offline (tools/otpctl_token.h), from the API's hardwareOathDevices and hardwareOathMethods.
// Differences: activation does not report the drift it learnt, and `show` has no "updated" time.

#ifndef OTPD_TOOLS_OTPCTL_TOKEN_ONLINE_H_
#define OTPD_TOOLS_OTPCTL_TOKEN_ONLINE_H_

#include <string>

#include "tools/admin_client.h"
#include "tools/otpctl_token.h"

namespace otpd::tools {

// Runs `verb` (list, show, assign, activate, deactivate, unassign, delete) with `upn` and
// `code` already checked. Exit codes as RunTokenCommand.
int RunTokenOnline(AdminClient& admin, const std::string& verb, const TokenCommandOptions& options,
                   const std::string& upn, std::string code);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_TOKEN_ONLINE_H_
