// What the otpctl commands built on the admin API share: their options, the way they open the
// API (tools/otpctl/admin.h) and report failures, and table output.

#ifndef OTPD_TOOLS_OTPCTL_ONLINE_H_
#define OTPD_TOOLS_OTPCTL_ONLINE_H_

#include <CLI/CLI.hpp>

#include <boost/json.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tools/otpctl/admin.h"
#include "tools/otpctl/admin_client.h"
#include "tools/otpctl/data_dir.h"

namespace otpd::tools {

struct AdminCommandOptions {
  DataDirFlags dir;
  AdminFlags admin;
  std::string actor = "otpctl";  // offline only: online, the daemon names the caller
  bool json = false;
};

// Adds the data directory, admin and --actor flags to `parent`, --json to each of its leaf
// commands, and lets the leaves take the parent's flags after their own name.
void AddAdminCommandFlags(CLI::App* parent, AdminCommandOptions& options);

// Opens the API as `options` say (usage errors: 2), runs `body` and returns its exit code;
// failures print "otpctl WHAT: message" and return 1.
int WithAdmin(const AdminCommandOptions& options, std::string_view what, bool read_only,
              const std::function<base::Status(AdminClient&)>& body);

// Prints "otpctl WHAT: message" on stderr and returns 1.
int FailWith(std::string_view what, const base::Status& status);

// Column-aligned rows under a header row; cells are made printable (tools/display.h).
void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);

// The text of `key` in `object` ("-" when missing or null; numbers and booleans as text).
std::string Text(const boost::json::value& object, std::string_view key);

// Reads a verification code: `given`, or one line of standard input when it is "-" or empty
// (prompting with `prompt` on a terminal). InvalidArgument unless 6 to 9 digits; never repeats
// the code in a message.
base::StatusOr<std::string> ReadCode(const std::string& given, std::string_view prompt);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_ONLINE_H_
