#include "server/hooks/hook_config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <utility>

#include "base/secret_file.h"

namespace otpd::server::hooks {
namespace {

using base::Status;

Status Invalid(const std::string& where, std::string_view what) {
  return base::InvalidArgumentError(where + ": " + std::string(what));
}

bool IsName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

base::StatusOr<int64_t> Integer(const toml::node& node, const std::string& where, int64_t min,
                                int64_t max) {
  std::optional<int64_t> v = node.value_exact<int64_t>();
  if (!v) return Invalid(where, "must be an integer");
  if (*v < min || *v > max) {
    return Invalid(where, "must be " + std::to_string(min) + ".." + std::to_string(max));
  }
  return *v;
}

base::StatusOr<std::string> Text(const toml::node& node, const std::string& where) {
  std::optional<std::string> v = node.value_exact<std::string>();
  if (!v || v->empty()) return Invalid(where, "must be a non-empty string");
  return *v;
}

// Reads whsec_ lines (blank lines and # comments skipped) from `path`, a key file checked as every
// key file is (base/secret_file.h: private to its owner).
Status ReadSecretFile(const std::string& path, const std::string& where,
                      std::vector<base::SecretBytes>* out) {
  auto file = base::ReadPrivateFile(path, "webhook secret file", 64 * 1024);
  if (!file.ok()) return Invalid(where, std::string(file.status().message()));
  std::string_view rest = file->view();
  int number = 0;
  while (!rest.empty()) {
    const size_t end = std::min(rest.find('\n'), rest.size());
    std::string_view line = rest.substr(0, end);
    rest.remove_prefix(std::min(end + 1, rest.size()));
    ++number;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    auto key = ParseWebhookSecret(line);
    if (!key.ok()) {
      return Invalid(where, path + " line " + std::to_string(number) + ": " +
                                std::string(key.status().message()));
    }
    out->push_back(std::move(*key));
  }
  return base::OkStatus();
}

base::StatusOr<HookConfig> ParseHook(const std::string& name, const toml::node& node) {
  const std::string where = "hooks." + name;
  if (!IsName(name)) return Invalid(where, "hook names are 1..64 of [A-Za-z0-9._-]");
  const toml::table* table = node.as_table();
  if (table == nullptr) return Invalid(where, "must be a table");
  HookConfig hook;
  hook.name = name;
  const toml::node* type = table->get("type");
  if (type == nullptr) return Invalid(where + ".type", "is missing (\"exec\" or \"webhook\")");
  OTPD_ASSIGN_OR_RETURN(std::string type_text, Text(*type, where + ".type"));
  if (type_text == "exec") {
    hook.type = HookType::kExec;
  } else if (type_text == "webhook") {
    hook.type = HookType::kWebhook;
  } else {
    return Invalid(where + ".type", "must be \"exec\" or \"webhook\"");
  }
  const bool exec = hook.type == HookType::kExec;
  auto only = [&](const std::string& key, bool allowed) -> Status {
    if (allowed) return base::OkStatus();
    return Invalid(where + "." + key, exec ? "is a webhook key" : "is an exec key");
  };
  int64_t timeout_ms = 10'000;
  bool event_secrets = true;
  for (const auto& [k, v] : *table) {
    const std::string key(k.str());
    const std::string at = where + "." + key;
    if (key == "type") {
      continue;
    } else if (key == "command") {
      OTPD_RETURN_IF_ERROR(only(key, exec));
      const toml::array* array = v.as_array();
      if (array == nullptr || array->empty()) {
        return Invalid(at, "must be an array of strings: the program, then its arguments");
      }
      for (size_t i = 0; i < array->size(); ++i) {
        std::optional<std::string> arg = (*array)[i].value_exact<std::string>();
        if (!arg) return Invalid(at + "[" + std::to_string(i) + "]", "must be a string");
        hook.exec.argv.push_back(std::move(*arg));
      }
    } else if (key == "url") {
      OTPD_RETURN_IF_ERROR(only(key, !exec));
      OTPD_ASSIGN_OR_RETURN(hook.webhook.url, Text(v, at));
      auto url = ParseWebhookUrl(hook.webhook.url);
      if (!url.ok()) return Invalid(at, url.status().message());
    } else if (key == "secrets") {
      OTPD_RETURN_IF_ERROR(only(key, !exec));
      const toml::array* array = v.as_array();
      if (array == nullptr) return Invalid(at, "must be an array of whsec_... strings");
      for (size_t i = 0; i < array->size(); ++i) {
        std::optional<std::string> text = (*array)[i].value_exact<std::string>();
        const std::string item = at + "[" + std::to_string(i) + "]";
        if (!text) return Invalid(item, "must be a string");
        auto secret = ParseWebhookSecret(*text);
        base::Wipe(text->data(), text->size());
        if (!secret.ok()) return Invalid(item, secret.status().message());
        hook.webhook.secrets.push_back(std::move(*secret));
      }
    } else if (key == "secret_file") {
      OTPD_RETURN_IF_ERROR(only(key, !exec));
      OTPD_ASSIGN_OR_RETURN(std::string path, Text(v, at));
      OTPD_RETURN_IF_ERROR(ReadSecretFile(path, at, &hook.webhook.secrets));
    } else if (key == "ca_file") {
      OTPD_RETURN_IF_ERROR(only(key, !exec));
      OTPD_ASSIGN_OR_RETURN(hook.webhook.ca_file, Text(v, at));
    } else if (key == "timeout_ms") {
      OTPD_ASSIGN_OR_RETURN(timeout_ms, Integer(v, at, 100, 300'000));
    } else if (key == "event_secrets") {
      std::optional<bool> b = v.value_exact<bool>();
      if (!b) return Invalid(at, "must be true or false");
      event_secrets = *b;
    } else if (key == "retry_initial_ms") {
      OTPD_ASSIGN_OR_RETURN(int64_t ms, Integer(v, at, 10, 86'400'000));
      hook.retry.initial = std::chrono::milliseconds(ms);
    } else if (key == "retry_max_ms") {
      OTPD_ASSIGN_OR_RETURN(int64_t ms, Integer(v, at, 10, 7 * 86'400'000LL));
      hook.retry.max = std::chrono::milliseconds(ms);
    } else if (key == "attempts") {
      OTPD_ASSIGN_OR_RETURN(int64_t n, Integer(v, at, 1, 1000));
      hook.retry.attempts = static_cast<uint32_t>(n);
    } else {
      return Invalid(at, "unknown key");
    }
  }
  if (hook.retry.max < hook.retry.initial) {
    return Invalid(where + ".retry_max_ms", "must not be below retry_initial_ms");
  }
  if (exec) {
    hook.exec.timeout = std::chrono::milliseconds(timeout_ms);
    hook.exec.secrets = event_secrets;
    if (hook.exec.argv.empty()) return Invalid(where + ".command", "is missing");
    OTPD_RETURN_IF_ERROR(CheckExecSinkOptions(hook.exec, where));
  } else {
    hook.webhook.timeout = std::chrono::milliseconds(timeout_ms);
    hook.webhook.event_secrets = event_secrets;
    if (hook.webhook.url.empty()) return Invalid(where + ".url", "is missing");
    if (hook.webhook.secrets.empty()) {
      return Invalid(where,
                     "needs secrets = [\"whsec_...\"] or secret_file: receivers must be able "
                     "to check where events come from");
    }
  }
  return hook;
}

}  // namespace

base::StatusOr<std::vector<HookConfig>> LoadHookConfig(const std::string& path) {
  std::vector<HookConfig> out;
  if (path.empty()) return out;
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const toml::source_position& pos = e.source().begin;
    return Invalid(path + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column),
                   std::string(e.description()));
  } catch (const std::exception&) {
    return Invalid(path, "cannot be read");
  }
  const toml::node* hooks = table.get("hooks");
  if (hooks == nullptr) return out;
  auto parse = [&]() -> Status {
    if (!hooks->is_table()) return Invalid("hooks", "must be a table of [hooks.NAME] tables");
    for (const auto& [name, node] : *hooks->as_table()) {
      OTPD_ASSIGN_OR_RETURN(HookConfig hook, ParseHook(std::string(name.str()), node));
      out.push_back(std::move(hook));
    }
    return base::OkStatus();
  };
  OTPD_RETURN_IF_ERROR(parse().WithContext("config file " + path));
  return out;
}

base::Status AddHooks(service::HookDispatcher& dispatcher, std::vector<HookConfig> hooks,
                      const base::Clock& clock) {
  for (auto& hook : hooks) {
    std::unique_ptr<service::EventSink> sink;
    if (hook.type == HookType::kExec) {
      sink = std::make_unique<ExecSink>(std::move(hook.exec));
    } else {
      sink = std::make_unique<WebhookSink>(std::move(hook.webhook), clock);
    }
    OTPD_RETURN_IF_ERROR(dispatcher.AddSink(hook.name, std::move(sink), hook.retry));
  }
  return base::OkStatus();
}

}  // namespace otpd::server::hooks
