#include "server/config.h"

#include <toml++/toml.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <deque>
#include <optional>
#include <string_view>
#include <utility>
#include <variant>

#include "base/secret_file.h"
#include "server/client_networks.h"
#include "server/internal/config_errors.h"
#include "server/internal/config_options.h"
#include "server/protocol.h"

#ifndef OTPD_VERSION
#define OTPD_VERSION "0"
#endif

namespace otpd::server {
namespace {

using base::InvalidArgumentError;
using base::Status;
using base::StatusOr;
using config_errors::ConfigErrors;
using config_errors::DidYouMean;
using config_options::FindOption;
using config_options::Kind;
using config_options::kLogLevels;
using config_options::List;
using config_options::Number;
using config_options::Option;
using config_options::Options;
using config_options::Text;
using config_options::Value;

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

// A client's key: the first line of its key file, which is checked as every key file is
// (base/secret_file.h).
Status ReadKeyFile(const std::string& path, std::string_view where, base::SecretBytes* out) {
  StatusOr<base::SecretBytes> content = base::ReadPrivateFile(path, "key file");
  if (!content.ok()) return Invalid(where, content.status().message());
  std::string_view line = content->view().substr(0, content->view().find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  *out = base::SecretBytes::FromString(line);
  return base::OkStatus();
}

// A client's validate_without_key and networks (validate_without_key true: the validate API
// admits a request without credentials from those networks as this client).
Status ParseKeyless(const std::string& where, const toml::node* opt_in, const toml::node* list,
                    std::vector<std::string>* networks) {
  bool keyless = false;
  if (opt_in != nullptr) {
    std::optional<bool> v = opt_in->value_exact<bool>();
    if (!v) return Invalid(where + ".validate_without_key", "must be true or false");
    keyless = *v;
  }
  if (!keyless) {
    if (list == nullptr) return base::OkStatus();
    return Invalid(where, "networks is read only with validate_without_key = true");
  }
  if (list == nullptr) {
    return Invalid(where,
                   "validate_without_key needs networks = [\"ADDRESS/PREFIX\", ...]: the "
                   "source networks whose requests are admitted without a key");
  }
  const toml::array* array = list->as_array();
  if (array == nullptr) return Invalid(where + ".networks", "must be an array of strings");
  if (array->empty()) return Invalid(where + ".networks", "is empty: nobody would be admitted");
  for (const toml::node& item : *array) {
    std::optional<std::string> text = item.value_exact<std::string>();
    if (!text) return Invalid(where + ".networks", "must be an array of strings");
    Status checked = CheckClientNetwork(*text);
    if (!checked.ok()) {
      return Invalid(where + ".networks", "\"" + *text + "\" " + std::string(checked.message()));
    }
    networks->push_back(std::move(*text));
  }
  return base::OkStatus();
}

Status ParseClient(const std::string& name, const toml::node& node, ServerConfig* config) {
  std::string where = "clients." + name;
  if (!IsValidId(name)) return Invalid(where, "client names are 1..64 of [A-Za-z0-9._-]");
  const toml::table* table = node.as_table();
  if (table == nullptr) return Invalid(where, "must be a table");
  base::SecretBytes key;
  bool have_key = false;
  const toml::node* opt_in = nullptr;
  const toml::node* networks = nullptr;
  for (const auto& [k, v] : *table) {
    std::string field(k.str());
    if (field == "validate_without_key" || field == "networks") {
      if (field == "networks") {
        networks = &v;
      } else {
        opt_in = &v;
      }
      continue;
    }
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
      return Invalid(where + "." + field,
                     "unknown key" + DidYouMean(field, {"key", "key_file", "validate_without_key",
                                                        "networks"}));
    }
    if (have_key) return Invalid(where, "give either key or key_file, not both");
    have_key = true;
  }
  std::vector<std::string> keyless;
  OTPD_RETURN_IF_ERROR(ParseKeyless(where, opt_in, networks, &keyless));
  if (!have_key && keyless.empty()) {
    return Invalid(where,
                   "needs key or key_file (or, for the validate API only, validate_without_key = "
                   "true with networks)");
  }
  if (have_key && key.size() < 16) return Invalid(where, "the key must be at least 16 bytes");
  if (have_key) config->tcp_clients.insert_or_assign(name, std::move(key));
  if (!keyless.empty()) config->validate_keyless_clients.insert_or_assign(name, std::move(keyless));
  return base::OkStatus();
}

// Every option's key, for the nearest one to an unknown key.
std::vector<std::string_view> OptionKeys() {
  std::vector<std::string_view> keys;
  for (const Option& o : Options()) keys.push_back(o.key);
  return keys;
}

Status ApplyTomlValue(const std::string& key, const toml::node& node, ServerConfig* config) {
  const Option* o = FindOption(key);
  if (o == nullptr) return Invalid(key, "unknown key" + DidYouMean(key, OptionKeys()));
  OTPD_ASSIGN_OR_RETURN(Value v, FromToml(*o, node));
  OTPD_RETURN_IF_ERROR(Check(*o, v, o->key));
  o->set(*config, v);
  return base::OkStatus();
}

// Applies the TOML file at `path`, recording every error in `errors`. False when the file could
// not be read or parsed at all (nothing was applied).
bool ApplyTomlFile(const std::string& path, ServerConfig* config, ConfigErrors* errors) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const toml::source_position& pos = e.source().begin;
    errors->Add(Invalid(path + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column),
                        std::string(e.description())));
    return false;
  } catch (const std::exception& e) {
    errors->Add(Invalid(path, "cannot be read"));
    return false;
  }
  const std::string context = "config file " + path;
  for (const auto& [k, v] : table) {
    const std::string key(k.str());
    if (key == "hooks") continue;  // [hooks.NAME]: server/hooks/hook_config.h reads them
    if (key == "clients") {
      if (!v.is_table()) {
        errors->Add(Invalid(key, "must be a table").WithContext(context));
        continue;
      }
      for (const auto& [name, client] : *v.as_table()) {
        errors->Add(ParseClient(std::string(name.str()), client, config).WithContext(context));
      }
    } else if (v.is_table()) {
      for (const auto& [sub, value] : *v.as_table()) {
        errors->Add(
            ApplyTomlValue(key + "." + std::string(sub.str()), value, config).WithContext(context));
      }
    } else {
      errors->Add(ApplyTomlValue(key, v, config).WithContext(context));
    }
  }
  return true;
}

