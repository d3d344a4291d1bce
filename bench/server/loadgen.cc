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

#include <liboath/oath.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/secret_bytes.h"
#include "bench/server/instant_service.h"
#include "bench/server/loadgen_io.h"
#include "server/config.h"
#include "server/latency_histogram.h"
#include "server/protocol.h"
#include "server/verify_server.h"

namespace otpd::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

// A connection waits this long for the reply to its HELLO.
constexpr auto kHelloTimeout = std::chrono::seconds(5);
// A connection with requests in flight and no progress for this long is given up. Progress
// stops counting when the connection stops issuing, so this also bounds the final drain.
constexpr auto kReplyTimeout = std::chrono::seconds(10);
// How often a loop looks for connections past their deadline.
constexpr auto kSweepInterval = std::chrono::milliseconds(100);
// With --rate, the longest a loop sleeps before sending the requests that fell due meanwhile.
constexpr auto kPaceInterval = std::chrono::microseconds(200);
// Per-connection receive buffer; a reply line longer than this is unparsable.
constexpr size_t kReadBufferSize = 16384;

constexpr std::string_view kClosedError = "error:connection closed or timed out";

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

// Replies and errors by reason, for one loop: a flat list searched in order, as cheap as any
// map for the dozen reasons there are. Not thread-safe; loops merge theirs at the end.
class ReasonCounts {
 public:
  void Add(std::string_view reason, uint64_t n = 1) {
    for (auto& [name, count] : counts_) {
      if (name == reason) {
        count += n;
        return;
      }
    }
    counts_.emplace_back(std::string(reason), n);
  }
  const std::vector<std::pair<std::string, uint64_t>>& counts() const { return counts_; }

 private:
  std::vector<std::pair<std::string, uint64_t>> counts_;
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

// One request in flight. A slot is free when id is 0.
struct Slot {
  uint64_t id = 0;
  Clock::time_point sent;
  Token* token = nullptr;  // nullptr without --tokens
  bool valid = false;      // the code was not deliberately made wrong
};

// One connection, owned and touched by exactly one loop.
struct Connection {
  enum class State { kHello, kRunning, kClosed };

  Connection(int index, int depth)
      : index(index),
        slots(static_cast<size_t>(depth)),
        rng(static_cast<uint32_t>(index) * 7919u + 1),
        in(new char[kReadBufferSize]) {
    free_slots.reserve(slots.size());
    for (size_t i = slots.size(); i > 0; --i) free_slots.push_back(static_cast<uint32_t>(i - 1));
  }

  const int index;
  int fd = -1;
  State state = State::kClosed;
  bool stopped = false;        // issues no more (budget spent, or no code): drain and close
  bool pace_dirty = false;     // --rate: has requests appended by the current Pace, not sent
  std::vector<Token*> tokens;  // this connection's slice
  size_t cursor = 0;           // where the search for an idle token starts
  std::vector<Slot> slots;     // `depth` of them; a request's id is sequence * depth + slot
  std::vector<uint32_t> free_slots;
  uint64_t sequence = 1;  // requests issued + 1; also names the users without --tokens
  std::mt19937 rng;
  std::string out;  // requests not yet sent start at out[out_sent]
  size_t out_sent = 0;
  bool want_write = false;  // registered for EPOLLOUT: the socket buffer was full
  std::unique_ptr<char[]> in;
  size_t in_size = 0;
  Clock::time_point deadline;  // given up when reached with something outstanding

  size_t in_flight() const { return slots.size() - free_slots.size(); }
};

// An epoll loop over a set of connections: opens them, keeps each one `depth` requests deep
// until the end of the run or of the budget, then drains them. Runs on one thread; shares only
// `shared` with the other loops.
class EventLoop {
 public:
  EventLoop(Shared* shared, std::vector<Connection*> connections)
      : shared_(shared), o_(shared->options), connections_(std::move(connections)) {}

  // Returns when every connection is closed.
  void Run() {
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) {
      counts_.Add("error:epoll");
      return;
    }
    for (Connection* c : connections_) Open(*c);
    epoll_event events[64];
    Clock::time_point now = Clock::now();
    Clock::time_point next_sweep = now + kSweepInterval;
    while (open_ > 0) {
      int n = Wait(events, 64, now);
      if (n < 0 && errno != EINTR) {
        counts_.Add("error:epoll");
        for (Connection* c : connections_) {
          if (c->state != Connection::State::kClosed) Close(*c, {});
        }
        break;
      }
      for (int i = 0; i < n; ++i) {
        Service(*static_cast<Connection*>(events[i].data.ptr), events[i].events);
      }
      now = Clock::now();
      if (issuing_ && now >= shared_->end) StopIssuing();
      if (pacing_ && issuing_) Pace(now);
      if (now >= next_sweep) {
        Sweep(now);
        next_sweep = now + kSweepInterval;
      }
    }
    ::close(epoll_);
  }

