// otpd-loadgen: drives the verify socket (protocol v1) with pipelined VERIFY requests and
// reports throughput, latency percentiles and the replies by reason. Loopback only, bounded in
// time and in request count.
//
//   otpd-loadgen --unix /var/lib/otpd/verify.sock --connections 8 --depth 16 --duration 10
//   otpd-loadgen --tcp 127.0.0.1:7733 --hello vpn:/etc/otpd/clients/vpn.key --tokens t.csv
//   otpd-loadgen --self --connections 4 --depth 32 --duration 5   (in-process fake server)
//   otpd-loadgen --self --connections 64 --depth 16 --threads 2   (two event loops)
//   otpd-loadgen --unix data/verify.sock --tokens t.csv --connections 64 --depth 16 --rate 60000
//
// --tokens FILE is a CSV whose header is `serial,seed_hex,counter[,digits]` or
// `user,seed_hex,counter[,digits]`, one HOTP token per row. Connections take disjoint slices of
// the tokens, keep at most one request in flight per token and walk each counter forward, so
// every valid code is accepted exactly once. Without --tokens every request is
// `VERIFY id user=loadgen-<conn>-<n> otp=123456`.
//
// At the end of --duration, or once --max-requests requests (all connections together) are
// sent, connections stop issuing and wait for their replies in flight, at most 10 s; a
// connection that closes or stays silent that long counts `error:connection closed or timed
// out`. The exit code is 1 when any reason counted starts with `error:`.
//
// The generator shares the machine with the daemon it measures, so it is kept cheap: one
// thread runs an epoll loop over non-blocking sockets for all connections (--threads N splits
// them across N such loops). In steady state a wakeup costs one recv and at most one send per
// ready connection, and a request costs no lock and no heap allocation: in-flight requests live
// in a fixed array of slots per connection, found again from the reply's id, and reasons are
// counted per loop and merged at the end. Latency runs from appending a request to the
// connection's output buffer to parsing its reply.
//
// --rate R paces the requests instead (open loop): R requests a second over all connections,
// each sent on the first connection with a free slot, --connections x --depth bounding what is in
// flight. A request's latency then runs from the moment it was due, not from when a slot freed
// up for it, so a server that falls behind shows its backlog in the percentiles rather than
// slowing the generator down with it (the "coordinated omission" of closed-loop generators).
// Loops wake at least every 200 us to send what is due.
//
// The event loops are in loadgen_loop.cc, the token file, connecting and reply parsing in
// loadgen_io.cc; this file reads the options, runs the loops and prints the results.

#include <liboath/oath.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/server/instant_service.h"
#include "bench/server/loadgen_io.h"
#include "bench/server/loadgen_loop.h"
#include "server/config.h"
#include "server/verify_server.h"

