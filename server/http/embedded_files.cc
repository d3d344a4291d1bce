#include "server/http/embedded_files.h"

namespace otpd::server::http {

namespace bhttp = boost::beast::http;

namespace {

// Only the page's own files may run or style it; nothing may frame it, and it may talk to its own
// origin alone. No inline script or style: the pages have none.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

void SecurityHeaders(Response& r) {
  r.set(bhttp::field::server, "otpd");
  r.set("Content-Security-Policy", kContentSecurityPolicy);
  r.set("X-Content-Type-Options", "nosniff");
  r.set("Referrer-Policy", "no-referrer");
  r.set("X-Frame-Options", "DENY");
  r.set("Cross-Origin-Opener-Policy", "same-origin");
  r.set("Cross-Origin-Resource-Policy", "same-origin");
  // The files change with the binary only; a browser must ask again after an upgrade.
  r.set(bhttp::field::cache_control, "no-cache");
}

}  // namespace

const EmbeddedFile* FindEmbeddedFile(const EmbeddedFile* files, std::string_view path) {
  for (const EmbeddedFile* f = files; f->data != nullptr; ++f) {
    if (path == f->path) return f;
  }
  return nullptr;
}

Response ServeEmbeddedFile(const Request& request, const EmbeddedFile* file) {
  Response r;
  if (request.method() != bhttp::verb::get) {
    r = MakeResponse(request, bhttp::status::method_not_allowed, "text/plain",
                     "the page's files take GET\n");
    r.set(bhttp::field::allow, "GET");
  } else if (file == nullptr) {
    r = MakeResponse(request, bhttp::status::not_found, "text/plain", "no such file\n");
  } else {
    r = MakeResponse(request, bhttp::status::ok, file->content_type,
                     std::string(reinterpret_cast<const char*>(file->data), file->size));
  }
  SecurityHeaders(r);
  return r;
}

}  // namespace otpd::server::http
