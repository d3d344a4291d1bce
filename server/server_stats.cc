#include "server/server_stats.h"

#include "server/protocol.h"

namespace otpd::server {

std::string FormatStatsReply(std::string_view id, const ServerStats& stats,
                             const service::SignInServiceStats& service) {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  ReplyBuilder b = ReplyBuilder::Ok(id);
  b.AddUnsigned("requests", stats.requests.load(kRelaxed));
  b.AddUnsigned("accepted", stats.accepted.load(kRelaxed));
  for (size_t i = 1; i < service::kOutcomeCount; ++i) {
    b.AddUnsigned(service::OutcomeReason(static_cast<service::Outcome>(i)),
                  stats.failed[i].load(kRelaxed));
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
  b.AddUnsigned("hellos_failed", stats.hellos_failed.load(kRelaxed));
  b.AddUnsigned("hellos_throttled", stats.hellos_throttled.load(kRelaxed));
  b.AddUnsigned("cache_hits", service.cache_hits);
  b.AddUnsigned("cache_misses", service.cache_misses);
  b.AddUnsigned("cache_evictions", service.cache_evictions);
  b.AddUnsigned("cache_users", service.cache_users);
  b.AddUnsigned("cache_bytes", service.cache_bytes);
  return std::move(b).Finish();
}

void ValidateStats::CountAdmitted(std::string_view client, bool by_network) {
  base::MutexLock lock(admitted_mu_);
  ++admitted_[{std::string(client), by_network}];
}

std::vector<ValidateStats::Admitted> ValidateStats::AdmittedByClient() const {
  std::vector<Admitted> out;
  base::MutexLock lock(admitted_mu_);
  for (const auto& [key, count] : admitted_) out.push_back(Admitted{key.first, key.second, count});
  return out;
}

}  // namespace otpd::server
