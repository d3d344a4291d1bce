#include "server/config.h"

#include <toml++/toml.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <deque>
#include <fstream>
#include <optional>
#include <string_view>
#include <variant>

#include "server/protocol.h"

#ifndef OTPD_VERSION
#define OTPD_VERSION "0"
#endif

namespace otpd::server {
namespace {

using base::InvalidArgumentError;
using base::Status;
using base::StatusOr;

// ---- the options ------------------------------------------------------------------------------

// An option's value: text, a number (in the unit its key names), a switch, or a list of texts.
using Value = std::variant<std::string, uint64_t, bool, std::vector<std::string>>;

// kList: a TOML array of strings; on the command line, the items separated by commas.
enum class Kind { kText, kNumber, kSwitch, kChoice, kList };

struct Option {
  std::string_view key;         // TOML key; "table.key" inside a table
  std::string_view flag;        // command-line flag, or "" when there is none
  std::string_view value_name;  // for --help and the docs
  std::string_view help;
  Kind kind = Kind::kText;
  uint64_t min = 0, max = UINT32_MAX;          // kNumber
  std::vector<std::string_view> choices = {};  // kChoice
  bool reloadable = false;
  std::string_view example = {};  // shown in the example file when the default is empty
  Value (*get)(const ServerConfig&) = nullptr;
  void (*set)(ServerConfig&, const Value&) = nullptr;
};

std::string Text(const Value& v) { return std::get<std::string>(v); }
std::vector<std::string> List(const Value& v) { return std::get<std::vector<std::string>>(v); }
uint64_t Number(const Value& v) { return std::get<uint64_t>(v); }
std::chrono::milliseconds Millis(const Value& v) {
  return std::chrono::milliseconds(static_cast<int64_t>(Number(v)));
}
Value MillisValue(std::chrono::milliseconds d) { return static_cast<uint64_t>(d.count()); }

constexpr std::pair<std::string_view, spdlog::level::level_enum> kLogLevels[] = {
    {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
    {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
    {"error", spdlog::level::err},   {"critical", spdlog::level::critical},
    {"off", spdlog::level::off}};

std::string_view LogLevelName(spdlog::level::level_enum level) {
  for (const auto& [name, l] : kLogLevels) {
    if (l == level) return name;
  }
  return "info";
}

// The one description of every option. The order is the example file's and --help's.
const std::vector<Option>& Options() {
  static const std::vector<Option> options = {
      {.key = "data_dir",
       .flag = "--data-dir",
       .value_name = "DIR",
       .help = "Data directory: RocksDB's files, and the default place of the Unix socket. "
               "Required with store = \"rocksdb\".",
       .example = "\"/var/lib/otpd\"",
       .get = [](const ServerConfig& c) -> Value { return c.data_dir; },
       .set = [](ServerConfig& c, const Value& v) { c.data_dir = Text(v); }},
      {.key = "key_file",
       .flag = "--key-file",
       .value_name = "PATH",
       .help = "Master key file (mode 0600), outside the data directory. OTPD_MASTER_KEY, when "
               "set, is used instead.",
       .example = "\"/etc/otpd/master.key\"",
       .get = [](const ServerConfig& c) -> Value { return c.key_file; },
       .set = [](ServerConfig& c, const Value& v) { c.key_file = Text(v); }},
      {.key = "store",
       .flag = "--store",
       .value_name = "rocksdb|etcd",
       .help = "Where records are kept: \"rocksdb\" in data_dir, or \"etcd\" on the etcd cluster "
               "of etcd_endpoints, which several otpd nodes may share (docs/scale-out.md). The "
               "master key stays in key_file either way.",
       .kind = Kind::kChoice,
       .choices = {"rocksdb", "etcd"},
       .get = [](const ServerConfig& c) -> Value { return std::string(StoreKindName(c.store)); },
       .set =
           [](ServerConfig& c, const Value& v) {
             c.store = Text(v) == "etcd" ? StoreKind::kEtcd : StoreKind::kRocksDb;
           }},
      {.key = "etcd_endpoints",
       .flag = "--etcd-endpoints",
       .value_name = "URL,...",
       .help = "Client URLs of the etcd cluster's members (host:port, http:// or https://); "
               "required with store = \"etcd\".",
       .kind = Kind::kList,
       .example = "[\"https://etcd1:2379\", \"https://etcd2:2379\", \"https://etcd3:2379\"]",
       .get = [](const ServerConfig& c) -> Value { return c.etcd_endpoints; },
       .set = [](ServerConfig& c, const Value& v) { c.etcd_endpoints = List(v); }},
      {.key = "etcd_prefix",
       .flag = "--etcd-prefix",
       .value_name = "PREFIX",
       .help = "Every etcd key of this installation starts with it.",
       .get = [](const ServerConfig& c) -> Value { return c.etcd_prefix; },
       .set = [](ServerConfig& c, const Value& v) { c.etcd_prefix = Text(v); }},
      {.key = "etcd_ca_file",
       .flag = "--etcd-ca-file",
       .value_name = "PATH",
       .help = "CA certificate (PEM) of the etcd members; turns TLS on.",
       .example = "\"/etc/otpd/etcd-ca.pem\"",
       .get = [](const ServerConfig& c) -> Value { return c.etcd_ca_file; },
       .set = [](ServerConfig& c, const Value& v) { c.etcd_ca_file = Text(v); }},
      {.key = "etcd_cert_file",
       .flag = "--etcd-cert-file",
       .value_name = "PATH",
       .help = "Client certificate (PEM) for etcd, with etcd_key_file.",
       .example = "\"/etc/otpd/etcd-client.pem\"",
       .get = [](const ServerConfig& c) -> Value { return c.etcd_cert_file; },
       .set = [](ServerConfig& c, const Value& v) { c.etcd_cert_file = Text(v); }},
      {.key = "etcd_key_file",
       .flag = "--etcd-key-file",
       .value_name = "PATH",
       .help = "Private key (PEM) of the etcd client certificate.",
       .example = "\"/etc/otpd/etcd-client.key\"",
       .get = [](const ServerConfig& c) -> Value { return c.etcd_key_file; },
       .set = [](ServerConfig& c, const Value& v) { c.etcd_key_file = Text(v); }},
      {.key = "etcd_user",
       .flag = "--etcd-user",
       .value_name = "NAME",
       .help = "etcd user to authenticate as (etcd auth enabled), with etcd_password_file.",
       .example = "\"otpd\"",
       .get = [](const ServerConfig& c) -> Value { return c.etcd_user; },
       .set = [](ServerConfig& c, const Value& v) { c.etcd_user = Text(v); }},
      {.key = "etcd_password_file",
       .flag = "--etcd-password-file",
       .value_name = "PATH",
       .help = "File whose first line is etcd_user's password (mode 0600).",
       .example = "\"/etc/otpd/etcd.password\"",
       .get = [](const ServerConfig& c) -> Value { return c.etcd_password_file; },
       .set = [](ServerConfig& c, const Value& v) { c.etcd_password_file = Text(v); }},
      {.key = "etcd_timeout_ms",
       .flag = "--etcd-timeout",
       .value_name = "MS",
       .help = "Deadline of each call to an etcd member; a read that misses it is tried on the "
               "next member, a write answers unavailable.",
       .kind = Kind::kNumber,
       .min = 50,
       .max = 60'000,
       .get = [](const ServerConfig& c) -> Value { return uint64_t{c.etcd_timeout_ms}; },
       .set = [](ServerConfig& c,
                 const Value& v) { c.etcd_timeout_ms = static_cast<uint32_t>(Number(v)); }},
      {.key = "etcd_max_txn_ops",
       .flag = "--etcd-max-txn-ops",
       .value_name = "N",
       .help = "The cluster's --max-txn-ops: no transaction otpd sends has more operations.",
       .kind = Kind::kNumber,
       .min = 16,
       .max = 1'000'000,
       .get = [](const ServerConfig& c) -> Value { return uint64_t{c.etcd_max_txn_ops}; },
       .set = [](ServerConfig& c,
                 const Value& v) { c.etcd_max_txn_ops = static_cast<uint32_t>(Number(v)); }},
      {.key = "insecure_key_in_data_dir",
       .flag = "--insecure-key-in-data-dir",
       .help = "Accept a key file inside the data directory (a copy of the directory then opens "
               "every seed).",
       .kind = Kind::kSwitch,
       .get = [](const ServerConfig& c) -> Value { return c.insecure_key_in_data_dir; },
       .set = [](ServerConfig& c,
                 const Value& v) { c.insecure_key_in_data_dir = std::get<bool>(v); }},
      {.key = "socket",
       .flag = "--socket",
       .value_name = "PATH",
       .help = "Unix verify socket; \"none\" disables it. Default <data_dir>/verify.sock.",
       .example = "\"/run/otpd/verify.sock\"",
       .get = [](const ServerConfig& c) -> Value { return c.socket_path; },
       .set = [](ServerConfig& c, const Value& v) { c.socket_path = Text(v); }},
      {.key = "listen",
       .flag = "--listen",
       .value_name = "HOST:PORT",
       .help = "TCP verify listener ([v6]:port for IPv6; port 0 picks one). Needs [clients.NAME] "
               "entries or allow_unauthenticated_tcp. Default: none.",
       .example = "\"127.0.0.1:7733\"",
       .get = [](const ServerConfig& c) -> Value { return c.listen; },
       .set = [](ServerConfig& c, const Value& v) { c.listen = Text(v); }},
      {.key = "allow_unauthenticated_tcp",
       .flag = "--allow-unauthenticated-tcp",
       .help = "Let TCP clients skip HELLO authentication (only on a trusted network).",
       .kind = Kind::kSwitch,
       .get = [](const ServerConfig& c) -> Value { return c.allow_unauthenticated_tcp; },
       .set = [](ServerConfig& c,
                 const Value& v) { c.allow_unauthenticated_tcp = std::get<bool>(v); }},
      {.key = "admin_socket",
       .flag = "--admin-socket",
       .value_name = "PATH",
       .help = "Unix socket of the admin API (mode 0600; its peers are the owner); \"none\" "
               "disables it. Default <data_dir>/admin.sock (none without a data_dir).",
       .example = "\"/run/otpd/admin.sock\"",
       .get = [](const ServerConfig& c) -> Value { return c.admin_socket; },
       .set = [](ServerConfig& c, const Value& v) { c.admin_socket = Text(v); }},
      {.key = "admin_listen",
       .flag = "--admin-listen",
       .value_name = "HOST:PORT",
       .help = "TCP address of the admin API (API keys; TLS required off loopback). Default: "
               "none.",
       .example = "\"127.0.0.1:7734\"",
       .get = [](const ServerConfig& c) -> Value { return c.admin_listen; },
       .set = [](ServerConfig& c, const Value& v) { c.admin_listen = Text(v); }},
      {.key = "admin_tls_cert",
       .flag = "--admin-tls-cert",
       .value_name = "PATH",
       .help = "PEM certificate chain of the TCP admin listener (with admin_tls_key).",
       .example = "\"/etc/otpd/admin.crt\"",
       .get = [](const ServerConfig& c) -> Value { return c.admin_tls_cert; },
       .set = [](ServerConfig& c, const Value& v) { c.admin_tls_cert = Text(v); }},
      {.key = "admin_tls_key",
       .flag = "--admin-tls-key",
       .value_name = "PATH",
       .help = "PEM private key of the TCP admin listener (mode 0600).",
       .example = "\"/etc/otpd/admin.key\"",
       .get = [](const ServerConfig& c) -> Value { return c.admin_tls_key; },
       .set = [](ServerConfig& c, const Value& v) { c.admin_tls_key = Text(v); }},
      {.key = "validate_listen",
       .flag = "--validate-listen",
       .value_name = "HOST:PORT",
       .help = "TCP address of the privacyIDEA-compatible validate API (/validate/check, "
               "/validate/radiuscheck); clients authenticate with HTTP Basic and a [clients.NAME] "
               "key; TLS required off loopback. Default: none.",
       .example = "\"127.0.0.1:7735\"",
       .get = [](const ServerConfig& c) -> Value { return c.validate_listen; },
       .set = [](ServerConfig& c, const Value& v) { c.validate_listen = Text(v); }},
      {.key = "validate_tls_cert",
       .flag = "--validate-tls-cert",
       .value_name = "PATH",
       .help = "PEM certificate chain of the validate listener (with validate_tls_key).",
       .example = "\"/etc/otpd/validate.crt\"",
       .get = [](const ServerConfig& c) -> Value { return c.validate_tls_cert; },
       .set = [](ServerConfig& c, const Value& v) { c.validate_tls_cert = Text(v); }},
      {.key = "validate_tls_key",
       .flag = "--validate-tls-key",
       .value_name = "PATH",
       .help = "PEM private key of the validate listener (mode 0600).",
       .example = "\"/etc/otpd/validate.key\"",
       .get = [](const ServerConfig& c) -> Value { return c.validate_tls_key; },
       .set = [](ServerConfig& c, const Value& v) { c.validate_tls_key = Text(v); }},
      {.key = "durability",
       .flag = "--durability",
       .value_name = "sync|relaxed",
       .help = "\"relaxed\" lets failure counters skip the fsync (an accepted code's watermark "
               "is always durable before the answer).",
       .kind = Kind::kChoice,
       .choices = {"sync", "relaxed"},
       .get = [](const ServerConfig& c) -> Value {
         return std::string(DurabilityName(c.durability));
       },
       .set =
           [](ServerConfig& c, const Value& v) {
             c.durability = Text(v) == "sync" ? Durability::kSync : Durability::kRelaxed;
           }},
      {.key = "io_threads",
       .flag = "--io-threads",
       .value_name = "N",
       .help = "Threads serving connections.",
       .kind = Kind::kNumber,
       .min = 1,
       .max = 64,
       .get = [](const ServerConfig& c) -> Value { return uint64_t{c.io_threads}; },
       .set = [](ServerConfig& c,
                 const Value& v) { c.io_threads = static_cast<uint32_t>(Number(v)); }},
      {.key = "cache_mb",
       .flag = "--cache-mb",
       .value_name = "MIB",
       .help = "Memory for the sign-in cache of users (about 450 bytes a user with one token).",
       .kind = Kind::kNumber,
       .min = 1,
       .max = 1 << 20,
       .get = [](const ServerConfig& c) -> Value { return uint64_t{c.cache_mb}; },
       .set = [](ServerConfig& c,
                 const Value& v) { c.cache_mb = static_cast<uint32_t>(Number(v)); }},
      {.key = "log_level",
       .flag = "--log-level",
       .value_name = "LEVEL",
       .help = "One of trace, debug, info, warn, error, critical, off.",
       .kind = Kind::kChoice,
       .choices = {"trace", "debug", "info", "warn", "error", "critical", "off"},
       .reloadable = true,
       .get = [](const ServerConfig& c) -> Value { return std::string(LogLevelName(c.log_level)); },
       .set =
           [](ServerConfig& c, const Value& v) {
             for (const auto& [name, level] : kLogLevels) {
               if (name == Text(v)) c.log_level = level;
             }
           }},
      {.key = "limits.max_connections",
       .flag = "--max-connections",
       .value_name = "N",
       .help = "Connections on the Unix socket; more are refused at once.",
       .kind = Kind::kNumber,
       .min = 1,
       .max = 1'000'000,
       .reloadable = true,
       .get = [](const ServerConfig& c) -> Value { return uint64_t{c.limits.max_connections}; },
       .set = [](ServerConfig& c,
                 const Value& v) { c.limits.max_connections = static_cast<uint32_t>(Number(v)); }},
      {.key = "limits.max_tcp_connections",
       .flag = "--max-tcp-connections",
       .value_name = "N",
       .help = "Connections on the TCP listener, counted apart from the Unix socket's.",
       .kind = Kind::kNumber,
       .min = 1,
       .max = 1'000'000,
       .reloadable = true,
       .get = [](const ServerConfig& c) -> Value { return uint64_t{c.limits.max_tcp_connections}; },
       .set =
           [](ServerConfig& c, const Value& v) {
             c.limits.max_tcp_connections = static_cast<uint32_t>(Number(v));
           }},
      {.key = "limits.max_in_flight",
       .flag = "--max-in-flight",
       .value_name = "N",
       .help = "VERIFY/RESYNC requests being decided at once; more answer unavailable.",
       .kind = Kind::kNumber,
       .min = 1,
       .max = 10'000'000,
       .reloadable = true,
       .get = [](const ServerConfig& c) -> Value { return uint64_t{c.limits.max_in_flight}; },
       .set = [](ServerConfig& c,
                 const Value& v) { c.limits.max_in_flight = static_cast<uint32_t>(Number(v)); }},
      {.key = "limits.pipeline_depth",
       .flag = "--pipeline-depth",
       .value_name = "N",
       .help = "Requests a connection may have unanswered before otpd stops reading it.",
       .kind = Kind::kNumber,
       .min = 1,
       .max = 65536,
       .reloadable = true,
       .get = [](const ServerConfig& c) -> Value { return uint64_t{c.limits.pipeline_depth}; },
       .set = [](ServerConfig& c,
                 const Value& v) { c.limits.pipeline_depth = static_cast<uint32_t>(Number(v)); }},
      {.key = "limits.idle_timeout_seconds",
       .flag = "--idle-timeout",
       .value_name = "SECONDS",
       .help = "A connection with nothing in flight and no bytes for this long is closed.",
       .kind = Kind::kNumber,
       .min = 1,
       .max = 86'400,
       .reloadable = true,
       .get = [](const ServerConfig& c) -> Value {
         return static_cast<uint64_t>(c.limits.idle_timeout.count() / 1000);
       },
       .set =
           [](ServerConfig& c, const Value& v) {
             c.limits.idle_timeout = std::chrono::seconds(static_cast<int64_t>(Number(v)));
           }},
      {.key = "limits.line_timeout_ms",
       .flag = "--line-timeout",
       .value_name = "MS",
       .help = "A request line must be complete within this time of its first byte.",
       .kind = Kind::kNumber,
       .min = 10,
       .max = 600'000,
       .reloadable = true,
       .get = [](const ServerConfig& c) -> Value { return MillisValue(c.limits.line_timeout); },
       .set = [](ServerConfig& c, const Value& v) { c.limits.line_timeout = Millis(v); }},
      {.key = "limits.hello_timeout_ms",
       .flag = "--hello-timeout",
       .value_name = "MS",
       .help = "A TCP connection must complete HELLO within this time.",
       .kind = Kind::kNumber,
       .min = 10,
       .max = 600'000,
       .reloadable = true,
       .get = [](const ServerConfig& c) -> Value { return MillisValue(c.limits.hello_timeout); },
       .set = [](ServerConfig& c, const Value& v) { c.limits.hello_timeout = Millis(v); }},
      {.key = "limits.max_failed_hellos",
       .flag = "--max-failed-hellos",
       .value_name = "N",
       .help = "Failed HELLOs an address may make in a minute before its HELLOs are refused "
               "unread for a while.",
       .kind = Kind::kNumber,
       .min = 1,
       .max = 1'000'000,
       .reloadable = true,
       .get = [](const ServerConfig& c) -> Value { return uint64_t{c.limits.max_failed_hellos}; },
       .set =
           [](ServerConfig& c, const Value& v) {
             c.limits.max_failed_hellos = static_cast<uint32_t>(Number(v));
           }},
      {.key = "limits.request_deadline_ms",
       .flag = "--request-deadline",
       .value_name = "MS",
       .help = "A VERIFY/RESYNC not decided within this time answers unavailable.",
       .kind = Kind::kNumber,
       .min = 1,
       .max = 600'000,
       .reloadable = true,
       .get = [](const ServerConfig& c) -> Value { return MillisValue(c.limits.request_deadline); },
       .set = [](ServerConfig& c, const Value& v) { c.limits.request_deadline = Millis(v); }},
      {.key = "limits.shutdown_grace_ms",
       .flag = "--shutdown-grace",
       .value_name = "MS",
       .help = "How long a stop waits for requests in flight before closing connections.",
       .kind = Kind::kNumber,
       .min = 0,
       .max = 600'000,
       .reloadable = true,
       .get = [](const ServerConfig& c) -> Value { return MillisValue(c.limits.shutdown_grace); },
       .set = [](ServerConfig& c, const Value& v) { c.limits.shutdown_grace = Millis(v); }},
      {.key = "limits.max_line",
       .flag = "--max-line",
       .value_name = "BYTES",
       .help = "The longest request line.",
       .kind = Kind::kNumber,
       .min = 128,
       .max = 65536,
       .get = [](const ServerConfig& c) -> Value { return uint64_t{c.limits.max_line}; },
       .set = [](ServerConfig& c,
                 const Value& v) { c.limits.max_line = static_cast<uint32_t>(Number(v)); }},
      {.key = "admin.max_connections",
       .value_name = "N",
       .help = "Connections on each admin listener at once.",
       .kind = Kind::kNumber,
       .min = 1,
       .max = 65'536,
       .get = [](const ServerConfig& c) -> Value { return uint64_t{c.admin.max_connections}; },
       .set = [](ServerConfig& c,
                 const Value& v) { c.admin.max_connections = static_cast<uint32_t>(Number(v)); }},
      {.key = "admin.max_body_kb",
       .value_name = "KIB",
       .help = "The largest JSON request body of the admin API (larger ones answer 413).",
       .kind = Kind::kNumber,
       .min = 1,
       .max = 65'536,
       .get = [](const ServerConfig& c) -> Value { return uint64_t{c.admin.max_body_kb}; },
       .set = [](ServerConfig& c,
                 const Value& v) { c.admin.max_body_kb = static_cast<uint32_t>(Number(v)); }},
      {.key = "admin.max_import_mb",
       .value_name = "MIB",
       .help = "The largest token file posted to the admin API for import.",
       .kind = Kind::kNumber,
       .min = 1,
       .max = 4096,
       .get = [](const ServerConfig& c) -> Value { return uint64_t{c.admin.max_import_mb}; },
       .set = [](ServerConfig& c,
                 const Value& v) { c.admin.max_import_mb = static_cast<uint32_t>(Number(v)); }},
      {.key = "admin.header_timeout_ms",
       .value_name = "MS",
       .help = "An admin request's headers must arrive within this time of its first byte.",
       .kind = Kind::kNumber,
       .min = 100,
       .max = 600'000,
       .get = [](const ServerConfig& c) -> Value { return MillisValue(c.admin.header_timeout); },
       .set = [](ServerConfig& c, const Value& v) { c.admin.header_timeout = Millis(v); }},
      {.key = "admin.body_timeout_ms",
       .value_name = "MS",
       .help = "An admin request's body must arrive within this time of its headers.",
       .kind = Kind::kNumber,
       .min = 100,
       .max = 3'600'000,
       .get = [](const ServerConfig& c) -> Value { return MillisValue(c.admin.body_timeout); },
       .set = [](ServerConfig& c, const Value& v) { c.admin.body_timeout = Millis(v); }},
      {.key = "admin.idle_timeout_ms",
       .value_name = "MS",
       .help = "A kept-alive admin connection with no request for this long is closed.",
       .kind = Kind::kNumber,
       .min = 100,
       .max = 3'600'000,
       .get = [](const ServerConfig& c) -> Value { return MillisValue(c.admin.idle_timeout); },
       .set = [](ServerConfig& c, const Value& v) { c.admin.idle_timeout = Millis(v); }},
      {.key = "admin.workers",
       .value_name = "N",
       .help = "Threads that run admin requests (Store reads and writes, imports).",
       .kind = Kind::kNumber,
       .min = 1,
       .max = 64,
       .get = [](const ServerConfig& c) -> Value { return uint64_t{c.admin.workers}; },
       .set = [](ServerConfig& c,
                 const Value& v) { c.admin.workers = static_cast<uint32_t>(Number(v)); }},
      {.key = "admin.activations_per_window",
       .value_name = "N",
       .help = "Token activations the admin API takes per window (Entra: 200 per 5 minutes).",
       .kind = Kind::kNumber,
       .min = 1,
       .max = 1'000'000,
       .get = [](const ServerConfig& c) -> Value {
         return uint64_t{c.admin.activations_per_window};
       },
       .set =
           [](ServerConfig& c, const Value& v) {
             c.admin.activations_per_window = static_cast<uint32_t>(Number(v));
           }},
      {.key = "admin.activation_window_seconds",
       .value_name = "SECONDS",
       .help = "The window of admin.activations_per_window.",
       .kind = Kind::kNumber,
       .min = 1,
       .max = 86'400,
       .get = [](const ServerConfig& c) -> Value {
         return static_cast<uint64_t>(c.admin.activation_window.count());
       },
       .set =
           [](ServerConfig& c, const Value& v) {
             c.admin.activation_window = std::chrono::seconds(static_cast<int64_t>(Number(v)));
           }},
      // The self-service verbs and passwords (docs/protocol.md, docs/hooks.md).
      {.key = "actions.scrypt_log2_n",
       .help = "scrypt cost of new password hashes: N = 2^this (r = 8, p = 1); 15 takes about "
               "32 MiB and 50-100 ms a hash. Existing hashes keep their own cost.",
       .kind = Kind::kNumber,
       .min = 10,
       .max = 20,
       .get = [](const ServerConfig& c) -> Value { return uint64_t{c.actions.scrypt_log2_n}; },
       .set = [](ServerConfig& c,
                 const Value& v) { c.actions.scrypt_log2_n = static_cast<uint32_t>(Number(v)); }},
      {.key = "actions.password_threads",
       .help = "Threads hashing and checking passwords (PASSWORD, SET_PASSWORD), at a lower "
               "priority; they bound what a flood of password checks takes from sign-ins.",
       .kind = Kind::kNumber,
       .min = 1,
       .max = 64,
       .get = [](const ServerConfig& c) -> Value { return uint64_t{c.actions.password_threads}; },
       .set =
           [](ServerConfig& c, const Value& v) {
             c.actions.password_threads = static_cast<uint32_t>(Number(v));
           }},
      {.key = "actions.remember_default_days",
       .help = "How long a remembered MFA session lasts when REMEMBER gives no days= (1..365).",
       .kind = Kind::kNumber,
       .min = 1,
       .max = 365,
       .get = [](const ServerConfig& c) -> Value {
         return uint64_t{c.actions.remember_default_days};
       },
       .set =
           [](ServerConfig& c, const Value& v) {
             c.actions.remember_default_days = static_cast<uint32_t>(Number(v));
           }},
      {.key = "actions.registration_without_tap",
       .help = "Let ENROL register an authenticator app without a temporary access pass for a "
               "user who must register again. Off: otpd cannot tell who is at the keyboard, and "
               "whoever registers first owns the account's second factor.",
       .kind = Kind::kSwitch,
       .get = [](const ServerConfig& c) -> Value { return c.actions.registration_without_tap; },
       .set = [](ServerConfig& c,
                 const Value& v) { c.actions.registration_without_tap = std::get<bool>(v); }},
  };
  return options;
}

const Option* FindOption(std::string_view key) {
  for (const Option& o : Options()) {
    if (o.key == key) return &o;
  }
  return nullptr;
}

Status Invalid(std::string_view where, std::string_view what) {
  std::string message(where);
  message.append(": ");
  message.append(what);
  return InvalidArgumentError(message);
}

// Where an option is named in messages: its key, and its flag when it has one.
std::string Where(const Option& o) {
  std::string where(o.key);
  if (!o.flag.empty()) where += " (" + std::string(o.flag) + ")";
  return where;
}

Status Check(const Option& o, const Value& v, std::string_view where) {
  if (o.kind == Kind::kNumber) {
    uint64_t n = Number(v);
    if (n < o.min || n > o.max) {
      return Invalid(where,
                     "must be between " + std::to_string(o.min) + " and " + std::to_string(o.max));
    }
  }
  if (o.kind == Kind::kChoice &&
      std::find(o.choices.begin(), o.choices.end(), Text(v)) == o.choices.end()) {
    std::string list;
    for (std::string_view c : o.choices) list += (list.empty() ? "" : ", ") + std::string(c);
    return Invalid(where, "must be one of " + list);
  }
  return base::OkStatus();
}

// A TOML node as the option's value.
StatusOr<Value> FromToml(const Option& o, const toml::node& node) {
  const std::string where(o.key);
  switch (o.kind) {
    case Kind::kText:
    case Kind::kChoice: {
      std::optional<std::string> v = node.value_exact<std::string>();
      if (!v) return Invalid(where, "must be a string");
      return Value(std::move(*v));
    }
    case Kind::kSwitch: {
      std::optional<bool> v = node.value_exact<bool>();
      if (!v) return Invalid(where, "must be true or false");
      return Value(*v);
    }
    case Kind::kNumber: {
      std::optional<int64_t> v = node.value_exact<int64_t>();
      if (!v) return Invalid(where, "must be an integer");
      if (*v < 0) return Invalid(where, "out of range");
      return Value(static_cast<uint64_t>(*v));
    }
    case Kind::kList: {
      const toml::array* array = node.as_array();
      if (array == nullptr) return Invalid(where, "must be an array of strings");
      std::vector<std::string> items;
      for (const toml::node& item : *array) {
        std::optional<std::string> text = item.value_exact<std::string>();
        if (!text) return Invalid(where, "must be an array of strings");
        items.push_back(std::move(*text));
      }
      return Value(std::move(items));
    }
  }
  return Invalid(where, "unsupported");
}

// Command-line text as the option's value.
StatusOr<Value> FromText(const Option& o, const std::string& text) {
  if (o.kind == Kind::kList) {
    std::vector<std::string> items;
    size_t start = 0;
    while (start <= text.size()) {
      size_t comma = text.find(',', start);
      if (comma == std::string::npos) comma = text.size();
      if (comma > start) items.push_back(text.substr(start, comma - start));
      start = comma + 1;
    }
    return Value(std::move(items));
  }
  if (o.kind != Kind::kNumber) return Value(text);
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Invalid(o.flag, "must be a whole number");
  }
  return Value(n);
}

// ---- TOML ------------------------------------------------------------------------------------

Status ReadKeyFile(const std::string& path, std::string_view where, base::SecretBytes* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Invalid(where, "cannot read the key file");
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  *out = base::SecretBytes::FromString(line);
  base::Wipe(line.data(), line.size());
  return base::OkStatus();
}

Status ParseClient(const std::string& name, const toml::node& node, ServerConfig* config) {
  std::string where = "clients." + name;
  if (!IsValidId(name)) return Invalid(where, "client names are 1..64 of [A-Za-z0-9._-]");
  const toml::table* table = node.as_table();
  if (table == nullptr) return Invalid(where, "must be a table");
  base::SecretBytes key;
  bool have_key = false;
  for (const auto& [k, v] : *table) {
    std::string field(k.str());
    if (field == "key") {
      std::optional<std::string> text = v.value_exact<std::string>();
      if (!text) return Invalid(where + ".key", "must be a string");
      key = base::SecretBytes::FromString(*text);
      base::Wipe(text->data(), text->size());
    } else if (field == "key_file") {
      std::optional<std::string> path = v.value_exact<std::string>();
      if (!path) return Invalid(where + ".key_file", "must be a string");
      OTPD_RETURN_IF_ERROR(ReadKeyFile(*path, where + ".key_file", &key));
    } else {
      return Invalid(where + "." + field, "unknown key");
    }
    if (have_key) return Invalid(where, "give either key or key_file, not both");
    have_key = true;
  }
  if (!have_key) return Invalid(where, "needs key or key_file");
  if (key.size() < 16) return Invalid(where, "the key must be at least 16 bytes");
  config->tcp_clients.insert_or_assign(name, std::move(key));
  return base::OkStatus();
}

Status ApplyTomlValue(const std::string& key, const toml::node& node, ServerConfig* config) {
  const Option* o = FindOption(key);
  if (o == nullptr) return Invalid(key, "unknown key");
  OTPD_ASSIGN_OR_RETURN(Value v, FromToml(*o, node));
  OTPD_RETURN_IF_ERROR(Check(*o, v, o->key));
  o->set(*config, v);
  return base::OkStatus();
}

Status ApplyTomlFile(const std::string& path, ServerConfig* config) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const toml::source_position& pos = e.source().begin;
    return Invalid(path + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column),
                   std::string(e.description()));
  } catch (const std::exception& e) {
    return Invalid(path, "cannot be read");
  }
  auto apply = [&]() -> Status {
    for (const auto& [k, v] : table) {
      const std::string key(k.str());
      if (key == "hooks") continue;  // [hooks.NAME]: server/hooks/hook_config.h reads them
      if (key == "clients") {
        if (!v.is_table()) return Invalid(key, "must be a table");
        for (const auto& [name, client] : *v.as_table()) {
          OTPD_RETURN_IF_ERROR(ParseClient(std::string(name.str()), client, config));
        }
      } else if (v.is_table()) {
        for (const auto& [sub, value] : *v.as_table()) {
          OTPD_RETURN_IF_ERROR(ApplyTomlValue(key + "." + std::string(sub.str()), value, config));
        }
      } else {
        OTPD_RETURN_IF_ERROR(ApplyTomlValue(key, v, config));
      }
    }
    return base::OkStatus();
  };
  return apply().WithContext("config file " + path);
}

