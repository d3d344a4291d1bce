// ServerStats: the verify server's counters and latency histogram, as STATS reports them.
//
// Thread-safety: every member may be updated and read from any thread (relaxed atomics).

#ifndef OTPD_SERVER_SERVER_STATS_H_
#define OTPD_SERVER_SERVER_STATS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/histogram.h"
#include "base/mutex.h"
#include "server/latency_histogram.h"
#include "service/signin/sign_in.h"

namespace otpd::server {

struct ServerStats {
  // Request lines received (well-formed or not).
  std::atomic<uint64_t> requests{0};
  // VERIFY and RESYNC answered OK.
  std::atomic<uint64_t> accepted{0};
  // FAIL replies by reason (indexed by service::Outcome; kAccepted is unused).
  std::array<std::atomic<uint64_t>, service::kOutcomeCount> failed{};
  // VERIFY/RESYNC calls handed to the SignInService whose callback has not run yet.
  std::atomic<int64_t> in_flight{0};
  // TCP HELLOs refused for a wrong client or key, and refused unread (the address had failed
  // too often).
  std::atomic<uint64_t> hellos_failed{0};
  std::atomic<uint64_t> hellos_throttled{0};
  // Open connections, and connections accepted / refused (max_connections) since start.
  std::atomic<int64_t> connections{0};
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_refused{0};
  // Time from reading a VERIFY/RESYNC line to queuing its reply, in microseconds.
  LatencyHistogram latency;
  // The same durations in the few buckets /metrics exports (otpd_verify_duration_seconds).
  base::Histogram latency_export{base::LatencyBoundsMicros()};

  void RecordLatency(uint64_t micros) {
    latency.Record(micros);
    latency_export.Observe(micros);
  }

  void CountFail(service::Outcome reason) {
    failed[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t Failed(service::Outcome reason) const {
    return failed[static_cast<size_t>(reason)].load(std::memory_order_relaxed);
  }
};

// The validate listener's answers by endpoint and result, and its failed client
// authentications (/metrics: otpd_validate_*; docs/validate-api.md).
struct ValidateStats {
  enum Endpoint : uint8_t { kCheck, kRadiusCheck };
  static constexpr size_t kEndpoints = 2;
  // accept: a sign-in accepted; reject: a sign-in refused (wrong, replayed, locked, unknown user
  // or transaction, too many challenges); challenge: a phone code sent; error: no decision (bad
  // parameters, client authentication, overload, storage, another path).
  enum Result : uint8_t { kAccept, kReject, kChallenge, kError };
  static constexpr size_t kResults = 4;

  std::array<std::array<std::atomic<uint64_t>, kResults>, kEndpoints> answers{};
  // Requests whose client did not authenticate, and requests refused unread from an address
  // that failed too often.
  std::atomic<uint64_t> auth_failed{0};
  std::atomic<uint64_t> auth_throttled{0};

  void Count(Endpoint endpoint, Result result) {
    answers[endpoint][result].fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t Answers(Endpoint endpoint, Result result) const {
    return answers[endpoint][result].load(std::memory_order_relaxed);
  }

  // Requests admitted, by the configured client they came from and how: by its key, or by its
  // networks without credentials (validate_without_key). Only configured names are counted, so
  // the series are bounded by the configuration.
  struct Admitted {
    std::string client;
    bool by_network = false;
    uint64_t count = 0;
  };
  void CountAdmitted(std::string_view client, bool by_network);
  std::vector<Admitted> AdmittedByClient() const;  // in name order, key before network

 private:
  mutable base::Mutex admitted_mu_;
  std::map<std::pair<std::string, bool>, uint64_t> admitted_ OTPD_GUARDED_BY(admitted_mu_);
};

// `OK id requests=.. accepted=.. bad_code=.. ... in_flight=.. connections=.. p50_us=.. p90_us=..
// p99_us=.. max_us=.. cache_hits=.. ...`, LF-terminated (docs/protocol.md lists every key).
std::string FormatStatsReply(std::string_view id, const ServerStats& stats,
                             const service::SignInServiceStats& service);

}  // namespace otpd::server

#endif  // OTPD_SERVER_SERVER_STATS_H_
