// otpd-loadgen: drives the verify socket (protocol v1) with pipelined VERIFY requests and
// reports throughput, latency percentiles and the replies by reason. Loopback only, bounded in
// time and in request count.
//
//   otpd-loadgen --unix /var/lib/otpd/verify.sock --connections 8 --depth 16 --duration 10
//   otpd-loadgen --tcp 127.0.0.1:7733 --hello vpn:/etc/otpd/clients/vpn.key --tokens t.csv
//   otpd-loadgen --self --connections 4 --depth 32 --duration 5   (in-process fake server)
//
// --tokens FILE is a CSV whose header is `serial,seed_hex,counter[,digits]` or
// `user,seed_hex,counter[,digits]`, one HOTP token per row. Connections take disjoint slices of
// the tokens, keep at most one request in flight per token and walk each counter forward, so
// every valid code is accepted exactly once. Without --tokens every request is
// `VERIFY id user=loadgen-<conn>-<n> otp=123456`.

#include <arpa/inet.h>
#include <liboath/oath.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/codec.h"
#include "base/secret_bytes.h"
#include "bench/server/instant_service.h"
#include "server/config.h"
#include "server/latency_histogram.h"
#include "server/protocol.h"
#include "server/verify_server.h"

namespace otpd::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

struct Token {
  std::string selector;  // "serial=..." or "user=..."
  base::SecretBytes seed;
  uint64_t counter = 0;
  unsigned digits = 6;
  bool busy = false;
};

struct Options {
  std::string unix_path;
  std::string tcp;
  bool self = false;
  int connections = 4;
  int depth = 8;
  double duration = 5;
  uint64_t max_requests = 0;
  std::string hello;
  std::string tokens_file;
  std::string save_tokens_file;
  double wrong_ratio = 0;
};

struct Results {
  std::mutex mu;
  std::map<std::string, uint64_t> by_reason;
  uint64_t sent = 0;
  uint64_t errors = 0;
};

server::LatencyHistogram g_latency;
std::atomic<uint64_t> g_sent{0};

std::optional<std::vector<Token>> LoadTokens(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string header;
  std::getline(in, header);
  std::string kind = header.substr(0, header.find(','));
  if (kind != "serial" && kind != "user") {
    std::fprintf(stderr, "%s: the header must start with serial, or user,\n", path.c_str());
    return std::nullopt;
  }
  std::vector<Token> tokens;
  std::string line;
  int row = 1;
  while (std::getline(in, line)) {
    ++row;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> cols;
    size_t start = 0;
    while (true) {
      size_t comma = line.find(',', start);
      cols.push_back(line.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    base::StatusOr<base::SecretBytes> seed =
        cols.size() >= 3 ? base::HexDecode(cols[1]) : base::InvalidArgumentError("columns");
    base::Wipe(line.data(), line.size());
    if (!seed.ok() || cols[0].empty()) {
      std::fprintf(stderr, "%s:%d: expected %s,seed_hex,counter[,digits]\n", path.c_str(), row,
                   kind.c_str());
      return std::nullopt;
    }
    Token t;
    t.selector = kind + "=" + cols[0];
    t.seed = std::move(seed).value();
    t.counter = std::stoull(cols[2]);
    t.digits = cols.size() >= 4 ? static_cast<unsigned>(std::stoul(cols[3])) : 6;
    tokens.push_back(std::move(t));
  }
  return tokens;
}

// Writes `tokens` in the format LoadTokens reads, with the counters they reached.
bool SaveTokens(const std::string& path, const std::string& source,
                const std::vector<Token>& tokens) {
  std::ifstream in(source);
  std::string header;
  std::getline(in, header);
  if (!header.empty() && header.back() == '\r') header.pop_back();
  std::ofstream out(path, std::ios::trunc);
  out << header << "\n";
  for (const Token& t : tokens) {
    out << t.selector.substr(t.selector.find('=') + 1) << "," << base::HexEncode(t.seed.span())
        << "," << t.counter << "," << t.digits << "\n";
  }
  out.flush();
  return static_cast<bool>(out);
}

int Connect(const Options& o) {
  if (!o.unix_path.empty()) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, o.unix_path.c_str(), sizeof(addr.sun_path) - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) return fd;
    ::close(fd);
    return -1;
  }
  base::StatusOr<server::HostPort> hp = server::ParseHostPort(o.tcp);
  if (!hp.ok()) return -1;
  std::string host = hp->host == "localhost" ? "127.0.0.1" : hp->host;
  sockaddr_storage storage{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    // Loopback only: 127.0.0.0/8.
    if ((ntohl(v4->sin_addr.s_addr) >> 24) != 127) return -2;
    v4->sin_family = AF_INET;
    v4->sin_port = htons(hp->port);
    len = sizeof(*v4);
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    if (!IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) return -2;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(hp->port);
    len = sizeof(*v6);
  } else {
    return -1;
  }
  int fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&storage), len) == 0) return fd;
  ::close(fd);
  return -1;
}

