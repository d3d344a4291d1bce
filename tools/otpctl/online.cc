#include "tools/otpctl/online.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "base/secret_bytes.h"
#include "tools/display.h"

namespace otpd::tools {

namespace json = boost::json;

void AddAdminCommandFlags(CLI::App* parent, AdminCommandOptions& o) {
  AddDataDirFlags(parent, o.dir);
  AddAdminFlags(parent, o.admin);
  parent->add_option("--actor", o.actor,
                     "Offline: the name recorded in the audit log (default otpctl); online the "
                     "daemon records the caller");
  for (CLI::App* leaf : parent->get_subcommands({})) {
    leaf->add_flag("--json", o.json, "Print JSON");
    leaf->fallthrough()->footer("The data directory and admin API options are given to `" +
                                parent->get_name() + "` (see its --help); they may follow too.");
  }
}

int FailWith(std::string_view what, const base::Status& status) {
  std::cerr << "otpctl " << what << ": " << status.message() << "\n";
  return 1;
}

int WithAdmin(const AdminCommandOptions& o, std::string_view what, bool read_only,
              const std::function<base::Status(AdminClient&)>& body) {
  if (int rc = CheckAdminFlags(o.admin, o.dir, what); rc != 0) return rc;
  auto admin = OpenAdmin(o.admin, o.dir, o.actor, read_only);
  if (!admin.ok()) return FailWith(what, admin.status());
  base::Status s = body(**admin);
  if (!s.ok()) return FailWith(what, s);
  return 0;
}

void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::vector<std::string>> cells;
  cells.push_back(header);
  for (const auto& row : rows) {
    std::vector<std::string> printable;
    for (const std::string& cell : row) printable.push_back(Printable(cell, 254));
    cells.push_back(std::move(printable));
  }
  std::vector<size_t> width(header.size(), 0);
  for (const auto& row : cells) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  for (const auto& row : cells) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

std::string Text(const json::value& object, std::string_view key) {
  if (!object.is_object()) return "-";
  const json::value* v = object.as_object().if_contains(key);
  if (v == nullptr || v->is_null()) return "-";
  if (v->is_string()) return v->as_string().empty() ? "-" : std::string(v->as_string());
  if (v->is_array()) {
    std::string out;
    for (const json::value& item : v->as_array()) {
      out += (out.empty() ? "" : ",") +
             (item.is_string() ? std::string(item.as_string()) : json::serialize(item));
    }
    return out.empty() ? "-" : out;
  }
  return json::serialize(*v);
}

base::StatusOr<std::string> ReadCode(const std::string& given, std::string_view prompt) {
  std::string code = given;
  if (code.empty() || code == "-") {
    if (isatty(STDIN_FILENO)) std::cerr << prompt << ": ";
    code.clear();
    std::getline(std::cin, code);
    while (!code.empty() && (code.back() == '\r' || code.back() == ' ')) code.pop_back();
    while (!code.empty() && code.front() == ' ') code.erase(0, 1);
  }
  bool digits = code.size() >= 6 && code.size() <= 9;
  for (char c : code) digits = digits && c >= '0' && c <= '9';
  if (!digits) {
    base::Wipe(code.data(), code.size());
    return base::InvalidArgumentError(
        "the code must be 6 to 9 digits (give it as CODE, or on standard input with - or no "
        "CODE)");
  }
  return code;
}

}  // namespace otpd::tools
