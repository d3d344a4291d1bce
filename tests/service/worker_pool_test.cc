#include "service/signin/worker_pool.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <vector>

namespace otpd::service {
namespace {

TEST(WorkerPoolTest, ThreadsCarryThePoolsName) {
  WorkerPool pool(2, 10, "otpd-load");
  for (size_t key : {0, 1}) {
    std::promise<std::string> name;
    ASSERT_TRUE(pool.TrySubmit(key, [&] {
      char buf[16] = {};
      pthread_getname_np(pthread_self(), buf, sizeof(buf));
      name.set_value(buf);
    }));
    EXPECT_EQ(name.get_future().get(), "otpd-load-" + std::to_string(key));
  }
}

TEST(WorkerPoolTest, SameKeyRunsInOrder) {
  std::mutex mu;
  std::vector<int> order[3];
  {
    WorkerPool pool(3, 1000);
    for (int i = 0; i < 300; ++i) {
      const size_t key = static_cast<size_t>(i % 3);
      ASSERT_TRUE(pool.TrySubmit(key, [&, key, i] {
        std::lock_guard lock(mu);
        order[key].push_back(i);
      }));
    }
  }  // the destructor runs everything queued
  for (size_t k = 0; k < 3; ++k) {
    ASSERT_EQ(order[k].size(), 100u);
    for (size_t j = 1; j < order[k].size(); ++j) EXPECT_LT(order[k][j - 1], order[k][j]);
  }
}

TEST(WorkerPoolTest, FullQueueRefusesInsteadOfGrowing) {
  WorkerPool pool(1, 2);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.TrySubmit(0, [gate, &ran] {
    gate.wait();
    ++ran;
  }));
  // The queue holds two: one or two more fit, depending on whether the blocked task has been
  // taken off it yet; the rest are refused.
  int accepted = 0;
  for (int i = 0; i < 5; ++i) accepted += pool.TrySubmit(0, [&ran] { ++ran; });
  EXPECT_GE(accepted, 1);
  EXPECT_LE(accepted, 2);
  release.set_value();
  // Wait until all accepted tasks ran.
  while (ran.load() < 1 + accepted) std::this_thread::yield();
  EXPECT_EQ(ran.load(), 1 + accepted);
}

}  // namespace
}  // namespace otpd::service
