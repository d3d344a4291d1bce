#include "tools/otpctl/import.h"

#include <boost/json.hpp>
#include <fstream>
#include <iostream>

#include "base/clock.h"
#include "base/codec.h"
#include "base/secret_bytes.h"
#include "service/admin/importer.h"
#include "service/admin/token_file.h"
#include "tools/display.h"
#include "tools/otpctl/admin.h"

namespace otpd::tools {
namespace {

namespace json = boost::json;

// Rejected rows (and, apart, warnings) printed on stderr; the rest are counted.
constexpr size_t kMaxShownRows = 20;

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

base::Status WriteFailures(const std::string& path, const service::ImportReport& report) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return base::UnavailableError("cannot write " + PrintablePath(path));
  out << "position,serial,reason\n";
  for (const auto& f : report.failures) {
    out << f.position << "," << CsvField(Printable(f.serial, 64)) << "," << CsvField(f.reason)
        << "\n";
  }
  out.flush();
  if (!out) return base::UnavailableError("error writing " + PrintablePath(path));
  return base::OkStatus();
}

// "FILE: line 3 (serial X): reason".
std::string RowLine(const std::string& file, const char* unit, const tokenio::RowError& row) {
  std::string line = PrintablePath(file) + ": " + unit + " " + std::to_string(row.position);
  if (!row.serial.empty()) line += " (serial " + Printable(row.serial) + ")";
  return line + ": " + row.reason;
}

json::array RowsJson(const std::vector<tokenio::RowError>& rows) {
  json::array out;
  for (const tokenio::RowError& row : rows) {
    json::object o;
    o["position"] = row.position;
    o["serial"] = Printable(row.serial, 64);
    o["reason"] = row.reason;
    out.push_back(std::move(o));
  }
  return out;
}

void PrintRows(const std::string& file, const char* unit, const char* kind,
               const std::vector<tokenio::RowError>& rows, const std::string& more) {
  for (size_t i = 0; i < rows.size() && i < kMaxShownRows; ++i) {
    std::cerr << kind << ": " << RowLine(file, unit, rows[i]) << "\n";
  }
  if (rows.size() > kMaxShownRows) std::cerr << rows.size() - kMaxShownRows << more << "\n";
}

int FileError(const std::string& file, const base::Status& s) {
  std::cerr << "otpctl import: " << PrintablePath(file) << ": " << s.message()
            << "; nothing was imported\n";
  return 1;
}

int Fail(const base::Status& s) {
  std::cerr << "otpctl import: " << s.message() << "\n";
  return 1;
}

// Prints what the import did (and writes --failures); the exit code.
int PrintReport(const ImportCommandOptions& o, tokenio::Format format,
                const service::ImportReport& report) {
  const char* unit = service::PositionUnit(format);
  if (!o.failures_file.empty()) {
    if (base::Status s = WriteFailures(o.failures_file, report); !s.ok()) return Fail(s);
  }
  const int exit_code = report.failed == 0 ? 0 : 1;
  if (o.json) {
    json::object out;
    out["file"] = PrintablePath(o.file);
    out["format"] = tokenio::FormatName(format);
    out["position_unit"] = unit;
    out["batch"] = report.batch_id;
    out["dry_run"] = o.dry_run;
    out["imported"] = report.imported;
    out["updated"] = report.updated;
    out["unchanged"] = report.unchanged;
    out["failed"] = report.failed;
    out["failures"] = RowsJson(report.failures);
    out["warnings"] = RowsJson(report.warnings);
    std::cout << json::serialize(out) << "\n";
    return exit_code;
  }
  PrintRows(o.file, unit, "warning", report.warnings, " more warnings");
  PrintRows(o.file, unit, "rejected", report.failures,
            o.failures_file.empty() ? " more rejected rows; --failures FILE writes them all"
                                    : " more rejected rows in " + PrintablePath(o.failures_file));
  std::cout << (o.dry_run ? "dry run (nothing written): " : "") << "batch " << report.batch_id
            << " from " << PrintablePath(o.file) << " (" << tokenio::FormatName(format)
            << "): " << report.imported << " imported, " << report.updated << " updated, "
            << report.unchanged << " unchanged, " << report.failed << " failed\n";
  if (report.imported + report.updated == 0 && report.failed == 0) {
    std::cout << "nothing changed: every token in the file is already stored\n";
  }
  return exit_code;
}

tokenio::RowError RowFromJson(const json::value& v) {
  tokenio::RowError row;
  if (!v.is_object()) return row;
  const json::object& o = v.as_object();
  if (const json::value* p = o.if_contains("position"); p && p->is_number()) {
    row.position = static_cast<size_t>(p->to_number<uint64_t>());
  }
  if (const json::value* s = o.if_contains("serialNumber"); s && s->is_string()) {
    row.serial = std::string(s->as_string());
  }
  if (const json::value* r = o.if_contains("reason"); r && r->is_string()) {
    row.reason = std::string(r->as_string());
  }
  return row;
}

uint64_t Count(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_number() ? v->to_number<uint64_t>() : 0;
}

// A refused import. The API names a file it cannot read as a whole "the token file: ..." (a PSKC
// key or password that does not open it answers 401, which the client words as "not
// authenticated"): that is a file error, reported as one.
int ImportFailed(const std::string& file, const base::Status& s) {
  static constexpr std::string_view kFile = "the token file: ";
  std::string_view message = s.message();
  if (const size_t at = message.find(kFile); at != std::string_view::npos) {
    return FileError(file, base::Status(s.code(), message.substr(at + kFile.size())));
  }
  if (base::IsInvalidArgument(s)) return FileError(file, s);
  return Fail(s);
}

// The import through the admin API: the file goes as the body, read by the API as a token file,
// and the report comes back.
int ImportOnline(AdminClient& admin, const ImportCommandOptions& o,
                 std::optional<tokenio::Format> format, const tokenio::PskcSecrets& secrets) {
  AdminRequest request;
  {
    std::ifstream in(o.file, std::ios::binary);
    if (!in.is_open()) return FileError(o.file, base::NotFoundError("cannot open the file"));
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return FileError(o.file, base::UnavailableError("cannot read the file"));
    request.body = base::SecretBytes::FromString(bytes);
    base::Wipe(bytes.data(), bytes.size());
  }
  request.method = "POST";
  request.target = "/v1.0/directory/authenticationMethodDevices/hardwareOathDevices?fileName=" +
                   UrlEncode(o.file);
  if (format) request.target += "&format=" + std::string(tokenio::FormatName(*format));
  if (o.dry_run) request.target += "&dryRun=true";
  if (o.replace) request.target += "&replace=true";
  if (o.allow_duplicate_seeds) request.target += "&allowDuplicateSeeds=true";
  request.content_type = "application/octet-stream";
  if (secrets.pre_shared_key) {
    request.headers.emplace_back("X-Otpd-Pskc-Key",
                                 base::HexEncode(secrets.pre_shared_key->span()));
  }
  if (secrets.password) {
    request.headers.emplace_back("X-Otpd-Pskc-Password", std::string(secrets.password->view()));
  }
  auto answer = admin.Send(request);
  for (auto& [name, value] : request.headers) base::Wipe(value.data(), value.size());
  if (!answer.ok()) return ImportFailed(o.file, answer.status());
  if (!answer->is_object()) return Fail(base::InternalError("the daemon's answer is not a report"));
  const json::object& r = answer->as_object();
  service::ImportReport report;
  if (const json::value* b = r.if_contains("batchId"); b && b->is_string()) {
    report.batch_id = std::string(b->as_string());
  }
  report.imported = Count(r, "imported");
  report.updated = Count(r, "updated");
  report.unchanged = Count(r, "unchanged");
  report.failed = Count(r, "failed");
  for (const char* key : {"failures", "warnings"}) {
    if (const json::value* rows = r.if_contains(key); rows && rows->is_array()) {
      for (const json::value& row : rows->as_array()) {
        (std::string_view(key) == "failures" ? report.failures : report.warnings)
            .push_back(RowFromJson(row));
      }
    }
  }
  tokenio::Format done = format.value_or(tokenio::Format::kEntraCsv);
  if (const json::value* f = r.if_contains("format"); f && f->is_string()) {
    if (auto parsed = tokenio::ParseFormatName(f->as_string()); parsed.ok()) done = *parsed;
  }
  return PrintReport(o, done, report);
}

}  // namespace

