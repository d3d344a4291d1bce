// OutboxFeed (service/hooks/hooks.h): the EventFeed behind SUBSCRIBE, one thread reading the outbox
// for every subscriber.

#include <algorithm>

#include "base/thread_name.h"
#include "service/hooks/hooks.h"

namespace otpd::service {

struct OutboxFeed::Sub final : FeedSubscription {
  std::atomic<bool> cancelled{false};
  uint64_t next = 1;  // only the feed's thread touches it after Subscribe
  std::function<bool(std::vector<FeedEvent>)> deliver;
  void Cancel() override { cancelled.store(true); }
};

OutboxFeed::OutboxFeed(const storage::Store& store, FeedOptions options)
    : store_(store), options_(options) {
  thread_ = std::thread([this] {
    base::SetCurrentThreadName("otpd-feed");
    Run();
  });
}

OutboxFeed::~OutboxFeed() { Stop(); }

void OutboxFeed::Stop() {
  if (stopping_.exchange(true)) return;
  NotifyOutbox();
  if (thread_.joinable()) thread_.join();
  base::MutexLock lock(mu_);
  subs_.clear();
}

uint64_t OutboxFeed::NextSequence() const {
  auto last = LastEventSequence(store_);
  return (last.ok() ? *last : 0) + 1;
}

size_t OutboxFeed::subscribers() const {
  base::MutexLock lock(mu_);
  return subs_.size();
}

std::shared_ptr<FeedSubscription> OutboxFeed::Subscribe(
    uint64_t from, std::function<bool(std::vector<FeedEvent>)> deliver) {
  auto sub = std::make_shared<Sub>();
  sub->next = from == 0 ? NextSequence() : from;
  sub->deliver = std::move(deliver);
  {
    base::MutexLock lock(mu_);
    if (stopping_.load() || subs_.size() >= options_.max_subscribers) return nullptr;
    subs_.push_back(sub);
  }
  NotifyOutbox();
  return sub;
}

void OutboxFeed::Run() {
  while (!stopping_.load()) {
    const uint64_t seen = OutboxGeneration();
    std::vector<std::shared_ptr<Sub>> subs;
    {
      base::MutexLock lock(mu_);
      subs = subs_;
    }
    bool progress = false;
    std::vector<Sub*> dropped;
    for (const auto& sub : subs) {
      if (sub->cancelled.load() || sub.use_count() <= 2) {  // cancelled, or its owner is gone
        dropped.push_back(sub.get());
        continue;
      }
      std::vector<FeedEvent> batch;
      base::Status s = ReadEvents(store_, sub->next - 1, options_.batch, [&](OutboxEvent e) {
        batch.push_back(ToFeedEvent(e));
        return true;
      });
      if (!s.ok() || batch.empty()) continue;
      progress = true;
      sub->next = batch.back().seq + 1;
      if (!sub->deliver(std::move(batch))) dropped.push_back(sub.get());
    }
    if (!dropped.empty()) {
      base::MutexLock lock(mu_);
      std::erase_if(subs_, [&](const std::shared_ptr<Sub>& s) {
        return std::find(dropped.begin(), dropped.end(), s.get()) != dropped.end();
      });
    }
    subs.clear();
    if (!progress) WaitForOutbox(seen, options_.poll);
  }
}

}  // namespace otpd::service
