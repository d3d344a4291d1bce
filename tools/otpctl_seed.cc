#include "tools/otpctl_seed.h"

#include <openssl/rand.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "base/clock.h"
#include "base/codec.h"
#include "service/directory.h"
#include "service/inventory.h"
#include "service/records.h"

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

int RunSeedCommand(const SeedCommandOptions& o) {
  auto dir = OpenDataDir(o.dir, DataDirAccess::kReadWrite);
  if (!dir.ok()) return Fail(dir.status());
  std::ofstream out(o.tokens_out, std::ios::trunc);
  if (!out) return Fail(base::UnavailableError("cannot write " + o.tokens_out));
  out << "user,seed_hex,counter\n";

  const auto started = std::chrono::steady_clock::now();
  const int64_t now = base::RealClock::Get()->NowUnixSeconds();
  service::BatchRecord batch{.id = service::NewId(),
                             .file = "seed-load",
                             .format = "generated",
                             .time = now,
                             .imported = o.count,
                             .complete = true};
  const service::Directory directory(*dir->store, *dir->keys);
  storage::WriteBatch writes;
  writes.Put(storage::Namespace::kMeta, service::BatchKey(batch.id), service::EncodeBatch(batch));
  for (uint64_t i = 0; i < o.count; ++i) {
    const std::string n = std::to_string(i);
    const std::string upn = o.prefix + n + "@example.com";
    service::TokenRecord token;
    token.serial = o.prefix + "-" + n;
    token.manufacturer = "otpd";
    token.model = "load-test";
    token.params = {.type = engine::OtpType::kHotp};
    base::SecretBytes seed(20);
    if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1) {
      return Fail(base::InternalError("random generator failed"));
    }
    auto sealed = dir->keys->SealSecret(storage::Namespace::kTokens, token.serial, seed.span());
    if (!sealed.ok()) return Fail(sealed.status());
    token.sealed_seed = std::move(*sealed);
    token.batch = batch.id;
    token.created = now;
    // New users (the batch fails if one exists), each with the token as its method.
    service::UserChange user{.user = {.upn = upn, .created = now, .updated = now}};
    base::Status s = service::StageAssignment(directory, writes, user, token, now, 1);
    token.status = service::TokenStatus::kActivated;
    if (s.ok()) s = directory.PutToken(writes, token);
    if (s.ok()) s = directory.Fence(writes, user, now);
    auto fingerprint = dir->keys->Fingerprint(service::kSeedFingerprintPurpose, seed.span());
    if (!s.ok() || !fingerprint.ok()) return Fail(s.ok() ? fingerprint.status() : s);
    writes.Put(storage::Namespace::kMeta, service::SeedIndexKey(*fingerprint), token.serial);
    // Activated at counter 0: the load generator starts at counter 1.
    writes.Put(storage::Namespace::kState, service::TokenStateKey(token.serial),
               service::EncodeCredentialState({.token = {.watermark = 1}}));
    out << upn << "," << base::HexEncode(seed.span()) << ",1\n";
    if ((i + 1) % kChunk == 0 || i + 1 == o.count) {
      base::Status s = dir->store->Commit(std::move(writes), storage::Durability::kRelaxed);
      if (!s.ok()) return Fail(s);
      writes = storage::WriteBatch();
    }
  }
  // One durable commit at the end makes everything before it durable too (the WAL is ordered).
  storage::WriteBatch done;
  done.Put(storage::Namespace::kMeta, service::BatchKey(batch.id), service::EncodeBatch(batch));
  if (base::Status s = dir->store->Commit(std::move(done), storage::Durability::kDurable);
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
