#include "bench/server/loadgen_loop.h"

#include <liboath/oath.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <random>
#include <string_view>
#include <thread>
#include <utility>

#include "base/secret_bytes.h"
#include "server/protocol.h"

namespace otpd::loadgen {
namespace {

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

}  // namespace

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

}  // namespace otpd::loadgen