namespace otpd::loadgen {
namespace {

// Prints the results in the format scripts parse; returns the exit code: 1 if any reason is an
// error, else 0.
int Report(const Options& o, double seconds, const server::LatencyHistogram& latency,
           const std::map<std::string, uint64_t>& by_reason) {
  uint64_t replies = latency.Count();
  std::printf("connections=%d depth=%d duration_s=%.2f replies=%llu throughput_rps=%.0f threads=%d",
              o.connections, o.depth, seconds, static_cast<unsigned long long>(replies),
              static_cast<double>(replies) / seconds, o.threads);
  if (o.rate > 0) std::printf(" target_rps=%.0f", o.rate);
  std::printf("\n");
  std::printf("latency_us p50=%llu p90=%llu p99=%llu max=%llu\n",
              static_cast<unsigned long long>(latency.Percentile(0.5)),
              static_cast<unsigned long long>(latency.Percentile(0.9)),
              static_cast<unsigned long long>(latency.Percentile(0.99)),
              static_cast<unsigned long long>(latency.Max()));
  bool errors = false;
  for (const auto& [reason, count] : by_reason) {
    std::printf("reason %s=%llu\n", reason.c_str(), static_cast<unsigned long long>(count));
    errors |= reason.rfind("error:", 0) == 0;
  }
  return errors ? 1 : 0;
}

int Main(int argc, char** argv) {
  Options o;
  CLI::App app{"otpd-loadgen: load generator for the otpd verify socket (loopback only)"};
  app.add_option("--unix", o.unix_path, "Unix socket path");
  app.add_option("--tcp", o.tcp, "TCP HOST:PORT (loopback addresses only)");
  app.add_flag("--self", o.self, "serve an in-process server with an instant fake service");
  app.add_option("--connections", o.connections, "connections")->check(CLI::Range(1, 1024));
  app.add_option("--depth", o.depth, "pipelined requests per connection")
      ->check(CLI::Range(1, 4096));
  app.add_option("--duration", o.duration, "seconds")->check(CLI::Range(0.1, 600.0));
  app.add_option("--max-requests", o.max_requests, "stop after this many requests (0: none)");
  app.add_option("--threads", o.threads, "event-loop threads the connections are split across")
      ->check(CLI::Range(1, 16));
  app.add_option("--hello", o.hello, "CLIENT:KEYFILE to authenticate on TCP");
  app.add_option("--tokens", o.tokens_file, "CSV of serial|user,seed_hex,counter[,digits]");
  app.add_option("--save-tokens", o.save_tokens_file,
                 "after the run, write the tokens with their next counters here, so that a "
                 "following run starts where this one stopped");
  app.add_option("--rate", o.rate,
                 "requests per second over all connections, paced (open loop); latency counts "
                 "from when each request was due. 0: as fast as the pipelines allow")
      ->check(CLI::Range(0.0, 1e7));
  app.add_option("--wrong-ratio", o.wrong_ratio, "fraction of requests with a wrong code")
      ->check(CLI::Range(0.0, 1.0));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (static_cast<int>(!o.unix_path.empty()) + static_cast<int>(!o.tcp.empty()) +
          static_cast<int>(o.self) !=
      1) {
    std::fprintf(stderr, "give exactly one of --unix, --tcp, --self\n");
    return 2;
  }
  o.threads = std::min(o.threads, o.connections);
  std::string hello;
  if (!o.hello.empty()) {
    std::optional<std::string> line = HelloLine(o.hello);
    if (!line) {
      std::fprintf(stderr, "--hello: expected CLIENT:KEYFILE with a readable key file\n");
      return 2;
    }
    hello = *line;
    base::Wipe(line->data(), line->size());
  }
  std::vector<Token> tokens;
  if (!o.tokens_file.empty()) {
    std::optional<std::vector<Token>> loaded = LoadTokens(o.tokens_file);
    if (!loaded) return 2;
    tokens = std::move(*loaded);
    if (tokens.size() < static_cast<size_t>(o.connections)) {
      std::fprintf(stderr, "--tokens: need at least one token per connection\n");
      return 2;
    }
  }
  oath_init();

  // --self: a real VerifyServer over a Unix socket, with a service that accepts at once.
  bench::InstantService instant;
  std::unique_ptr<server::VerifyServer> self_server;
  std::filesystem::path self_dir;
  if (o.self) {
    self_dir =
        std::filesystem::temp_directory_path() / ("otpd-loadgen-" + std::to_string(::getpid()));
    std::filesystem::create_directories(self_dir);
    server::ServerConfig config;
    config.data_dir = self_dir.string();
    config.socket_path = (self_dir / "verify.sock").string();
    config.limits.pipeline_depth = static_cast<uint32_t>(o.depth) + 1;
    self_server = std::make_unique<server::VerifyServer>(config, &instant);
    if (base::Status s = self_server->Start(); !s.ok()) {
      std::fprintf(stderr, "--self: %s\n", s.ToString().c_str());
      return 1;
    }
    o.unix_path = config.socket_path;
  }

  Shared shared{o, std::move(hello)};
  auto [seconds, by_reason] = RunLoops(&shared, &tokens);
  base::Wipe(shared.hello_line.data(), shared.hello_line.size());
  if (self_server) {
    self_server->Stop();
    self_server.reset();
    std::filesystem::remove_all(self_dir);
  }
  oath_done();

  if (!o.save_tokens_file.empty() && !SaveTokens(o.save_tokens_file, o.tokens_file, tokens)) {
    std::fprintf(stderr, "--save-tokens: cannot write %s\n", o.save_tokens_file.c_str());
    return 1;
  }
  return Report(o, seconds, shared.latency, by_reason);
}

}  // namespace
}  // namespace otpd::loadgen

int main(int argc, char** argv) {
  try {
    return otpd::loadgen::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "otpd-loadgen: %s\n", e.what());
    return 1;
  }
}
