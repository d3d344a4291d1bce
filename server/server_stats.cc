#include "server/server_stats.h"

#include "server/protocol.h"

namespace otpd::server {

std::string_view FailReasonName(FailReason reason) {
  switch (reason) {
    case FailReason::kBadCode:
      return "bad_code";
    case FailReason::kReplayed:
      return "replayed";
    case FailReason::kLocked:
      return "locked";
    case FailReason::kDrift:
      return "drift";
    case FailReason::kNotActivated:
      return "not_activated";
    case FailReason::kRegistrationRequired:
      return "registration_required";
    case FailReason::kNoMethod:
      return "no_method";
    case FailReason::kUnknownUser:
      return "unknown_user";
    case FailReason::kBadRequest:
      return kReasonBadRequest;
    case FailReason::kUnavailable:
      return kReasonUnavailable;
    case FailReason::kUnauthorized:
      return kReasonUnauthorized;
  }
  return kReasonUnavailable;
}

FailReason FailReasonOf(service::Outcome outcome) {
  using service::Outcome;
  switch (outcome) {
    case Outcome::kBadCode:
      return FailReason::kBadCode;
    case Outcome::kReplayed:
      return FailReason::kReplayed;
    case Outcome::kLocked:
      return FailReason::kLocked;
    case Outcome::kDrift:
      return FailReason::kDrift;
    case Outcome::kNotActivated:
      return FailReason::kNotActivated;
    case Outcome::kRegistrationRequired:
      return FailReason::kRegistrationRequired;
    case Outcome::kNoMethod:
      return FailReason::kNoMethod;
    case Outcome::kUnknownUser:
      return FailReason::kUnknownUser;
    case Outcome::kBadRequest:
      return FailReason::kBadRequest;
    case Outcome::kAccepted:
    case Outcome::kUnavailable:
      return FailReason::kUnavailable;
  }
  return FailReason::kUnavailable;
}

std::string FormatStatsReply(std::string_view id, const ServerStats& stats) {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  ReplyBuilder b = ReplyBuilder::Ok(id);
  b.AddUnsigned("requests", stats.requests.load(kRelaxed));
  b.AddUnsigned("accepted", stats.accepted.load(kRelaxed));
  for (size_t i = 0; i < kFailReasonCount; ++i) {
    b.AddUnsigned(FailReasonName(static_cast<FailReason>(i)), stats.failed[i].load(kRelaxed));
  }
  b.Add("in_flight", stats.in_flight.load(kRelaxed));
  b.Add("connections", stats.connections.load(kRelaxed));
  b.AddUnsigned("connections_accepted", stats.connections_accepted.load(kRelaxed));
  b.AddUnsigned("connections_refused", stats.connections_refused.load(kRelaxed));
  b.AddUnsigned("latency_count", stats.latency.Count());
  b.AddUnsigned("p50_us", stats.latency.Percentile(0.50));
  b.AddUnsigned("p90_us", stats.latency.Percentile(0.90));
  b.AddUnsigned("p99_us", stats.latency.Percentile(0.99));
  b.AddUnsigned("max_us", stats.latency.Max());
  return std::move(b).Finish();
}

}  // namespace otpd::server
