#include "tools/otpctl_import.h"

#include <openssl/evp.h>

#include <fstream>
#include <iostream>
#include <memory>

#include "base/clock.h"
#include "base/codec.h"
#include "service/importer.h"
#include "tokenio/entra_csv.h"
#include "tokenio/oath_csv.h"
#include "tokenio/pskc.h"
#include "tools/data_dir.h"

namespace otpd::tools {
namespace {

constexpr size_t kDetectBytes = 4096;

// SHA-256 of the file's bytes (hex) and its first bytes for format detection, in one pass.
base::Status HashFile(const std::string& path, std::string* sha256, std::string* head) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return base::NotFoundError("cannot open " + path);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return base::InternalError("cannot start SHA-256");
  }
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof(buf));
    std::streamsize n = in.gcount();
    if (n <= 0) break;
    if (head->size() < kDetectBytes) {
      head->append(buf, std::min<size_t>(kDetectBytes - head->size(), static_cast<size_t>(n)));
    }
    if (EVP_DigestUpdate(ctx.get(), buf, static_cast<size_t>(n)) != 1) {
      return base::InternalError("SHA-256 failed");
    }
  }
  if (in.bad()) return base::UnavailableError("error reading " + path);
  uint8_t digest[32];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1)
    return base::InternalError("SHA-256 failed");
  *sha256 = base::HexEncode(std::span<const uint8_t>(digest, len));
  return base::OkStatus();
}

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
  if (!out) return base::UnavailableError("cannot write " + path);
  out << "position,serial,reason\n";
  for (const auto& f : report.failures) {
    out << f.position << "," << CsvField(f.serial) << "," << CsvField(f.reason) << "\n";
  }
  out.flush();
  if (!out) return base::UnavailableError("error writing " + path);
  return base::OkStatus();
}

int Fail(const base::Status& s) {
  std::cerr << "otpctl import: " << s.message() << "\n";
  return 1;
}

}  // namespace

CLI::App* AddImportCommand(CLI::App& app, ImportCommandOptions& o) {
  CLI::App* cmd = app.add_subcommand("import", "Import a batch of hardware tokens");
  cmd->add_option("FILE", o.file, "Entra CSV, OATH CSV or PSKC file")->required();
  cmd->add_option("--data-dir", o.data_dir, "Data directory (the daemon must be stopped)");
  cmd->add_option("--key-file", o.key_file, "Master key file (default <data-dir>/master.key)");
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
  return cmd;
}

int RunImportCommand(const ImportCommandOptions& o) {
  std::string sha256, head;
  if (base::Status s = HashFile(o.file, &sha256, &head); !s.ok()) return Fail(s);
  auto format = o.format.empty() ? tokenio::DetectFormat(head) : tokenio::ParseFormatName(o.format);
  if (!format.ok()) return Fail(format.status().WithContext(o.file));

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

  auto dir = OpenDataDir(o.data_dir, o.key_file);
  if (!dir.ok()) return Fail(dir.status());

  service::ImportOptions options;
  options.dry_run = o.dry_run;
  options.replace = o.replace;
  options.allow_duplicate_seeds = o.allow_duplicate_seeds;
  options.file_name = o.file;
  options.file_sha256 = sha256;
  options.format = std::string(tokenio::FormatName(*format));
  service::Importer importer(*dir->store, *dir->keys, *base::RealClock::Get(),
                             service::InventoryOptions{}, options);

  std::ifstream in(o.file, std::ios::binary);
  if (!in) return Fail(base::NotFoundError("cannot open " + o.file));
  base::Status parsed;
  switch (*format) {
    case tokenio::Format::kEntraCsv:
      parsed = tokenio::ParseEntraCsv(in, &importer);
      break;
    case tokenio::Format::kOathCsv:
      parsed = tokenio::ParseOathCsv(in, &importer);
      break;
    case tokenio::Format::kPskc:
      parsed = tokenio::ParsePskc(in, secrets, &importer);
      break;
  }
  if (!parsed.ok()) return Fail(parsed.WithContext(o.file));
  auto report = importer.Finish();
  if (!report.ok()) return Fail(report.status());

  for (const auto& w : report->warnings) {
    std::cerr << "warning: " << o.file << ": position " << w.position << " (serial " << w.serial
              << "): " << w.reason << "\n";
  }
  for (const auto& f : report->failures) {
    std::cerr << "rejected: " << o.file << ": position " << f.position << " (serial " << f.serial
              << "): " << f.reason << "\n";
  }
  if (!o.failures_file.empty()) {
    if (base::Status s = WriteFailures(o.failures_file, *report); !s.ok()) return Fail(s);
  }
  std::cout << (o.dry_run ? "dry run (nothing written): " : "") << "batch " << report->batch_id
            << " from " << o.file << " (" << tokenio::FormatName(*format)
            << "): " << report->imported << " imported, " << report->updated << " updated, "
            << report->unchanged << " unchanged, " << report->failed << " failed\n";
  if (report->imported + report->updated == 0 && report->failed == 0) {
    std::cout << "nothing changed: every token in the file is already stored\n";
  }
  return report->failed == 0 ? 0 : 1;
}

}  // namespace otpd::tools
