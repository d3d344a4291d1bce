#include "tools/otpctl/actions.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <functional>
#include <iostream>

#include "base/clock.h"
#include "base/secret_file.h"
#include "service/admin/user_actions.h"
#include "service/credentials/app_passwords.h"
#include "service/credentials/passwords.h"
#include "service/credentials/temporary_access_pass.h"
#include "service/model/directory.h"
#include "service/model/method_kind.h"
#include "tokenio/upn.h"
#include "tools/display.h"
#include "tools/otpctl/admin.h"
#include "tools/otpctl/admin_client.h"
#include "tools/otpctl/online.h"

namespace otpd::tools {
namespace {

namespace json = boost::json;

constexpr std::string_view kDirFooter =
    "The data directory, admin API options and --actor are given before the subcommand (see "
    "--help of its "
    "parent).";

// Reads the first line of `path` (the new password), without its line end; a password file is
// checked as every key file is (private to its owner).
base::StatusOr<base::SecretBytes> ReadNewPassword(const std::string& path) {
  auto file = base::ReadPrivateFile(path, "password file");
  if (!file.ok()) {
    return base::InvalidArgumentError("--password-file: " + std::string(file.status().message()));
  }
  std::string_view line = file->view().substr(0, file->view().find('\n'));
  while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return base::InvalidArgumentError("--password-file: the first line is empty");
  return base::SecretBytes::FromString(line);
}

std::string ActionsPath(const std::string& upn) {
  return "/v1.0/users/" + UrlEncode(upn) + "/authentication/";
}

// The method kind name (service::MethodKindName) behind a Graph @odata.type.
std::string KindOf(const json::value& method) {
  static constexpr std::pair<std::string_view, service::MethodKind> kTypes[] = {
      {"#microsoft.graph.hardwareOathAuthenticationMethod", service::MethodKind::kHardwareOath},
      {"#microsoft.graph.softwareOathAuthenticationMethod", service::MethodKind::kSoftwareOath},
      {"#microsoft.graph.phoneAuthenticationMethod", service::MethodKind::kPhone},
      {"#microsoft.graph.emailAuthenticationMethod", service::MethodKind::kEmail},
      {"#microsoft.graph.passwordAuthenticationMethod", service::MethodKind::kPassword},
      {"#microsoft.graph.temporaryAccessPassAuthenticationMethod",
       service::MethodKind::kTemporaryAccessPass}};
  const std::string type = Text(method, "@odata.type");
  for (const auto& [name, kind] : kTypes) {
    if (type == name) return std::string(service::MethodKindName(kind));
  }
  return type;
}

// Opens the admin API (the daemon's when it runs, else in-process on the data directory) and
// runs `body`, as every command on the API does (tools/otpctl/online.h WithAdmin).
int WithApi(const ActionCommandOptions& o, const std::string& command,
            const std::function<base::Status(AdminClient&)>& body) {
  return WithAdmin({.dir = o.dir, .admin = o.admin, .actor = o.actor, .json = o.json}, command,
                   /*read_only=*/false, body);
}

// Prints `out` as JSON and wipes the text (it may hold a secret shown once).
void PrintSecretJson(const json::object& out) {
  std::string text = json::serialize(out);
  std::cout << text << "\n";
  base::Wipe(text.data(), text.size());
}

base::Status ResetPassword(AdminClient& admin, const ActionCommandOptions& o,
                           const std::string& upn, const std::optional<base::SecretBytes>& given) {
  AdminRequest request;
  request.method = "POST";
  request.target =
      ActionsPath(upn) + "methods/" + std::string(service::kPasswordMethodId) + "/resetPassword";
  json::object body;
  if (given) body["newPassword"] = given->view();
  std::string text = json::serialize(body);
  request.body = base::SecretBytes::FromString(text);
  base::Wipe(text.data(), text.size());
  request.content_type = "application/json";
  std::string location;
  OTPD_ASSIGN_OR_RETURN(json::value answer, admin.Send(request, &location));
  const std::string operation = location.substr(location.rfind('/') + 1);
  const json::value* generated =
      answer.is_object() ? answer.as_object().if_contains("newPassword") : nullptr;
  if (o.json) {
    json::object out{{"user", upn}, {"operation", operation}, {"must_change", true}};
    if (generated != nullptr) out["new_password"] = *generated;
    PrintSecretJson(out);
  } else {
    std::cout << "password of " << Printable(upn, 254) << " reset; it must be changed at the next "
              << "sign-in\n";
    if (generated != nullptr && generated->is_string()) {
      std::cout << "new password (shown once): " << std::string_view(generated->as_string())
                << "\n";
    }
  }
  if (answer.is_object()) {
    for (auto& [key, value] : answer.as_object()) {
      if (value.is_string()) base::Wipe(value.as_string().data(), value.as_string().size());
    }
  }
  return base::OkStatus();
}

base::Status RequireReregistration(AdminClient& admin, const ActionCommandOptions& o,
                                   const std::string& upn) {
  OTPD_ASSIGN_OR_RETURN(json::value answer,
                        admin.Post(ActionsPath(upn) + "requireReregistration", json::object{}));
  if (!answer.is_object() || !answer.as_object().contains("deactivatedDevices") ||
      !answer.as_object().contains("deletedMethods")) {
    return base::InternalError("the daemon's answer lists nothing");
  }
  json::array tokens, methods;
  for (const auto& d : answer.at("deactivatedDevices").as_array()) {
    tokens.emplace_back(Text(d, "serialNumber"));
  }
  for (const auto& m : answer.at("deletedMethods").as_array()) {
    const std::string detail = Text(m, "detail");
    methods.emplace_back(json::object{
        {"id", Text(m, "id")}, {"kind", KindOf(m)}, {"detail", detail == "-" ? "" : detail}});
  }
  if (o.json) {
    std::cout << json::serialize(json::object{{"user", upn},
                                              {"deactivated_tokens", std::move(tokens)},
                                              {"deleted_methods", std::move(methods)}})
              << "\n";
    return base::OkStatus();
  }
  std::cout << "user " << Printable(upn, 254) << " must register MFA again\n";
  for (const auto& serial : tokens) {
    std::cout << "  deactivated token " << Printable(std::string(serial.as_string())) << "\n";
  }
  for (const auto& m : methods) {
    const std::string detail(m.at("detail").as_string());
    std::cout << "  deleted " << std::string_view(m.at("kind").as_string()) << " "
              << Printable(std::string(m.at("id").as_string()))
              << (detail.empty() ? "" : " (" + Printable(detail) + ")") << "\n";
  }
  return base::OkStatus();
}

int RunUser(const ActionCommands& c, const ActionCommandOptions& o, const std::string& upn) {
  const std::string command = c.reset_password->parsed()       ? "user reset-password"
                              : c.require_reregister->parsed() ? "user require-reregister"
                                                               : "user revoke-mfa-sessions";
  std::optional<base::SecretBytes> given;
  if (c.reset_password->parsed() && !o.password_file.empty()) {
    auto password = ReadNewPassword(o.password_file);
    if (!password.ok()) {
      std::cerr << "otpctl " << command << ": " << password.status().message() << "\n";
      return 2;
    }
    given = std::move(*password);
  }
  return WithApi(o, command, [&](AdminClient& admin) -> base::Status {
    if (c.reset_password->parsed()) return ResetPassword(admin, o, upn, given);
    if (c.require_reregister->parsed()) return RequireReregistration(admin, o, upn);
    OTPD_RETURN_IF_ERROR(
        admin.Post(ActionsPath(upn) + "revokeMfaSessions", json::object{}).status());
    if (o.json) {
      std::cout << json::serialize(json::object{{"user", upn}, {"revoked", true}}) << "\n";
    } else {
      std::cout << "every remembered MFA session of " << Printable(upn, 254) << " is revoked\n";
    }
    return base::OkStatus();
  });
}

base::Status ListAppPasswords(AdminClient& admin, const ActionCommandOptions& o,
                              const std::string& upn) {
  OTPD_ASSIGN_OR_RETURN(json::array list, admin.List(ActionsPath(upn) + "appPasswords"));
  json::array items;
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : list) {
    items.emplace_back(json::object{{"id", Text(p, "id")},
                                    {"displayName", Text(p, "displayName")},
                                    {"createdDateTime", Text(p, "createdDateTime")}});
    rows.push_back({Text(p, "id"), Text(p, "displayName"), Text(p, "createdDateTime")});
  }
  if (o.json) {
    std::cout << json::serialize(items) << "\n";
  } else {
    PrintTable({"ID", "NAME", "CREATED"}, rows);
  }
  return base::OkStatus();
}

int RunAppPassword(const ActionCommands& c, const ActionCommandOptions& o, const std::string& upn) {
  CLI::App* sub = c.app_password->get_subcommands().front();
  const std::string command = "app-password " + sub->get_name();
  if (sub->get_name() == "delete" && o.all == !o.id.empty()) {
    std::cerr << "otpctl " << command << ": give either --id ID or --all\n";
    return 2;
  }
  return WithApi(o, command, [&](AdminClient& admin) -> base::Status {
    if (sub->get_name() == "list") return ListAppPasswords(admin, o, upn);
    if (sub->get_name() == "create") {
      OTPD_ASSIGN_OR_RETURN(json::value created, admin.Post(ActionsPath(upn) + "appPasswords",
                                                            json::object{{"displayName", o.name}}));
      const std::string id = Text(created, "id");
      json::value& password = created.as_object()["password"];
      if (o.json) {
        PrintSecretJson(json::object{
            {"id", id}, {"displayName", Text(created, "displayName")}, {"password", password}});
      } else {
        std::cout << "app password " << Printable(id) << " for " << Printable(upn, 254)
                  << " (shown once): "
                  << (password.is_string() ? std::string_view(password.as_string()) : "") << "\n";
      }
      if (password.is_string())
        base::Wipe(password.as_string().data(), password.as_string().size());
      return base::OkStatus();
    }
    size_t deleted = 1;
    if (o.all) {
      OTPD_ASSIGN_OR_RETURN(json::value answer,
                            admin.Call("DELETE", ActionsPath(upn) + "appPasswords"));
      deleted = answer.is_object() && answer.as_object().contains("deleted")
                    ? answer.at("deleted").to_number<size_t>()
                    : 0;
    } else {
      OTPD_RETURN_IF_ERROR(
          admin.Call("DELETE", ActionsPath(upn) + "appPasswords/" + UrlEncode(o.id)).status());
    }
    if (o.json) {
      std::cout << json::serialize(json::object{{"user", upn}, {"deleted", deleted}}) << "\n";
    } else {
      std::cout << "deleted " << deleted << " app password(s) of " << Printable(upn, 254) << "\n";
    }
    return base::OkStatus();
  });
}

int RunTap(const ActionCommandOptions& o, const std::string& upn) {
  return WithApi(o, "tap create", [&](AdminClient& admin) -> base::Status {
    json::object body{{"isUsableOnce", o.once}};
    if (o.lifetime_minutes > 0) body["lifetimeInMinutes"] = o.lifetime_minutes;
    OTPD_ASSIGN_OR_RETURN(json::value created,
                          admin.Post(ActionsPath(upn) + "temporaryAccessPassMethods", body));
    json::value& pass = created.as_object()["temporaryAccessPass"];
    const std::string start = Text(created, "startDateTime");
    const int64_t lifetime = created.at("lifetimeInMinutes").to_number<int64_t>();
    const bool once = created.at("isUsableOnce").as_bool();
    if (o.json) {
      PrintSecretJson(json::object{{"user", upn},
                                   {"id", Text(created, "id")},
                                   {"temporaryAccessPass", pass},
                                   {"startDateTime", start},
                                   {"lifetimeInMinutes", lifetime},
                                   {"isUsableOnce", once}});
    } else {
      auto micros = base::ParseIsoTimeMicros(start);
      const std::string until =
          micros.ok() ? IsoTime(*micros / 1'000'000 + lifetime * 60) : std::string("-");
      std::cout << "temporary access pass for " << Printable(upn, 254)
                << " (shown once): " << (pass.is_string() ? std::string_view(pass.as_string()) : "")
                << "\n  usable until " << until << (once ? ", once" : "") << "\n";
    }
    if (pass.is_string()) base::Wipe(pass.as_string().data(), pass.as_string().size());
    return base::OkStatus();
  });
}

void PrintDeadLetters(const ActionCommandOptions& o, const json::array& items) {
  if (o.json) {
    std::cout << json::serialize(items) << "\n";
    return;
  }
  for (const auto& item : items) {
    const auto& d = item.as_object();
    std::cout << d.at("seq").to_number<uint64_t>() << "  "
              << json::value_to<std::string>(d.at("type")) << "  "
              << (d.contains("user") ? json::value_to<std::string>(d.at("user")) : "-")
              << "  attempts=" << d.at("attempts").to_number<uint64_t>() << "  "
              << Printable(json::value_to<std::string>(d.at("last_error"))) << "\n";
  }
  if (items.empty()) std::cout << "no dead letters for hook " << Printable(o.name) << "\n";
}

void PrintHooks(const ActionCommandOptions& o, uint64_t last, const json::array& items) {
  if (o.json) {
    std::cout << json::serialize(json::object{{"last_event", last}, {"hooks", items}}) << "\n";
    return;
  }
  std::cout << "last event " << last << "\n";
  for (const auto& item : items) {
    const auto& h = item.as_object();
    std::cout << Printable(json::value_to<std::string>(h.at("name")))
              << "  cursor=" << h.at("cursor").to_number<uint64_t>()
              << "  backlog=" << h.at("backlog").to_number<uint64_t>()
              << "  dead_letters=" << h.at("dead_letters").to_number<uint64_t>()
              << (h.at("disabled").as_bool() ? "  DISABLED" : "") << "\n";
  }
}

// The hooks, as the admin API shows them (the running daemon's, or the data directory's).
base::Status Hooks(AdminClient& admin, const ActionCommandOptions& o, CLI::App* sub) {
  const std::string hook = "/v1.0/admin/hooks/" + UrlEncode(o.name);
  if (sub->get_name() == "enable") {
    OTPD_RETURN_IF_ERROR(admin.Post(hook + "/enable", json::object{}).status());
    std::cout << "hook " << Printable(o.name) << " enabled\n";
    return base::OkStatus();
  }
  if (sub->get_name() == "redeliver") {
    OTPD_ASSIGN_OR_RETURN(json::value answer, admin.Post(hook + "/redeliver", json::object{}));
    std::cout << "redelivering " << Text(answer, "redelivered") << " dead letter(s) of hook "
              << Printable(o.name) << "\n";
    return base::OkStatus();
  }
  if (sub->get_name() == "dead-letters") {
    OTPD_ASSIGN_OR_RETURN(json::array letters, admin.List(hook + "/deadLetters"));
    json::array items;
    for (const auto& d : letters) {
      auto time = base::ParseIsoTimeMicros(Text(d, "deadLetteredDateTime"));
      json::object item{
          {"seq", d.at("sequence")}, {"event_id", Text(d, "eventId")}, {"type", Text(d, "type")}};
      if (Text(d, "user") != "-") item["user"] = Text(d, "user");
      item["attempts"] = d.at("attempts");
      item["time"] = time.ok() ? *time / 1'000'000 : 0;
      item["last_error"] = d.at("lastError");
      items.push_back(std::move(item));
    }
    PrintDeadLetters(o, items);
    return base::OkStatus();
  }
  OTPD_ASSIGN_OR_RETURN(json::array hooks, admin.List("/v1.0/admin/hooks"));
  uint64_t last = 0;
  json::array items;
  for (const auto& h : hooks) {
    const uint64_t cursor = h.at("cursor").to_number<uint64_t>();
    const uint64_t lag = h.at("lag").to_number<uint64_t>();
    last = std::max(last, cursor + lag);
    items.emplace_back(json::object{{"name", Text(h, "name")},
                                    {"cursor", cursor},
                                    {"backlog", lag},
                                    {"dead_letters", h.at("deadLetters")},
                                    {"disabled", Text(h, "state") == "disabled"}});
  }
  PrintHooks(o, last, items);
  return base::OkStatus();
}

// Through the running daemon's admin API when it runs, else the same API in-process on the data
// directory, which shows the hook state stored there (redelivering needs the daemon).
int RunHooks(const ActionCommands& c, const ActionCommandOptions& o) {
  CLI::App* sub = c.hooks->get_subcommands().front();
  return WithApi(o, "hooks " + sub->get_name(),
                 [&](AdminClient& admin) { return Hooks(admin, o, sub); });
}

}  // namespace