bool SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// One connection: keeps `depth` requests in flight until the deadline or the request budget.
class Worker {
 public:
  Worker(const Options& o, int index, std::vector<Token*> tokens, Clock::time_point end,
         Results* results, const std::string& hello_line)
      : o_(o),
        index_(index),
        tokens_(std::move(tokens)),
        end_(end),
        results_(results),
        hello_(hello_line),
        rng_(static_cast<uint32_t>(index) * 7919u + 1) {}

  void Run() {
    int fd = Connect(o_);
    if (fd < 0) {
      Count(fd == -2 ? "error:not_loopback" : "error:connect");
      return;
    }
    fd_ = fd;
    if (!hello_.empty() && !Hello()) {
      ::close(fd_);
      return;
    }
    Loop();
    ::close(fd_);
  }

 private:
  struct InFlight {
    Clock::time_point sent;
    Token* token;
    bool valid;
  };

  bool Hello() {
    if (!SendAll(fd_, hello_)) return false;
    std::optional<std::string> line = ReadLine(Clock::now() + std::chrono::seconds(5));
    std::optional<server::ParsedReply> reply = server::ParseReply(line.value_or(""));
    if (!reply || !reply->ok) {
      Count("error:hello " + std::string(reply ? reply->reason() : "no reply"));
      return false;
    }
    return true;
  }

  bool Budget() {
    if (o_.max_requests == 0) return true;
    if (g_sent.fetch_add(1, std::memory_order_relaxed) < o_.max_requests) return true;
    budget_spent_ = true;
    return false;
  }

  // Appends one request to `out`; false when nothing can be sent now.
  bool NextRequest(std::string* out) {
    std::string id = std::to_string(next_id_);
    InFlight f{Clock::now(), nullptr, false};
    if (tokens_.empty()) {
      if (!Budget()) return false;
      out->append("VERIFY\t" + id + "\tuser=loadgen-" + std::to_string(index_) + "-" +
                  std::to_string(next_id_ % 1000) + "\totp=123456\n");
    } else {
      Token* t = nullptr;
      for (size_t i = 0; i < tokens_.size(); ++i) {
        Token* c = tokens_[(cursor_ + i) % tokens_.size()];
        if (!c->busy) {
          t = c;
          cursor_ = (cursor_ + i + 1) % tokens_.size();
          break;
        }
      }
      if (t == nullptr || !Budget()) return false;
      char code[16];
      if (oath_hotp_generate(reinterpret_cast<const char*>(t->seed.data()), t->seed.size(),
                             t->counter, t->digits, false, OATH_HOTP_DYNAMIC_TRUNCATION,
                             code) != OATH_OK) {
        return false;
      }
      bool wrong = std::uniform_real_distribution<double>(0, 1)(rng_) < o_.wrong_ratio;
      if (wrong)
        code[t->digits - 1] = static_cast<char>('0' + (code[t->digits - 1] - '0' + 1) % 10);
      out->append("VERIFY\t" + id + "\t" + t->selector + "\totp=" + code + "\n");
      base::Wipe(code, sizeof(code));
      t->busy = true;
      f.token = t;
      f.valid = !wrong;
    }
    in_flight_.emplace(next_id_++, f);
    return true;
  }

  void Loop() {
    bool draining = false;
    while (true) {
      std::string batch;
      if (!draining && Clock::now() >= end_) draining = true;
      while (!draining && in_flight_.size() < static_cast<size_t>(o_.depth)) {
        if (!NextRequest(&batch)) {
          if (tokens_.empty() || budget_spent_) draining = true;  // budget exhausted
          break;
        }
      }
      if (!batch.empty() && !SendAll(fd_, batch)) {
        Count("error:send");
        return;
      }
      if (in_flight_.empty()) {
        if (draining) return;
        continue;
      }
      std::optional<std::string> line = ReadLine(Clock::now() + std::chrono::seconds(10));
      if (!line) {
        Count("error:connection closed or timed out");
        return;
      }
      HandleReply(*line);
    }
  }

