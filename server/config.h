// The daemon's configuration: a TOML file (--config) whose values command-line flags override.
// LoadServerConfig is what otpd's main() calls; ReloadServerConfig re-reads the same sources on
// SIGHUP and returns only what may change while running.
//
// Every option is described once (server/config.cc: its TOML key, flag, help text, range,
// default and whether a reload applies it); that one description drives parsing, the flags,
// validation, reload, --help, and the example file docs/otpd.example.toml
// (ExampleConfigToml). TCP clients are tables of their own:
//   [clients.NAME]                              TCP clients (HELLO client=NAME key=...)
//   key_file = "/etc/otpd/clients/NAME.key"     the key is the file's first line; or
//   key = "..."                                 inline (keep the config file 0600 then)
//   validate_without_key = true                 the validate API admits requests without a key
//   networks = ["10.1.2.0/24"]                  from these source networks (needed with it)
//
// Thread-safety: plain functions and value types.

#ifndef OTPD_SERVER_CONFIG_H_
#define OTPD_SERVER_CONFIG_H_

#include <spdlog/common.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/secret_bytes.h"
#include "base/statusor.h"

namespace otpd::server {

enum class Durability : uint8_t {
  kSync,     // every accepted sign-in is fsynced before the reply (default)
  kRelaxed,  // failure counters may be committed without fsync (docs/architecture.md)
};

// Limits of the verify server. All may be changed at runtime (SIGHUP) except max_line.
struct ServerLimits {
  // Connections on the Unix socket beyond this are closed as soon as they are accepted.
  uint32_t max_connections = 1024;
  // The same for the TCP listener, counted apart: connections that have not said HELLO yet can
  // never take the Unix socket's share.
  uint32_t max_tcp_connections = 256;
  // A TCP connection that has not completed HELLO within this time gets
  // `FAIL - reason=unauthorized` and is closed.
  std::chrono::milliseconds hello_timeout{5000};
  // Failed HELLOs a source address may make within a minute; beyond that its HELLOs are refused
  // without looking at the key until the minute is over (and the lock doubles, up to an hour,
  // while it keeps failing).
  uint32_t max_failed_hellos = 10;
  uint32_t selfservice_failed_signins = 20;  // per address a minute; 0: no limit
  // VERIFY/RESYNC calls in the SignInService at once, over all connections; beyond it requests
  // answer `FAIL id reason=unavailable` at once.
  uint32_t max_in_flight = 4096;
  // Requests per connection read but not yet answered (reply written to the socket); at the
  // cap the server stops reading that connection until replies drain (backpressure).
  uint32_t pipeline_depth = 64;
  // A connection with nothing in flight and no bytes received for this long is closed.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(300)};
  // A request line must be complete (its LF received) within this time of its first byte;
  // otherwise the connection gets `FAIL - reason=bad_request` and is closed. It bounds clients
  // that trickle bytes slowly enough to dodge idle_timeout.
  std::chrono::milliseconds line_timeout{10000};
  // A VERIFY/RESYNC not answered by the service within this time answers
  // `FAIL id reason=unavailable`; the late answer is dropped.
  std::chrono::milliseconds request_deadline{5000};
  // Stop() waits this long for in-flight requests before closing connections.
  std::chrono::milliseconds shutdown_grace{5000};
  // Longest request line, LF (and a CR before it) excluded. Fixed at start-up.
  uint32_t max_line = 4096;
};

// The admin API's listeners and limits (docs/admin-api.md). Fixed at start-up.
struct AdminLimits {
  // Connections on each admin listener at once.
  uint32_t max_connections = 64;
  // The largest JSON request body, and the largest token file posted for import.
  uint32_t max_body_kb = 1024;
  uint32_t max_import_mb = 64;
  // A request's headers must arrive within header_timeout of its first byte, its body within
  // body_timeout; a kept-alive connection with no request for idle_timeout is closed.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{60'000};
  std::chrono::milliseconds idle_timeout{60'000};
  // Threads that run admin requests (they read and write the Store, hash, parse imports).
  uint32_t workers = 2;
  // Token activations (right or wrong codes) over the whole API per window, as Entra limits them
  // (200 per 5 minutes per tenant).
  uint32_t activations_per_window = 200;
  std::chrono::seconds activation_window{300};
};

// The fields that may change while the daemon runs (ReloadServerConfig).
struct RuntimeConfig {
  ServerLimits limits;  // max_line is ignored on reload
  std::map<std::string, base::SecretBytes, std::less<>> tcp_clients;
  std::map<std::string, std::vector<std::string>, std::less<>> validate_keyless_clients;
  spdlog::level::level_enum log_level = spdlog::level::info;
  // Fields that differ from the running configuration but need a restart to take effect.
  std::vector<std::string> needs_restart;
};

// Where the daemon keeps its records.
enum class StoreKind : uint8_t {
  kRocksDb,  // the data directory (default)
  kEtcd,     // an etcd v3 cluster, shared by several otpd nodes (docs/scale-out.md)
};

// The self-service verbs and passwords ([actions] in the file).
struct ActionsConfig {
  uint32_t scrypt_log2_n = 15;
  uint32_t password_threads = 1;
  uint32_t remember_default_days = 90;
  bool registration_without_tap = false;
  bool registration_with_password = false;
  // Where users register an authenticator app themselves (a web page), for front ends that
  // cannot show a QR code (RADIUS); "" when there is none.
  std::string registration_url;
};

struct ServerConfig {
  std::string config_file;  // "" when none was given
  std::string data_dir;
  std::string key_file;
  StoreKind store = StoreKind::kRocksDb;
  // The etcd cluster (store = "etcd"): client URLs of its members, the key prefix of this
  // installation, TLS files, and an etcd user whose password is the first line of a file.
  std::vector<std::string> etcd_endpoints;
  std::string etcd_prefix = "/otpd/";
  std::string etcd_ca_file;
  std::string etcd_cert_file;
  std::string etcd_key_file;
  std::string etcd_user;
  std::string etcd_password_file;
  uint32_t etcd_timeout_ms = 2000;
  uint32_t etcd_max_txn_ops = 128;
  // etcd transactions in flight at once, for changes with disjoint keys.
  uint32_t etcd_commits_in_flight = 1;
  // The TTL of the lease by which one node holds the hook delivery role.
  uint32_t etcd_lease_ttl_s = 10;
  // Unix verify socket path; "" when disabled (`socket = "none"`).
  std::string socket_path;
  // TCP verify listener, HOST:PORT (IPv6 as [addr]:port; port 0 = ephemeral); "" = none.
  std::string listen;
  // Unix admin socket (mode 0600, the owner's); "" when disabled (`admin_socket = "none"`).
  std::string admin_socket;
  // TCP admin listener, HOST:PORT; "" = none. Off loopback it needs admin_tls_cert/key.
  std::string admin_listen;
  // PEM certificate chain and private key of the TCP admin listener; both or neither.
  std::string admin_tls_cert;
  std::string admin_tls_key;
  AdminLimits admin;
  // TCP listener of the privacyIDEA-compatible validate API (docs/validate-api.md), HOST:PORT;
  // "" = none. Clients authenticate with a [clients.NAME] key; off loopback it needs TLS.
  std::string validate_listen;
  // PEM certificate chain and private key of the validate listener; both or neither.
  std::string validate_tls_cert;
  std::string validate_tls_key;
  // TCP listener of the users' Security info page and its API (docs/selfservice.md), HOST:PORT;
  // "" = none. Off loopback it needs TLS.
  std::string selfservice_listen;
  // PEM certificate chain and private key of the Security info listener; both or neither.
  std::string selfservice_tls_cert;
  std::string selfservice_tls_key;
  Durability durability = Durability::kSync;
  uint32_t io_threads = 2;
  ServerLimits limits;
  // TCP clients allowed to HELLO: name -> key.
  std::map<std::string, base::SecretBytes, std::less<>> tcp_clients;
  // Validate API clients admitted without a key ([clients.NAME] with validate_without_key = true):
  // name -> the source networks ("10.1.2.0/24", "fd00::/64") their requests come from. Empty by
  // default; the verify socket never reads it (server/client_networks.h).
  std::map<std::string, std::vector<std::string>, std::less<>> validate_keyless_clients;
  // Lets TCP clients skip HELLO authentication. Only for a listener on a trusted network.
  bool allow_unauthenticated_tcp = false;
  // Accept a master key file inside the data directory (then a copy of the directory alone
  // opens every seed). Default false.
  bool insecure_key_in_data_dir = false;
  // Memory the sign-in cache of users may take, in MiB. Default 640.
  uint32_t cache_mb = 640;
  ActionsConfig actions;
  spdlog::level::level_enum log_level = spdlog::level::info;
  // --init: create the data directory (and the key file, if it does not exist) when it holds no
  // database yet. Only a command-line flag, never a file's key: without it otpd refuses a data
  // directory that holds no database, so a mistyped path is never a new, empty one.
  bool create_data_dir = false;
  // --check-config: check the configuration and exit. LoadServerConfig then returns OK with
  // every error found in `check_errors` (empty when the configuration is valid).
  bool check_only = false;
  std::vector<std::string> check_errors;
  // The command line the config was loaded from, kept so that a reload applies the same
  // overrides.
  std::vector<std::string> args;

