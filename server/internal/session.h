// One verify-socket connection: reads request lines, answers them (VERIFY and RESYNC through
// the SignInService, possibly out of order), enforces the per-connection limits.
//
// A Session owns itself: it is kept alive by the handlers of its pending operations
// (shared_from_this) and dies when the socket is closed and they have all completed.
// SignInService callbacks hold only a weak reference and post back to the session's strand.
//
// Thread-safety: all private state is touched only on the session's strand (the socket's
// executor). Start, Drain and Abort may be called from any thread.

#ifndef OTPD_SERVER_INTERNAL_SESSION_H_
#define OTPD_SERVER_INTERNAL_SESSION_H_

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/internal/core.h"
#include "server/protocol.h"
#include "server/server_stats.h"
#include "service/sign_in.h"

namespace otpd::server::internal {

using Socket = boost::asio::generic::stream_protocol::socket;
using SteadyClock = std::chrono::steady_clock;

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `socket` must use a strand of core.io() as its executor. `trusted` connections (Unix socket,
  // or an explicitly unauthenticated TCP listener) need no HELLO.
  Session(Core& core, Socket socket, bool trusted);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void Start();
  // Stops reading; closes once the requests in flight are answered and written.
  void Drain();
  // Closes now; late service answers are dropped.
  void Abort();

 private:
  struct Pending {
    std::string id;
    SteadyClock::time_point start;
    SteadyClock::time_point deadline;
  };

  void DoRead();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void ProcessLines();
  void HandleLine(std::span<char> line);
  // The line being read is refused (too long, or not complete in time): `FAIL - bad_request`,
  // the unread input dropped, and the connection closes once earlier replies are written.
  void RejectLineAndClose();
  void HandleHello(const Request& request);
  void StartServiceCall(const Request& request);
  void OnServiceResult(uint64_t seq, service::SignInResult result);
  service::SignInCallback MakeCallback(uint64_t seq);

  void Reply(std::string text);
  void ReplyFail(std::string_view id, FailReason reason);
  void DoWrite();
  void OnWrite(const boost::system::error_code& ec);

  void ArmDeadlineTimer();
  void OnDeadlineTimer(const boost::system::error_code& ec);
  void ArmIdleTimer(SteadyClock::time_point at);
  void OnIdleTimer(const boost::system::error_code& ec);

  // No more requests are read; the connection closes once everything pending is written.
  void CloseAfterReplies();
  void MaybeFinish();
  // Half-closes and discards input until the peer closes (bounded), so that the last replies
  // are not lost to a reset caused by unread input.
  void Linger();
  void DiscardRead();
  void Close();

  Core& core_;
  Socket socket_;
  boost::asio::steady_timer deadline_timer_;
  boost::asio::steady_timer idle_timer_;
  const bool trusted_;
  bool authenticated_;

  std::vector<char> buf_;
  size_t begin_ = 0;  // start of the first unprocessed byte
  size_t end_ = 0;    // end of the bytes read
  bool read_in_progress_ = false;
  bool peer_eof_ = false;  // the client half-closed
  bool closing_ = false;   // no further requests are processed
  bool lingering_ = false;
  bool closed_ = false;

  // Requests read whose reply has not been written to the socket yet (the pipelining cap).
  uint32_t outstanding_ = 0;
  uint64_t next_seq_ = 0;
  std::map<uint64_t, Pending> pending_;  // at the SignInService, by sequence number
  bool deadline_armed_ = false;
  SteadyClock::time_point deadline_at_;

  std::string queued_;  // replies waiting for the current write to finish
  uint32_t queued_count_ = 0;
  std::string writing_;
  uint32_t writing_count_ = 0;
  bool write_in_progress_ = false;
  bool flush_posted_ = false;  // a DoWrite of queued_ is posted to the strand

  SteadyClock::time_point last_activity_;
  SteadyClock::time_point idle_timer_at_;  // when the idle timer fires next
  // The buffer ends with an incomplete line, whose first bytes arrived at partial_since_.
  bool partial_line_ = false;
  SteadyClock::time_point partial_since_;
};

}  // namespace otpd::server::internal

#endif  // OTPD_SERVER_INTERNAL_SESSION_H_
