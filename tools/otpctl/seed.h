// `otpctl seed-load`: fills a data directory with many activated HOTP tokens, one per user, for
// load tests and benchmarks, and writes the token file otpd-loadgen reads
// (`user,seed_hex,counter`). Seeds are random; the token file holds them in clear, so it is for
// test data directories only.

#ifndef OTPD_TOOLS_OTPCTL_SEED_H_
#define OTPD_TOOLS_OTPCTL_SEED_H_

#include <CLI/CLI.hpp>

#include <cstdint>
#include <ostream>
#include <string>

#include "storage/keyring.h"
#include "storage/store.h"
#include "tools/otpctl/data_dir.h"

namespace otpd::tools {

struct SeedCommandOptions {
  DataDirFlags dir;
  uint64_t count = 1000;
  std::string prefix = "load";
  std::string tokens_out;
};

CLI::App* AddSeedCommand(CLI::App& app, SeedCommandOptions& options);

// The work of seed-load on any open store: `count` users PREFIX<n>@example.com, each with one
// activated HOTP token PREFIX-<n>, committed `chunk` tokens per batch (0: 10 000); the token
// file goes to `tokens_out`.
base::Status SeedTokens(storage::Store& store, const storage::KeyRing& keys, uint64_t count,
                        const std::string& prefix, std::ostream& tokens_out, size_t chunk);
// Exit codes: 0 done, 1 failed (the reason on stderr). The data directory must exist (otpctl
// init).
int RunSeedCommand(const SeedCommandOptions& options);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_SEED_H_