// ---- command line ----------------------------------------------------------------------------

struct FlagSet {
  CLI::App app{"otpd: OATH (HOTP/TOTP) verification daemon", "otpd"};
  std::string config;
  CLI::Option* config_flag = nullptr;
  bool print_example = false;
  // One slot per option with a flag, in Options() order (a deque: CLI11 keeps references).
  std::deque<std::string> text;
  std::deque<bool> switches;
  std::vector<CLI::Option*> flags;
};

// The flags DescribeCommandLineFlags() returns, in that order.
constexpr std::string_view kConfigHelp = "TOML configuration file";
constexpr std::string_view kPrintExampleHelp =
    "Print an example configuration file with every option and exit";
constexpr std::string_view kVersionHelp = "Print otpd's version and exit";
constexpr std::string_view kHelpHelp = "Print this help message and exit";

void DefineFlags(FlagSet* set) {
  CLI::App& app = set->app;
  app.set_version_flag("--version", "otpd " OTPD_VERSION, std::string(kVersionHelp));
  app.set_help_flag("-h,--help", std::string(kHelpHelp));
  app.footer(
      "Options may also be set in a TOML file (--config); flags override it. "
      "`otpd --print-example-config` prints every option with its default.");
  set->config_flag =
      app.add_option("--config", set->config, std::string(kConfigHelp))->option_text("PATH");
  app.add_flag("--print-example-config", set->print_example, std::string(kPrintExampleHelp));
  const auto& options = Options();
  set->text.resize(options.size());
  set->switches.resize(options.size());
  set->flags.resize(options.size(), nullptr);
  for (size_t i = 0; i < options.size(); ++i) {
    const Option& o = options[i];
    if (o.flag.empty()) continue;
    std::string help(o.help);
    if (o.reloadable) help += " Reloaded on SIGHUP.";
    if (o.kind == Kind::kSwitch) {
      set->flags[i] = app.add_flag(std::string(o.flag), set->switches[i], help);
    } else {
      set->flags[i] = app.add_option(std::string(o.flag), set->text[i], help)
                          ->option_text(std::string(o.value_name));
    }
  }
}

