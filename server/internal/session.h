// One verify-socket connection: reads request lines, answers them (VERIFY, RESYNC and the other
// factors through the SignInService, the self-service verbs through the SelfService, possibly
// out of order), streams events after SUBSCRIBE, and enforces the per-connection limits.
//
// The connection is in one of four states:
//   kReading    reading and answering requests; reading pauses while pipeline_depth replies
//               are outstanding (backpressure) and resumes as they are written;
//   kDraining   no more requests are read (stop, a refused line, a failed HELLO, the peer's
//               EOF); the connection closes once every reply is written;
//   kLingering  the last reply is written and the write side shut down; input is discarded until
//               the peer closes or the linger time passes, so that unread input cannot turn into
//               a reset that destroys the replies;
//   kClosed.
// Each deadline has its own timer: idle (nothing in flight and no bytes for idle_timeout), line
// (a request line must complete within line_timeout of its first byte), hello (a TCP connection
// must authenticate within hello_timeout), request (a VERIFY not decided within
// request_deadline answers unavailable) and linger. Deadlines are times of the server's
// base::Clock; CheckDeadlines() re-evaluates them against it at once (tests with a FakeClock).
//
// Verbs are dispatched by their VerbSpec (server/protocol_verbs.cc): the connection answers
// HELLO, PING, STATS and SUBSCRIBE itself (ConnectionVerbs), hands a sign-in verb's service call
// the completion that formats its reply, and a self-service verb's likewise.
//
// A Session owns itself: it is kept alive by the handlers of its pending operations
// (shared_from_this) and dies when the socket is closed and they have all completed.
// SignInService callbacks hold only a weak reference and post back to the session's strand.
//
// Thread-safety: all private state is touched only on the session's strand (the socket's
// executor). Start, Drain, Abort and CheckDeadlines may be called from any thread.

#ifndef OTPD_SERVER_INTERNAL_SESSION_H_
#define OTPD_SERVER_INTERNAL_SESSION_H_

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/internal/core.h"
#include "server/internal/listener.h"
#include "server/protocol.h"
#include "server/server_stats.h"
#include "service/signin/sign_in.h"

namespace otpd::server::internal {

using SteadyTime = std::chrono::steady_clock::time_point;

// Microseconds from `start` to `now` (0 when the clock went backwards), for latency records.
inline uint64_t MicrosSince(SteadyTime start, SteadyTime now) {
  auto d = std::chrono::duration_cast<std::chrono::microseconds>(now - start).count();
  return d < 0 ? 0 : static_cast<uint64_t>(d);
}

class Session final : public std::enable_shared_from_this<Session>, private ConnectionVerbs {
 public:
  // `socket` must use a strand of core->io() as its executor. Connections on the Unix socket,
  // and on TCP when unauthenticated TCP is configured, need no HELLO.
  Session(std::shared_ptr<Core> core, Socket socket, bool tcp, ConnectionSlot slot);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void Start();
  // Stops reading; closes once the requests in flight are answered and written.
  void Drain();
  // Closes now; late service answers are dropped.
  void Abort();
  // Acts on every deadline that has passed by the clock's time now.
  void CheckDeadlines();

 private:
  enum class State { kReading, kDraining, kLingering, kClosed };

  // A deadline and its timer.
  struct Deadline {
    explicit Deadline(const boost::asio::any_io_executor& executor) : timer(executor) {}
    boost::asio::steady_timer timer;
    std::optional<SteadyTime> at;
    void (Session::*expire)() = nullptr;
  };

  struct Pending {
    std::string id;
    SteadyTime start;
    SteadyTime deadline;
    Verb verb = Verb::kVerify;
    std::string user;  // lowercased; VERIFY by user and TAP, to remember an MFA success
  };

  // What the event feed's thread and the strand share about a subscriber's backlog.
  struct FeedLink {
    std::atomic<size_t> in_transit{0};  // bytes posted to the strand, not yet queued
    std::atomic<size_t> buffered{0};    // bytes queued or being written (the strand sets it)
    std::atomic<bool> cut{false};
  };

