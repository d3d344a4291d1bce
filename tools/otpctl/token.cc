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

json::object BatchJson(const service::BatchRecord& b) {
  json::object r;
  r["id"] = b.id;
  r["file"] = b.file;
  r["sha256"] = b.sha256;
  r["format"] = b.format;
  r["time"] = b.time;
  r["time_iso"] = IsoTime(b.time);
  r["imported"] = b.imported;
  r["updated"] = b.updated;
  r["unchanged"] = b.unchanged;
  r["failed"] = b.failed;
  r["complete"] = b.complete;
  return r;
}

// The batches by the time of their import, the oldest first (the store keeps them by id, which
// says nothing about time).
int Batches(service::TokenInventory& inv, const TokenCommandOptions& o) {
  std::vector<service::BatchRecord> batches;
  base::Status s = inv.ListBatches([&](const service::BatchRecord& b) {
    batches.push_back(b);
    return true;
  });
  if (!s.ok()) return Fail("batch list", s);
  std::stable_sort(
      batches.begin(), batches.end(),
      [](const service::BatchRecord& a, const service::BatchRecord& b) { return a.time < b.time; });
  if (o.json) {
    json::array rows;
    for (const service::BatchRecord& b : batches) rows.push_back(BatchJson(b));
    std::cout << json::serialize(rows) << "\n";
    return 0;
  }
  std::cout << "BATCH\tTIME\tFORMAT\tFILE\tCOUNTS\tSHA256\n";
  for (const service::BatchRecord& b : batches) {
    std::cout << b.id << "\t" << IsoTime(b.time) << "\t" << b.format << "\t"
              << PrintablePath(b.file) << "\t" << b.imported << " imported, " << b.updated
              << " updated, " << b.unchanged << " unchanged, " << b.failed << " failed"
              << (b.complete ? "" : " (incomplete)") << "\t" << b.sha256 << "\n";
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
  batch->add_subcommand("list", "List import batches (a header row, then one per line)")
      ->add_flag("--json", o.json, "Print a JSON array");
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
  // No admin API route lists import batches: they are read from the data directory, opened
  // read-only so that this works beside a running daemon too.
  auto dir = OpenDataDir(o.dir, DataDirAccess::kReadOnly);
  if (!dir.ok()) return Fail("batch list", dir.status());
  service::TokenInventory inv(*dir->store, *dir->keys, *base::RealClock::Get(),
                              service::InventoryOptions{});
  return Batches(inv, o);
}

}  // namespace otpd::tools
