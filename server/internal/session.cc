#include "server/internal/session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <utility>

#include "base/secret_bytes.h"

#ifndef OTPD_VERSION
#define OTPD_VERSION "0"
#endif

namespace otpd::server::internal {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// Extra room in the read buffer beyond one maximal line, so that pipelined lines arrive in
// large reads.
constexpr size_t kReadSlack = 8192;
// How long a closing connection waits for the peer to close after the last reply.
constexpr std::chrono::milliseconds kLinger{500};

uint64_t MicrosSince(SteadyClock::time_point start, SteadyClock::time_point now) {
  auto d = std::chrono::duration_cast<std::chrono::microseconds>(now - start).count();
  return d < 0 ? 0 : static_cast<uint64_t>(d);
}

// The SignInService callback. Members are destroyed in reverse order: the executor (a strand
// of core->io()) goes before the Core that owns the io_context.
struct Completion {
  std::shared_ptr<Core> core;
  asio::any_io_executor executor;
  std::weak_ptr<Session> session;
  uint64_t seq;
};

}  // namespace

Session::Session(Core& core, Socket socket, bool trusted)
    : core_(core),
      socket_(std::move(socket)),
      deadline_timer_(socket_.get_executor()),
      idle_timer_(socket_.get_executor()),
      trusted_(trusted),
      authenticated_(trusted),
      buf_(core.max_line() + 2 + kReadSlack) {}

Session::~Session() {
  core_.stats().connections.fetch_sub(1, std::memory_order_relaxed);
  core_.Unregister(this);
}

void Session::Start() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->last_activity_ = SteadyClock::now();
    self->ArmIdleTimer(self->last_activity_ + self->core_.idle_timeout());
    self->DoRead();
  });
}

void Session::Drain() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->CloseAfterReplies(); });
}

void Session::Abort() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->Close(); });
}

// ---- reading ---------------------------------------------------------------------------------

void Session::DoRead() {
  if (read_in_progress_ || closed_) return;
  read_in_progress_ = true;
  socket_.async_read_some(
      asio::buffer(buf_.data() + end_, buf_.size() - end_),
      [self = shared_from_this()](const error_code& ec, size_t n) { self->OnRead(ec, n); });
}

void Session::OnRead(const error_code& ec, size_t n) {
  read_in_progress_ = false;
  if (closed_) return;
  if (ec) {
    if (lingering_ || ec != asio::error::eof) {
      Close();
      return;
    }
    // The client half-closed: answer the complete lines it sent, then close.
    peer_eof_ = true;
    ProcessLines();
    return;
  }
  last_activity_ = SteadyClock::now();
  if (lingering_) {
    DiscardRead();
    return;
  }
  if (closing_) return;  // draining: input after the stop is dropped
  end_ += n;
  ProcessLines();
}

void Session::ProcessLines() {
  const size_t max_line = core_.max_line();
  bool lines_done = false;
  while (!closing_ && outstanding_ < core_.pipeline_depth()) {
    char* start = buf_.data() + begin_;
    size_t avail = end_ - begin_;
    auto* lf = static_cast<char*>(std::memchr(start, '\n', avail));
    size_t len = lf == nullptr ? avail : static_cast<size_t>(lf - start);
    size_t content = (len > 0 && start[len - 1] == '\r') ? len - 1 : len;
    // Without an LF the line may still be missing its CR and LF.
    bool oversized = lf == nullptr ? len > max_line + 1 : content > max_line;
    if (oversized) {
      RejectLineAndClose();
      return;
    }
    if (lf == nullptr) break;
    begin_ += len + 1;
    lines_done = true;
    HandleLine(std::span<char>(start, len));
  }
  if (begin_ == end_) {
    begin_ = end_ = 0;
  } else if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (closing_ || outstanding_ >= core_.pipeline_depth()) {
    partial_line_ = false;  // not reading: the time waiting for replies is not the client's
    return;
  }
  if (peer_eof_) {
    CloseAfterReplies();  // a partial last line is ignored
    return;
  }
  // What is left is the start of a line without its LF: it must be complete within the line
  // timeout of its first byte (approximately, of the read that brought it).
  if (end_ == 0) {
    partial_line_ = false;
  } else if (!partial_line_ || lines_done) {
    partial_line_ = true;
    partial_since_ = SteadyClock::now();
    SteadyClock::time_point line_deadline = partial_since_ + core_.line_timeout();
    if (line_deadline < idle_timer_at_) ArmIdleTimer(line_deadline);
  }
  DoRead();
}

void Session::RejectLineAndClose() {
  core_.stats().requests.fetch_add(1, std::memory_order_relaxed);
  ++outstanding_;
  ReplyFail(kNoId, FailReason::kBadRequest);
  begin_ = end_ = 0;
  CloseAfterReplies();
}