// ---- command line ----------------------------------------------------------------------------

struct FlagSet {
  CLI::App app{"otpd: OATH (HOTP/TOTP) verification daemon", "otpd"};
  std::string config;
  CLI::Option* config_flag = nullptr;
  bool print_example = false;
  bool init = false;
  bool check = false;
  // One slot per option with a flag, in Options() order (a deque: CLI11 keeps references).
  std::deque<std::string> text;
  std::deque<bool> switches;
  std::vector<CLI::Option*> flags;
};

// The flags DescribeCommandLineFlags() returns, in that order.
constexpr std::string_view kConfigHelp = "TOML configuration file";
constexpr std::string_view kInitHelp =
    "Create the data directory (and the key file, if it does not exist) when it holds no "
    "database yet. Without it otpd refuses such a directory, so that a mistyped path never "
    "starts an empty database";
constexpr std::string_view kCheckConfigHelp =
    "Check the configuration (the file and the flags), print every error or \"configuration "
    "OK\", and exit (2 on errors); nothing is started and the data directory is not touched";
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
  app.add_flag("--init", set->init, std::string(kInitHelp));
  app.add_flag("--check-config", set->check, std::string(kCheckConfigHelp));
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

void ApplyFlags(const FlagSet& set, ServerConfig* config, ConfigErrors* errors) {
  const auto& options = Options();
  for (size_t i = 0; i < options.size(); ++i) {
    if (set.flags[i] == nullptr || set.flags[i]->count() == 0) continue;
    const Option& o = options[i];
    StatusOr<Value> v = Value(true);
    if (o.kind != Kind::kSwitch) v = FromText(o, set.text[i]);
    if (errors->Add(v.status()) && errors->Add(Check(o, *v, Where(o)))) o.set(*config, *v);
  }
}

