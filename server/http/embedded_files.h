// A web page's files compiled into the binary (cmake/embed_files.cmake writes the tables), and how
// otpd answers for them: without any key (the files hold no data; every API call a page makes is
// authenticated on its own) and with headers that keep the page from running anything but its own
// scripts, being framed, or leaking where it was opened from. The admin console (console/,
// docs/console.md) and the Security info page (selfservice/, docs/selfservice.md) are served so.
//
// Thread-safety: constant data and pure functions.

#ifndef OTPD_SERVER_HTTP_EMBEDDED_FILES_H_
#define OTPD_SERVER_HTTP_EMBEDDED_FILES_H_

#include <cstddef>
#include <string_view>

#include "server/http/http_server.h"

namespace otpd::server::http {

struct EmbeddedFile {
  const char* path;          // "/console/app.js"
  const char* content_type;  // "text/javascript; charset=utf-8"
  const unsigned char* data;
  size_t size;
};

// The tables, each ended by an entry whose data is null. Generated.
extern const EmbeddedFile kConsoleAssets[];      // console/ at /console/
extern const EmbeddedFile kSelfServiceAssets[];  // selfservice/ at /security-info/

// The file of `files` (a table ended by an entry whose data is null) at `path`; null when none.
const EmbeddedFile* FindEmbeddedFile(const EmbeddedFile* files, std::string_view path);

// The request target without its query.
inline std::string_view PathOf(std::string_view target) {
  return target.substr(0, target.find('?'));
}

// The answer for a page's file: `file` with the security headers, 404 when it is null, 405 for a
// verb other than GET (HEAD included: the pages never need it).
Response ServeEmbeddedFile(const Request& request, const EmbeddedFile* file);

}  // namespace otpd::server::http

#endif  // OTPD_SERVER_HTTP_EMBEDDED_FILES_H_