void Session::HandleLine(std::span<char> line) {
  core_.stats().requests.fetch_add(1, std::memory_order_relaxed);
  ++outstanding_;
  ParseResult parsed = ParseRequest(line);
  if (!parsed.ok) {
    SPDLOG_DEBUG("verify: bad request ({})", parsed.error);
    ReplyFail(parsed.id, FailReason::kBadRequest);
    base::Wipe(line.data(), line.size());  // it may have been a HELLO carrying a key
    if (!authenticated_) CloseAfterReplies();
    return;
  }
  const Request& request = parsed.request;
  if (!authenticated_ && request.verb != Verb::kHello) {
    ReplyFail(request.id, FailReason::kUnauthorized);
    CloseAfterReplies();
    return;
  }
  switch (request.verb) {
    case Verb::kHello:
      HandleHello(request);
      // The line held the client's key.
      base::Wipe(line.data(), line.size());
      break;
    case Verb::kPing:
      Reply(ReplyBuilder::Ok(request.id).Finish());
      break;
    case Verb::kStats:
      Reply(FormatStatsReply(request.id, core_.stats()));
      break;
    case Verb::kVerify:
    case Verb::kResync:
      StartServiceCall(request);
      break;
    default:  // reserved verbs are rejected by the parser
      ReplyFail(request.id, FailReason::kBadRequest);
      break;
  }
}

void Session::HandleHello(const Request& request) {
  if (request.version != kProtocolVersionText) {
    core_.stats().CountFail(FailReason::kBadRequest);
    Reply(ReplyBuilder::Fail(request.id, kReasonBadRequest)
              .Add("version", kProtocolVersionText)
              .Finish());
    if (!authenticated_) CloseAfterReplies();
    return;
  }
  if (!trusted_) {
    bool ok = !request.client.empty() && core_.Authenticate(request.client, request.key);
    if (!ok) {
      spdlog::warn("verify: HELLO from an unknown client or with a wrong key; closing");
      authenticated_ = false;
      ReplyFail(request.id, FailReason::kUnauthorized);
      CloseAfterReplies();
      return;
    }
    authenticated_ = true;
  }
  Reply(FormatHelloOk(request.id, OTPD_VERSION));
}

// ---- the service -----------------------------------------------------------------------------

void Session::StartServiceCall(const Request& request) {
  auto& in_flight = core_.stats().in_flight;
  if (in_flight.fetch_add(1, std::memory_order_relaxed) >=
      static_cast<int64_t>(core_.max_in_flight())) {
    in_flight.fetch_sub(1, std::memory_order_relaxed);
    ReplyFail(request.id, FailReason::kUnavailable);
    return;
  }
  uint64_t seq = next_seq_++;
  SteadyClock::time_point now = SteadyClock::now();
  pending_.emplace(seq, Pending{std::string(request.id), now, now + core_.request_deadline()});
  ArmDeadlineTimer();
  if (request.verb == Verb::kVerify) {
    service::VerifyRequest v{request.user, request.serial, request.otp};
    core_.service()->Verify(v, MakeCallback(seq));
  } else {
    service::ResyncRequest r{request.user, request.serial, request.otp, request.otp2};
    core_.service()->Resync(r, MakeCallback(seq));
  }
}

service::SignInCallback Session::MakeCallback(uint64_t seq) {
  Completion c{core_.shared_from_this(), socket_.get_executor(), weak_from_this(), seq};
  return [c = std::move(c)](service::SignInResult result) {
    c.core->stats().in_flight.fetch_sub(1, std::memory_order_relaxed);
    asio::post(c.executor,
               [session = c.session, seq = c.seq, result = std::move(result)]() mutable {
                 if (auto self = session.lock()) self->OnServiceResult(seq, std::move(result));
               });
  };
}

void Session::OnServiceResult(uint64_t seq, service::SignInResult result) {
  auto it = pending_.find(seq);
  if (it == pending_.end()) return;  // answered `unavailable` at the deadline, or closed
  core_.stats().latency.Record(MicrosSince(it->second.start, SteadyClock::now()));
  if (result.outcome == service::Outcome::kAccepted) {
    core_.stats().accepted.fetch_add(1, std::memory_order_relaxed);
  } else {
    core_.stats().CountFail(FailReasonOf(result.outcome));
  }
  Reply(FormatSignInReply(it->second.id, result));
  pending_.erase(it);
  MaybeFinish();
}

// ---- writing ---------------------------------------------------------------------------------

void Session::ReplyFail(std::string_view id, FailReason reason) {
  core_.stats().CountFail(reason);
  Reply(ReplyBuilder::Fail(id, FailReasonName(reason)).Finish());
}