  ReasonCounts& counts() { return counts_; }

 private:
  // epoll_wait, sleeping TimeoutMs; with --rate at most kPaceInterval (epoll_pwait2 takes a
  // timeout finer than a millisecond).
  int Wait(epoll_event* events, int max, Clock::time_point now) {
    if (!pacing_ || !issuing_) return ::epoll_wait(epoll_, events, max, TimeoutMs(now));
    timespec pace{0, std::chrono::nanoseconds(kPaceInterval).count()};
    return ::epoll_pwait2(epoll_, events, max, &pace, nullptr);
  }

  // Until the end of the run (rounded up, so the loop does not wake just before it and spin),
  // at most until the next sweep.
  int TimeoutMs(Clock::time_point now) const {
    Clock::duration wait = kSweepInterval;
    if (issuing_) wait = std::min(wait, shared_->end - now);
    return static_cast<int>(
        std::max<int64_t>(0, std::chrono::ceil<std::chrono::milliseconds>(wait).count()));
  }

  bool Issuing(const Connection& c) const { return issuing_ && !c.stopped; }

  // --rate: sends the requests due by `now` (this loop's share of the rate), each on the next
  // connection, round robin, with a free slot; stamped with the time it was due. What finds no
  // free slot stays due and goes out as slots free up, late, which its latency shows.
  void Pace(Clock::time_point now) {
    const double elapsed = std::chrono::duration<double>(now - shared_->start).count();
    const auto due = static_cast<uint64_t>(elapsed * loop_rate_);
    const size_t n = connections_.size();
    size_t tried = 0;
    while (paced_ < due && tried < n) {
      Connection& c = *connections_[pace_cursor_];
      pace_cursor_ = pace_cursor_ + 1 == n ? 0 : pace_cursor_ + 1;
      if (c.state != Connection::State::kRunning || !Issuing(c) || c.free_slots.empty()) {
        ++tried;
        continue;
      }
      const Clock::time_point at =
          shared_->start +
          std::chrono::duration_cast<Clock::duration>(
              std::chrono::duration<double>(static_cast<double>(paced_) / loop_rate_));
      if (!Issue(c, at)) {
        ++tried;
        continue;
      }
      ++paced_;
      tried = 0;
      c.deadline = now + kReplyTimeout;
      if (!c.pace_dirty) {
        c.pace_dirty = true;
        dirty_.push_back(&c);
      }
    }
    for (Connection* c : dirty_) {
      c->pace_dirty = false;
      if (c->state != Connection::State::kClosed) Flush(*c);
    }
    dirty_.clear();
  }