  void HandleReply(const std::string& line) {
    std::optional<server::ParsedReply> reply = server::ParseReply(line);
    if (!reply) {
      Count("error:unparsable reply");
      return;
    }
    auto it = in_flight_.end();
    if (reply->id != server::kNoId) it = in_flight_.find(std::stoull(reply->id));
    if (it == in_flight_.end()) {
      Count("error:unknown id");
      return;
    }
    auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - it->second.sent);
    g_latency.Record(static_cast<uint64_t>(micros.count()));
    if (Token* t = it->second.token) {
      t->busy = false;
      // The code was consumed (accepted) or burnt (replayed): move on to the next counter.
      if (reply->ok || reply->reason() == "replayed") ++t->counter;
      if (reply->ok && !it->second.valid) Count("note:wrong code accepted");
    }
    in_flight_.erase(it);
    Count(std::string(reply->reason()));
  }

  std::optional<std::string> ReadLine(Clock::time_point deadline) {
    while (true) {
      size_t lf = buffer_.find('\n', scan_);
      if (lf != std::string::npos) {
        std::string line = buffer_.substr(scan_, lf - scan_);
        scan_ = lf + 1;
        if (scan_ > 65536) {
          buffer_.erase(0, scan_);
          scan_ = 0;
        }
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      int rc = ::poll(&p, 1, static_cast<int>(left.count()));
      if (rc < 0 && errno == EINTR) continue;
      if (rc <= 0) return std::nullopt;
      char chunk[65536];
      ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  void Count(const std::string& reason) {
    std::lock_guard<std::mutex> lock(results_->mu);
    ++results_->by_reason[reason];
  }

  const Options& o_;
  const int index_;
  std::vector<Token*> tokens_;
  const Clock::time_point end_;
  Results* results_;
  const std::string& hello_;
  std::mt19937 rng_;
  int fd_ = -1;
  uint64_t next_id_ = 1;
  size_t cursor_ = 0;
  bool budget_spent_ = false;  // --max-requests reached
  std::map<uint64_t, InFlight> in_flight_;
  std::string buffer_;
  size_t scan_ = 0;
};

std::optional<std::string> HelloLine(const std::string& spec) {
  size_t colon = spec.find(':');
  if (colon == std::string::npos) return std::nullopt;
  std::ifstream in(spec.substr(colon + 1));
  std::string key;
  if (!in || !std::getline(in, key)) return std::nullopt;
  while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.pop_back();
  std::string line = "HELLO\t0\tversion=1\tclient=" + spec.substr(0, colon) + "\tkey=";
  server::AppendEscaped(&line, key);
  base::Wipe(key.data(), key.size());
  return line + "\n";
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
  app.add_option("--hello", o.hello, "CLIENT:KEYFILE to authenticate on TCP");
  app.add_option("--tokens", o.tokens_file, "CSV of serial|user,seed_hex,counter[,digits]");
  app.add_option("--save-tokens", o.save_tokens_file,
                 "after the run, write the tokens with their next counters here, so that a "
                 "following run starts where this one stopped");
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
  std::string hello;
  if (!o.hello.empty()) {
    std::optional<std::string> line = HelloLine(o.hello);
    if (!line) {
      std::fprintf(stderr, "--hello: expected CLIENT:KEYFILE with a readable key file\n");
      return 2;
    }
    hello = *line;
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

  Results results;
  auto start = Clock::now();
  auto end = start +
             std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration));
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < o.connections; ++i) {
    std::vector<Token*> slice;
    for (size_t t = static_cast<size_t>(i); t < tokens.size(); t += o.connections) {
      slice.push_back(&tokens[t]);
    }
    workers.push_back(std::make_unique<Worker>(o, i, std::move(slice), end, &results, hello));
  }
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&w] { w->Run(); });
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
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

  uint64_t replies = g_latency.Count();
  std::printf("connections=%d depth=%d duration_s=%.2f replies=%llu throughput_rps=%.0f\n",
              o.connections, o.depth, seconds, static_cast<unsigned long long>(replies),
              static_cast<double>(replies) / seconds);
  std::printf("latency_us p50=%llu p90=%llu p99=%llu max=%llu\n",
              static_cast<unsigned long long>(g_latency.Percentile(0.5)),
              static_cast<unsigned long long>(g_latency.Percentile(0.9)),
              static_cast<unsigned long long>(g_latency.Percentile(0.99)),
              static_cast<unsigned long long>(g_latency.Max()));
  bool errors = false;
  for (const auto& [reason, count] : results.by_reason) {
    std::printf("reason %s=%llu\n", reason.c_str(), static_cast<unsigned long long>(count));
    errors |= reason.rfind("error:", 0) == 0;
  }
  return errors ? 1 : 0;
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
