#include "tools/otpctl/token.h"

#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <iostream>
#include <vector>

#include "base/clock.h"
#include "base/secret_bytes.h"
#include "service/admin/inventory.h"
#include "tokenio/upn.h"
#include "tools/display.h"
#include "tools/otpctl/token_online.h"

namespace otpd::tools {
namespace {

namespace json = boost::json;

constexpr char kParentOptions[] =
    "The data directory options (--data-dir, --key-file, ...) and --actor are given to the "
    "parent command; see its --help.";

int Fail(std::string_view what, const base::Status& s) {
  std::cerr << "otpctl " << what << ": " << s.message() << "\n";
  return 1;
}

int Usage(std::string_view what, std::string_view message) {
  std::cerr << "otpctl " << what << ": " << message << "\n";
  return 2;
}

// A batch as the admin API answers it (GET /v1.0/admin/importBatches), as otpctl prints it.
json::object BatchJson(const json::object& b) {
  auto text = [&](std::string_view key) -> std::string {
    const json::value* v = b.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : "";
  };
  auto count = [&](std::string_view key) -> int64_t {
    const json::value* v = b.if_contains(key);
    return v && v->is_number() ? v->to_number<int64_t>() : 0;
  };
  json::object r;
  r["id"] = text("id");
  r["file"] = text("fileName");
  r["sha256"] = text("sha256");
  r["format"] = text("format");
  const std::string when = text("importedDateTime");
  auto micros = base::ParseIsoTimeMicros(when);
  r["time"] = micros.ok() ? *micros / 1'000'000 : 0;
  r["time_iso"] = when;
  for (std::string_view key : {"imported", "updated", "unchanged", "failed"}) r[key] = count(key);
  r["complete"] = text("status") != "incomplete";
  r["assigning"] = text("status") == "assigning";
  return r;
}

// The batches by the time of their import, the oldest first.
int Batches(AdminClient& admin, const TokenCommandOptions& o) {
  auto listed = admin.List("/v1.0/admin/importBatches");
  if (!listed.ok()) return Fail("batch list", listed.status());
  json::array rows;
  for (const json::value& b : *listed) {
    if (b.is_object()) rows.push_back(BatchJson(b.as_object()));
  }
  if (o.json) {
    std::cout << json::serialize(rows) << "\n";
    return 0;
  }
  std::cout << "BATCH\tTIME\tFORMAT\tFILE\tCOUNTS\tSHA256\n";
  for (const json::value& row : rows) {
    const json::object& b = row.as_object();
    auto str = [&](std::string_view key) { return std::string(b.at(key).as_string()); };
    auto num = [&](std::string_view key) { return b.at(key).as_int64(); };
    std::cout << str("id") << "\t" << str("time_iso") << "\t" << str("format") << "\t"
              << PrintablePath(str("file")) << "\t" << num("imported") << " imported, "
              << num("updated") << " updated, " << num("unchanged") << " unchanged, "
              << num("failed") << " failed"
              << (!b.at("complete").as_bool()
                      ? " (incomplete: import the file again, or discard it)"
                  : b.at("assigning").as_bool()
                      ? " (assignments not all made: import the file again)"
                      : "")
              << "\t" << str("sha256") << "\n";
  }
  return 0;
}

// The code to activate with: the argument, or one line of standard input when it is "-" or
// left out (so that the code does not show in the process list). Usage errors: not 6 to 9
// digits. The code is never repeated in a message.
base::StatusOr<std::string> ActivationCode(const std::string& given, const std::string& serial) {
  std::string code = given;
  if (code.empty() || code == "-") {
    if (isatty(STDIN_FILENO)) std::cerr << "code shown by token " << Printable(serial) << ": ";
    code.clear();
    std::getline(std::cin, code);
    while (!code.empty() && (code.back() == '\r' || code.back() == ' ')) code.pop_back();
    while (!code.empty() && code.front() == ' ') code.erase(0, 1);
  }
  bool digits = code.size() >= 6 && code.size() <= 9;
  for (char c : code) digits = digits && c >= '0' && c <= '9';
  if (!digits) {
    return base::InvalidArgumentError(
        "the code must be 6 to 9 digits, as the token shows it (give it as CODE, or on standard "
        "input with - or no CODE)");
  }
  return code;
}

}  // namespace

std::pair<CLI::App*, CLI::App*> AddTokenCommands(CLI::App& app, TokenCommandOptions& o) {
  CLI::App* token = app.add_subcommand("token", "Hardware-token inventory");
  token->require_subcommand(1);
  AddDataDirFlags(token, o.dir);
  AddAdminFlags(token, o.admin);
  token->add_option("--actor", o.actor,
                    "Offline: the name recorded in the audit log (default otpctl); online the "
                    "daemon records the caller");
  const char* kSerial = "The token's serial number";
  CLI::App* list = token->add_subcommand("list", "List tokens (a header row, then one per line)");
  list->add_option("--status", o.status,
                   "Only tokens with this status: available, assigned, activated or "
                   "failedActivation");
  list->add_option("--user", o.user, "Only tokens assigned to this user (UPN)");
  list->add_option("--batch", o.batch, "Only tokens from this import batch (see batch list)");
  list->add_flag("--json", o.json, "Print a JSON array");
  CLI::App* show = token->add_subcommand("show", "Show one token (never its seed)");
  show->add_option("SERIAL", o.serial, kSerial)->required();
  show->add_flag("--json", o.json, "Print a JSON object");
  CLI::App* update = token->add_subcommand(
      "update", "Change the display name, manufacturer or model of an available token");
  update->add_option("SERIAL", o.serial, kSerial)->required();
  update->add_option("--display-name", o.display_name, "The new display name");
  update->add_option("--manufacturer", o.manufacturer, "The new manufacturer");
  update->add_option("--model", o.model, "The new model");
  CLI::App* assign = token->add_subcommand("assign", "Assign an available token to a user");
  assign->add_option("SERIAL", o.serial, kSerial)->required();
  assign->add_option("UPN", o.upn, "The user: an e-mail address, checked as import checks it")
      ->required();
  CLI::App* activate =
      token->add_subcommand("activate", "Activate an assigned token with the code it shows now");
  activate->add_option("SERIAL", o.serial, kSerial)->required();
  activate->add_option("CODE", o.code,
                       "The code (6 to 9 digits). '-' or left out: read one line from standard "
                       "input, which keeps it out of the process list");
  token->add_subcommand("deactivate", "Stop an activated token from signing in (it stays assigned)")
      ->add_option("SERIAL", o.serial, kSerial)
      ->required();
  token->add_subcommand("unassign", "Return an assigned token to the inventory as available")
      ->add_option("SERIAL", o.serial, kSerial)
      ->required();
  token->add_subcommand("delete", "Delete an available token")
      ->add_option("SERIAL", o.serial, kSerial)
      ->required();

  CLI::App* batch = app.add_subcommand("batch", "Import batches");
  batch->require_subcommand(1);
  AddDataDirFlags(batch, o.dir, /*read_only=*/true);
  AddAdminFlags(batch, o.admin);
  batch->add_subcommand("list", "List import batches (a header row, then one per line)")
      ->add_flag("--json", o.json, "Print a JSON array");
  batch
      ->add_subcommand(
          "discard",
          "Delete the tokens of an import that did not complete, and its batch (through the "
          "daemon when it runs; importing the same file again finishes the import instead)")
      ->add_option("BATCH", o.batch, "The batch's id (see batch list)")
      ->required();
  // Leaf commands pass options they do not know (--data-dir, ...) up to their parent, so they may
  // be written after the subcommand too.
  for (CLI::App* parent : {token, batch}) {
    for (CLI::App* leaf : parent->get_subcommands({})) leaf->fallthrough()->footer(kParentOptions);
  }
  return {token, batch};
}

int RunTokenCommand(CLI::App* token, CLI::App* batch, const TokenCommandOptions& o) {
  const std::string verb = batch->parsed() ? "" : token->get_subcommands().front()->get_name();
  const std::string what = "token " + verb;
  // Argument checks come before the data directory is opened: a usage error changes nothing.
  std::string upn, code;
  if (verb == "assign") {
    auto normalised = tokenio::NormaliseUpn(o.upn);
    if (!normalised.ok()) return Usage(what, "UPN: " + std::string(normalised.status().message()));
    upn = *normalised;
  } else if (verb == "activate") {
    auto given = ActivationCode(o.code, o.serial);
    if (!given.ok()) return Usage(what, given.status().message());
    code = *given;
  } else if (verb == "update" && !o.display_name && !o.manufacturer && !o.model) {
    return Usage(what, "give at least one of --display-name, --manufacturer and --model");
  } else if (verb == "list" && !o.status.empty()) {
    // The API's filter matches no token with an unknown status; say what the statuses are.
    if (auto status = service::ParseTokenStatus(o.status); !status.ok()) {
      return Fail(what, status.status());
    }
  }
  if (token->parsed()) {
    // Online and offline alike through the admin API, so that both print the same.
    if (int rc = CheckAdminFlags(o.admin, o.dir, what); rc != 0) return rc;
    const bool read_only = verb == "list" || verb == "show";
    auto admin = OpenAdmin(o.admin, o.dir, o.actor, read_only);
    if (!admin.ok()) {
      base::Wipe(code.data(), code.size());
      return Fail(what, admin.status());
    }
    return RunTokenOnline(**admin, verb, o, upn, std::move(code));
  }
  // Batches too, online and offline alike through the admin API.
  const bool discard = batch->get_subcommands().front()->get_name() == "discard";
  const std::string batch_what = discard ? "batch discard" : "batch list";
  if (int rc = CheckAdminFlags(o.admin, o.dir, batch_what); rc != 0) return rc;
  auto admin = OpenAdmin(o.admin, o.dir, o.actor, /*read_only=*/!discard);
  if (!admin.ok()) return Fail(batch_what, admin.status());
  if (!discard) return Batches(**admin, o);
  auto done = (*admin)->Call("DELETE", "/v1.0/admin/importBatches/" + UrlEncode(o.batch));
  if (!done.ok()) return Fail(batch_what, done.status());
  const json::value* deleted =
      done->is_object() ? done->as_object().if_contains("tokensDeleted") : nullptr;
  std::cout << "batch " << Printable(o.batch)
            << " discarded: " << (deleted ? json::serialize(*deleted) : "0") << " tokens deleted\n";
  return 0;
}

}  // namespace otpd::tools
