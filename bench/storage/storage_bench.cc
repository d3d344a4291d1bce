// Storage benchmarks (docs/benchmarks-storage.md records how to run them and the results).
//
//   BM_DurableStateUpdates/<submitters>/<group>  durable compare-and-set updates of hot state
//       records, each submitter updating its own credentials and waiting for durability, through
//       the group-commit pipeline (group=1) or with one write + fsync per update (group=0, the
//       "one sync=true Put per update" baseline). Counters: updates/s, p50_us, p99_us.
//   BM_PointReads  a token record plus a state record read by random key from a store holding
//       1 000 000 tokens and 1 000 000 state records (built once, kept under the bench dir).
//
// The data lives under $OTPD_BENCH_DIR (default ./storage-bench-data), which should be on the
// disk whose fsync you want to measure (not tmpfs).

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/rocksdb/rocksdb_store.h"

namespace otpd::storage {
namespace {

std::string BenchDir() {
  const char* dir = std::getenv("OTPD_BENCH_DIR");
  return dir && *dir ? dir : "storage-bench-data";
}

std::unique_ptr<RocksDbStore> OpenOrDie(RocksDbOptions options) {
  auto store = RocksDbStore::Open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", options.path.c_str(),
                 store.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(store).value();
}

std::string Padded(const char* prefix, uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%08llu", prefix, static_cast<unsigned long long>(n));
  return buf;
}

double Percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[i];
}

void BM_DurableStateUpdates(benchmark::State& state) {
  const int submitters = static_cast<int>(state.range(0));
  const bool group_commit = state.range(1) != 0;
  const int per_submitter = std::max(20, (group_commit ? 16000 : 1500) / submitters);
  const int keys_per_submitter = 4;

  RocksDbOptions options;
  options.path = BenchDir() + "/durable-" + std::to_string(submitters) + "-" +
                 (group_commit ? "group" : "single");
  std::filesystem::remove_all(options.path);
  options.max_group_batches = group_commit ? 0 : 1;
  auto store = OpenOrDie(options);

  // versions[s][k]: the version each submitter's credential is at (it is the only writer).
  std::vector<std::vector<uint64_t>> versions(submitters,
                                              std::vector<uint64_t>(keys_per_submitter, 0));
  std::vector<double> latencies_us;
  uint64_t updates = 0, failures = 0;
  for (auto _ : state) {
    std::vector<std::vector<double>> per_thread(submitters);
    std::atomic<uint64_t> failed{0};
    std::vector<std::thread> threads;
    for (int s = 0; s < submitters; ++s) {
      threads.emplace_back([&, s] {
        auto& lat = per_thread[s];
        lat.reserve(per_submitter);
        for (int i = 0; i < per_submitter; ++i) {
          int k = i % keys_per_submitter;
          std::string key = Padded("cred-", static_cast<uint64_t>(s * keys_per_submitter + k));
          // A hot-state record: watermark, drift, failure count, locked_until.
          std::string value(32, '\0');
          std::snprintf(value.data(), value.size(), "wm=%d;d=0;f=0;l=0", i);
          WriteBatch batch;
          batch.RequireVersion(Namespace::kState, key, versions[s][k]);
          batch.Put(Namespace::kState, key, value);
          auto start = std::chrono::steady_clock::now();
          base::Status st = store->Commit(std::move(batch), Durability::kDurable);
          auto end = std::chrono::steady_clock::now();
          if (!st.ok()) {
            failed.fetch_add(1);
            continue;
          }
          ++versions[s][k];
          lat.push_back(std::chrono::duration<double, std::micro>(end - start).count());
        }
      });
    }
    for (auto& t : threads) t.join();
    for (auto& lat : per_thread) latencies_us.insert(latencies_us.end(), lat.begin(), lat.end());
    updates += static_cast<uint64_t>(submitters) * per_submitter;
    failures += failed.load();
  }
  std::sort(latencies_us.begin(), latencies_us.end());
  auto stats = store->pipeline_stats();
  state.counters["updates/s"] =
      benchmark::Counter(static_cast<double>(updates), benchmark::Counter::kIsRate);
  state.counters["p50_us"] = Percentile(latencies_us, 0.50);
  state.counters["p99_us"] = Percentile(latencies_us, 0.99);
  state.counters["fsyncs"] = static_cast<double>(stats.syncs);
  state.counters["batches/fsync"] =
      stats.syncs ? static_cast<double>(stats.committed) / static_cast<double>(stats.syncs) : 0;
  state.counters["failed"] = static_cast<double>(failures);
  store.reset();
  std::filesystem::remove_all(options.path);
}
BENCHMARK(BM_DurableStateUpdates)
    ->ArgNames({"submitters", "group"})
    ->Args({1, 0})
    ->Args({8, 0})
    ->Args({64, 0})
    ->Args({1, 1})
    ->Args({8, 1})
    ->Args({64, 1})
    ->Iterations(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

constexpr uint64_t kTokens = 1'000'000;

RocksDbStore* ReadStore() {
  static std::once_flag once;
  static std::unique_ptr<RocksDbStore> store;
  std::call_once(once, [] {
    RocksDbOptions options;
    options.path = BenchDir() + "/reads-1m";
    options.block_cache_bytes = 256 << 20;
    store = OpenOrDie(options);
    auto done = store->Get(Namespace::kMeta, "bench/complete");
    if (done.ok() && done->has_value()) return;
    auto start = std::chrono::steady_clock::now();
    constexpr uint64_t kChunk = 2000;
    std::string token(180, 't'), hot(32, 's');
    for (uint64_t base = 0; base < kTokens; base += kChunk) {
      WriteBatch batch;
      for (uint64_t i = base; i < base + kChunk; ++i) {
        batch.Put(Namespace::kTokens, Padded("SN", i), token);
        batch.Put(Namespace::kState, Padded("cred-", i), hot);
      }
      if (!store->Commit(std::move(batch), Durability::kRelaxed).ok()) std::exit(1);
    }
    WriteBatch done_marker;
    done_marker.Put(Namespace::kMeta, "bench/complete", "1");
    if (!store->Commit(std::move(done_marker), Durability::kDurable).ok()) std::exit(1);
    if (!store->Flush().ok()) std::exit(1);
    std::fprintf(stderr, "built %llu tokens + state records in %.1f s\n",
                 static_cast<unsigned long long>(kTokens),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  });
  return store.get();
}

void BM_PointReads(benchmark::State& state) {
  RocksDbStore* store = ReadStore();
  std::mt19937_64 rng(12345 + state.thread_index());
  std::uniform_int_distribution<uint64_t> pick(0, kTokens - 1);
  uint64_t misses = 0;
  for (auto _ : state) {
    uint64_t i = pick(rng);
    auto token = store->Get(Namespace::kTokens, Padded("SN", i));
    auto hot = store->Get(Namespace::kState, Padded("cred-", i));
    if (!token.ok() || !hot.ok() || !token->has_value() || !hot->has_value()) ++misses;
    benchmark::DoNotOptimize(token);
    benchmark::DoNotOptimize(hot);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["missing"] = static_cast<double>(misses);
}
BENCHMARK(BM_PointReads)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace otpd::storage

BENCHMARK_MAIN();
