#include "server/io_runner.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <string>
#include <utility>

#include "base/thread_name.h"

namespace otpd::server {

IoRunner::IoRunner(uint32_t threads, std::string name, int nice)
    : threads_(threads == 0 ? 1 : threads),
      name_(std::move(name)),
      nice_(nice),
      io_(static_cast<int>(threads_)) {}

IoRunner::~IoRunner() { Stop(); }

void IoRunner::Start() {
  if (!running_.empty()) return;
  work_.emplace(boost::asio::make_work_guard(io_));
  for (uint32_t i = 0; i < threads_; ++i) {
    running_.emplace_back([this, i] {
      base::SetCurrentThreadName(name_ + "-" + std::to_string(i));
      if (nice_ > 0) base::LowerCurrentThreadPriority(nice_);
      while (true) {
        try {
          io_.run();
          return;
        } catch (const std::exception& e) {
          // Our handlers do not throw; this is a defect elsewhere. Keep serving.
          spdlog::error("io thread caught an exception: {}", e.what());
        }
      }
    });
  }
}

void IoRunner::Stop() {
  work_.reset();
  io_.stop();
  for (auto& t : running_) t.join();
  running_.clear();
}

}  // namespace otpd::server
