#include "server/latency_histogram.h"

#include <bit>
#include <cmath>

namespace otpd::server {

size_t LatencyHistogram::BucketOf(uint64_t micros) {
  if (micros < kSub) return static_cast<size_t>(micros);
  int top = 63 - std::countl_zero(micros);  // >= kSubBits
  int shift = top - kSubBits;
  size_t sub = static_cast<size_t>(micros >> shift) & (kSub - 1);
  return kSub + static_cast<size_t>(shift) * kSub + sub;
}

uint64_t LatencyHistogram::BucketUpperBound(size_t bucket) {
  if (bucket < kSub) return bucket;
  size_t shift = (bucket - kSub) / kSub;
  uint64_t sub = (bucket - kSub) % kSub;
  uint64_t low = (uint64_t{kSub} + sub) << shift;
  return low + ((uint64_t{1} << shift) - 1);
}

void LatencyHistogram::Record(uint64_t micros) {
  buckets_[BucketOf(micros)].fetch_add(1, std::memory_order_relaxed);
  uint64_t seen = max_.load(std::memory_order_relaxed);
  while (micros > seen && !max_.compare_exchange_weak(seen, micros, std::memory_order_relaxed)) {
  }
}

uint64_t LatencyHistogram::Count() const {
  uint64_t total = 0;
  for (const auto& b : buckets_) total += b.load(std::memory_order_relaxed);
  return total;
}

uint64_t LatencyHistogram::Percentile(double q) const {
  uint64_t total = Count();
  if (total == 0) return 0;
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total)));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank) {
      uint64_t bound = BucketUpperBound(i);
      uint64_t max = Max();
      return bound < max ? bound : max;
    }
  }
  return Max();
}

}  // namespace otpd::server