Status ApplyFlags(const FlagSet& set, ServerConfig* config) {
  const auto& options = Options();
  for (size_t i = 0; i < options.size(); ++i) {
    if (set.flags[i] == nullptr || set.flags[i]->count() == 0) continue;
    const Option& o = options[i];
    Value v = o.kind == Kind::kSwitch ? Value(true) : Value();
    if (o.kind != Kind::kSwitch) {
      OTPD_ASSIGN_OR_RETURN(v, FromText(o, set.text[i]));
    }
    OTPD_RETURN_IF_ERROR(Check(o, v, Where(o)));
    o.set(*config, v);
  }
  return base::OkStatus();
}

// The validate listener: a valid address, TLS off loopback, a certificate and key together, and
// at least one client that can authenticate.
Status ValidateValidateListener(const ServerConfig& config) {
  if (config.validate_tls_cert.empty() != config.validate_tls_key.empty()) {
    return Invalid(config.validate_tls_cert.empty() ? "validate_tls_cert (--validate-tls-cert)"
                                                    : "validate_tls_key (--validate-tls-key)",
                   "is needed too: the validate listener's certificate and key go together");
  }
  if (config.validate_listen.empty()) {
    if (!config.validate_tls_cert.empty()) {
      return Invalid("validate_tls_cert (--validate-tls-cert)", "needs validate_listen");
    }
    return base::OkStatus();
  }
  StatusOr<HostPort> at = ParseHostPort(config.validate_listen);
  if (!at.ok()) return at.status().WithContext("validate_listen (--validate-listen)");
  if (config.validate_tls_cert.empty() && !IsLoopbackHost(at->host)) {
    return Invalid("validate_listen (--validate-listen)",
                   "is not a loopback address: it needs TLS (validate_tls_cert, validate_tls_key)");
  }
  if (config.tcp_clients.empty()) {
    return Invalid("validate_listen (--validate-listen)",
                   "needs [clients.NAME] entries: validate clients authenticate with their keys");
  }
  return base::OkStatus();
}