void Session::Reply(std::string text) {
  if (closed_) return;
  if (queued_.empty()) {
    queued_ = std::move(text);
  } else {
    queued_.append(text);
  }
  ++queued_count_;
  if (write_in_progress_ || flush_posted_) return;
  // Write once the handlers already queued on this strand have run: the other answers of the
  // same group commit usually are, and they then leave in the same write.
  flush_posted_ = true;
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->flush_posted_ = false;
    if (!self->write_in_progress_ && !self->queued_.empty() && !self->closed_) self->DoWrite();
  });
}

void Session::DoWrite() {
  writing_.swap(queued_);
  queued_.clear();
  writing_count_ = queued_count_;
  queued_count_ = 0;
  write_in_progress_ = true;
  asio::async_write(
      socket_, asio::buffer(writing_),
      [self = shared_from_this()](const error_code& ec, size_t) { self->OnWrite(ec); });
}

void Session::OnWrite(const error_code& ec) {
  write_in_progress_ = false;
  if (closed_) return;
  if (ec) {
    Close();
    return;
  }
  last_activity_ = SteadyClock::now();
  outstanding_ -= writing_count_;
  writing_count_ = 0;
  writing_.clear();
  if (!queued_.empty()) DoWrite();
  if (closing_) {
    MaybeFinish();
  } else {
    ProcessLines();  // resumes a connection paused at the pipelining cap
  }
}

// ---- timers ----------------------------------------------------------------------------------

void Session::ArmDeadlineTimer() {
  if (pending_.empty() || closed_) return;
  SteadyClock::time_point earliest = pending_.begin()->second.deadline;
  for (const auto& [seq, p] : pending_) earliest = std::min(earliest, p.deadline);
  if (deadline_armed_ && deadline_at_ <= earliest) return;
  deadline_armed_ = true;
  deadline_at_ = earliest;
  deadline_timer_.expires_at(earliest);
  deadline_timer_.async_wait(
      [self = shared_from_this()](const error_code& ec) { self->OnDeadlineTimer(ec); });
}

void Session::OnDeadlineTimer(const error_code& ec) {
  if (ec == asio::error::operation_aborted || closed_) return;
  deadline_armed_ = false;
  SteadyClock::time_point now = SteadyClock::now();
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    // The service is still working on it: in_flight drops when its callback runs.
    core_.stats().latency.Record(MicrosSince(it->second.start, now));
    ReplyFail(it->second.id, FailReason::kUnavailable);
    it = pending_.erase(it);
  }
  ArmDeadlineTimer();
  MaybeFinish();
}

void Session::ArmIdleTimer(SteadyClock::time_point at) {
  idle_timer_at_ = at;
  idle_timer_.expires_at(at);
  idle_timer_.async_wait(
      [self = shared_from_this()](const error_code& ec) { self->OnIdleTimer(ec); });
}

void Session::OnIdleTimer(const error_code& ec) {
  if (ec == asio::error::operation_aborted || closed_) return;
  if (lingering_) {
    Close();
    return;
  }
  SteadyClock::time_point now = SteadyClock::now();
  std::chrono::milliseconds idle = core_.idle_timeout();
  // Waiting for the service is not idleness (the request deadline bounds it); a peer that
  // neither sends nor reads its replies is.
  if (pending_.empty() && now - last_activity_ >= idle) {
    SPDLOG_DEBUG("verify: closing an idle connection");
    Close();
    return;
  }
  // A line trickling in (a byte now and then keeps the connection from being idle) gets a
  // bad_request once the line timeout passes, like an oversized line, and the connection closes.
  std::chrono::milliseconds line_timeout = core_.line_timeout();
  if (partial_line_ && !closing_ && now - partial_since_ >= line_timeout) {
    SPDLOG_DEBUG("verify: closing a connection whose request line did not complete in time");
    partial_line_ = false;
    RejectLineAndClose();
    return;
  }
  SteadyClock::time_point next =
      std::max(last_activity_, pending_.empty() ? last_activity_ : now) + idle;
  if (partial_line_) next = std::min(next, partial_since_ + line_timeout);
  ArmIdleTimer(next);
}

// ---- closing ---------------------------------------------------------------------------------

void Session::CloseAfterReplies() {
  if (closed_) return;
  closing_ = true;
  MaybeFinish();
}

void Session::MaybeFinish() {
  if (!closing_ || closed_ || lingering_) return;
  if (!pending_.empty() || write_in_progress_ || !queued_.empty()) return;
  Linger();
}

void Session::Linger() {
  lingering_ = true;
  error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_send, ignored);
  ArmIdleTimer(SteadyClock::now() + kLinger);
  DiscardRead();
}

void Session::DiscardRead() {
  if (read_in_progress_ || closed_) return;
  begin_ = end_ = 0;
  DoRead();
}

void Session::Close() {
  if (closed_) return;
  closed_ = true;
  closing_ = true;
  pending_.clear();
  error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
  deadline_timer_.cancel();
  idle_timer_.cancel();
}

}  // namespace otpd::server::internal