// A TLS-capable listener's options, named <name>_listen, <name>_tls_cert and <name>_tls_key (and
// --<name>-... on the command line): a valid address, TLS off loopback, a certificate and key
// together. The admin and validate listeners follow the same rules.
Status ValidateTlsListener(const std::string& name, const std::string& listen,
                           const std::string& cert, const std::string& key) {
  const auto option = [&](std::string_view suffix) {
    std::string flag = name + "-" + std::string(suffix);
    std::replace(flag.begin(), flag.end(), '_', '-');
    return name + "_" + std::string(suffix) + " (--" + flag + ")";
  };
  if (cert.empty() != key.empty()) {
    return Invalid(option(cert.empty() ? "tls_cert" : "tls_key"),
                   "is needed too: the " + name + " listener's certificate and key go together");
  }
  if (listen.empty()) {
    if (!cert.empty()) return Invalid(option("tls_cert"), "needs " + name + "_listen");
    return base::OkStatus();
  }
  StatusOr<HostPort> at = ParseHostPort(listen);
  if (!at.ok()) return at.status().WithContext(option("listen"));
  if (cert.empty() && !IsLoopbackHost(at->host)) {
    return Invalid(option("listen"), "is not a loopback address: it needs TLS (" + name +
                                         "_tls_cert, " + name + "_tls_key)");
  }
  return base::OkStatus();
}

// The validate listener: as every TLS listener, and at least one client that can authenticate.
Status ValidateValidateListener(const ServerConfig& config) {
  OTPD_RETURN_IF_ERROR(ValidateTlsListener("validate", config.validate_listen,
                                           config.validate_tls_cert, config.validate_tls_key));
  if (!config.validate_listen.empty() && config.tcp_clients.empty() &&
      config.validate_keyless_clients.empty()) {
    return Invalid("validate_listen (--validate-listen)",
                   "needs [clients.NAME] entries: validate clients authenticate with their keys "
                   "(or come from the networks of a client with validate_without_key)");
  }
  return base::OkStatus();
}

// The store's options: etcd's endpoints, client certificate and user, or RocksDB's data_dir.
void ValidateStore(const ServerConfig& config, ConfigErrors* errors) {
  if (config.store != StoreKind::kEtcd) {
    if (config.data_dir.empty()) errors->Add(Invalid("data_dir (--data-dir)", "is required"));
    return;
  }
  if (config.etcd_endpoints.empty()) {
    errors->Add(Invalid("etcd_endpoints (--etcd-endpoints)", "is required with store = \"etcd\""));
  }
  if (config.etcd_cert_file.empty() != config.etcd_key_file.empty()) {
    errors->Add(Invalid("etcd_cert_file (--etcd-cert-file)", "goes with etcd_key_file"));
  }
  if (config.etcd_user.empty() != config.etcd_password_file.empty()) {
    errors->Add(Invalid("etcd_user (--etcd-user)", "goes with etcd_password_file"));
  }
  if (config.etcd_prefix.empty()) errors->Add(Invalid("etcd_prefix (--etcd-prefix)", "is empty"));
}

// The admin listener: as every TLS listener.
Status ValidateAdminListener(const ServerConfig& config) {
  return ValidateTlsListener("admin", config.admin_listen, config.admin_tls_cert,
                             config.admin_tls_key);
}