// Rules between options, checked once the file and the flags are applied.
Status Validate(ServerConfig* config) {
  if (config->store == StoreKind::kEtcd) {
    if (config->etcd_endpoints.empty()) {
      return Invalid("etcd_endpoints (--etcd-endpoints)", "is required with store = \"etcd\"");
    }
    if (config->etcd_cert_file.empty() != config->etcd_key_file.empty()) {
      return Invalid("etcd_cert_file (--etcd-cert-file)", "goes with etcd_key_file");
    }
    if (config->etcd_user.empty() != config->etcd_password_file.empty()) {
      return Invalid("etcd_user (--etcd-user)", "goes with etcd_password_file");
    }
    if (config->etcd_prefix.empty()) return Invalid("etcd_prefix (--etcd-prefix)", "is empty");
  } else if (config->data_dir.empty()) {
    return Invalid("data_dir (--data-dir)", "is required");
  }
  if (config->socket_path.empty() && !config->data_dir.empty()) {
    config->socket_path = config->data_dir + "/verify.sock";
  }
  if (config->socket_path.empty()) config->socket_path = "none";
  if (config->socket_path == "none") config->socket_path.clear();
  if (!config->listen.empty()) {
    OTPD_RETURN_IF_ERROR(ParseHostPort(config->listen).status().WithContext("listen (--listen)"));
  }
  // Without a data directory (store = "etcd") there is no default place: admin_socket or none.
  if (config->admin_socket.empty() && !config->data_dir.empty()) {
    config->admin_socket = config->data_dir + "/admin.sock";
  }
  if (config->admin_socket == "none") config->admin_socket.clear();
  if (config->admin_tls_cert.empty() != config->admin_tls_key.empty()) {
    return Invalid(config->admin_tls_cert.empty() ? "admin_tls_cert (--admin-tls-cert)"
                                                  : "admin_tls_key (--admin-tls-key)",
                   "is needed too: the admin listener's certificate and key go together");
  }
  if (!config->admin_listen.empty()) {
    StatusOr<HostPort> admin = ParseHostPort(config->admin_listen);
    if (!admin.ok()) return admin.status().WithContext("admin_listen (--admin-listen)");
    if (config->admin_tls_cert.empty() && !IsLoopbackHost(admin->host)) {
      return Invalid("admin_listen (--admin-listen)",
                     "is not a loopback address: it needs TLS (admin_tls_cert, admin_tls_key)");
    }
  } else if (!config->admin_tls_cert.empty()) {
    return Invalid("admin_tls_cert (--admin-tls-cert)", "needs admin_listen");
  }
  OTPD_RETURN_IF_ERROR(ValidateValidateListener(*config));
  if (config->socket_path.empty() && config->listen.empty()) {
    return Invalid("socket (--socket)", "\"none\" needs a TCP listener (listen, --listen)");
  }
  if (!config->listen.empty() && config->tcp_clients.empty() &&
      !config->allow_unauthenticated_tcp) {
    return Invalid("listen (--listen)",
                   "a TCP listener needs [clients.NAME] entries, or allow_unauthenticated_tcp");
  }
  return base::OkStatus();
}

