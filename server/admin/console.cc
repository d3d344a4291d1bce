#include <cstring>

#include "server/admin/console_assets.h"

namespace otpd::server::admin {

namespace bhttp = boost::beast::http;

namespace {

// Only the page's own files may run or style it; nothing may frame it, and it may talk to this
// origin alone. No inline script or style: the console's files have none.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

void SecurityHeaders(http::Response& r) {
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

const ConsoleAsset* FindConsoleAsset(std::string_view path) {
  if (path == "/" || path == "/console" || path == "/console/") path = "/console/index.html";
  for (const ConsoleAsset* a = kConsoleAssets; a->data != nullptr; ++a) {
    if (path == a->path) return a;
  }
  return nullptr;
}

bool IsConsoleTarget(std::string_view target) {
  const std::string_view path = PathOf(target);
  return path == "/" || path == "/console" || path.starts_with("/console/");
}

http::Response ServeConsole(const http::Request& request) {
  http::Response r;
  if (request.method() != bhttp::verb::get) {
    r = http::MakeResponse(request, bhttp::status::method_not_allowed, "text/plain",
                           "the console's files take GET\n");
    r.set(bhttp::field::allow, "GET");
  } else if (const ConsoleAsset* a = FindConsoleAsset(PathOf(request.target())); a == nullptr) {
    r = http::MakeResponse(request, bhttp::status::not_found, "text/plain", "no such file\n");
  } else {
    r = http::MakeResponse(request, bhttp::status::ok, a->content_type,
                           std::string(reinterpret_cast<const char*>(a->data), a->size));
  }
  SecurityHeaders(r);
  return r;
}

}  // namespace otpd::server::admin
