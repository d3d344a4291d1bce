#include "server/admin/console_assets.h"

namespace otpd::server::admin {

const ConsoleAsset* FindConsoleAsset(std::string_view path) {
  if (path == "/" || path == "/console" || path == "/console/") path = "/console/index.html";
  return http::FindEmbeddedFile(http::kConsoleAssets, path);
}

bool IsConsoleTarget(std::string_view target) {
  const std::string_view path = http::PathOf(target);
  return path == "/" || path == "/console" || path.starts_with("/console/");
}

http::Response ServeConsole(const http::Request& request) {
  return http::ServeEmbeddedFile(request, FindConsoleAsset(http::PathOf(request.target())));
}

}  // namespace otpd::server::admin