// `text` as lines of at most `width` characters, each starting with `prefix`.
std::string Wrapped(const std::string& text, std::string_view prefix, size_t width) {
  std::string out, line(prefix);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    std::string_view word(text.data() + start, end - start);
    if (line.size() > prefix.size() && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line = std::string(prefix);
    }
    if (line.size() > prefix.size()) line += ' ';
    line += word;
    start = end + 1;
  }
  return out + line + "\n";
}

// A value as TOML source.
std::string TomlText(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) {
    std::string out = "\"";
    for (char c : *s) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    return out + "\"";
  }
  if (const auto* n = std::get_if<uint64_t>(&v)) return std::to_string(*n);
  if (const auto* list = std::get_if<std::vector<std::string>>(&v)) {
    std::string out = "[";
    for (const std::string& item : *list) {
      out += (out.size() > 1 ? ", " : "") + TomlText(Value(item));
    }
    return out + "]";
  }
  return std::get<bool>(v) ? "true" : "false";
}

}  // namespace

ServerConfig ServerConfig::Clone() const {
  ServerConfig copy;
  copy.config_file = config_file;
  copy.data_dir = data_dir;
  copy.key_file = key_file;
  copy.store = store;
  copy.etcd_endpoints = etcd_endpoints;
  copy.etcd_prefix = etcd_prefix;
  copy.etcd_ca_file = etcd_ca_file;
  copy.etcd_cert_file = etcd_cert_file;
  copy.etcd_key_file = etcd_key_file;
  copy.etcd_user = etcd_user;
  copy.etcd_password_file = etcd_password_file;
  copy.etcd_timeout_ms = etcd_timeout_ms;
  copy.etcd_max_txn_ops = etcd_max_txn_ops;
  copy.socket_path = socket_path;
  copy.listen = listen;
  copy.admin_socket = admin_socket;
  copy.admin_listen = admin_listen;
  copy.admin_tls_cert = admin_tls_cert;
  copy.admin_tls_key = admin_tls_key;
  copy.admin = admin;
  copy.validate_listen = validate_listen;
  copy.validate_tls_cert = validate_tls_cert;
  copy.validate_tls_key = validate_tls_key;
  copy.durability = durability;
  copy.io_threads = io_threads;
  copy.limits = limits;
  for (const auto& [name, key] : tcp_clients) copy.tcp_clients.emplace(name, key.Clone());
  copy.allow_unauthenticated_tcp = allow_unauthenticated_tcp;
  copy.insecure_key_in_data_dir = insecure_key_in_data_dir;
  copy.cache_mb = cache_mb;
  copy.actions = actions;
  copy.log_level = log_level;
  copy.args = args;
  return copy;
}

