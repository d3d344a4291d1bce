// Session's verbs: HELLO, PING, STATS, the sign-in and factor verbs handed to the services, the
// self-service actions and SUBSCRIBE, and the completions that bring the services' answers back
// to the connection's executor. The reading, writing and deadlines are in session.cc.

#include <boost/asio/post.hpp>
#include <charconv>
#include <utility>

#include "server/internal/session.h"

#ifndef OTPD_VERSION
#define OTPD_VERSION "0"
#endif

namespace otpd::server::internal {
namespace {

namespace asio = boost::asio;

// The SignInService callback. It keeps the io_context (in the runner) alive until it has
// posted; members are destroyed in reverse order, the executor before the runner.
struct Completion {
  std::shared_ptr<IoRunner> runner;
  std::shared_ptr<Core> core;
  asio::any_io_executor executor;
  std::weak_ptr<Session> session;
  uint64_t seq;
};

// A subscriber whose unwritten events pass this is cut off (it does not read): its backlog never
// grows without bound, and the feed never waits for it.
constexpr size_t kMaxSubscriberBacklog = 1 << 20;

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

// ---- verbs -----------------------------------------------------------------------------------

void Session::OnHello(const Request& request) {
  if (request.version != kProtocolVersionText) {
    core_->stats().CountFail(service::Outcome::kBadRequest);
    Reply(ReplyBuilder::Fail(request.id, service::OutcomeReason(service::Outcome::kBadRequest))
              .Add("version", kProtocolVersionText)
              .Finish());
    if (!authenticated_) StartDraining();
    return;
  }
  if (tcp_ && !core_->allow_unauthenticated_tcp()) {
    HelloGuard& guard = core_->hello_guard();
    if (!guard.Allowed(peer_address_)) {
      RefuseHello(request.id, peer_address_, /*throttled=*/true);
      return;
    }
    if (request.client.empty() || !core_->Authenticate(request.client, request.key)) {
      RefuseHello(request.id, peer_address_, /*throttled=*/false);
      return;
    }
    authenticated_ = true;
    Disarm(hello_);
  }
  Reply(FormatHelloOk(request.id, OTPD_VERSION));
}

void Session::RefuseHello(std::string_view id, std::string_view address, bool throttled) {
  core_->hello_guard().Failed(address, core_->max_failed_hellos(), throttled);
  (throttled ? core_->stats().hellos_throttled : core_->stats().hellos_failed)
      .fetch_add(1, std::memory_order_relaxed);
  authenticated_ = false;
  ReplyFail(id, service::Outcome::kUnauthorized);
  StartDraining();
}

void Session::OnPing(const Request& request) { Reply(ReplyBuilder::Ok(request.id).Finish()); }

void Session::OnStats(const Request& request) {
  Reply(FormatStatsReply(request.id, core_->stats(), core_->service()->stats()));
}

bool Session::BeginPending(const Request& request, uint64_t* seq) {
  auto& in_flight = core_->stats().in_flight;
  if (in_flight.fetch_add(1, std::memory_order_relaxed) >=
      static_cast<int64_t>(core_->max_in_flight())) {
    in_flight.fetch_sub(1, std::memory_order_relaxed);
    ReplyFail(request.id, service::Outcome::kUnavailable);
    return false;
  }
  *seq = next_seq_++;
  SteadyTime now = Now();
  Pending p{std::string(request.id), now, now + core_->request_deadline(), request.verb, {}};
  if (DescribeVerb(request.verb).proves_mfa && !request.user.empty()) {
    p.user = Lower(request.user);
  }
  pending_.emplace(*seq, std::move(p));
  ArmRequestDeadline();
  return true;
}

void Session::OnSignIn(const VerbSpec& spec, const Request& request) {
  uint64_t seq;
  if (!BeginPending(request, &seq)) return;
  spec.sign_in(*core_->service(), request, MakeCallback(seq));
}

void Session::OnAction(const VerbSpec& spec, const Request& request) {
  service::SelfService* self_service = core_->self_service();
  if (self_service == nullptr) {
    ReplyFail(request.id, service::Outcome::kUnavailable);
    return;
  }
  if (spec.needs_proven_mfa) {
    // Only right after this connection saw the same user prove a second factor; once.
    const std::string user = Lower(request.user);
    const bool proven = !mfa_user_.empty() && mfa_user_ == user;
    mfa_user_.clear();
    if (!proven) {
      ReplyFail(request.id, service::Outcome::kRefused);
      return;
    }
  }
  uint64_t seq;
  if (!BeginPending(request, &seq)) return;
  spec.action(*self_service, request, MakeActionCallback(seq));
}

service::ActionCallback Session::MakeActionCallback(uint64_t seq) {
  Completion c{core_->runner(), core_, socket_.get_executor(), weak_from_this(), seq};
  return [c = std::move(c)](service::ActionResult result) {
    c.core->stats().in_flight.fetch_sub(1, std::memory_order_relaxed);
    if (!c.runner) return;
    asio::post(c.executor,
               [session = c.session, seq = c.seq, result = std::move(result)]() mutable {
                 if (auto self = session.lock()) self->OnActionResult(seq, std::move(result));
               });
  };
}

void Session::OnActionResult(uint64_t seq, service::ActionResult result) {
  auto it = pending_.find(seq);
  if (it == pending_.end()) return;
  core_->stats().RecordLatency(MicrosSince(it->second.start, Now()));
  if (result.outcome == service::Outcome::kAccepted) {
    core_->stats().accepted.fetch_add(1, std::memory_order_relaxed);
  } else {
    core_->stats().CountFail(result.outcome);
  }
  std::string reply = FormatActionReply(it->second.id, result);
  Reply(std::move(reply));  // a session token or an otpauth URI, for this client only
  pending_.erase(it);
  MaybeFinish();
}

void Session::OnSubscribe(const Request& request) {
  service::EventFeed* feed = core_->feed();
  if (feed == nullptr || !pending_.empty()) {
    // Without a feed, or with answers still to come (they would mix with the events).
    ReplyFail(request.id,
              feed == nullptr ? service::Outcome::kUnavailable : service::Outcome::kBadRequest);
    return;
  }
  uint64_t from = 0;
  if (!request.from.empty()) {
    std::from_chars(request.from.data(), request.from.data() + request.from.size(), from);
  }
  auto link = std::make_shared<FeedLink>();
  Completion c{core_->runner(), core_, socket_.get_executor(), weak_from_this(), 0};
  const uint64_t next = from == 0 ? feed->NextSequence() : from;
  auto subscription = feed->Subscribe(next, [c, link](std::vector<service::FeedEvent> events) {
    if (link->cut.load() || !c.runner) return false;
    std::string text;
    for (const auto& e : events) text += FormatEventLine(e);
    if (link->in_transit.load() + link->buffered.load() + text.size() > kMaxSubscriberBacklog) {
      // It does not read: cut off rather than buffer without end.
      link->cut.store(true);
      asio::post(c.executor, [session = c.session] {
        if (auto self = session.lock()) self->Close();
      });
      return false;
    }
    link->in_transit.fetch_add(text.size());
    asio::post(c.executor, [session = c.session, text = std::move(text)]() mutable {
      if (auto self = session.lock()) self->OnFeedEvents(std::move(text));
    });
    return true;
  });
  if (subscription == nullptr) {
    ReplyFail(request.id, service::Outcome::kUnavailable);  // too many subscribers
    return;
  }
  subscribed_ = true;
  feed_link_ = std::move(link);
  subscription_ = std::move(subscription);
  Disarm(idle_);  // a subscriber may stay silent
  Reply(ReplyBuilder::Ok(request.id).AddUnsigned("next", next).Finish());
}

void Session::OnFeedEvents(std::string text) {
  feed_link_->in_transit.fetch_sub(text.size());
  if (state_ != State::kReading) return;  // closing: the peer went or the server stops
  if (queued_.empty()) {
    queued_ = std::move(text);
  } else {
    queued_.append(text);
  }
  feed_link_->buffered.store(queued_.size() + writing_.size());
  if (!write_in_progress_) DoWrite();
}

service::SignInCallback Session::MakeCallback(uint64_t seq) {
  Completion c{core_->runner(), core_, socket_.get_executor(), weak_from_this(), seq};
  return [c = std::move(c)](service::SignInResult result) {
    c.core->stats().in_flight.fetch_sub(1, std::memory_order_relaxed);
    if (!c.runner) return;  // the server is gone
    asio::post(c.executor,
               [session = c.session, seq = c.seq, result = std::move(result)]() mutable {
                 if (auto self = session.lock()) self->OnServiceResult(seq, std::move(result));
               });
  };
}

void Session::OnServiceResult(uint64_t seq, service::SignInResult result) {
  auto it = pending_.find(seq);
  if (it == pending_.end()) return;  // answered `unavailable` at the deadline, or closed
  core_->stats().RecordLatency(MicrosSince(it->second.start, Now()));
  const Verb verb = it->second.verb;
  if (result.outcome == service::Outcome::kAccepted) {
    core_->stats().accepted.fetch_add(1, std::memory_order_relaxed);
    if (!it->second.user.empty()) mfa_user_ = it->second.user;  // a second factor, proven
  } else {
    core_->stats().CountFail(result.outcome);
  }
  Reply(DescribeVerb(verb).reply(it->second.id, result));
  pending_.erase(it);
  MaybeFinish();
}

}  // namespace otpd::server::internal