  SteadyTime Now() const { return core_->clock().SteadyNow(); }

  // ---- reading
  void DoRead();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void ProcessLines();
  void HandleLine(std::span<char> line);
  // The line being read is refused (too long, or not complete in time): `FAIL - bad_request`,
  // the unread input dropped, and the connection drains.
  void RejectLineAndClose();
  // Drops the first `n` bytes of the read buffer, wiping where they were.
  void Consume(size_t n);

  // ---- verbs
  void OnHello(const Request& request) override;
  void OnPing(const Request& request) override;
  void OnStats(const Request& request) override;
  void OnSubscribe(const Request& request) override;
  // Hands the request to the SignInService (spec.sign_in); the answer is formatted by spec.reply.
  void OnSignIn(const VerbSpec& spec, const Request& request);
  // Hands the request to the SelfService (spec.action).
  void OnAction(const VerbSpec& spec, const Request& request);
  // Counts a request toward max_in_flight and registers it as pending; false (and answered
  // unavailable) at the cap.
  bool BeginPending(const Request& request, uint64_t* seq);
  void OnActionResult(uint64_t seq, service::ActionResult result);
  service::ActionCallback MakeActionCallback(uint64_t seq);
  void OnFeedEvents(std::string text);
  void RefuseHello(std::string_view id, std::string_view address, bool throttled);
  void OnServiceResult(uint64_t seq, service::SignInResult result);
  service::SignInCallback MakeCallback(uint64_t seq);

  // ---- writing
  void Reply(std::string text);
  void ReplyFail(std::string_view id, service::Outcome reason);
  void DoWrite();
  void OnWrite(const boost::system::error_code& ec);

  // ---- deadlines
  void Arm(Deadline& d, SteadyTime at, void (Session::*expire)());
  void Disarm(Deadline& d);
  void OnTimer(Deadline& d, const boost::system::error_code& ec);
  void CheckDeadline(Deadline& d);
  void ArmRequestDeadline();
  void OnIdleDeadline();
  void OnLineDeadline();
  void OnHelloDeadline();
  void OnRequestDeadline();
  void OnLingerDeadline();

  // ---- closing
  void StartDraining();
  void MaybeFinish();
  void StartLingering();
  void Close();

  std::shared_ptr<Core> core_;
  Socket socket_;
  ConnectionSlot slot_;
  const bool tcp_;
  bool authenticated_;
  State state_ = State::kReading;
  std::string peer_address_;  // TCP: the client's IP address, for the HELLO guard

  std::vector<char> buf_;
  size_t begin_ = 0;  // start of the first unprocessed byte
  size_t end_ = 0;    // end of the bytes read
  bool read_in_progress_ = false;
  bool peer_eof_ = false;  // the client half-closed

  // Requests read whose reply has not been written to the socket yet (the pipelining cap).
  uint32_t outstanding_ = 0;
  uint64_t next_seq_ = 0;
  std::map<uint64_t, Pending> pending_;  // at the SignInService, by sequence number

  std::string queued_;  // replies waiting for the current write to finish
  uint32_t queued_count_ = 0;
  std::string writing_;
  uint32_t writing_count_ = 0;
  bool write_in_progress_ = false;
  bool flush_posted_ = false;  // a DoWrite of queued_ is posted to the strand

  // The user who last proved a second factor on this connection (VERIFY by user, TAP), for
  // REMEMBER; cleared when REMEMBER uses it.
  std::string mfa_user_;
  // SUBSCRIBE: from then on the connection carries events only.
  bool subscribed_ = false;
  std::shared_ptr<FeedLink> feed_link_;
  std::shared_ptr<service::FeedSubscription> subscription_;

  SteadyTime last_activity_;
  std::optional<SteadyTime> partial_since_;  // the buffer ends with a line begun then

  Deadline idle_;
  Deadline line_;
  Deadline hello_;
  Deadline request_;
  Deadline linger_;
};

}  // namespace otpd::server::internal

#endif  // OTPD_SERVER_INTERNAL_SESSION_H_
