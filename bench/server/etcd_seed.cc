// otpd-etcd-seed: `otpctl seed-load` for any store otpd can open, given as otpd's own flags. The
// benchmark of several nodes (bench/server/etcd_bench.sh) seeds its etcd cluster with it.
//   otpd-etcd-seed --count N --tokens-out FILE [--chunk C] -- --store etcd --etcd-endpoints ...
// Seeds are random and the token file holds them in clear: for test stores only.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "server/config.h"
#include "tools/open_store.h"
#include "tools/otpctl/seed.h"

int main(int argc, char** argv) {
  uint64_t count = 1000;
  size_t chunk = 20;
  std::string tokens_out, prefix = "load";
  std::vector<std::string> otpd_args = {"otpd",     "--socket",    "none",
                                        "--listen", "127.0.0.1:0", "--allow-unauthenticated-tcp"};
  bool rest = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (rest) {
      otpd_args.push_back(a);
    } else if (a == "--") {
      rest = true;
    } else if (i + 1 < argc && a == "--count") {
      count = std::stoull(argv[++i]);
    } else if (i + 1 < argc && a == "--chunk") {
      chunk = std::stoull(argv[++i]);
    } else if (i + 1 < argc && a == "--prefix") {
      prefix = argv[++i];
    } else if (i + 1 < argc && a == "--tokens-out") {
      tokens_out = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: otpd-etcd-seed --count N --tokens-out FILE [--chunk C] [--prefix P] "
                   "-- OTPD-FLAGS\n");
      return 2;
    }
  }
  auto config = otpd::server::LoadServerConfig(otpd_args);
  if (!config.ok()) {
    std::fprintf(stderr, "otpd-etcd-seed: %s\n", config.status().ToString().c_str());
    return 2;
  }
  auto store = otpd::tools::OpenDaemonStore(*config);
  if (!store.ok()) {
    std::fprintf(stderr, "otpd-etcd-seed: %s\n", store.status().ToString().c_str());
    return 1;
  }
  std::ofstream out(tokens_out, std::ios::trunc);
  const auto start = std::chrono::steady_clock::now();
  otpd::base::Status s =
      otpd::tools::SeedTokens(*store->store, *store->keys, count, prefix, out, chunk);
  out.flush();
  if (!s.ok() || !out) {
    std::fprintf(stderr, "otpd-etcd-seed: %s\n",
                 s.ok() ? "cannot write the token file" : s.ToString().c_str());
    return 1;
  }
  std::printf("seeded %llu tokens in %.1f s (%s)\n", static_cast<unsigned long long>(count),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
              store->description.c_str());
  store->store->Close();
  return 0;
}
