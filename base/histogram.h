// Histogram counts observations into a few fixed buckets, the way Prometheus histograms are
// exported: for each upper bound, how many observations were <= it, plus their count and sum.
// Recording is two relaxed atomic increments and a short search among the bounds, cheap enough
// for every request. (server/latency_histogram.h keeps fine-grained buckets for percentiles; this
// one is for export, with bounds chosen by whoever reads them.)
//
// Thread-safety: Observe and Snapshot may be called from any thread concurrently; a snapshot taken
// while others observe is consistent enough for monitoring (each counter is read once).

#ifndef OTPD_BASE_HISTOGRAM_H_
#define OTPD_BASE_HISTOGRAM_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace otpd::base {

class Histogram {
 public:
  // `bounds` must be increasing; an implicit +Inf bucket follows the last.
  explicit Histogram(std::vector<uint64_t> bounds)
      : bounds_(std::move(bounds)),
        counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {}
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(uint64_t value) {
    size_t i = 0;
    while (i < bounds_.size() && value > bounds_[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
  }

  struct Snapshot {
    std::vector<uint64_t> bounds;
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (== count)
    uint64_t count = 0;
    uint64_t sum = 0;
  };
  Snapshot Read() const {
    Snapshot s;
    s.bounds = bounds_;
    s.cumulative.reserve(bounds_.size() + 1);
    uint64_t running = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      running += counts_[i].load(std::memory_order_relaxed);
      s.cumulative.push_back(running);
    }
    s.count = running;
    s.sum = sum_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  const std::vector<uint64_t> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<uint64_t> sum_{0};
};

// Latency bounds in microseconds from 50 µs to 10 s, for request and write durations.
inline std::vector<uint64_t> LatencyBoundsMicros() {
  return {50,    100,    250,    500,    1000,    2500,    5000,    10000,   25000,
          50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
}

}  // namespace otpd::base

#endif  // OTPD_BASE_HISTOGRAM_H_