std::string_view StoreKindName(StoreKind kind) {
  return kind == StoreKind::kEtcd ? "etcd" : "rocksdb";
}

std::string_view DurabilityName(Durability durability) {
  return durability == Durability::kSync ? "sync" : "relaxed";
}

StatusOr<HostPort> ParseHostPort(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return InvalidArgumentError("expected HOST:PORT");
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return InvalidArgumentError("bad [IPv6] host");
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return InvalidArgumentError("write an IPv6 host as [addr]:port");
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty()) {
    return InvalidArgumentError("the port must be a number 0..65535");
  }
  return HostPort{std::string(host), static_cast<uint16_t>(port)};
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const boost::asio::ip::address address = boost::asio::ip::make_address(std::string(host), ec);
  return !ec && address.is_loopback();
}

StatusOr<ServerConfig> LoadServerConfig(int argc, const char* const* argv) {
  std::vector<std::string> args(argv, argv + argc);
  return LoadServerConfig(args);
}

StatusOr<ServerConfig> LoadServerConfig(const std::vector<std::string>& args) {
  FlagSet set;
  DefineFlags(&set);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  if (!reversed.empty()) reversed.pop_back();  // the program name
  try {
    set.app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    return base::CancelledError(set.app.help());
  } catch (const CLI::CallForVersion& e) {
    return base::CancelledError(std::string(e.what()) + "\n");
  } catch (const CLI::ParseError& e) {
    return InvalidArgumentError(std::string("command line: ") + e.what());
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("command line: ") + e.what());
  }
  if (set.print_example) return base::CancelledError(ExampleConfigToml());
  ServerConfig config;
  config.args = args;
  if (set.config_flag->count() > 0) {
    config.config_file = set.config;
    OTPD_RETURN_IF_ERROR(ApplyTomlFile(config.config_file, &config));
  }
  OTPD_RETURN_IF_ERROR(ApplyFlags(set, &config));
  OTPD_RETURN_IF_ERROR(Validate(&config));
  return config;
}

