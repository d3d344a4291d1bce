// LatencyHistogram counts durations in microseconds into log-linear buckets (16 per power of
// two, so a percentile is reported within 1/16 = 6.25% of the true value) and tracks the exact
// maximum. Recording is a relaxed atomic increment: cheap enough for every request.
//
// Thread-safety: Record and Percentile may be called from any thread concurrently; a
// percentile read while others record is a consistent-enough snapshot for monitoring.

#ifndef OTPD_SERVER_LATENCY_HISTOGRAM_H_
#define OTPD_SERVER_LATENCY_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace otpd::server {

class LatencyHistogram {
 public:
  LatencyHistogram() = default;
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  void Record(uint64_t micros);

  uint64_t Count() const;
  uint64_t Max() const { return max_.load(std::memory_order_relaxed); }
  // The upper bound of the bucket holding the q-quantile (0 < q <= 1), capped at Max(); 0 when
  // nothing was recorded.
  uint64_t Percentile(double q) const;

  // Bucket geometry, exposed for tests.
  static size_t BucketOf(uint64_t micros);
  static uint64_t BucketUpperBound(size_t bucket);

 private:
  static constexpr int kSubBits = 4;
  static constexpr size_t kSub = size_t{1} << kSubBits;
  // Values below kSub get one bucket each; then kSub buckets per power of two up to 2^63.
  static constexpr size_t kBuckets = kSub + (64 - kSubBits) * kSub;

  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> max_{0};
};

}  // namespace otpd::server

#endif  // OTPD_SERVER_LATENCY_HISTOGRAM_H_