CLI::App* AddImportCommand(CLI::App& app, ImportCommandOptions& o) {
  CLI::App* cmd = app.add_subcommand("import", "Import a batch of hardware tokens");
  cmd->add_option("FILE", o.file, "Entra CSV, OATH CSV or PSKC file")->required();
  AddDataDirFlags(cmd, o.dir);
  AddAdminFlags(cmd, o.admin);
  cmd->add_option("--actor", o.actor,
                  "Offline: the name recorded in the audit log (default otpctl); online the "
                  "daemon records the caller");
  cmd->add_option("--format", o.format, "entra-csv, oath-csv or pskc (default: detect)")
      ->check(CLI::IsMember({"entra-csv", "oath-csv", "pskc"}));
  cmd->add_flag("--dry-run", o.dry_run, "Validate and report; write nothing");
  cmd->add_flag("--replace", o.replace, "Replace the seed of serials that exist with another");
  cmd->add_flag("--allow-duplicate-seeds", o.allow_duplicate_seeds,
                "Import a seed already stored under another serial (two tokens would show the "
                "same codes); refused by default");
  cmd->add_option("--failures", o.failures_file, "Write rejected tokens to this CSV file");
  cmd->add_option("--psk-file", o.psk_file, "File with the PSKC pre-shared key");
  cmd->add_option("--password-file", o.password_file, "File with the PSKC password");
  cmd->add_flag("--json", o.json, "Print the summary, rejected rows and warnings as JSON");
  return cmd;
}

int RunImportCommand(const ImportCommandOptions& o) {
  std::optional<tokenio::Format> format;
  if (!o.format.empty()) {
    auto parsed = tokenio::ParseFormatName(o.format);
    if (!parsed.ok()) return Fail(parsed.status());
    format = *parsed;
  }
  tokenio::PskcSecrets secrets;
  secrets.now_unix = base::RealClock::Get()->NowUnixSeconds();
  if (!o.psk_file.empty()) {
    auto psk = ReadAesKeyFile(o.psk_file);
    if (!psk.ok()) return Fail(psk.status());
    secrets.pre_shared_key = std::move(*psk);
  }
  if (!o.password_file.empty()) {
    auto password = ReadPasswordFile(o.password_file);
    if (!password.ok()) return Fail(password.status());
    secrets.password = std::move(*password);
  }

  if (int rc = CheckAdminFlags(o.admin, o.dir, "import"); rc != 0) return rc;
  // The daemon's admin API, or with the daemon stopped the same API run in-process on the data
  // directory: one import and one report either way.
  auto admin = OpenAdmin(o.admin, o.dir, o.actor, /*read_only=*/o.dry_run);
  if (!admin.ok()) return Fail(admin.status());
  return ImportOnline(**admin, o, format, secrets);
}

}  // namespace otpd::tools