// Rules between options, checked once the file and the flags are applied; fills in the sockets'
// default places. Every broken rule is recorded.
void Validate(ServerConfig* config, ConfigErrors* errors) {
  ValidateStore(*config, errors);
  if (config->socket_path.empty() && !config->data_dir.empty()) {
    config->socket_path = config->data_dir + "/verify.sock";
  }
  if (config->socket_path.empty()) config->socket_path = "none";
  if (config->socket_path == "none") config->socket_path.clear();
  if (!config->listen.empty()) {
    errors->Add(ParseHostPort(config->listen).status().WithContext("listen (--listen)"));
  }
  // Without a data directory (store = "etcd") there is no default place: admin_socket or none.
  if (config->admin_socket.empty() && !config->data_dir.empty()) {
    config->admin_socket = config->data_dir + "/admin.sock";
  }
  if (config->admin_socket == "none") config->admin_socket.clear();
  errors->Add(ValidateAdminListener(*config));
  errors->Add(ValidateValidateListener(*config));
  errors->Add(ValidateTlsListener("selfservice", config->selfservice_listen,
                                  config->selfservice_tls_cert, config->selfservice_tls_key));
  // Without a data_dir (refused above) the socket has no default place: no second error for it.
  const bool no_data_dir = config->store == StoreKind::kRocksDb && config->data_dir.empty();
  if (config->socket_path.empty() && config->listen.empty() && !no_data_dir) {
    errors->Add(Invalid("socket (--socket)", "\"none\" needs a TCP listener (listen, --listen)"));
  }
  if (!config->listen.empty() && config->tcp_clients.empty() &&
      !config->allow_unauthenticated_tcp) {
    errors->Add(
        Invalid("listen (--listen)",
                "a TCP listener needs [clients.NAME] entries, or allow_unauthenticated_tcp"));
  }
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
  copy.etcd_commits_in_flight = etcd_commits_in_flight;
  copy.etcd_lease_ttl_s = etcd_lease_ttl_s;
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
  copy.selfservice_listen = selfservice_listen;
  copy.selfservice_tls_cert = selfservice_tls_cert;
  copy.selfservice_tls_key = selfservice_tls_key;
  copy.durability = durability;
  copy.io_threads = io_threads;
  copy.limits = limits;
  for (const auto& [name, key] : tcp_clients) copy.tcp_clients.emplace(name, key.Clone());
  copy.validate_keyless_clients = validate_keyless_clients;
  copy.allow_unauthenticated_tcp = allow_unauthenticated_tcp;
  copy.insecure_key_in_data_dir = insecure_key_in_data_dir;
  copy.cache_mb = cache_mb;
  copy.actions = actions;
  copy.log_level = log_level;
  copy.create_data_dir = create_data_dir;
  copy.check_only = check_only;
  copy.check_errors = check_errors;
  copy.args = args;
  return copy;
}

namespace {

constexpr std::pair<StoreKind, std::string_view> kStoreKinds[] = {
    {StoreKind::kRocksDb, "rocksdb"},
    {StoreKind::kEtcd, "etcd"},
};

}  // namespace

std::string_view StoreKindName(StoreKind kind) {
  for (const auto& [k, name] : kStoreKinds) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<StoreKind> ParseStoreKind(std::string_view name) {
  for (const auto& [kind, n] : kStoreKinds) {
    if (n == name) return kind;
  }
  return std::nullopt;
}

std::vector<std::string_view> StoreKindNames() {
  std::vector<std::string_view> names;
  for (const auto& [kind, name] : kStoreKinds) names.push_back(name);
  return names;
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
  config.create_data_dir = set.init;
  config.check_only = set.check;
  ConfigErrors errors;
  bool file_read = true;
  if (set.config_flag->count() > 0) {
    config.config_file = set.config;
    file_read = ApplyTomlFile(config.config_file, &config, &errors);
  }
  ApplyFlags(set, &config, &errors);
  // Rules between options say nothing useful about a file that could not be parsed.
  if (file_read) Validate(&config, &errors);
  if (config.check_only) {
    config.check_errors = errors.Messages();
    return config;
  }
  OTPD_RETURN_IF_ERROR(errors.First());
  return config;
}

StatusOr<RuntimeConfig> ReloadServerConfig(const ServerConfig& running) {
  OTPD_ASSIGN_OR_RETURN(ServerConfig fresh, LoadServerConfig(running.args));
  RuntimeConfig runtime;
  runtime.limits = fresh.limits;
  runtime.limits.max_line = running.limits.max_line;
  runtime.tcp_clients = std::move(fresh.tcp_clients);
  runtime.validate_keyless_clients = std::move(fresh.validate_keyless_clients);
  runtime.log_level = fresh.log_level;
  for (const Option& o : Options()) {
    if (!o.reloadable && o.get(fresh) != o.get(running)) runtime.needs_restart.emplace_back(o.key);
  }
  return runtime;
}

std::vector<OptionDoc> DescribeCommandLineFlags() {
  return {OptionDoc{.flag = "--config", .value_name = "PATH", .help = std::string(kConfigHelp)},
          OptionDoc{.flag = "--init", .help = std::string(kInitHelp)},
          OptionDoc{.flag = "--check-config", .help = std::string(kCheckConfigHelp)},
          OptionDoc{.flag = "--print-example-config", .help = std::string(kPrintExampleHelp)},
          OptionDoc{.flag = "--version", .help = std::string(kVersionHelp)},
          OptionDoc{.flag = "--help", .help = std::string(kHelpHelp)}};
}

}  // namespace otpd::server
