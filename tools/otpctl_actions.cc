#include "tools/otpctl_actions.h"

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "base/clock.h"
#include "service/app_passwords.h"
#include "service/directory.h"
#include "service/hooks.h"
#include "service/outbox.h"
#include "service/temporary_access_pass.h"
#include "service/user_actions.h"
#include "tokenio/upn.h"
#include "tools/display.h"

namespace otpd::tools {
namespace {

namespace json = boost::json;

constexpr std::string_view kDirFooter =
    "The data directory options and --actor are given before the subcommand (see --help of its "
    "parent).";

// Opens the data directory; prints the error and returns nullopt on failure.
std::optional<DataDir> Open(const ActionCommandOptions& o, std::string_view command) {
  auto dir = OpenDataDir(o.dir, DataDirAccess::kReadWrite);
  if (!dir.ok()) {
    std::cerr << "otpctl " << command << ": " << dir.status().message() << "\n";
    return std::nullopt;
  }
  return std::move(*dir);
}

int Fail(std::string_view command, const base::Status& status) {
  std::cerr << "otpctl " << command << ": " << status.message() << "\n";
  return 1;
}

// Reads the first line of `path` (the password), without its line end.
base::StatusOr<base::SecretBytes> ReadPasswordFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return base::InvalidArgumentError("--password-file: cannot read " + PrintablePath(path));
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  auto out = base::SecretBytes::FromString(line);
  base::Wipe(line.data(), line.size());
  if (out.size() == 0)
    return base::InvalidArgumentError("--password-file: the first line is empty");
  return out;
}

int RunUser(const ActionCommands& c, const ActionCommandOptions& o, const std::string& upn) {
  const std::string command = c.reset_password->parsed()       ? "user reset-password"
                              : c.require_reregister->parsed() ? "user require-reregister"
                                                               : "user revoke-mfa-sessions";
  std::optional<base::SecretBytes> given;
  if (c.reset_password->parsed() && !o.password_file.empty()) {
    auto password = ReadPasswordFile(o.password_file);
    if (!password.ok()) {
      std::cerr << "otpctl " << command << ": " << password.status().message() << "\n";
      return 2;
    }
    given = std::move(*password);
  }
  auto dir = Open(o, command);
  if (!dir) return 1;
  const base::Clock& clock = *base::RealClock::Get();
  service::Directory directory(*dir->store, *dir->keys);
  service::PasswordHasher hasher(service::PasswordOptions{});
  service::UserActions actions(directory, clock, hasher, nullptr);
  const service::Principal by = service::Principal::Owner(o.actor);
  json::object out;
  out["user"] = upn;
  if (c.reset_password->parsed()) {
    std::optional<std::string_view> password;
    if (given) password = given->view();
    auto reset = actions.ResetPassword(by, upn, password);
    hasher.Stop();
    if (!reset.ok()) return Fail(command, reset.status());
    if (o.json) {
      out["operation"] = reset->operation_id;
      out["must_change"] = reset->must_change;
      if (reset->generated) out["new_password"] = reset->generated->view();
      std::string text = json::serialize(out);
      std::cout << text << "\n";
      base::Wipe(text.data(), text.size());
      return 0;
    }
    std::cout << "password of " << Printable(upn, 254) << " reset; it must be changed at the next "
              << "sign-in\n";
    if (reset->generated)
      std::cout << "new password (shown once): " << reset->generated->view() << "\n";
    return 0;
  }
  if (c.require_reregister->parsed()) {
    auto result = actions.RequireReregistration(by, upn);
    hasher.Stop();
    if (!result.ok()) return Fail(command, result.status());
    json::array tokens, methods;
    for (const auto& serial : result->deactivated_tokens) tokens.emplace_back(serial);
    for (const auto& m : result->deleted_methods) {
      methods.emplace_back(json::object{
          {"id", m.id}, {"kind", service::MethodKindName(m.kind)}, {"detail", m.detail}});
    }
    if (o.json) {
      out["deactivated_tokens"] = std::move(tokens);
      out["deleted_methods"] = std::move(methods);
      std::cout << json::serialize(out) << "\n";
      return 0;
    }
    std::cout << "user " << Printable(upn, 254) << " must register MFA again\n";
    for (const auto& serial : result->deactivated_tokens) {
      std::cout << "  deactivated token " << Printable(serial) << "\n";
    }
    for (const auto& m : result->deleted_methods) {
      std::cout << "  deleted " << service::MethodKindName(m.kind) << " " << Printable(m.id)
                << (m.detail.empty() ? "" : " (" + Printable(m.detail) + ")") << "\n";
    }
    return 0;
  }
  auto epoch = actions.RevokeMfaSessions(by, upn);
  hasher.Stop();
  if (!epoch.ok()) return Fail(command, epoch.status());
  if (o.json) {
    out["sessions_epoch"] = *epoch;
    std::cout << json::serialize(out) << "\n";
    return 0;
  }
  std::cout << "every remembered MFA session of " << Printable(upn, 254) << " is revoked\n";
  return 0;
}

int RunAppPassword(const ActionCommands& c, const ActionCommandOptions& o, const std::string& upn) {
  CLI::App* sub = c.app_password->get_subcommands().front();
  const std::string command = "app-password " + sub->get_name();
  if (sub->get_name() == "delete" && o.all == !o.id.empty()) {
    std::cerr << "otpctl " << command << ": give either --id ID or --all\n";
    return 2;
  }
  auto dir = Open(o, command);
  if (!dir) return 1;
  service::Directory directory(*dir->store, *dir->keys);
  service::AppPasswords app_passwords(directory, *base::RealClock::Get(), nullptr);
  const service::Principal by = service::Principal::Owner(o.actor);
  if (sub->get_name() == "list") {
    auto list = app_passwords.List(by, upn);
    if (!list.ok()) return Fail(command, list.status());
    json::array items;
    for (const auto& p : *list) {
      if (o.json) {
        items.emplace_back(json::object{{"id", p.id},
                                        {"displayName", p.display_name},
                                        {"createdDateTime", IsoTime(p.created)}});
      } else {
        std::cout << Printable(p.id) << "  " << IsoTime(p.created) << "  "
                  << Printable(p.display_name) << "\n";
      }
    }
    if (o.json) std::cout << json::serialize(items) << "\n";
    return 0;
  }
  if (sub->get_name() == "create") {
    auto created = app_passwords.Create(by, upn, o.name);
    if (!created.ok()) return Fail(command, created.status());
    if (o.json) {
      std::string text = json::serialize(json::object{{"id", created->record.id},
                                                      {"displayName", created->record.display_name},
                                                      {"password", created->password.view()}});
      std::cout << text << "\n";
      base::Wipe(text.data(), text.size());
      return 0;
    }
    std::cout << "app password " << Printable(created->record.id) << " for " << Printable(upn, 254)
              << " (shown once): " << created->password.view() << "\n";
    return 0;
  }
  size_t deleted = 0;
  if (o.all) {
    auto n = app_passwords.DeleteAll(by, upn);
    if (!n.ok()) return Fail(command, n.status());
    deleted = *n;
  } else {
    if (base::Status s = app_passwords.Delete(by, upn, o.id); !s.ok()) return Fail(command, s);
    deleted = 1;
  }
  if (o.json) {
    std::cout << json::serialize(json::object{{"user", upn}, {"deleted", deleted}}) << "\n";
  } else {
    std::cout << "deleted " << deleted << " app password(s) of " << Printable(upn, 254) << "\n";
  }
  return 0;
}

int RunTap(const ActionCommandOptions& o, const std::string& upn) {
  const std::string command = "tap create";
  auto dir = Open(o, command);
  if (!dir) return 1;
  service::Directory directory(*dir->store, *dir->keys);
  service::TemporaryAccessPasses taps(directory, *base::RealClock::Get(), service::TapPolicy{},
                                      nullptr);
  service::TapRequest request;
  if (o.lifetime_minutes > 0) request.lifetime_minutes = o.lifetime_minutes;
  request.usable_once = o.once;
  auto created = taps.Create(service::Principal::Owner(o.actor), upn, request);
  if (!created.ok()) return Fail(command, created.status());
  const auto& payload = std::get<service::TemporaryAccessPassPayload>(created->tap.method.payload);
  const std::string until = IsoTime(payload.start + int64_t{payload.lifetime_minutes} * 60);
  if (o.json) {
    std::string text = json::serialize(json::object{{"user", upn},
                                                    {"id", created->tap.method.id},
                                                    {"temporaryAccessPass", created->pass.view()},
                                                    {"startDateTime", IsoTime(payload.start)},
                                                    {"lifetimeInMinutes", payload.lifetime_minutes},
                                                    {"isUsableOnce", payload.usable_once}});
    std::cout << text << "\n";
    base::Wipe(text.data(), text.size());
    return 0;
  }
  std::cout << "temporary access pass for " << Printable(upn, 254)
            << " (shown once): " << created->pass.view() << "\n  usable until " << until
            << (payload.usable_once ? ", once" : "") << "\n";
  return 0;
}

// Hook state as the dispatcher keeps it in the meta namespace.
int RunHooks(const ActionCommands& c, const ActionCommandOptions& o) {
  CLI::App* sub = c.hooks->get_subcommands().front();
  const std::string command = "hooks " + sub->get_name();
  auto dir = Open(o, command);
  if (!dir) return 1;
  storage::Store& store = *dir->store;
  if (sub->get_name() == "enable") {
    auto cursor = store.Get(storage::Namespace::kMeta, service::HookCursorKey(o.name));
    if (!cursor.ok()) return Fail(command, cursor.status());
    if (!cursor->has_value()) {
      std::cerr << "otpctl " << command << ": no hook " << Printable(o.name)
                << " has run in this data directory\n";
      return 1;
    }
    storage::WriteBatch batch;
    batch.Delete(storage::Namespace::kMeta, service::HookDisabledKey(o.name));
    if (base::Status s = store.Commit(std::move(batch), storage::Durability::kDurable); !s.ok()) {
      return Fail(command, s);
    }
    std::cout << "hook " << Printable(o.name) << " enabled\n";
    return 0;
  }
  if (sub->get_name() == "dead-letters") {
    json::array items;
    base::Status s = store.Scan(storage::Namespace::kMeta, service::HookDeadLetterPrefix(o.name),
                                [&](std::string_view, const storage::Record& r) {
                                  boost::system::error_code ec;
                                  json::value v = json::parse(r.value, ec);
                                  if (!ec) items.push_back(std::move(v));
                                  return true;
                                });
    if (!s.ok()) return Fail(command, s);
    if (o.json) {
      std::cout << json::serialize(items) << "\n";
      return 0;
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
    return 0;
  }
  // list: every hook that has a cursor.
  auto last = service::LastEventSequence(store);
  if (!last.ok()) return Fail(command, last.status());
  json::array items;
  base::Status s = store.Scan(
      storage::Namespace::kMeta, "hooks/", [&](std::string_view key, const storage::Record& r) {
        if (!key.ends_with("/cursor")) return true;
        const std::string name(key.substr(6, key.size() - 6 - 7));
        const uint64_t cursor = std::strtoull(r.value.c_str(), nullptr, 10);
        size_t dead = 0;
        (void)store.Scan(storage::Namespace::kMeta, service::HookDeadLetterPrefix(name),
                         [&](std::string_view, const storage::Record&) {
                           ++dead;
                           return true;
                         });
        auto disabled = store.Get(storage::Namespace::kMeta, service::HookDisabledKey(name));
        items.emplace_back(json::object{{"name", name},
                                        {"cursor", cursor},
                                        {"backlog", *last > cursor ? *last - cursor : 0},
                                        {"dead_letters", dead},
                                        {"disabled", disabled.ok() && disabled->has_value()}});
        return true;
      });
  if (!s.ok()) return Fail(command, s);
  if (o.json) {
    std::cout << json::serialize(json::object{{"last_event", *last}, {"hooks", items}}) << "\n";
    return 0;
  }
  std::cout << "last event " << *last << "\n";
  for (const auto& item : items) {
    const auto& h = item.as_object();
    std::cout << Printable(json::value_to<std::string>(h.at("name")))
              << "  cursor=" << h.at("cursor").to_number<uint64_t>()
              << "  backlog=" << h.at("backlog").to_number<uint64_t>()
              << "  dead_letters=" << h.at("dead_letters").to_number<uint64_t>()
              << (h.at("disabled").as_bool() ? "  DISABLED" : "") << "\n";
  }
  return 0;
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
  c.app_password->add_option("--actor", o.actor, "Name recorded in the audit log (default otpctl)");
  upn_command(c.app_password, "list", "A user's app passwords: ids, names and dates");
  CLI::App* create = upn_command(c.app_password, "create", "Make an app password (shown once)");
  create->add_option("NAME", o.name, "Its display name")->required();
  CLI::App* del = upn_command(c.app_password, "delete", "Delete one app password, or all");
  del->add_option("--id", o.id, "The app password's id");
  del->add_flag("--all", o.all, "Every app password of the user");

  c.tap = app.add_subcommand("tap", "Temporary access passes");
  c.tap->require_subcommand(1);
  AddDataDirFlags(c.tap, o.dir);
  c.tap->add_option("--actor", o.actor, "Name recorded in the audit log (default otpctl)");
  CLI::App* tap_create = upn_command(
      c.tap, "create", "Make a user's temporary access pass (shown once; replaces the old one)");
  tap_create->add_option("--lifetime", o.lifetime_minutes,
                         "Minutes it lasts (10..43200; default 60)");
  tap_create->add_flag("--once", o.once, "Usable for one sign-in only");

  c.hooks = app.add_subcommand("hooks", "The state of event delivery to hooks");
  c.hooks->require_subcommand(1);
  AddDataDirFlags(c.hooks, o.dir);
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
