// `otpctl apikey create|list|revoke` and `otpctl audit`, through the admin API (online, or
// offline on the data directory; tools/otpctl/admin.h).
//   apikey create NAME --role ROLE... [--user UPN] [--out FILE]: the key is shown once, on
//     standard output, or written to FILE (created with mode 0600; never overwritten)
//   apikey list, apikey revoke ID_OR_NAME
//   audit [--target T] [--actor A] [--action X] [--since ISO8601] [--limit N]: newest last
// Exit codes as the others.

#ifndef OTPD_TOOLS_OTPCTL_APIKEY_H_
#define OTPD_TOOLS_OTPCTL_APIKEY_H_

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "tools/otpctl/online.h"

namespace otpd::tools {

struct ApiKeyCommandOptions : AdminCommandOptions {
  std::string name;
  std::vector<std::string> roles;
  std::string user;
  std::string out_file;
  // audit
  std::string target, actor_filter, action, since;
  size_t limit = 0;  // 0: all
  int page_size = 500;
};

struct ApiKeyCommands {
  CLI::App* apikey;
  CLI::App* audit;
};

ApiKeyCommands AddApiKeyCommands(CLI::App& app, ApiKeyCommandOptions& options);
// Returns -1 when neither command was given.
int RunApiKeyCommand(const ApiKeyCommands& commands, const ApiKeyCommandOptions& options);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_APIKEY_H_