StatusOr<RuntimeConfig> ReloadServerConfig(const ServerConfig& running) {
  OTPD_ASSIGN_OR_RETURN(ServerConfig fresh, LoadServerConfig(running.args));
  RuntimeConfig runtime;
  runtime.limits = fresh.limits;
  runtime.limits.max_line = running.limits.max_line;
  runtime.tcp_clients = std::move(fresh.tcp_clients);
  runtime.log_level = fresh.log_level;
  for (const Option& o : Options()) {
    if (!o.reloadable && o.get(fresh) != o.get(running)) runtime.needs_restart.emplace_back(o.key);
  }
  return runtime;
}

std::vector<OptionDoc> DescribeOptions() {
  const ServerConfig defaults;
  std::vector<OptionDoc> docs;
  for (const Option& o : Options()) {
    Value v = o.get(defaults);
    const bool empty = (std::holds_alternative<std::string>(v) && Text(v).empty()) ||
                       (std::holds_alternative<std::vector<std::string>>(v) && List(v).empty());
    docs.push_back(OptionDoc{.key = std::string(o.key),
                             .flag = std::string(o.flag),
                             .value_name = std::string(o.value_name),
                             .help = std::string(o.help),
                             .default_text = empty ? "" : TomlText(v),
                             .example = std::string(o.example),
                             .reloadable = o.reloadable});
  }
  return docs;
}

