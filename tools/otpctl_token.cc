#include "tools/otpctl_token.h"

#include <boost/json.hpp>
#include <iostream>

#include "base/clock.h"
#include "service/inventory.h"

namespace otpd::tools {
namespace {

namespace json = boost::json;

int Fail(std::string_view what, const base::Status& s) {
  std::cerr << "otpctl " << what << ": " << s.message() << "\n";
  return 1;
}

json::object TokenJson(const service::TokenRecord& t) {
  json::object o;
  o["serial"] = t.serial;
  o["status"] = service::TokenStatusName(t.status);
  o["user"] = t.assigned_to;
  o["manufacturer"] = t.manufacturer;
  o["model"] = t.model;
  o["type"] = engine::OtpTypeName(t.params.type);
  o["algorithm"] = engine::HashAlgorithmName(t.params.algorithm);
  o["digits"] = t.params.digits;
  if (t.params.type == engine::OtpType::kTotp) o["period"] = t.params.period;
  o["batch"] = t.batch;
  o["activation_failures"] = t.activation_failures;
  o["created"] = t.created;
  o["updated"] = t.updated;
  if (t.not_after) o["not_after"] = *t.not_after;
  return o;
}

void PrintToken(const service::TokenRecord& t) {
  std::cout << "serial:       " << t.serial << "\n"
            << "status:       " << service::TokenStatusName(t.status) << "\n"
            << "user:         " << (t.assigned_to.empty() ? "-" : t.assigned_to) << "\n"
            << "manufacturer: " << t.manufacturer << "\n"
            << "model:        " << t.model << "\n"
            << "kind:         " << engine::OtpTypeName(t.params.type) << " "
            << engine::HashAlgorithmName(t.params.algorithm) << ", " << t.params.digits
            << " digits";
  if (t.params.type == engine::OtpType::kTotp) std::cout << ", " << t.params.period << " s";
  std::cout << "\n"
            << "batch:        " << t.batch << "\n"
            << "activation failures: " << t.activation_failures << "\n";
}

int List(service::TokenInventory& inv, const TokenCommandOptions& o) {
  service::TokenFilter filter;
  if (!o.status.empty()) {
    auto s = service::ParseTokenStatus(o.status);
    if (!s.ok()) return Fail("token list", s.status());
    filter.status = *s;
  }
  filter.user = o.user;
  filter.batch = o.batch;
  json::array rows;
  base::Status s = inv.List(filter, [&](const service::TokenRecord& t) {
    if (o.json) {
      rows.push_back(TokenJson(t));
    } else {
      std::cout << t.serial << "\t" << service::TokenStatusName(t.status) << "\t"
                << (t.assigned_to.empty() ? "-" : t.assigned_to) << "\t"
                << engine::OtpTypeName(t.params.type) << "/"
                << engine::HashAlgorithmName(t.params.algorithm) << "/" << t.params.digits << "\t"
                << t.manufacturer << " " << t.model << "\n";
    }
    return true;
  });
  if (!s.ok()) return Fail("token list", s);
  if (o.json) std::cout << json::serialize(rows) << "\n";
  return 0;
}

int Batches(service::TokenInventory& inv, const TokenCommandOptions& o) {
  json::array rows;
  base::Status s = inv.ListBatches([&](const service::BatchRecord& b) {
    if (o.json) {
      json::object r;
      r["id"] = b.id;
      r["file"] = b.file;
      r["sha256"] = b.sha256;
      r["format"] = b.format;
      r["time"] = b.time;
      r["imported"] = b.imported;
      r["updated"] = b.updated;
      r["unchanged"] = b.unchanged;
      r["failed"] = b.failed;
      r["complete"] = b.complete;
      rows.push_back(std::move(r));
    } else {
      std::cout << b.id << "\t" << b.time << "\t" << b.format << "\t" << b.file << "\t"
                << b.imported << " imported, " << b.updated << " updated, " << b.unchanged
                << " unchanged, " << b.failed << " failed" << (b.complete ? "" : " (incomplete)")
                << "\tsha256:" << b.sha256 << "\n";
    }
    return true;
  });
  if (!s.ok()) return Fail("batch list", s);
  if (o.json) std::cout << json::serialize(rows) << "\n";
  return 0;
}

}  // namespace

std::pair<CLI::App*, CLI::App*> AddTokenCommands(CLI::App& app, TokenCommandOptions& o) {
  CLI::App* token = app.add_subcommand("token", "Hardware-token inventory");
  token->require_subcommand(1);
  AddDataDirFlags(token, o.dir);
  token->add_option("--actor", o.actor, "Name recorded in the audit log (default otpctl)");
  CLI::App* list = token->add_subcommand("list", "List tokens");
  list->add_option("--status", o.status, "available, assigned, activated or failedActivation");
  list->add_option("--user", o.user, "Only tokens assigned to this user");
  list->add_option("--batch", o.batch, "Only tokens from this import batch");
  list->add_flag("--json", o.json, "JSON output");
  token->add_subcommand("show", "Show one token (never its seed)")
      ->add_option("SERIAL", o.serial)
      ->required();
  CLI::App* assign = token->add_subcommand("assign", "Assign an available token to a user");
  assign->add_option("SERIAL", o.serial)->required();
  assign->add_option("UPN", o.upn)->required();
  CLI::App* activate = token->add_subcommand("activate", "Activate with the code it shows now");
  activate->add_option("SERIAL", o.serial)->required();
  activate->add_option("CODE", o.code)->required();
  for (const char* name : {"deactivate", "unassign", "delete"}) {
    token->add_subcommand(name, std::string(name) + " a token")
        ->add_option("SERIAL", o.serial)
        ->required();
  }

  CLI::App* batch = app.add_subcommand("batch", "Import batches");
  batch->require_subcommand(1);
  AddDataDirFlags(batch, o.dir);
  batch->add_subcommand("list", "List import batches")->add_flag("--json", o.json, "JSON output");
  // Leaf commands pass options they do not know (--data-dir, ...) up to their parent, so they may
  // be written after the subcommand too.
  for (CLI::App* parent : {token, batch}) {
    for (CLI::App* leaf : parent->get_subcommands({})) leaf->fallthrough();
  }
  return {token, batch};
}

int RunTokenCommand(CLI::App* token, CLI::App* batch, const TokenCommandOptions& o) {
  const std::string verb = batch->parsed() ? "" : token->get_subcommands().front()->get_name();
  const bool read_only = batch->parsed() || verb == "list" || verb == "show";
  auto dir = OpenDataDir(o.dir, read_only ? DataDirAccess::kReadOnly : DataDirAccess::kReadWrite);
  if (!dir.ok()) return Fail(token->parsed() ? "token" : "batch", dir.status());
  service::TokenInventory inv(*dir->store, *dir->keys, *base::RealClock::Get(),
                              service::InventoryOptions{});
  if (batch->parsed()) return Batches(inv, o);

  const std::string what = "token " + verb;
  if (verb == "list") return List(inv, o);
  if (verb == "show") {
    auto t = inv.Get(o.serial);
    if (!t.ok()) return Fail(what, t.status());
    PrintToken(*t);
    return 0;
  }
  base::Status s;
  if (verb == "assign") {
    s = inv.Assign(o.serial, o.upn, o.actor);
  } else if (verb == "activate") {
    auto r = inv.Activate(o.serial, o.code, o.actor);
    if (!r.ok()) return Fail(what, r.status());
    if (r->outcome != service::ActivationOutcome::kActivated) {
      std::cerr << "otpctl token activate: wrong code for token " << o.serial
                << " (failed activations: " << r->failures << ")\n";
      return 1;
    }
    std::cout << "token " << o.serial << " activated (drift " << r->drift << " steps)\n";
    return 0;
  } else if (verb == "deactivate") {
    s = inv.Deactivate(o.serial, o.actor);
  } else if (verb == "unassign") {
    s = inv.Unassign(o.serial, o.actor);
  } else if (verb == "delete") {
    s = inv.Delete(o.serial, o.actor);
  }
  if (!s.ok()) return Fail(what, s);
  std::cout << "token " << o.serial << ": " << verb << " done\n";
  return 0;
}

}  // namespace otpd::tools
