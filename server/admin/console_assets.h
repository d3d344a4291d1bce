// The admin console's files (console/ in the source tree), compiled into the binary by
// cmake/embed_files.cmake, and how AdminServer answers for them: without a key (the files hold
// no data; every API call the page makes still needs one) and with headers that keep the page
// from running anything but its own scripts (docs/console.md).
//
// Thread-safety: constant data and pure functions.

#ifndef OTPD_SERVER_ADMIN_CONSOLE_ASSETS_H_
#define OTPD_SERVER_ADMIN_CONSOLE_ASSETS_H_

#include <string_view>

#include "server/http/embedded_files.h"

namespace otpd::server::admin {

using ConsoleAsset = http::EmbeddedFile;
using http::kConsoleAssets;

// The file served at `path` (no query): "/" is /console/index.html. Null when there is none.
const ConsoleAsset* FindConsoleAsset(std::string_view path);

// Whether `target` (a request target, query and all) is the console's: "/", "/console" or
// anything under "/console/".
bool IsConsoleTarget(std::string_view target);

// The answer for a console request: the file with its security headers, 404 for a path under
// /console/ that holds none, 405 for a verb other than GET.
http::Response ServeConsole(const http::Request& request);

}  // namespace otpd::server::admin

#endif  // OTPD_SERVER_ADMIN_CONSOLE_ASSETS_H_