  ServerConfig() = default;
  ServerConfig(ServerConfig&&) = default;
  ServerConfig& operator=(ServerConfig&&) = default;
  // An explicit copy (the client keys are secrets).
  ServerConfig Clone() const;
};

// Parses the command line (argv[0] is the program name), reads the TOML file named by --config if
// any, applies the flags over it, fills in defaults and validates. Errors are InvalidArgument
// naming the key or flag at fault (never its value); an unknown key names the nearest known one.
// When --help was asked for, returns Cancelled whose message is the help text: print it and exit
// 0. With --check-config, errors in the file and the flags do not fail the call: every one of
// them is in the returned config's check_errors (a command line that cannot be parsed still
// fails).
base::StatusOr<ServerConfig> LoadServerConfig(int argc, const char* const* argv);
base::StatusOr<ServerConfig> LoadServerConfig(const std::vector<std::string>& args);

// Re-reads `running.config_file` with the original command line and returns the runtime-safe
// fields. An invalid file is an error and nothing should change.
base::StatusOr<RuntimeConfig> ReloadServerConfig(const ServerConfig& running);

// Parses "HOST:PORT" ("[v6]:PORT" for IPv6). Fails with InvalidArgument on anything else.
struct HostPort {
  std::string host;
  uint16_t port = 0;
};
base::StatusOr<HostPort> ParseHostPort(std::string_view text);

// True for "localhost" and loopback addresses (127.0.0.0/8, ::1).
bool IsLoopbackHost(std::string_view host);

std::string_view DurabilityName(Durability durability);
// The configured names of the store kinds ("rocksdb", "etcd"), one table both ways: the name of
// `kind` ("unknown" outside the enumeration), and the kind a name stands for (nullopt for a name
// that is none). tools/open_store.h opens each kind.
std::string_view StoreKindName(StoreKind kind);
std::optional<StoreKind> ParseStoreKind(std::string_view name);
std::vector<std::string_view> StoreKindNames();

// Every option as documented: for --help, the example file and manual pages.
struct OptionDoc {
  std::string key;           // TOML key ("limits.max_connections")
  std::string flag;          // "--max-connections", or "" when there is none
  std::string value_name;    // "N", "PATH", "HOST:PORT", ...
  std::string help;          // one sentence
  std::string default_text;  // as TOML; "" when there is no default
  std::string example;       // a TOML value to show when there is no default
  bool reloadable = false;   // SIGHUP applies it
};
std::vector<OptionDoc> DescribeOptions();

// otpd's flags that are not options of the configuration file (--config, --init,
// --check-config, --print-example-config, --version, --help), as --help describes them; `key`
// and `default_text` are empty.
std::vector<OptionDoc> DescribeCommandLineFlags();

// The example configuration file: every option with its default (or an example) and a comment.
std::string ExampleConfigToml();

}  // namespace otpd::server

#endif  // OTPD_SERVER_CONFIG_H_
