// otpd-loadgen's event loops: the options of a run, what the loops share, and RunLoops, which
// spreads the connections over --threads loops (bench/server/loadgen_loop.cc) and merges what
// they counted. Each loop runs epoll over its non-blocking connections, keeps `depth` requests
// in flight on each (or paces them with --rate), and records the latency of every reply.

#ifndef OTPD_BENCH_SERVER_LOADGEN_LOOP_H_
#define OTPD_BENCH_SERVER_LOADGEN_LOOP_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bench/server/loadgen_io.h"
#include "server/latency_histogram.h"

namespace otpd::loadgen {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string unix_path;
  std::string tcp;
  bool self = false;
  int connections = 4;
  int depth = 8;
  double duration = 5;
  uint64_t max_requests = 0;
  int threads = 1;
  std::string hello;
  std::string tokens_file;
  std::string save_tokens_file;
  double wrong_ratio = 0;
  double rate = 0;  // requests per second over all loops; 0: as fast as the slots allow
};

// What all loops share. Everything is read-only during the run except the request budget and
// the latency histogram: both are relaxed atomics, uncontended with the default single loop.
struct Shared {
  Options options;
  std::string hello_line;   // empty: no HELLO
  Clock::time_point start;  // the run's start, when --rate's schedule begins
  Clock::time_point end;    // stop issuing here
  std::atomic<uint64_t> requests{0};
  server::LatencyHistogram latency;

  // Takes one request from --max-requests; false once the budget is spent.
  bool TakeBudget() {
    return options.max_requests == 0 ||
           requests.fetch_add(1, std::memory_order_relaxed) < options.max_requests;
  }
};

struct Outcome {
  double seconds = 0;  // from the first connect to the last close
  std::map<std::string, uint64_t> by_reason;
};

// Splits the connections and `tokens` across shared->options.threads event loops, runs them on
// as many threads and merges their counts. Connection i takes tokens i, i + connections, ...
// and runs on loop i % threads.
Outcome RunLoops(Shared* shared, std::vector<Token>* tokens);

}  // namespace otpd::loadgen

#endif  // OTPD_BENCH_SERVER_LOADGEN_LOOP_H_