  void Open(Connection& c) {
    int fd = Connect(o_.unix_path, o_.tcp);
    if (fd < 0) {
      counts_.Add(fd == -2 ? "error:not_loopback" : "error:connect");
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &c;
    if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      ::close(fd);
      counts_.Add("error:epoll");
      return;
    }
    c.fd = fd;
    ++open_;
    if (shared_->hello_line.empty()) {
      c.state = Connection::State::kRunning;
      Progress(c);
      return;
    }
    // Sent straight from the shared line, so that the key is not copied into c.out. A fresh
    // socket's buffer takes a line of at most a few KiB whole.
    c.state = Connection::State::kHello;
    c.deadline = Clock::now() + kHelloTimeout;
    const std::string& hello = shared_->hello_line;
    if (::send(fd, hello.data(), hello.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(hello.size())) {
      Close(c, "error:send");
    }
  }

  void Service(Connection& c, uint32_t events) {
    // An earlier event of the same batch may have closed the connection.
    if (c.state == Connection::State::kClosed) return;
    if ((events & EPOLLOUT) != 0) Flush(c);
    if (c.state != Connection::State::kClosed && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
      Read(c);
    }
  }

  // One recv, then every complete line in the buffer; the incomplete rest moves to the front.
  void Read(Connection& c) {
    ssize_t n = ::recv(c.fd, c.in.get() + c.in_size, kReadBufferSize - c.in_size, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {
      Close(c, c.state == Connection::State::kHello ? "error:hello no reply" : kClosedError);
      return;
    }
    c.in_size += static_cast<size_t>(n);
    const Clock::time_point now = Clock::now();
    char* line = c.in.get();
    char* const end = line + c.in_size;
    while (char* lf =
               static_cast<char*>(std::memchr(line, '\n', static_cast<size_t>(end - line)))) {
      OnLine(c, std::string_view(line, static_cast<size_t>(lf - line)), now);
      if (c.state == Connection::State::kClosed) return;
      line = lf + 1;
    }
    c.in_size = static_cast<size_t>(end - line);
    if (c.in_size == kReadBufferSize) {
      Close(c, "error:unparsable reply");
      return;
    }
    std::memmove(c.in.get(), line, c.in_size);
    Progress(c);
  }

  void OnLine(Connection& c, std::string_view line, Clock::time_point now) {
    if (c.state == Connection::State::kHello) {
      // Once per connection: the full parser is fine here.
      std::optional<server::ParsedReply> reply = server::ParseReply(line);
      if (!reply || !reply->ok) {
        Close(c, "error:hello " + std::string(reply ? reply->reason() : "no reply"));
        return;
      }
      c.state = Connection::State::kRunning;
      return;
    }
    std::optional<ReplyView> reply = SplitReply(line);
    if (!reply) {
      counts_.Add("error:unparsable reply");
      return;
    }
    uint64_t id = 0;
    const char* id_end = reply->id.data() + reply->id.size();
    auto [parsed_end, ec] = std::from_chars(reply->id.data(), id_end, id);
    const size_t index = static_cast<size_t>(id % c.slots.size());
    if (ec != std::errc() || parsed_end != id_end || id == 0 || c.slots[index].id != id) {
      counts_.Add("error:unknown id");
      return;
    }
    Slot& slot = c.slots[index];
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now - slot.sent);
    shared_->latency.Record(static_cast<uint64_t>(micros.count()));
    if (Token* t = slot.token) {
      t->busy = false;
      // The code was consumed (accepted) or burnt (replayed): move on to the next counter.
      if (reply->ok || reply->reason == "replayed") ++t->counter;
      if (reply->ok && !slot.valid) counts_.Add("note:wrong code accepted");
    }
    slot.id = 0;
    c.free_slots.push_back(static_cast<uint32_t>(index));
    counts_.Add(reply->reason);
  }

  // Refills the connection's pipeline and sends what was added; closes the connection once it
  // issues no more and every reply is in.
  void Progress(Connection& c) {
    if (c.state != Connection::State::kRunning) return;  // HELLO not answered yet
    if (Issuing(c) && !pacing_) {
      const Clock::time_point now = Clock::now();
      while (!c.free_slots.empty() && Issue(c, now)) {
      }
      // Progress while draining does not move the deadline: the last one bounds the drain.
      c.deadline = now + kReplyTimeout;
    }
    Flush(c);
    if (c.state == Connection::State::kRunning && !Issuing(c) && c.in_flight() == 0) Close(c, {});
  }

  // Appends one request to c.out in a free slot; false when nothing can be sent now (every
  // token of the connection busy, the budget spent, or no code could be made).
  bool Issue(Connection& c, Clock::time_point now) {
    Token* token = nullptr;
    if (!c.tokens.empty() && (token = NextIdleToken(c)) == nullptr) return false;
    if (!shared_->TakeBudget()) {
      c.stopped = true;
      return false;
    }
    char code[16];
    bool valid = true;
    if (token != nullptr) {
      if (oath_hotp_generate(reinterpret_cast<const char*>(token->seed.data()), token->seed.size(),
                             token->counter, token->digits, false, OATH_HOTP_DYNAMIC_TRUNCATION,
                             code) != OATH_OK) {
        base::Wipe(code, sizeof(code));
        counts_.Add("error:oath_hotp_generate");
        c.stopped = true;
        return false;
      }
      valid = !(o_.wrong_ratio > 0 &&
                std::uniform_real_distribution<double>(0, 1)(c.rng) < o_.wrong_ratio);
      char& last = code[token->digits - 1];
      if (!valid) last = static_cast<char>('0' + (last - '0' + 1) % 10);
    }
    const uint32_t index = c.free_slots.back();
    const uint64_t id = c.sequence * c.slots.size() + index;
    c.out.append("VERIFY\t");
    AppendNumber(&c.out, id);
    if (token == nullptr) {
      c.out.append("\tuser=loadgen-");
      AppendNumber(&c.out, static_cast<uint64_t>(c.index));
      c.out.push_back('-');
      AppendNumber(&c.out, c.sequence % 1000);
      c.out.append("\totp=123456\n");
    } else {
      c.out.push_back('\t');
      c.out.append(token->selector);
      c.out.append("\totp=");
      c.out.append(code, token->digits);
      c.out.push_back('\n');
      base::Wipe(code, sizeof(code));
      token->busy = true;
    }
    c.free_slots.pop_back();
    c.slots[index] = Slot{id, now, token, valid};
    ++c.sequence;
    return true;
  }

  // The connection's next token without a request in flight, round robin; nullptr if none.
  static Token* NextIdleToken(Connection& c) {
    const size_t n = c.tokens.size();
    for (size_t i = 0, at = c.cursor; i < n; ++i, at = at + 1 == n ? 0 : at + 1) {
      if (!c.tokens[at]->busy) {
        c.cursor = at + 1 == n ? 0 : at + 1;
        return c.tokens[at];
      }
    }
    return nullptr;
  }

  // One send of what c.out holds beyond out_sent. What the socket does not take waits for
  // EPOLLOUT, which is watched only then.
  void Flush(Connection& c) {
    const size_t pending = c.out.size() - c.out_sent;
    if (pending == 0) return;
    ssize_t n = ::send(c.fd, c.out.data() + c.out_sent, pending, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      Close(c, "error:send");
      return;
    }
    if (n > 0) c.out_sent += static_cast<size_t>(n);
    const bool rest = c.out_sent < c.out.size();
    if (!rest) {
      c.out.clear();  // keeps the capacity: no allocation in steady state
      c.out_sent = 0;
    }
    if (rest != c.want_write) {
      c.want_write = rest;
      epoll_event ev{};
      ev.events = EPOLLIN | (rest ? EPOLLOUT : 0u);
      ev.data.ptr = &c;
      ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
    }
  }

  // The end of the run: connections with nothing in flight close now, the others as their
  // last reply comes in (Progress) or at their deadline (Sweep).
  void StopIssuing() {
    issuing_ = false;
    for (Connection* c : connections_) {
      if (c->state == Connection::State::kRunning && c->in_flight() == 0) Close(*c, {});
    }
  }

  void Sweep(Clock::time_point now) {
    for (Connection* c : connections_) {
      if (c->state == Connection::State::kClosed || now < c->deadline) continue;
      Close(*c, c->state == Connection::State::kHello ? "error:hello no reply" : kClosedError);
    }
  }

  // Closes the connection, counting `error` unless it is empty. Requests still in flight keep
  // their tokens busy, so their counters do not advance.
  void Close(Connection& c, std::string_view error) {
    if (!error.empty()) counts_.Add(error);
    ::close(c.fd);  // also leaves the epoll set
    c.fd = -1;
    c.state = Connection::State::kClosed;
    --open_;
  }

  Shared* const shared_;
  const Options& o_;
  const std::vector<Connection*> connections_;
  ReasonCounts counts_;
  int epoll_ = -1;
  int open_ = 0;  // connections not closed
  bool issuing_ = true;
  // --rate: this loop's share, the requests sent on its schedule, and where the next one goes.
  const bool pacing_ = o_.rate > 0;
  const double loop_rate_ = o_.rate / o_.threads;
  uint64_t paced_ = 0;
  size_t pace_cursor_ = 0;
  std::vector<Connection*> dirty_;  // connections given requests by the current Pace
};

struct Outcome {
  double seconds = 0;  // from the first connect to the last close
  std::map<std::string, uint64_t> by_reason;
};

// Splits the connections and `tokens` across shared->options.threads event loops, runs them on
// as many threads and merges their counts. Connection i takes tokens i, i + connections, ...
// and runs on loop i % threads.
Outcome RunLoops(Shared* shared, std::vector<Token>* tokens) {
  const Options& o = shared->options;
  std::vector<std::unique_ptr<Connection>> connections;
  std::vector<std::vector<Connection*>> per_loop(static_cast<size_t>(o.threads));
  for (int i = 0; i < o.connections; ++i) {
    auto c = std::make_unique<Connection>(i, o.depth);
    for (size_t t = static_cast<size_t>(i); t < tokens->size(); t += o.connections) {
      c->tokens.push_back(&(*tokens)[t]);
    }
    per_loop[static_cast<size_t>(i % o.threads)].push_back(c.get());
    connections.push_back(std::move(c));
  }
  std::vector<std::unique_ptr<EventLoop>> loops;
  for (auto& list : per_loop) loops.push_back(std::make_unique<EventLoop>(shared, list));

  const Clock::time_point start = Clock::now();
  shared->start = start;
  shared->end = start + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(o.duration));
  std::vector<std::thread> threads;
  for (auto& loop : loops) {
    threads.emplace_back([&loop] {
      try {
        loop->Run();
      } catch (const std::exception&) {
        loop->counts().Add("error:exception");
      }
    });
  }
  for (auto& t : threads) t.join();
  Outcome outcome;
  outcome.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& loop : loops) {
    for (const auto& [reason, count] : loop->counts().counts()) {
      outcome.by_reason[reason] += count;
    }
  }
  return outcome;
}

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
