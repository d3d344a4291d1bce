// `otpctl import FILE`: loads a vendor's token file (Entra CSV, OATH CSV, PSKC) through the admin
// API (the file is the request's body): the running daemon's, or with the daemon stopped the same
// API run in-process on the data directory (tools/otpctl/admin.h), so the checks and the report
// are the same either way.
//
// The whole file is read before anything is stored. A file that cannot be read as a whole
// (empty, truncated, broken quoting, malformed XML, a wrong key or MAC failure of a PSKC
// container) stores nothing and says so; rejected rows are reported and the others stored.
// Reports name positions, reasons and at most a serial (never another value from the file, never
// a seed): at most 20 rejected rows on stderr (serials cut at 40 characters), all of them in the
// --failures CSV file (position,serial,reason) and in the --json output (whole serials, which are
// at most 64 printable characters).

#ifndef OTPD_TOOLS_OTPCTL_IMPORT_H_
#define OTPD_TOOLS_OTPCTL_IMPORT_H_

#include <CLI/CLI.hpp>

#include <string>

#include "tools/otpctl/admin.h"
#include "tools/otpctl/data_dir.h"

namespace otpd::tools {

struct ImportCommandOptions {
  std::string file;
  DataDirFlags dir;
  AdminFlags admin;
  std::string actor = "otpctl";  // offline only: online, the daemon names the caller
  std::string format;            // empty: detect
  bool dry_run = false;
  bool replace = false;
  bool allow_duplicate_seeds = false;
  bool json = false;
  std::string failures_file;
  std::string psk_file;
  std::string password_file;
};

CLI::App* AddImportCommand(CLI::App& app, ImportCommandOptions& options);
// Exit codes: 0 every token stored (or already stored), 1 a file error (nothing stored) or some
// rows rejected (the others stored).
int RunImportCommand(const ImportCommandOptions& options);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_IMPORT_H_
