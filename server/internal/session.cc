#include "server/internal/session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <utility>

namespace otpd::server::internal {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// Extra room in the read buffer beyond one maximal line, so that pipelined lines arrive in
// large reads.
constexpr size_t kReadSlack = 8192;
// How long a closing connection waits for the peer to close after the last reply.
constexpr std::chrono::milliseconds kLinger{500};

// The IP address of a TCP peer, for the HELLO guard ("" when it cannot be read).
std::string PeerAddress(Socket& socket) {
  error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  if (ec) return {};
  if (endpoint.protocol().family() != AF_INET && endpoint.protocol().family() != AF_INET6) {
    return {};
  }
  asio::ip::tcp::endpoint tcp;
  std::memcpy(tcp.data(), endpoint.data(), std::min<size_t>(endpoint.size(), tcp.capacity()));
  return tcp.address().to_string(ec);
}

}  // namespace

Session::Session(std::shared_ptr<Core> core, Socket socket, bool tcp, ConnectionSlot slot)
    : core_(std::move(core)),
      socket_(std::move(socket)),
      slot_(std::move(slot)),
      tcp_(tcp),
      authenticated_(!tcp || core_->allow_unauthenticated_tcp()),
      buf_(core_->max_line() + 2 + kReadSlack),
      idle_(socket_.get_executor()),
      line_(socket_.get_executor()),
      hello_(socket_.get_executor()),
      request_(socket_.get_executor()),
      linger_(socket_.get_executor()) {
  core_->stats().connections.fetch_add(1, std::memory_order_relaxed);
}

Session::~Session() {
  if (subscription_) subscription_->Cancel();
  base::Wipe(buf_.data(), buf_.size());
  core_->stats().connections.fetch_sub(1, std::memory_order_relaxed);
  core_->Unregister(this);
}

void Session::Start() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->last_activity_ = self->Now();
    if (self->tcp_) self->peer_address_ = PeerAddress(self->socket_);
    self->Arm(self->idle_, self->last_activity_ + self->core_->idle_timeout(),
              &Session::OnIdleDeadline);
    if (!self->authenticated_) {
      self->Arm(self->hello_, self->last_activity_ + self->core_->hello_timeout(),
                &Session::OnHelloDeadline);
    }
    self->DoRead();
  });
}

void Session::Drain() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->StartDraining(); });
}

void Session::Abort() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->Close(); });
}

void Session::CheckDeadlines() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    for (Deadline* d :
         {&self->request_, &self->hello_, &self->line_, &self->idle_, &self->linger_}) {
      self->CheckDeadline(*d);
    }
  });
}

// ---- reading ---------------------------------------------------------------------------------

void Session::DoRead() {
  if (read_in_progress_ || state_ == State::kClosed) return;
  read_in_progress_ = true;
  socket_.async_read_some(
      asio::buffer(buf_.data() + end_, buf_.size() - end_),
      [self = shared_from_this()](const error_code& ec, size_t n) { self->OnRead(ec, n); });
}

void Session::OnRead(const error_code& ec, size_t n) {
  read_in_progress_ = false;
  if (state_ == State::kClosed) return;
  if (ec) {
    if (state_ == State::kLingering || ec != asio::error::eof) {
      Close();
      return;
    }
    // The client half-closed: answer the complete lines it sent, then close.
    peer_eof_ = true;
    ProcessLines();
    return;
  }
  last_activity_ = Now();
  if (state_ == State::kLingering) {
    base::Wipe(buf_.data() + end_, n);
    DoRead();  // discarding
    return;
  }
  if (state_ == State::kDraining) {
    base::Wipe(buf_.data() + end_, n);  // input after the stop is dropped
    return;
  }
  end_ += n;
  ProcessLines();
}

void Session::Consume(size_t n) {
  if (n == 0) return;
  const size_t rest = end_ - n;
  std::memmove(buf_.data(), buf_.data() + n, rest);
  // The partial line moved to the front may hold a key or a code: wipe what is left of it where
  // it was. (Consumed HELLO lines were wiped where they were handled.)
  const size_t from = std::max(n, rest);
  base::Wipe(buf_.data() + from, end_ - from);
  end_ = rest;
}

