#include "tools/otpctl/export.h"

#include <sys/stat.h>

#include <boost/json.hpp>
#include <fstream>
#include <iostream>

#include "base/clock.h"
#include "base/codec.h"
#include "service/admin/inventory.h"
#include "tokenio/pskc.h"
#include "tools/display.h"

namespace otpd::tools {
namespace {

int Fail(const base::Status& s) {
  std::cerr << "otpctl export: " << s.message() << "\n";
  return 1;
}

tokenio::PskcCipher CipherFor(size_t key_bytes) {
  return key_bytes == 32   ? tokenio::PskcCipher::kAes256Cbc
         : key_bytes == 24 ? tokenio::PskcCipher::kAes192Cbc
                           : tokenio::PskcCipher::kAes128Cbc;
}

}  // namespace

CLI::App* AddExportCommand(CLI::App& app, ExportCommandOptions& o) {
  CLI::App* cmd = app.add_subcommand("export", "Export tokens to an encrypted PSKC file");
  cmd->add_option("OUT", o.out, "PSKC file to write (must not exist; created with mode 0600)")
      ->required();
  AddDataDirFlags(cmd, o.dir, /*read_only=*/true);
  auto* protect = cmd->add_option_group("protection", "Exactly one of:");
  protect->add_option("--psk-file", o.psk_file,
                      "File with the AES key (hex or base64; 16, 24 or 32 bytes) to encrypt with");
  protect->add_option("--password-file", o.password_file,
                      "File with the password to derive the key from (PBKDF2)");
  protect->require_option(1);
  cmd->add_option("--iterations", o.iterations,
                  "PBKDF2 iterations for --password-file (default 100000, at least 1000)");
  cmd->add_option("--status", o.status,
                  "Only tokens with this status: available, assigned, activated or "
                  "failedActivation");
  cmd->add_option("--user", o.user, "Only tokens assigned to this user (UPN)");
  cmd->add_option("--batch", o.batch, "Only tokens from this import batch (see batch list)");
  cmd->add_flag("--json", o.json, "Print the result as JSON");
  return cmd;
}

int RunExportCommand(const ExportCommandOptions& o) {
  tokenio::PskcWriterOptions options;
  if (!o.psk_file.empty()) {
    auto key = ReadAesKeyFile(o.psk_file);
    if (!key.ok()) return Fail(key.status());
    options.protection = tokenio::PskcProtection::kPreSharedKey;
    options.key_name = "otpd-export";
    options.cipher = CipherFor(key->size());
    options.key = std::move(*key);
  } else {
    auto password = ReadPasswordFile(o.password_file);
    if (!password.ok()) return Fail(password.status());
    options.protection = tokenio::PskcProtection::kPassword;
    options.key = std::move(*password);
    options.pbkdf2_iterations = o.iterations;
  }
  service::TokenFilter filter;
  if (!o.status.empty()) {
    auto status = service::ParseTokenStatus(o.status);
    if (!status.ok()) return Fail(status.status());
    filter.status = *status;
  }
  filter.user = o.user;
  filter.batch = o.batch;

  auto dir = OpenDataDir(o.dir, DataDirAccess::kReadOnly);
  if (!dir.ok()) return Fail(dir.status());
  struct stat st;
  if (stat(o.out.c_str(), &st) == 0) return Fail(base::AlreadyExistsError(o.out + " exists"));
  std::ofstream out(o.out, std::ios::trunc);
  if (!out) return Fail(base::UnavailableError("cannot write " + o.out));
  chmod(o.out.c_str(), 0600);
  auto writer = tokenio::PskcWriter::Create(out, std::move(options));
  if (!writer.ok()) return Fail(writer.status());

  service::TokenInventory inventory(*dir->store, *dir->keys, *base::RealClock::Get(), {});
  size_t exported = 0;
  base::Status failure;
  base::Status listed = inventory.List(filter, [&](const service::TokenRecord& t) {
    auto seed = dir->keys->OpenSecret(storage::Namespace::kTokens, t.serial, t.sealed_seed);
    if (!seed.ok()) {
      failure = seed.status().WithContext("token " + t.serial);
      return false;
    }
    tokenio::TokenRecord r;
    r.serial = t.serial;
    r.upn = t.assigned_to;
    r.manufacturer = t.manufacturer;
    r.model = t.model;
    r.params = t.params;
    r.seed = std::move(*seed);
    r.not_after = t.not_after;
    // The token's current position, so the other side continues where otpd stopped.
    auto state = service::LoadCredentialState(*dir->store, t);
    if (!state.ok()) {
      failure = state.status().WithContext("token " + t.serial);
      return false;
    }
    r.counter = state->token.watermark;
    r.time_drift = state->token.drift;
    failure = (*writer)->Add(r);
    ++exported;
    return failure.ok();
  });
  if (!listed.ok()) return Fail(listed);
  if (!failure.ok()) return Fail(failure);
  if (base::Status s = (*writer)->Finish(); !s.ok()) return Fail(s);
  if (o.json) {
    boost::json::object result;
    result["file"] = o.out;
    result["exported"] = exported;
    result["protection"] = o.psk_file.empty() ? "password" : "pre-shared key";
    std::cout << boost::json::serialize(result) << "\n";
    return 0;
  }
  std::cout << "exported " << exported << " tokens to " << PrintablePath(o.out) << "\n";
  return 0;
}

}  // namespace otpd::tools