bool ActionCommands::parsed() const {
  for (CLI::App* c :
       {reset_password, require_reregister, revoke_sessions, app_password, tap, hooks}) {
    if (c != nullptr && c->parsed()) return true;
  }
  return false;
}

ActionCommands AddActionCommands(CLI::App& app, CLI::App* user, ActionCommandOptions& o) {
  ActionCommands c;
  auto upn_command = [&](CLI::App* parent, const std::string& name, const std::string& help) {
    CLI::App* cmd = parent->add_subcommand(name, help);
    cmd->add_option("UPN", o.upn, "The user (e-mail address)")->required();
    cmd->add_flag("--json", o.json, "Print the result as JSON");
    cmd->fallthrough();
    cmd->footer(std::string(kDirFooter));
    return cmd;
  };
  // `user` has its data directory flags and --actor already (otpctl_user.cc); they fill the
  // user command's own options, which RunActionCommand is given through `o.dir`.
  c.reset_password = upn_command(
      user, "reset-password",
      "Give a user a new password, which they must change at the next sign-in (generated and "
      "shown once, unless --password-file gives it)");
  c.reset_password->add_option("--password-file", o.password_file,
                               "Take the password from this file's first line");
  c.require_reregister = upn_command(
      user, "require-reregister",
      "Make a user register MFA again: deactivate their hardware tokens (they stay assigned), "
      "delete their phones and authenticator apps");
  c.revoke_sessions =
      upn_command(user, "revoke-mfa-sessions", "End every remembered MFA session of a user");

  c.app_password = app.add_subcommand("app-password", "Users' app passwords");
  c.app_password->require_subcommand(1);
  AddDataDirFlags(c.app_password, o.dir);
  AddAdminFlags(c.app_password, o.admin);
  c.app_password->add_option("--actor", o.actor,
                             "Offline: the name recorded in the audit log (default otpctl); "
                             "online the daemon records the caller");
  upn_command(c.app_password, "list", "A user's app passwords: ids, names and dates");
  CLI::App* create = upn_command(c.app_password, "create", "Make an app password (shown once)");
  create->add_option("NAME", o.name, "Its display name")->required();
  CLI::App* del = upn_command(c.app_password, "delete", "Delete one app password, or all");
  del->add_option("--id", o.id, "The app password's id");
  del->add_flag("--all", o.all, "Every app password of the user");

  c.tap = app.add_subcommand("tap", "Temporary access passes");
  c.tap->require_subcommand(1);
  AddDataDirFlags(c.tap, o.dir);
  AddAdminFlags(c.tap, o.admin);
  c.tap->add_option("--actor", o.actor,
                    "Offline: the name recorded in the audit log (default otpctl); online the "
                    "daemon records the caller");
  CLI::App* tap_create = upn_command(
      c.tap, "create", "Make a user's temporary access pass (shown once; replaces the old one)");
  tap_create->add_option("--lifetime", o.lifetime_minutes,
                         "Minutes it lasts (10..43200; default 60)");
  tap_create->add_flag("--once", o.once, "Usable for one sign-in only");

  c.hooks = app.add_subcommand("hooks", "The state of event delivery to hooks");
  c.hooks->require_subcommand(1);
  AddDataDirFlags(c.hooks, o.dir);
  AddAdminFlags(c.hooks, o.admin);
  CLI::App* list = c.hooks->add_subcommand("list", "Each hook's cursor, backlog and dead letters");
  list->add_flag("--json", o.json, "Print the result as JSON");
  list->fallthrough();
  CLI::App* dead = c.hooks->add_subcommand("dead-letters", "The events a hook gave up on");
  dead->add_option("NAME", o.name, "The hook")->required();
  dead->add_flag("--json", o.json, "Print the result as JSON");
  dead->fallthrough();
  CLI::App* enable = c.hooks->add_subcommand("enable", "Resume a hook disabled by a 410 answer");
  enable->add_option("NAME", o.name, "The hook")->required();
  enable->fallthrough();
  CLI::App* redeliver = c.hooks->add_subcommand(
      "redeliver", "Deliver a hook's dead letters again (the running daemon only)");
  redeliver->add_option("NAME", o.name, "The hook")->required();
  redeliver->fallthrough();
  return c;
}

int RunActionCommand(const ActionCommands& c, const ActionCommandOptions& o) {
  if (c.hooks->parsed()) return RunHooks(c, o);
  auto upn = tokenio::NormaliseUpn(o.upn);
  if (!upn.ok()) {
    std::cerr << "otpctl: UPN: " << upn.status().message() << "\n";
    return 2;
  }
  if (c.app_password->parsed()) return RunAppPassword(c, o, *upn);
  if (c.tap->parsed()) return RunTap(o, *upn);
  return RunUser(c, o, *upn);
}

}  // namespace otpd::tools
