// A user's authentication methods through the admin API (online, or offline on the data
// directory; tools/otpctl/admin.h):
//   method list UPN                     every method of the user
//   phone add UPN NUMBER [--type T]     T mobile (default), alternateMobile or office
//   phone update UPN TYPE NUMBER, phone delete UPN TYPE, phone enable-sms|disable-sms UPN
//   email add UPN ADDRESS, email delete UPN
//   software-token enrol UPN [--name N] prints the otpauth URI and a QR code once, then asks for
//                                       a code from the app to confirm (--no-confirm: later)
//   software-token confirm UPN ID [CODE], software-token delete UPN ID
// Codes are read as `token activate` reads them and never printed. Exit codes as the others.

#ifndef OTPD_TOOLS_OTPCTL_METHODS_H_
#define OTPD_TOOLS_OTPCTL_METHODS_H_

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "tools/otpctl/online.h"

namespace otpd::tools {

struct MethodCommandOptions : AdminCommandOptions {
  std::string upn;
  std::string value;  // a phone number, an e-mail address, a software token's id
  std::string type = "mobile";
  std::string code;
  std::string name;
  bool no_confirm = false;
};

struct MethodCommands {
  std::vector<CLI::App*> parents;  // method, phone, email, software-token
};

MethodCommands AddMethodCommands(CLI::App& app, MethodCommandOptions& options);
// Returns -1 when none of these commands was given.
int RunMethodCommand(const MethodCommands& commands, const MethodCommandOptions& options);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_METHODS_H_
