#include "tools/otpctl_import.h"

#include <boost/json.hpp>
#include <fstream>
#include <iostream>

#include "base/clock.h"
#include "service/importer.h"
#include "service/token_file.h"
#include "tools/display.h"

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

}  // namespace

CLI::App* AddImportCommand(CLI::App& app, ImportCommandOptions& o) {
  CLI::App* cmd = app.add_subcommand("import", "Import a batch of hardware tokens");
  cmd->add_option("FILE", o.file, "Entra CSV, OATH CSV or PSKC file")->required();
  AddDataDirFlags(cmd, o.dir);
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
    auto password = ReadSecretFile(o.password_file);
    if (!password.ok()) return Fail(password.status());
    secrets.password = std::move(*password);
  }

  // The whole file first: a file error stores nothing.
  auto file = service::ReadTokenFile(o.file, format, secrets);
  if (!file.ok()) return FileError(o.file, file.status());
  const char* unit = service::PositionUnit(file->format);

  auto dir = OpenDataDir(o.dir, o.dry_run ? DataDirAccess::kReadOnly : DataDirAccess::kReadWrite);
  if (!dir.ok()) return Fail(dir.status());
  service::ImportOptions options;
  options.dry_run = o.dry_run;
  options.replace = o.replace;
  options.allow_duplicate_seeds = o.allow_duplicate_seeds;
  options.file_name = o.file;
  options.file_sha256 = file->sha256;
  options.format = std::string(tokenio::FormatName(file->format));
  service::Importer importer(*dir->store, *dir->keys, *base::RealClock::Get(),
                             service::InventoryOptions{}, options);
  if (base::Status s = service::FeedImporter(*file, importer); !s.ok())
    return Fail(s.WithContext("storing"));
  auto report = importer.Finish();
  if (!report.ok()) return Fail(report.status().WithContext("storing"));
  if (!o.failures_file.empty()) {
    if (base::Status s = WriteFailures(o.failures_file, *report); !s.ok()) return Fail(s);
  }

  const int exit_code = report->failed == 0 ? 0 : 1;
  if (o.json) {
    json::object out;
    out["file"] = PrintablePath(o.file);
    out["format"] = tokenio::FormatName(file->format);
    out["position_unit"] = unit;
    out["batch"] = report->batch_id;
    out["dry_run"] = o.dry_run;
    out["imported"] = report->imported;
    out["updated"] = report->updated;
    out["unchanged"] = report->unchanged;
    out["failed"] = report->failed;
    out["failures"] = RowsJson(report->failures);
    out["warnings"] = RowsJson(report->warnings);
    std::cout << json::serialize(out) << "\n";
    return exit_code;
  }
  PrintRows(o.file, unit, "warning", report->warnings, " more warnings");
  PrintRows(o.file, unit, "rejected", report->failures,
            o.failures_file.empty() ? " more rejected rows; --failures FILE writes them all"
                                    : " more rejected rows in " + PrintablePath(o.failures_file));
  std::cout << (o.dry_run ? "dry run (nothing written): " : "") << "batch " << report->batch_id
            << " from " << PrintablePath(o.file) << " (" << tokenio::FormatName(file->format)
            << "): " << report->imported << " imported, " << report->updated << " updated, "
            << report->unchanged << " unchanged, " << report->failed << " failed\n";
  if (report->imported + report->updated == 0 && report->failed == 0) {
    std::cout << "nothing changed: every token in the file is already stored\n";
  }
  return exit_code;
}

}  // namespace otpd::tools