void Session::ProcessLines() {
  const size_t max_line = core_->max_line();
  bool lines_done = false;
  while (state_ == State::kReading && outstanding_ < core_->pipeline_depth()) {
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
  Consume(begin_);
  begin_ = 0;
  if (state_ != State::kReading || outstanding_ >= core_->pipeline_depth()) {
    // Not reading: the time spent waiting for replies is not the client's.
    partial_since_.reset();
    Disarm(line_);
    return;
  }
  if (peer_eof_) {
    StartDraining();  // a partial last line is ignored
    return;
  }
  // What is left is the start of a line without its LF: it must be complete within the line
  // timeout of its first byte (approximately, of the read that brought it).
  if (end_ == 0) {
    partial_since_.reset();
    Disarm(line_);
  } else if (!partial_since_ || lines_done) {
    partial_since_ = Now();
    Arm(line_, *partial_since_ + core_->line_timeout(), &Session::OnLineDeadline);
  }
  DoRead();
}

void Session::RejectLineAndClose() {
  core_->stats().requests.fetch_add(1, std::memory_order_relaxed);
  ++outstanding_;
  ReplyFail(kNoId, service::Outcome::kBadRequest);
  base::Wipe(buf_.data(), end_);
  begin_ = end_ = 0;
  StartDraining();
}

void Session::HandleLine(std::span<char> line) {
  if (subscribed_) {  // a subscriber's connection carries events only: its input is dropped
    base::Wipe(line.data(), line.size());
    return;
  }
  core_->stats().requests.fetch_add(1, std::memory_order_relaxed);
  ++outstanding_;
  ParseResult parsed = ParseRequest(line);
  if (!parsed.ok) {
    SPDLOG_DEBUG("verify: bad request ({})", parsed.error);
    ReplyFail(parsed.id, service::Outcome::kBadRequest);
    base::Wipe(line.data(), line.size());  // it may have been a HELLO carrying a key
    if (!authenticated_) StartDraining();
    return;
  }
  const Request& request = parsed.request;
  if (!authenticated_ && request.verb != Verb::kHello) {
    ReplyFail(request.id, service::Outcome::kUnauthorized);
    StartDraining();
    return;
  }
  const VerbSpec& spec = DescribeVerb(request.verb);
  if (spec.connection != nullptr) {
    (this->*spec.connection)(request);
  } else if (spec.sign_in != nullptr) {
    OnSignIn(spec, request);
  } else {
    OnAction(spec, request);
  }
  // A client's key, a password, a pass, a session token: the services copied what they keep.
  if (CarriesSecret(request.verb)) base::Wipe(line.data(), line.size());
}

// ---- writing ---------------------------------------------------------------------------------

void Session::ReplyFail(std::string_view id, service::Outcome reason) {
  core_->stats().CountFail(reason);
  Reply(ReplyBuilder::Fail(id, service::OutcomeReason(reason)).Finish());
}

void Session::Reply(std::string text) {
  if (state_ == State::kClosed) return;
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
    if (!self->write_in_progress_ && !self->queued_.empty() && self->state_ != State::kClosed) {
      self->DoWrite();
    }
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
  if (state_ == State::kClosed) return;
  if (ec) {
    Close();
    return;
  }
  last_activity_ = Now();
  outstanding_ -= writing_count_;
  writing_count_ = 0;
  writing_.clear();
  if (!queued_.empty()) DoWrite();
  if (feed_link_) feed_link_->buffered.store(queued_.size() + writing_.size());
  if (state_ == State::kReading) {
    ProcessLines();  // resumes a connection paused at the pipelining cap
  } else {
    MaybeFinish();
  }
}

// ---- deadlines -------------------------------------------------------------------------------

void Session::Arm(Deadline& d, SteadyTime at, void (Session::*expire)()) {
  if (state_ == State::kClosed) return;
  d.at = at;
  d.expire = expire;
  const auto wait = std::max(at - Now(), SteadyTime::duration::zero());
  d.timer.expires_after(wait);
  d.timer.async_wait(
      [self = shared_from_this(), &d](const error_code& ec) { self->OnTimer(d, ec); });
}

void Session::Disarm(Deadline& d) {
  if (!d.at) return;
  d.at.reset();
  d.timer.cancel();
}

void Session::OnTimer(Deadline& d, const error_code& ec) {
  if (ec == asio::error::operation_aborted) return;
  CheckDeadline(d);
}

void Session::CheckDeadline(Deadline& d) {
  if (state_ == State::kClosed || !d.at) return;
  if (Now() < *d.at) {
    Arm(d, *d.at, d.expire);  // the clock has not got there yet
    return;
  }
  d.at.reset();
  (this->*d.expire)();
}

void Session::ArmRequestDeadline() {
  if (pending_.empty()) {
    Disarm(request_);
    return;
  }
  SteadyTime earliest = pending_.begin()->second.deadline;
  for (const auto& [seq, p] : pending_) earliest = std::min(earliest, p.deadline);
  if (request_.at && *request_.at <= earliest) return;
  Arm(request_, earliest, &Session::OnRequestDeadline);
}

void Session::OnIdleDeadline() {
  const SteadyTime now = Now();
  // Waiting for the service is not idleness (the request deadline bounds it); a peer that
  // neither sends nor reads its replies is. A subscriber is not idle (its backlog bounds it).
  if (!pending_.empty() || subscribed_) {
    Arm(idle_, now + core_->idle_timeout(), &Session::OnIdleDeadline);
    return;
  }
  const SteadyTime due = last_activity_ + core_->idle_timeout();
  if (now < due) {
    Arm(idle_, due, &Session::OnIdleDeadline);
    return;
  }
  SPDLOG_DEBUG("verify: closing an idle connection");
  Close();
}

void Session::OnLineDeadline() {
  // A line trickling in (a byte now and then keeps the connection from being idle) gets a
  // bad_request once the line timeout passes, like an oversized line, and the connection closes.
  if (state_ != State::kReading || !partial_since_) return;
  const SteadyTime due = *partial_since_ + core_->line_timeout();
  if (Now() < due) {
    Arm(line_, due, &Session::OnLineDeadline);
    return;
  }
  SPDLOG_DEBUG("verify: closing a connection whose request line did not complete in time");
  partial_since_.reset();
  RejectLineAndClose();
}

void Session::OnHelloDeadline() {
  if (authenticated_ || state_ != State::kReading) return;
  SPDLOG_DEBUG("verify: closing a TCP connection that did not say HELLO in time");
  core_->stats().requests.fetch_add(1, std::memory_order_relaxed);
  ++outstanding_;
  ReplyFail(kNoId, service::Outcome::kUnauthorized);
  StartDraining();
}

void Session::OnRequestDeadline() {
  const SteadyTime now = Now();
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    // The service is still working on it: in_flight drops when its callback runs.
    core_->stats().RecordLatency(MicrosSince(it->second.start, now));
    ReplyFail(it->second.id, service::Outcome::kUnavailable);
    it = pending_.erase(it);
  }
  ArmRequestDeadline();
  MaybeFinish();
}

void Session::OnLingerDeadline() { Close(); }

// ---- closing ---------------------------------------------------------------------------------

void Session::StartDraining() {
  if (state_ != State::kReading) return;
  state_ = State::kDraining;
  partial_since_.reset();
  Disarm(line_);
  Disarm(hello_);
  MaybeFinish();
}

void Session::MaybeFinish() {
  if (state_ != State::kDraining) return;
  if (!pending_.empty() || write_in_progress_ || !queued_.empty()) return;
  StartLingering();
}

void Session::StartLingering() {
  state_ = State::kLingering;
  error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_send, ignored);
  Arm(linger_, Now() + kLinger, &Session::OnLingerDeadline);
  base::Wipe(buf_.data(), end_);
  begin_ = end_ = 0;
  DoRead();  // discards until the peer closes
}

void Session::Close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  pending_.clear();
  if (subscription_) subscription_->Cancel();
  error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
  for (Deadline* d : {&idle_, &line_, &hello_, &request_, &linger_}) {
    d->at.reset();
    d->timer.cancel();
  }
}

}  // namespace otpd::server::internal
