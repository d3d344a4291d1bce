#include "server/metrics.h"

#include <cstdio>
#include <vector>

namespace otpd::server {
namespace {

// A label value with \, " and newlines escaped.
std::string Escape(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

class Writer {
 public:
  void Header(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP " + std::string(name) + " " + std::string(help) + "\n";
    out_ += "# TYPE " + std::string(name) + " " + std::string(type) + "\n";
  }
  void Sample(std::string_view name, std::string_view labels, double value) {
    out_ += std::string(name);
    if (!labels.empty()) out_ += "{" + std::string(labels) + "}";
    out_ += " " + Number(value) + "\n";
  }
  void One(std::string_view name, std::string_view type, std::string_view help, double value) {
    Header(name, type, help);
    Sample(name, "", value);
  }
  // A histogram whose observations are in `unit`s of the exported unit (1e-6 for microseconds
  // exported as seconds, 1 for counts).
  void Histogram(std::string_view name, std::string_view help, const base::Histogram& h,
                 double unit) {
    Header(name, "histogram", help);
    base::Histogram::Snapshot s = h.Read();
    const std::string bucket = std::string(name) + "_bucket";
    for (size_t i = 0; i < s.bounds.size(); ++i) {
      Sample(bucket, "le=\"" + Number(static_cast<double>(s.bounds[i]) * unit) + "\"",
             static_cast<double>(s.cumulative[i]));
    }
    Sample(bucket, "le=\"+Inf\"", static_cast<double>(s.count));
    Sample(std::string(name) + "_sum", "", static_cast<double>(s.sum) * unit);
    Sample(std::string(name) + "_count", "", static_cast<double>(s.count));
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

double Load(const std::atomic<uint64_t>& v) {
  return static_cast<double>(v.load(std::memory_order_relaxed));
}
double Load(const std::atomic<int64_t>& v) {
  return static_cast<double>(v.load(std::memory_order_relaxed));
}

void RenderValidate(Writer& w, const ValidateStats& v, const ServerStats* server) {
  constexpr std::string_view kEndpoints[] = {"check", "radiuscheck"};
  constexpr std::string_view kResults[] = {"accept", "reject", "challenge", "error"};
  w.Header("otpd_validate_requests_total", "counter",
           "Validate API requests answered, by endpoint and result.");
  for (size_t e = 0; e < ValidateStats::kEndpoints; ++e) {
    for (size_t r = 0; r < ValidateStats::kResults; ++r) {
      w.Sample("otpd_validate_requests_total",
               "endpoint=\"" + std::string(kEndpoints[e]) + "\",result=\"" +
                   std::string(kResults[r]) + "\"",
               static_cast<double>(v.Answers(static_cast<ValidateStats::Endpoint>(e),
                                             static_cast<ValidateStats::Result>(r))));
    }
  }
  w.One("otpd_validate_auth_failures_total", "counter",
        "Validate API requests whose client name or key was missing or wrong.",
        Load(v.auth_failed));
  w.One("otpd_validate_auth_throttled_total", "counter",
        "Validate API requests refused unread from an address that failed too often.",
        Load(v.auth_throttled));
  w.Header("otpd_validate_admitted_total", "counter",
           "Validate API requests admitted, by client and how: its key, or its networks "
           "(validate_without_key).");
  for (const ValidateStats::Admitted& a : v.AdmittedByClient()) {
    w.Sample("otpd_validate_admitted_total",
             "client=\"" + a.client + "\",by=\"" + (a.by_network ? "network" : "key") + "\"",
             static_cast<double>(a.count));
  }
  if (server != nullptr) {
    w.Histogram("otpd_validate_duration_seconds",
                "Time from a validate API request's parsing to its answer, for sign-ins.",
                server->latency_export, 1e-6);
  }
}

// One series per sink: what was delivered and retried, what waits, what was given up.
void WriteHookMetrics(Writer& w, const std::vector<service::SinkStats>& sinks) {
  struct Series {
    std::string_view name, type, help;
    double (*value)(const service::SinkStats&);
  };
  static const Series kSeries[] = {
      {"otpd_hook_delivered_total", "counter", "Events delivered to a hook since the start.",
       [](const service::SinkStats& s) { return static_cast<double>(s.delivered); }},
      {"otpd_hook_failed_attempts_total", "counter",
       "Delivery attempts that failed and will be retried or were given up, since the start.",
       [](const service::SinkStats& s) { return static_cast<double>(s.failed_attempts); }},
      {"otpd_hook_backlog_events", "gauge", "Events committed that a hook has not taken yet.",
       [](const service::SinkStats& s) { return static_cast<double>(s.backlog); }},
      {"otpd_hook_dead_letters", "gauge",
       "Events given up after every attempt, kept until redelivered (admin API).",
       [](const service::SinkStats& s) { return static_cast<double>(s.dead_letters); }},
      {"otpd_hook_disabled", "gauge", "1 when a hook answered 410 Gone and waits to be enabled.",
       [](const service::SinkStats& s) { return s.disabled ? 1.0 : 0.0; }},
  };
  for (const Series& series : kSeries) {
    w.Header(series.name, series.type, series.help);
    for (const service::SinkStats& sink : sinks) {
      w.Sample(series.name, "hook=\"" + Escape(sink.name) + "\"", series.value(sink));
    }
  }
}

}  // namespace

void RequestCounters::Count(std::string_view route, unsigned status) {
  base::MutexLock lock(mu_);
  ++counts_[{std::string(route), status}];
}

std::map<std::pair<std::string, unsigned>, uint64_t> RequestCounters::Snapshot() const {
  base::MutexLock lock(mu_);
  return counts_;
}

std::string RenderMetrics(const MetricsSources& src) {
  Writer w;
  if (src.verify != nullptr) {
    const ServerStats& v = *src.verify;
    w.Header("otpd_verify_total", "counter",
             "Sign-in requests (VERIFY, RESYNC) answered, by result.");
    w.Sample("otpd_verify_total", "result=\"accepted\"", Load(v.accepted));
    for (size_t i = 0; i < service::kOutcomeCount; ++i) {
      const auto outcome = static_cast<service::Outcome>(i);
      if (outcome == service::Outcome::kAccepted) continue;
      w.Sample("otpd_verify_total", "result=\"" + Escape(service::OutcomeReason(outcome)) + "\"",
               static_cast<double>(v.Failed(outcome)));
    }
    w.Histogram("otpd_verify_duration_seconds",
                "Time from reading a sign-in request to queuing its answer.", v.latency_export,
                1e-6);
    w.One("otpd_verify_requests_total", "counter", "Request lines received on the verify socket.",
          Load(v.requests));
    w.One("otpd_verify_in_flight", "gauge", "Sign-ins being decided now.", Load(v.in_flight));
    w.One("otpd_verify_connections", "gauge", "Open verify connections.", Load(v.connections));
    w.One("otpd_verify_connections_accepted_total", "counter", "Verify connections accepted.",
          Load(v.connections_accepted));
    w.One("otpd_verify_connections_refused_total", "counter",
          "Verify connections refused at the connection limit.", Load(v.connections_refused));
    w.One("otpd_verify_hellos_failed_total", "counter", "TCP HELLOs with a wrong client or key.",
          Load(v.hellos_failed));
    w.One("otpd_verify_hellos_throttled_total", "counter",
          "TCP HELLOs refused unread from an address that failed too often.",
          Load(v.hellos_throttled));
  }
  if (src.validate != nullptr) RenderValidate(w, *src.validate, src.validate_server);
  if (src.sign_in != nullptr) {
    const service::SignInServiceStats c = src.sign_in->stats();
    w.One("otpd_cache_hits_total", "counter", "Sign-ins decided from a cached user.",
          static_cast<double>(c.cache_hits));
    w.One("otpd_cache_misses_total", "counter", "Users loaded from storage for a sign-in.",
          static_cast<double>(c.cache_misses));
    w.One("otpd_cache_evictions_total", "counter", "Users dropped from the cache for room.",
          static_cast<double>(c.cache_evictions));
    w.One("otpd_cache_users", "gauge", "Users in the sign-in cache.",
          static_cast<double>(c.cache_users));
    w.One("otpd_cache_bytes", "gauge", "Approximate memory of the sign-in cache.",
          static_cast<double>(c.cache_bytes));
  }
  if (src.pipeline != nullptr) {
    const storage::CommitPipeline::Stats p = src.pipeline->stats();
    w.Header("otpd_commit_batches_total", "counter", "Write batches by how they ended.");
    w.Sample("otpd_commit_batches_total", "result=\"committed\"", static_cast<double>(p.committed));
    w.Sample("otpd_commit_batches_total", "result=\"aborted\"", static_cast<double>(p.aborted));
    w.Sample("otpd_commit_batches_total", "result=\"failed\"", static_cast<double>(p.failed));
    w.Sample("otpd_commit_batches_total", "result=\"rejected\"", static_cast<double>(p.rejected));
    w.One("otpd_commit_writes_total", "counter", "Grouped writes to the database.",
          static_cast<double>(p.groups));
    w.One("otpd_commit_syncs_total", "counter", "Grouped writes that were fsynced.",
          static_cast<double>(p.syncs));
    w.Histogram("otpd_commit_group_batches", "Batches committed together in one write.",
                src.pipeline->group_batches(), 1);
    w.Histogram("otpd_commit_sync_duration_seconds", "Duration of durable writes, fsync included.",
                src.pipeline->sync_micros(), 1e-6);
  }
  if (src.admin_http != nullptr) {
    const http::HttpServerStats& a = *src.admin_http;
    w.One("otpd_admin_connections", "gauge", "Open admin API connections.", Load(a.connections));
    w.One("otpd_admin_connections_refused_total", "counter",
          "Admin connections refused at the connection limit.", Load(a.connections_refused));
    w.One("otpd_admin_timeouts_total", "counter",
          "Admin connections closed for a header, body or write timeout.", Load(a.timeouts));
    w.One("otpd_admin_connections_evicted_total", "counter",
          "Unauthenticated admin connections closed to make room for a new one.", Load(a.evicted));
  }
  if (src.admin_requests != nullptr) {
    w.Header("otpd_admin_requests_total", "counter", "Admin API requests by route and status.");
    for (const auto& [key, count] : src.admin_requests->Snapshot()) {
      w.Sample("otpd_admin_requests_total",
               "route=\"" + Escape(key.first) + "\",code=\"" + std::to_string(key.second) + "\"",
               static_cast<double>(count));
    }
  }
  if (src.hooks != nullptr) WriteHookMetrics(w, src.hooks->Stats());
  return w.Take();
}

}  // namespace otpd::server
