#include "base/thread_name.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <string>
#include <thread>

namespace otpd::base {
namespace {

std::string NameOfThisThread() {
  char buf[32] = {};
  pthread_getname_np(pthread_self(), buf, sizeof(buf));
  return buf;
}

TEST(ThreadNameTest, NamesTheCallingThreadAndCutsLongNames) {
  std::string short_name, long_name;
  std::thread([&] {
    SetCurrentThreadName("otpd-commit");
    short_name = NameOfThisThread();
    SetCurrentThreadName("otpd-a-name-far-too-long");
    long_name = NameOfThisThread();
  }).join();
  EXPECT_EQ(short_name, "otpd-commit");
  EXPECT_EQ(long_name, "otpd-a-name-far");  // 15 bytes
}

}  // namespace
}  // namespace otpd::base