std::vector<OptionDoc> DescribeCommandLineFlags() {
  return {OptionDoc{.flag = "--config", .value_name = "PATH", .help = std::string(kConfigHelp)},
          OptionDoc{.flag = "--print-example-config", .help = std::string(kPrintExampleHelp)},
          OptionDoc{.flag = "--version", .help = std::string(kVersionHelp)},
          OptionDoc{.flag = "--help", .help = std::string(kHelpHelp)}};
}

std::string ExampleConfigToml() {
  std::string out =
      "# otpd configuration: every option, with its default (or, for options without one, an\n"
      "# example, commented out). Flags given to otpd override the file. SIGHUP reloads the\n"
      "# options marked so. Generated by `otpd --print-example-config`.\n";
  std::string table;
  for (const OptionDoc& d : DescribeOptions()) {
    std::string key = d.key;
    if (size_t dot = key.find('.'); dot != std::string::npos) {
      if (key.substr(0, dot) != table) {
        table = key.substr(0, dot);
        out += "\n[" + table + "]\n";
      }
      key = key.substr(dot + 1);
    }
    std::string comment = d.help;
    if (!d.flag.empty()) comment += " Flag: " + d.flag + ".";
    if (d.reloadable) comment += " Reloaded on SIGHUP.";
    out += "\n" + Wrapped(comment, "# ", 96);
    if (d.default_text.empty()) {
      out += "# " + key + " = " + d.example + "\n";
    } else {
      out += key + " = " + d.default_text + "\n";
    }
  }
  out +=
      "\n# TCP clients of the verify socket: HELLO client=NAME key=KEY. The key is the first line\n"
      "# of key_file (or `key = \"...\"` inline; keep the file mode 0600 then), 16 bytes or more.\n"
      "# [clients.vpn]\n"
      "# key_file = \"/etc/otpd/clients/vpn.key\"\n"
      "\n# Hooks (docs/hooks.md): every lifecycle event, at least once, in order, retried on a\n"
      "# schedule, a dead letter after the last attempt. exec: the program (no shell) reads the\n"
      "# event's JSON on stdin. webhook: a POST signed the Standard Webhooks way.\n"
      "# [hooks.sms]\n"
      "# type = \"exec\"\n"
      "# command = [\"/usr/local/bin/send-sms\", \"--account\", \"main\"]\n"
      "# timeout_ms = 10000\n"
      "# [hooks.directory]\n"
      "# type = \"webhook\"\n"
      "# url = \"https://hooks.example.com/otpd\"\n"
      "# secret_file = \"/etc/otpd/hooks/directory.secret\"  # whsec_... lines (or secrets = "
      "[...])\n"
      "# event_secrets = false  # no sms.send codes to this one (default true)\n"
      "# retry_initial_ms = 5000\n"
      "# retry_max_ms = 3600000\n"
      "# attempts = 15\n";
  return out;
}

}  // namespace otpd::server
