#include "tools/otpctl/apikey.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "base/secret_bytes.h"
#include "tools/display.h"

namespace otpd::tools {
namespace {

namespace json = boost::json;

// Writes `key` and a newline to a new file of mode 0600.
base::Status WriteKeyFile(const std::string& path, std::string_view key) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return base::UnavailableError("cannot create " + PrintablePath(path) + ": " +
                                  std::strerror(errno) + " (it must not exist)");
  }
  std::string text = std::string(key) + "\n";
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  base::Wipe(text.data(), text.size());
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return base::UnavailableError("cannot write " + PrintablePath(path));
  }
  return base::OkStatus();
}

base::Status Create(AdminClient& admin, const ApiKeyCommandOptions& o) {
  json::array roles;
  for (const std::string& r : o.roles) roles.emplace_back(r);
  json::object body{{"name", o.name}, {"roles", std::move(roles)}};
  if (!o.user.empty()) body["user"] = o.user;
  OTPD_ASSIGN_OR_RETURN(json::value created, admin.Post("/v1.0/admin/apiKeys", body));
  json::string& key = created.as_object()["key"].as_string();
  base::Status result = base::OkStatus();
  if (!o.out_file.empty()) {
    result = WriteKeyFile(o.out_file, key);
    if (!result.ok()) {
      // The key exists but nobody has it: revoke it rather than leave it behind.
      (void)admin.Call("DELETE", "/v1.0/admin/apiKeys/" + UrlEncode(Text(created, "id")));
      result = result.WithContext("the key was revoked again");
    }
    base::Wipe(key.data(), key.size());
    created.as_object().erase("key");
    if (result.ok()) created.as_object()["keyFile"] = o.out_file;
  }
  if (!result.ok()) return result;
  if (o.json) {
    std::cout << json::serialize(created) << "\n";
  } else {
    std::cout << "API key " << Printable(o.name, 64) << " (id " << Text(created, "id")
              << ") created with roles " << Printable(Text(created, "roles"), 200) << "\n";
    if (o.out_file.empty()) {
      std::cout << "key (shown this once): " << Text(created, "key") << "\n";
    } else {
      std::cout << "key written to " << PrintablePath(o.out_file) << "\n";
    }
  }
  if (json::value* k = created.as_object().if_contains("key"); k && k->is_string()) {
    base::Wipe(k->as_string().data(), k->as_string().size());
  }
  return base::OkStatus();
}

base::Status List(AdminClient& admin, const ApiKeyCommandOptions& o) {
  OTPD_ASSIGN_OR_RETURN(json::array keys, admin.List("/v1.0/admin/apiKeys"));
  if (o.json) {
    std::cout << json::serialize(keys) << "\n";
    return base::OkStatus();
  }
  std::vector<std::vector<std::string>> rows;
  for (const json::value& k : keys) {
    rows.push_back({Text(k, "id"), Text(k, "name"), Text(k, "roles"), Text(k, "user"),
                    Text(k, "createdDateTime"), Text(k, "createdBy")});
  }
  PrintTable({"ID", "NAME", "ROLES", "USER", "CREATED", "BY"}, rows);
  return base::OkStatus();
}

base::Status Audit(AdminClient& admin, const ApiKeyCommandOptions& o) {
  std::string target = "/v1.0/audit?$top=" + std::to_string(o.page_size);
  auto add = [&](const char* name, const std::string& value) {
    if (!value.empty()) target += std::string("&") + name + "=" + UrlEncode(value);
  };
  add("target", o.target);
  add("actor", o.actor_filter);
  add("action", o.action);
  add("since", o.since);
  OTPD_ASSIGN_OR_RETURN(json::array records, admin.List(target));
  if (o.limit > 0 && records.size() > o.limit) {
    // The newest are last: keep those.
    json::array tail(records.end() - static_cast<ptrdiff_t>(o.limit), records.end());
    records = std::move(tail);
  }
  if (o.json) {
    std::cout << json::serialize(records) << "\n";
    return base::OkStatus();
  }
  std::vector<std::vector<std::string>> rows;
  for (const json::value& a : records) {
    rows.push_back({Text(a, "activityDateTime"), Text(a, "actor"), Text(a, "action"),
                    Text(a, "target"), Text(a, "result"), Text(a, "detail")});
  }
  PrintTable({"TIME", "ACTOR", "ACTION", "TARGET", "RESULT", "DETAIL"}, rows);
  return base::OkStatus();
}

}  // namespace

ApiKeyCommands AddApiKeyCommands(CLI::App& app, ApiKeyCommandOptions& o) {
  CLI::App* apikey = app.add_subcommand("apikey", "API keys for the admin API");
  apikey->require_subcommand(1);
  CLI::App* create = apikey->add_subcommand("create", "Create an API key (shown once)");
  create->add_option("NAME", o.name, "A name for the key")->required();
  create
      ->add_option("--role", o.roles,
                   "A role (repeat for several): reader, authentication_administrator, "
                   "privileged_authentication_administrator, "
                   "authentication_policy_administrator")
      ->required();
  create->add_option("--user", o.user, "The person behind the key (UPN), when there is one");
  create->add_option("--out", o.out_file,
                     "Write the key to this new file (mode 0600) instead of printing it");
  apikey->add_subcommand("list", "List API keys (never their secret)");
  apikey->add_subcommand("revoke", "Revoke an API key at once")
      ->add_option("KEY", o.name, "The key's id or name")
      ->required();
  AddAdminCommandFlags(apikey, o);

  CLI::App* audit = app.add_subcommand("audit", "The audit trail, oldest first");
  audit->add_option("--target", o.target, "Only this target, e.g. user/alice@example.com");
  audit->add_option("--actor", o.actor_filter, "Only this actor, e.g. apikey:NAME or uid:0");
  audit->add_option("--action", o.action, "Only this action, e.g. assign");
  audit->add_option("--since", o.since, "Only records from this time on (ISO 8601)");
  audit->add_option("--limit", o.limit, "Only the last N records");
  audit->add_option("--page-size", o.page_size, "Records per request (1 to 999; default 500)")
      ->check(CLI::Range(1, 999));
  audit->add_flag("--json", o.json, "Print JSON");
  AddDataDirFlags(audit, o.dir);
  AddAdminFlags(audit, o.admin);
  return {apikey, audit};
}

int RunApiKeyCommand(const ApiKeyCommands& c, const ApiKeyCommandOptions& o) {
  if (c.audit->parsed())
    return WithAdmin(o, "audit", true, [&](AdminClient& a) { return Audit(a, o); });
  if (!c.apikey->parsed()) return -1;
  const std::string verb = c.apikey->get_subcommands().front()->get_name();
  return WithAdmin(o, "apikey " + verb, verb == "list", [&](AdminClient& admin) -> base::Status {
    if (verb == "create") return Create(admin, o);
    if (verb == "list") return List(admin, o);
    OTPD_RETURN_IF_ERROR(admin.Call("DELETE", "/v1.0/admin/apiKeys/" + UrlEncode(o.name)).status());
    if (o.json) {
      std::cout << "{\"revoked\":" << json::serialize(json::value(o.name)) << "}\n";
    } else {
      std::cout << "API key " << Printable(o.name, 64) << " revoked\n";
    }
    return base::OkStatus();
  });
}

}  // namespace otpd::tools
