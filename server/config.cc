#include "server/config.h"

#include <toml++/toml.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <optional>
#include <string_view>

#include "server/protocol.h"

namespace otpd::server {
namespace {

using base::InvalidArgumentError;
using base::Status;
using base::StatusOr;

// Values given on the command line; each is applied only when its option was present.
struct Flags {
  std::string config, data_dir, key_file, socket, listen, admin_listen, durability, log_level;
  uint32_t io_threads = 0, max_connections = 0, max_in_flight = 0, pipeline_depth = 0;
  uint32_t max_line = 0;
  uint64_t idle_timeout_s = 0, line_timeout_ms = 0, request_deadline_ms = 0, shutdown_grace_ms = 0;
  bool allow_unauthenticated_tcp = false;
};

Status Invalid(std::string_view where, std::string_view what) {
  std::string message(where);
  message.append(": ");
  message.append(what);
  return InvalidArgumentError(message);
}

std::optional<spdlog::level::level_enum> ParseLogLevel(std::string_view name) {
  static constexpr std::pair<std::string_view, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
      {"error", spdlog::level::err},   {"critical", spdlog::level::critical},
      {"off", spdlog::level::off}};
  for (const auto& [n, level] : kLevels) {
    if (n == name) return level;
  }
  return std::nullopt;
}

Status ApplyDurability(std::string_view where, std::string_view value, ServerConfig* config) {
  if (value == "sync") {
    config->durability = Durability::kSync;
  } else if (value == "relaxed") {
    config->durability = Durability::kRelaxed;
  } else {
    return Invalid(where, "must be \"sync\" or \"relaxed\"");
  }
  return base::OkStatus();
}

Status ApplyLogLevel(std::string_view where, std::string_view value, ServerConfig* config) {
  std::optional<spdlog::level::level_enum> level = ParseLogLevel(value);
  if (!level)
    return Invalid(where, "must be one of trace, debug, info, warn, error, critical, off");
  config->log_level = *level;
  return base::OkStatus();
}

// ---- TOML -------------------------------------------------------------------------------------

Status TomlString(const toml::node& node, std::string_view where, std::string* out) {
  std::optional<std::string> v = node.value_exact<std::string>();
  if (!v) return Invalid(where, "must be a string");
  *out = std::move(*v);
  return base::OkStatus();
}

Status TomlUint(const toml::node& node, std::string_view where, uint64_t max, uint64_t* out) {
  std::optional<int64_t> v = node.value_exact<int64_t>();
  if (!v) return Invalid(where, "must be an integer");
  if (*v < 0 || static_cast<uint64_t>(*v) > max) return Invalid(where, "out of range");
  *out = static_cast<uint64_t>(*v);
  return base::OkStatus();
}

template <typename T>
Status TomlUintField(const toml::node& node, std::string_view where, T* out) {
  uint64_t v = 0;
  OTPD_RETURN_IF_ERROR(TomlUint(node, where, UINT32_MAX, &v));
  *out = static_cast<T>(v);
  return base::OkStatus();
}

Status TomlMillis(const toml::node& node, std::string_view where, int64_t scale,
                  std::chrono::milliseconds* out) {
  uint64_t v = 0;
  OTPD_RETURN_IF_ERROR(TomlUint(node, where, 10'000'000, &v));
  *out = std::chrono::milliseconds(static_cast<int64_t>(v) * scale);
  return base::OkStatus();
}

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
      std::string path;
      OTPD_RETURN_IF_ERROR(TomlString(v, where + ".key_file", &path));
      OTPD_RETURN_IF_ERROR(ReadKeyFile(path, where + ".key_file", &key));
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

Status ParseLimits(const toml::table& table, ServerLimits* limits) {
  for (const auto& [k, v] : table) {
    std::string key(k.str());
    std::string where = "limits." + key;
    if (key == "max_connections") {
      OTPD_RETURN_IF_ERROR(TomlUintField(v, where, &limits->max_connections));
    } else if (key == "max_in_flight") {
      OTPD_RETURN_IF_ERROR(TomlUintField(v, where, &limits->max_in_flight));
    } else if (key == "pipeline_depth") {
      OTPD_RETURN_IF_ERROR(TomlUintField(v, where, &limits->pipeline_depth));
    } else if (key == "max_line") {
      OTPD_RETURN_IF_ERROR(TomlUintField(v, where, &limits->max_line));
    } else if (key == "idle_timeout_seconds") {
      OTPD_RETURN_IF_ERROR(TomlMillis(v, where, 1000, &limits->idle_timeout));
    } else if (key == "line_timeout_ms") {
      OTPD_RETURN_IF_ERROR(TomlMillis(v, where, 1, &limits->line_timeout));
    } else if (key == "request_deadline_ms") {
      OTPD_RETURN_IF_ERROR(TomlMillis(v, where, 1, &limits->request_deadline));
    } else if (key == "shutdown_grace_ms") {
      OTPD_RETURN_IF_ERROR(TomlMillis(v, where, 1, &limits->shutdown_grace));
    } else {
      return Invalid(where, "unknown key");
    }
  }
  return base::OkStatus();
}

Status ApplyTomlEntry(const std::string& key, const toml::node& v, ServerConfig* config) {
  std::string text;
  if (key == "data_dir") return TomlString(v, key, &config->data_dir);
  if (key == "key_file") return TomlString(v, key, &config->key_file);
  if (key == "socket") return TomlString(v, key, &config->socket_path);
  if (key == "listen") return TomlString(v, key, &config->listen);
  if (key == "admin_listen") return TomlString(v, key, &config->admin_listen);
  if (key == "durability") {
    OTPD_RETURN_IF_ERROR(TomlString(v, key, &text));
    return ApplyDurability(key, text, config);
  }
  if (key == "log_level") {
    OTPD_RETURN_IF_ERROR(TomlString(v, key, &text));
    return ApplyLogLevel(key, text, config);
  }
  if (key == "io_threads") return TomlUintField(v, key, &config->io_threads);
  if (key == "allow_unauthenticated_tcp") {
    std::optional<bool> b = v.value_exact<bool>();
    if (!b) return Invalid(key, "must be true or false");
    config->allow_unauthenticated_tcp = *b;
    return base::OkStatus();
  }
  if (key == "limits") {
    if (!v.is_table()) return Invalid(key, "must be a table");
    return ParseLimits(*v.as_table(), &config->limits);
  }
  if (key == "clients") {
    if (!v.is_table()) return Invalid(key, "must be a table");
    for (const auto& [name, client] : *v.as_table()) {
      OTPD_RETURN_IF_ERROR(ParseClient(std::string(name.str()), client, config));
    }
    return base::OkStatus();
  }
  return Invalid(key, "unknown key");
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
  for (const auto& [k, v] : table) {
    OTPD_RETURN_IF_ERROR(
        ApplyTomlEntry(std::string(k.str()), v, config).WithContext("config file " + path));
  }
  return base::OkStatus();
}

// ---- command line ------------------------------------------------------------------------------

struct FlagSet {
  CLI::App app{"otpd: OATH (HOTP/TOTP) verification daemon"};
  Flags flags;
  std::map<std::string, CLI::Option*> options;
};

void DefineFlags(FlagSet* set) {
  CLI::App& app = set->app;
  Flags& f = set->flags;
  auto add = [set](const std::string& name, CLI::Option* opt) { set->options[name] = opt; };
  add("--config", app.add_option("--config", f.config, "TOML configuration file"));
  add("--data-dir", app.add_option("--data-dir", f.data_dir, "data directory"));
  add("--key-file", app.add_option("--key-file", f.key_file, "master key file (0600)"));
  add("--socket", app.add_option("--socket", f.socket,
                                 "Unix verify socket (default <data-dir>/verify.sock; none)"));
  add("--listen", app.add_option("--listen", f.listen, "TCP verify listener HOST:PORT"));
  add("--admin-listen", app.add_option("--admin-listen", f.admin_listen, "admin HOST:PORT"));
  add("--durability", app.add_option("--durability", f.durability, "sync|relaxed"));
  add("--log-level", app.add_option("--log-level", f.log_level, "trace..critical|off"));
  add("--io-threads", app.add_option("--io-threads", f.io_threads, "io threads (default 2)"));
  add("--max-connections", app.add_option("--max-connections", f.max_connections));
  add("--max-in-flight", app.add_option("--max-in-flight", f.max_in_flight));
  add("--pipeline-depth", app.add_option("--pipeline-depth", f.pipeline_depth));
  add("--max-line", app.add_option("--max-line", f.max_line));
  add("--idle-timeout", app.add_option("--idle-timeout", f.idle_timeout_s, "seconds"));
  add("--line-timeout", app.add_option("--line-timeout", f.line_timeout_ms, "ms"));
  add("--request-deadline", app.add_option("--request-deadline", f.request_deadline_ms, "ms"));
  add("--shutdown-grace", app.add_option("--shutdown-grace", f.shutdown_grace_ms, "ms"));
  add("--allow-unauthenticated-tcp",
      app.add_flag("--allow-unauthenticated-tcp", f.allow_unauthenticated_tcp));
}

Status ApplyFlags(const FlagSet& set, ServerConfig* config) {
  const Flags& f = set.flags;
  auto given = [&set](const char* name) { return set.options.at(name)->count() > 0; };
  if (given("--data-dir")) config->data_dir = f.data_dir;
  if (given("--key-file")) config->key_file = f.key_file;
  if (given("--socket")) config->socket_path = f.socket;
  if (given("--listen")) config->listen = f.listen;
  if (given("--admin-listen")) config->admin_listen = f.admin_listen;
  if (given("--durability")) {
    OTPD_RETURN_IF_ERROR(ApplyDurability("--durability", f.durability, config));
  }
  if (given("--log-level")) OTPD_RETURN_IF_ERROR(ApplyLogLevel("--log-level", f.log_level, config));
  if (given("--io-threads")) config->io_threads = f.io_threads;
  ServerLimits& l = config->limits;
  if (given("--max-connections")) l.max_connections = f.max_connections;
  if (given("--max-in-flight")) l.max_in_flight = f.max_in_flight;
  if (given("--pipeline-depth")) l.pipeline_depth = f.pipeline_depth;
  if (given("--max-line")) l.max_line = f.max_line;
  auto ms = [](uint64_t v, int64_t scale) {
    return std::chrono::milliseconds(static_cast<int64_t>(std::min<uint64_t>(v, 10'000'000)) *
                                     scale);
  };
  if (given("--idle-timeout")) l.idle_timeout = ms(f.idle_timeout_s, 1000);
  if (given("--line-timeout")) l.line_timeout = ms(f.line_timeout_ms, 1);
  if (given("--request-deadline")) l.request_deadline = ms(f.request_deadline_ms, 1);
  if (given("--shutdown-grace")) l.shutdown_grace = ms(f.shutdown_grace_ms, 1);
  if (given("--allow-unauthenticated-tcp")) config->allow_unauthenticated_tcp = true;
  return base::OkStatus();
}

Status CheckRange(std::string_view name, uint64_t value, uint64_t low, uint64_t high) {
  if (value < low || value > high) {
    return Invalid(name, "must be between " + std::to_string(low) + " and " + std::to_string(high));
  }
  return base::OkStatus();
}

Status Validate(ServerConfig* config) {
  if (config->data_dir.empty()) return Invalid("data_dir (--data-dir)", "is required");
  if (config->socket_path.empty()) config->socket_path = config->data_dir + "/verify.sock";
  if (config->socket_path == "none") config->socket_path.clear();
  if (!config->listen.empty()) {
    OTPD_RETURN_IF_ERROR(ParseHostPort(config->listen).status().WithContext("listen (--listen)"));
  }
  if (!config->admin_listen.empty()) {
    OTPD_RETURN_IF_ERROR(
        ParseHostPort(config->admin_listen).status().WithContext("admin_listen (--admin-listen)"));
  }
  if (config->socket_path.empty() && config->listen.empty()) {
    return Invalid("socket (--socket)", "\"none\" needs a TCP listener (listen, --listen)");
  }
  if (!config->listen.empty() && config->tcp_clients.empty() &&
      !config->allow_unauthenticated_tcp) {
    return Invalid("listen (--listen)",
                   "a TCP listener needs [clients.NAME] entries, or allow_unauthenticated_tcp");
  }
  const ServerLimits& l = config->limits;
  OTPD_RETURN_IF_ERROR(CheckRange("io_threads (--io-threads)", config->io_threads, 1, 64));
  OTPD_RETURN_IF_ERROR(
      CheckRange("limits.max_connections (--max-connections)", l.max_connections, 1, 1'000'000));
  OTPD_RETURN_IF_ERROR(
      CheckRange("limits.max_in_flight (--max-in-flight)", l.max_in_flight, 1, 10'000'000));
  OTPD_RETURN_IF_ERROR(
      CheckRange("limits.pipeline_depth (--pipeline-depth)", l.pipeline_depth, 1, 65536));
  OTPD_RETURN_IF_ERROR(CheckRange("limits.max_line (--max-line)", l.max_line, 128, 65536));
  OTPD_RETURN_IF_ERROR(CheckRange("limits.idle_timeout_seconds (--idle-timeout)",
                                  l.idle_timeout.count(), 1000, 86'400'000));
  OTPD_RETURN_IF_ERROR(
      CheckRange("limits.line_timeout_ms (--line-timeout)", l.line_timeout.count(), 10, 600'000));
  OTPD_RETURN_IF_ERROR(CheckRange("limits.request_deadline_ms (--request-deadline)",
                                  l.request_deadline.count(), 1, 600'000));
  OTPD_RETURN_IF_ERROR(CheckRange("limits.shutdown_grace_ms (--shutdown-grace)",
                                  l.shutdown_grace.count(), 0, 600'000));
  return base::OkStatus();
}

std::string HelpText(const CLI::App& app) { return app.help(); }

}  // namespace

ServerConfig ServerConfig::Clone() const {
  ServerConfig copy;
  copy.config_file = config_file;
  copy.data_dir = data_dir;
  copy.key_file = key_file;
  copy.socket_path = socket_path;
  copy.listen = listen;
  copy.admin_listen = admin_listen;
  copy.durability = durability;
  copy.io_threads = io_threads;
  copy.limits = limits;
  for (const auto& [name, key] : tcp_clients) copy.tcp_clients.emplace(name, key.Clone());
  copy.allow_unauthenticated_tcp = allow_unauthenticated_tcp;
  copy.log_level = log_level;
  copy.args = args;
  return copy;
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
    return base::CancelledError(HelpText(set.app));
  } catch (const CLI::ParseError& e) {
    return InvalidArgumentError(std::string("command line: ") + e.what());
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("command line: ") + e.what());
  }
  ServerConfig config;
  config.args = args;
  if (set.options.at("--config")->count() > 0) {
    config.config_file = set.flags.config;
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
  auto check = [&runtime](bool changed, const char* name) {
    if (changed) runtime.needs_restart.emplace_back(name);
  };
  check(fresh.data_dir != running.data_dir, "data_dir");
  check(fresh.key_file != running.key_file, "key_file");
  check(fresh.socket_path != running.socket_path, "socket");
  check(fresh.listen != running.listen, "listen");
  check(fresh.admin_listen != running.admin_listen, "admin_listen");
  check(fresh.durability != running.durability, "durability");
  check(fresh.io_threads != running.io_threads, "io_threads");
  check(fresh.limits.max_line != running.limits.max_line, "limits.max_line");
  check(fresh.allow_unauthenticated_tcp != running.allow_unauthenticated_tcp,
        "allow_unauthenticated_tcp");
  return runtime;
}

}  // namespace otpd::server
