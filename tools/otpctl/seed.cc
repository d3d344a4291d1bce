#include "tools/otpctl/seed.h"

#include <openssl/rand.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "base/clock.h"
#include "base/codec.h"
#include "service/admin/inventory.h"
#include "service/model/directory.h"
#include "service/model/records.h"

namespace otpd::tools {
namespace {

constexpr size_t kChunk = 10000;

int Fail(const base::Status& s) {
  std::cerr << "otpctl seed-load: " << s.message() << "\n";
  return 1;
}

}  // namespace

CLI::App* AddSeedCommand(CLI::App& app, SeedCommandOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "seed-load", "Create many activated HOTP test tokens and a token file for otpd-loadgen");
  AddDataDirFlags(cmd, o.dir);
  cmd->add_option("--count", o.count, "Number of tokens (and users); default 1000")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--prefix", o.prefix,
                  "Users are PREFIX<n>@example.com, serials PREFIX-<n>; default load");
  cmd->add_option("--tokens-out", o.tokens_out,
                  "Token file for otpd-loadgen (user,seed_hex,counter: seeds in clear)")
      ->required();
  return cmd;
}

base::Status SeedTokens(storage::Store& store, const storage::KeyRing& keys, uint64_t count,
                        const std::string& prefix, std::ostream& tokens_out, size_t chunk) {
  if (chunk == 0) chunk = kChunk;
  tokens_out << "user,seed_hex,counter\n";
  const int64_t now = base::RealClock::Get()->NowUnixSeconds();
  service::BatchRecord batch{.id = service::NewId(),
                             .file = "seed-load",
                             .format = "generated",
                             .time = now,
                             .imported = count,
                             .complete = true};
  const service::Directory directory(store, keys);
  storage::WriteBatch writes;
  writes.Put(storage::Namespace::kMeta, service::BatchKey(batch.id), service::EncodeBatch(batch));
  for (uint64_t i = 0; i < count; ++i) {
    const std::string n = std::to_string(i);
    const std::string upn = prefix + n + "@example.com";
    service::TokenRecord token;
    token.serial = prefix + "-" + n;
    token.manufacturer = "otpd";
    token.model = "load-test";
    token.params = {.type = engine::OtpType::kHotp};
    base::SecretBytes seed(20);
    if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1) {
      return base::InternalError("random generator failed");
    }
    OTPD_ASSIGN_OR_RETURN(token.sealed_seed,
                          keys.SealSecret(storage::Namespace::kTokens, token.serial, seed.span()));
    token.batch = batch.id;
    token.created = now;
    // New users (the batch fails if one exists), each with the token as its method.
    service::UserChange user{.user = {.upn = upn, .created = now, .updated = now}};
    OTPD_RETURN_IF_ERROR(service::StageAssignment(directory, writes, user, token, now, 1));
    token.status = service::TokenStatus::kActivated;
    OTPD_RETURN_IF_ERROR(directory.PutToken(writes, token));
    OTPD_RETURN_IF_ERROR(directory.Fence(writes, user, now));
    OTPD_ASSIGN_OR_RETURN(std::string fingerprint,
                          keys.Fingerprint(service::kSeedFingerprintPurpose, seed.span()));
    writes.Put(storage::Namespace::kMeta, service::SeedIndexKey(fingerprint), token.serial);
    // Activated at counter 0: the load generator starts at counter 1.
    writes.Put(storage::Namespace::kState, service::TokenStateKey(token.serial),
               service::EncodeCredentialState({.token = {.watermark = 1}}));
    tokens_out << upn << "," << base::HexEncode(seed.span()) << ",1\n";
    if ((i + 1) % chunk == 0 || i + 1 == count) {
      OTPD_RETURN_IF_ERROR(store.Commit(std::move(writes), storage::Durability::kRelaxed));
      writes = storage::WriteBatch();
    }
  }
  // One durable commit at the end makes everything before it durable too (the WAL is ordered).
  storage::WriteBatch done;
  done.Put(storage::Namespace::kMeta, service::BatchKey(batch.id), service::EncodeBatch(batch));
  return store.Commit(std::move(done), storage::Durability::kDurable);
}

int RunSeedCommand(const SeedCommandOptions& o) {
  auto dir = OpenDataDir(o.dir, DataDirAccess::kReadWrite);
  if (!dir.ok()) return Fail(dir.status());
  std::ofstream out(o.tokens_out, std::ios::trunc);
  if (!out) return Fail(base::UnavailableError("cannot write " + o.tokens_out));
  const auto started = std::chrono::steady_clock::now();
  if (base::Status s = SeedTokens(*dir->store, *dir->keys, o.count, o.prefix, out, kChunk);
      !s.ok()) {
    return Fail(s);
  }
  out.flush();
  if (!out) return Fail(base::UnavailableError("error writing " + o.tokens_out));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("seeded %llu activated HOTP tokens in %.1f s; token file %s\n",
              static_cast<unsigned long long>(o.count), seconds, o.tokens_out.c_str());
  return 0;
}

}  // namespace otpd::tools
