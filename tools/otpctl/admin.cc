#include "tools/otpctl/admin.h"

#include <cstdlib>
#include <iostream>

#include "tools/display.h"
#include "tools/otpctl/offline_admin.h"

namespace otpd::tools {
namespace {

// The API key: --api-key-file, else $OTPD_API_KEY, else none (the socket's owner needs none).
base::StatusOr<std::optional<base::SecretBytes>> ApiKey(const AdminFlags& f) {
  if (!f.api_key_file.empty()) {
    auto key = ReadPrivateLine(f.api_key_file, "API key file");
    if (!key.ok()) {
      return base::InvalidArgumentError("--api-key-file " + PrintablePath(f.api_key_file) + ": " +
                                        std::string(key.status().message()));
    }
    if (key->empty()) {
      return base::InvalidArgumentError("--api-key-file " + PrintablePath(f.api_key_file) +
                                        " is empty");
    }
    return std::optional<base::SecretBytes>(std::move(*key));
  }
  if (const char* env = std::getenv(kApiKeyEnvVar); env != nullptr && *env != '\0') {
    return std::optional<base::SecretBytes>(base::SecretBytes::FromString(env));
  }
  return std::optional<base::SecretBytes>();
}

}  // namespace

void AddAdminFlags(CLI::App* cmd, AdminFlags& f) {
  if (CLI::Option* dir = cmd->get_option_no_throw("--data-dir")) {
    dir->required(false)->description(
        "The otpd data directory (created by otpctl init): while the daemon runs, the command "
        "goes through the admin.sock in it; while it is stopped, the command opens the directory "
        "itself. Required unless " +
        std::string(kDataDirEnvVar) + " is set or --admin is given.");
  }
  cmd->add_option("--admin-socket", f.socket,
                  "The daemon's admin socket (default: admin.sock in the data directory)");
  cmd->add_option("--admin", f.url,
                  "The daemon's admin API over TCP: http://127.0.0.1:PORT or https://HOST:PORT "
                  "(needs --api-key-file or $" +
                      std::string(kApiKeyEnvVar) + ")");
  cmd->add_option("--admin-ca-file", f.ca_file,
                  "PEM certificates to trust for https:// (default: the system's CAs)");
  cmd->add_option("--api-key-file", f.api_key_file,
                  "A file holding the API key (default $" + std::string(kApiKeyEnvVar) + ")");
  CLI::Option* online =
      cmd->add_flag("--online", f.online,
                    "Work through the running daemon's admin API; fail if it is not running");
  CLI::Option* offline = cmd->add_flag(
      "--offline", f.offline, "Work on the data directory directly (the daemon must be stopped)");
  online->excludes(offline);
}

int CheckAdminFlags(const AdminFlags& f, const DataDirFlags& dir, std::string_view what) {
  auto usage = [&](std::string_view message) {
    std::cerr << "otpctl " << what << ": " << message << "\n";
    return 2;
  };
  if (f.offline && (!f.url.empty() || !f.socket.empty())) {
    return usage("--offline works on the data directory: it takes no --admin or --admin-socket");
  }
  if (f.url.empty() && dir.data_dir.empty()) {
    return usage("--data-dir is required (or $OTPD_DATA_DIR), unless --admin URL is given");
  }
  if (!f.url.empty() && !f.socket.empty()) return usage("give --admin or --admin-socket, not both");
  return 0;
}

base::StatusOr<std::unique_ptr<AdminClient>> ConnectIfRunning(const AdminFlags& f,
                                                              const DataDirFlags& dir) {
  if (f.offline) return std::unique_ptr<AdminClient>();
  AdminEndpoint endpoint;
  endpoint.url = f.url;
  endpoint.ca_file = f.ca_file;
  endpoint.socket_path = !f.socket.empty() ? f.socket : dir.data_dir + "/admin.sock";
  OTPD_ASSIGN_OR_RETURN(endpoint.api_key, ApiKey(f));
  auto transport = ConnectAdmin(endpoint);
  if (!transport.ok()) {
    const bool insisted = f.online || !f.url.empty() || !f.socket.empty();
    if (IsNotRunning(transport.status()) && !insisted) return std::unique_ptr<AdminClient>();
    return transport.status();
  }
  return std::make_unique<AdminClient>(std::move(*transport));
}

base::StatusOr<std::unique_ptr<AdminClient>> OpenAdmin(const AdminFlags& f, const DataDirFlags& dir,
                                                       const std::string& actor, bool read_only) {
  OTPD_ASSIGN_OR_RETURN(std::unique_ptr<AdminClient> online, ConnectIfRunning(f, dir));
  if (online) return online;
  DataDirOptions options;
  options.data_dir = dir.data_dir;
  options.key_file = dir.key_file;
  options.access = read_only ? DataDirAccess::kReadOnly : DataDirAccess::kReadWrite;
  options.allow_key_in_data_dir = dir.insecure_key_in_data_dir;
  OTPD_ASSIGN_OR_RETURN(std::unique_ptr<AdminTransport> offline, OpenOfflineAdmin(options, actor));
  return std::make_unique<AdminClient>(std::move(offline));
}

}  // namespace otpd::tools
