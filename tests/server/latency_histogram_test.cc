#include "server/latency_histogram.h"

#include <gtest/gtest.h>

namespace otpd::server {
namespace {

TEST(LatencyHistogramTest, BucketsCoverEveryValueWithinSixPercent) {
  for (uint64_t v : {0ull, 1ull, 15ull, 16ull, 17ull, 31ull, 32ull, 33ull, 1000ull, 123456ull,
                     (1ull << 40) + 12345, ~0ull}) {
    size_t b = LatencyHistogram::BucketOf(v);
    uint64_t upper = LatencyHistogram::BucketUpperBound(b);
    EXPECT_GE(upper, v) << v;
    EXPECT_LE(static_cast<double>(upper - v), static_cast<double>(v) / 16.0 + 1) << v;
    if (b > 0) {
      EXPECT_LT(LatencyHistogram::BucketUpperBound(b - 1), v) << v;
    }
  }
}

TEST(LatencyHistogramTest, Percentiles) {
  LatencyHistogram h;
  EXPECT_EQ(h.Percentile(0.5), 0u);
  for (uint64_t v = 1; v <= 1000; ++v) h.Record(v);
  EXPECT_EQ(h.Count(), 1000u);
  EXPECT_EQ(h.Max(), 1000u);
  uint64_t p50 = h.Percentile(0.5);
  uint64_t p99 = h.Percentile(0.99);
  EXPECT_GE(p50, 500u);
  EXPECT_LE(p50, 532u);
  EXPECT_GE(p99, 990u);
  EXPECT_LE(p99, 1000u);  // capped at the maximum
  h.Record(1'000'000);
  EXPECT_EQ(h.Max(), 1'000'000u);
  EXPECT_EQ(h.Percentile(1.0), 1'000'000u);
}

}  // namespace
}  // namespace otpd::server
