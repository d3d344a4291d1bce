#include "service/hooks/hooks.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <utility>

#include "base/secret_bytes.h"
#include "base/thread_name.h"
#include "service/internal/hook_worker.h"

namespace otpd::service {
namespace json = boost::json;
using storage::Namespace;

namespace {

bool IsSinkName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

std::optional<uint64_t> ParseDecimal(std::string_view text) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

// Read back by DecodeDeadLetter (hook_admin.cc).
std::string EncodeDeadLetter(const DeadLetter& d) {
  json::object o;
  o["seq"] = d.seq;
  o["event_id"] = d.event_id;
  o["type"] = d.type;
  if (!d.user.empty()) o["user"] = d.user;
  o["attempts"] = d.attempts;
  o["time"] = d.time;
  o["last_error"] = d.last_error;
  return json::serialize(o);
}

}  // namespace

std::string HookCursorKey(std::string_view sink) {
  return "hooks/" + std::string(sink) + "/cursor";
}
std::string HookDisabledKey(std::string_view sink) {
  return "hooks/" + std::string(sink) + "/disabled";
}
std::string HookDeadLetterPrefix(std::string_view sink) {
  return "hooks/" + std::string(sink) + "/dead/";
}

std::chrono::milliseconds RetrySchedule::Delay(uint32_t failed_attempts) const {
  std::chrono::milliseconds d = initial;
  for (uint32_t i = 1; i < failed_attempts && d < max; ++i) d *= 2;
  return std::min(d, max);
}

HookDispatcher::HookDispatcher(storage::Store& store, const storage::KeyRing& keys,
                               const base::Clock& clock, HookOptions options)
    : store_(store), keys_(keys), clock_(clock), options_(std::move(options)) {}

HookDispatcher::~HookDispatcher() { Stop(); }

base::Status HookDispatcher::AddSink(std::string name, std::unique_ptr<EventSink> sink,
                                     RetrySchedule retry) {
  if (started_) return base::FailedPreconditionError("sinks are added before Start");
  if (!IsSinkName(name)) {
    return base::InvalidArgumentError("hook names are 1..64 of [A-Za-z0-9._-]");
  }
  if (Find(name) != nullptr)
    return base::InvalidArgumentError("hook " + name + " is defined twice");
  if (retry.attempts == 0 || retry.initial.count() <= 0 || retry.max < retry.initial) {
    return base::InvalidArgumentError("hook " + name + ": the retry schedule is not valid");
  }
  auto w = std::make_unique<Worker>();
  w->name = std::move(name);
  w->sink = std::move(sink);
  w->retry = retry;
  workers_.push_back(std::move(w));
  return base::OkStatus();
}

HookDispatcher::Worker* HookDispatcher::Find(std::string_view name) const {
  for (const auto& w : workers_) {
    if (w->name == name) return w.get();
  }
  return nullptr;
}

base::Status HookDispatcher::Start() {
  if (started_) return base::FailedPreconditionError("HookDispatcher::Start called twice");
  started_ = true;
  OTPD_ASSIGN_OR_RETURN(const uint64_t last, LastEventSequence(store_));
  for (auto& w : workers_) {
    OTPD_ASSIGN_OR_RETURN(auto cursor, store_.Get(Namespace::kMeta, HookCursorKey(w->name)));
    uint64_t position = last;
    uint64_t version = 1;
    if (cursor) {
      std::optional<uint64_t> parsed = ParseDecimal(cursor->value);
      if (!parsed) return base::DataLossError("the cursor of hook " + w->name + " is malformed");
      position = *parsed;
      version = cursor->version;
    } else {
      // A new sink begins with what happens from now on. Its cursor is recorded now, durably,
      // so that a restart before its first delivery does not move it past events meanwhile. When
      // another node sharing the store recorded one first, that one counts.
      storage::WriteBatch batch;
      batch.RequireVersion(Namespace::kMeta, HookCursorKey(w->name), 0);
      batch.Put(Namespace::kMeta, HookCursorKey(w->name), std::to_string(position));
      base::Status s = store_.Commit(std::move(batch), storage::Durability::kDurable);
      if (base::IsAborted(s)) {
        OTPD_RETURN_IF_ERROR(Reload(w.get()));
        base::MutexLock lock(w->mu);
        position = w->cursor;
        version = w->cursor_version;
      } else {
        OTPD_RETURN_IF_ERROR(s);
      }
    }
    OTPD_ASSIGN_OR_RETURN(auto disabled, store_.Get(Namespace::kMeta, HookDisabledKey(w->name)));
    uint64_t dead = 0;
    OTPD_RETURN_IF_ERROR(store_.Scan(Namespace::kMeta, HookDeadLetterPrefix(w->name),
                                     [&](std::string_view, const storage::Record&) {
                                       ++dead;
                                       return true;
                                     }));
    base::MutexLock lock(w->mu);
    w->cursor = position;
    w->cursor_version = version;
    w->disabled = disabled.has_value();
    w->dead_letters = dead;
  }
  for (auto& w : workers_) {
    Worker* raw = w.get();
    w->thread = std::thread([this, raw] {
      base::SetCurrentThreadName("otpd-hook");
      Run(raw);
    });
  }
  pruner_ = std::thread([this] {
    base::SetCurrentThreadName("otpd-prune");
    for (;;) {
      {
        base::MutexLock lock(prune_mu_);
        if (!stopping_.load()) prune_cv_.WaitFor(lock, options_.prune_every);
        if (stopping_.load()) return;
      }
      if (Active()) Prune();
    }
  });
  return base::OkStatus();
}

base::Status HookDispatcher::Reload(Worker* w) {
  OTPD_ASSIGN_OR_RETURN(auto cursor, store_.Get(Namespace::kMeta, HookCursorKey(w->name)));
  OTPD_ASSIGN_OR_RETURN(auto disabled, store_.Get(Namespace::kMeta, HookDisabledKey(w->name)));
  std::optional<uint64_t> position;
  if (cursor) {
    position = ParseDecimal(cursor->value);
    if (!position) return base::DataLossError("the cursor of hook " + w->name + " is malformed");
  }
  base::MutexLock lock(w->mu);
  if (position) {
    w->cursor = *position;
    w->cursor_version = cursor->version;
  } else {
    w->cursor_version = 0;
  }
  w->disabled = disabled.has_value();
  return base::OkStatus();
}

base::Status HookDispatcher::CommitCursor(Worker* w, storage::WriteBatch batch, uint64_t seq,
                                          storage::Durability durability) {
  uint64_t version;
  {
    base::MutexLock lock(w->mu);
    version = w->cursor_version;
  }
  batch.RequireVersion(Namespace::kMeta, HookCursorKey(w->name), version);
  batch.Put(Namespace::kMeta, HookCursorKey(w->name), std::to_string(seq));
  OTPD_RETURN_IF_ERROR(store_.Commit(std::move(batch), durability));
  base::MutexLock lock(w->mu);
  w->cursor = seq;
  w->cursor_version = version + 1;
  return base::OkStatus();
}

void HookDispatcher::Stop() {
  if (stopping_.exchange(true)) return;
  for (auto& w : workers_) {
    {
      base::MutexLock lock(w->mu);
      ++w->wakes;
    }
    w->cv.SignalAll();
  }
  NotifyOutbox();  // wakes the workers waiting for events
  { base::MutexLock lock(prune_mu_); }
  prune_cv_.SignalAll();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  if (pruner_.joinable()) pruner_.join();
}

bool HookDispatcher::Sleep(Worker* w, std::chrono::milliseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  base::MutexLock lock(w->mu);
  const uint64_t wakes = w->wakes;
  while (!stopping_.load() && w->wakes == wakes) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds(0)) break;
    w->cv.WaitFor(lock, left);
  }
  return !stopping_.load();
}

// One worker's delivery loop, on the worker's thread: wait until this node may deliver, take the
// next event (a dead letter put back, else the one after the cursor), offer it to the sink with
// retries, and record the outcome. Every outcome reaches the store through Commit.
class HookDispatcher::Worker::Loop {
 public:
  Loop(HookDispatcher& d, Worker& w) : d_(d), w_(w), fresh_(!d.options_.active) {}

  void Run() {
    while (!d_.stopping_.load()) {
      if (!Ready()) continue;
      std::optional<Taken> taken = Take();
      if (!taken) continue;
      if (!Deliver(*taken)) return;
    }
  }

 private:
  // An event in hand; `redelivered` when it is a dead letter put back (the cursor stays).
  struct Taken {
    OutboxEvent event;
    bool redelivered = false;
  };

  void Log(const std::string& line) const {
    if (d_.options_.log) d_.options_.log("hook " + w_.name + ": " + line);
  }

  std::string DeadLetterKey(uint64_t seq) const {
    return HookDeadLetterPrefix(w_.name) + storage::LogKey(seq);
  }

  // Commits `batch`; when `moves_cursor`, the batch also moves the cursor to `seq` on the
  // condition that nobody else moved it (CommitCursor).
  base::Status Commit(storage::WriteBatch batch, uint64_t seq, bool moves_cursor,
                      storage::Durability durability) {
    if (moves_cursor) return d_.CommitCursor(&w_, std::move(batch), seq, durability);
    return d_.store_.Commit(std::move(batch), durability);
  }

  // Another node moved the cursor: go on from what the store holds.
  void Reread() {
    Log("the cursor was moved by another node; reading it again");
    fresh_ = d_.Reload(&w_).ok();
  }

  // Whether this node delivers now, with this worker's state read again from the store after a
  // time it did not (see Reload). Sleeps a poll interval when not.
  bool Ready() {
    if (!d_.options_.active) return true;
    if (!d_.options_.active()) {
      fresh_ = false;
      d_.Sleep(&w_, d_.options_.poll);
      return false;
    }
    if (fresh_) return true;
    if (base::Status s = d_.Reload(&w_); !s.ok()) {
      Log("cannot read the hook's cursor: " + std::string(s.message()));
      d_.Sleep(&w_, d_.options_.poll);
      return false;
    }
    fresh_ = true;
    return true;
  }

  // The next event: a dead letter put back, else the one after the cursor. Nothing when the sink
  // is disabled or the outbox cannot be read (after a poll interval), when no event is waiting
  // (after waiting for one), or when a dead letter put back has left the outbox (its record is
  // removed).
  std::optional<Taken> Take() {
    uint64_t cursor;
    std::optional<uint64_t> redelivery;
    {
      base::MutexLock lock(w_.mu);
      if (w_.disabled) {
        lock.Unlock();
        d_.Sleep(&w_, d_.options_.poll);
        fresh_ = !d_.options_.active;  // another node may enable it
        return std::nullopt;
      }
      cursor = w_.cursor;
      if (!w_.requeued.empty()) {
        redelivery = w_.requeued.front();
        w_.requeued.erase(w_.requeued.begin());
      }
    }
    const uint64_t seen = OutboxGeneration();
    std::optional<Taken> taken;
    const uint64_t after = redelivery ? *redelivery - 1 : cursor;
    base::Status read = ReadEvents(d_.store_, after, 1, [&](OutboxEvent e) {
      if (!redelivery || e.seq == *redelivery) taken = Taken{std::move(e), redelivery.has_value()};
      return false;
    });
    if (!read.ok()) {
      Log("cannot read the outbox: " + std::string(read.message()));
      d_.Sleep(&w_, d_.options_.poll);
    } else if (!taken && redelivery) {
      Log("dead letter " + std::to_string(*redelivery) + " is no longer in the outbox");
      storage::WriteBatch batch;
      batch.Delete(Namespace::kMeta, DeadLetterKey(*redelivery));
      (void)Commit(std::move(batch), *redelivery, false, storage::Durability::kRelaxed);
    } else if (!taken) {
      WaitForOutbox(seen, d_.options_.poll);
    }
    return taken;
  }

  // Offers the event until it is delivered, the sink is gone, or it becomes a dead letter. False
  // when stopping.
  bool Deliver(const Taken& t) {
    uint32_t attempts = 0;
    for (;;) {
      if (d_.stopping_.load()) return false;
      if (!d_.Active()) {  // another node goes on from the recorded cursor
        if (t.redelivered) PutBack(t.event.seq);
        return true;
      }
      DeliveryResult result = Attempt(t.event, &attempts);
      if (result.outcome == DeliveryOutcome::kDelivered) {
        Delivered(t);
        return true;
      }
      if (result.outcome == DeliveryOutcome::kGone) {
        Gone(t, result.detail);
        return true;
      }
      ++attempts;
      {
        base::MutexLock lock(w_.mu);
        ++w_.failed_attempts;
        w_.last_error = result.detail;
      }
      if (attempts >= w_.retry.attempts) {
        if (Bury(t, attempts, result.detail)) return true;
        if (!d_.Sleep(&w_, d_.options_.poll)) return false;
        continue;  // tries again; the event is not skipped
      }
      std::chrono::milliseconds delay = w_.retry.Delay(attempts);
      if (result.retry_after) {
        delay = std::clamp(*result.retry_after, std::chrono::milliseconds(0), w_.retry.max);
      }
      if (attempts == 1) Log("delivery failed (" + result.detail + "); retrying");
      if (!d_.Sleep(&w_, delay)) return false;
    }
  }

  // One offer to the sink. An event no key opens cannot be sent; no retry can help, so
  // `attempts` is set to make this failure the last.
  DeliveryResult Attempt(const OutboxEvent& event, uint32_t* attempts) {
    DeliveryResult result;
    auto text = EventJson(event, w_.sink->wants_secrets() ? &d_.keys_ : nullptr);
    if (!text.ok()) {
      result.detail = "the event cannot be read: " + std::string(text.status().message());
      *attempts = w_.retry.attempts - 1;
      return result;
    }
    result = w_.sink->Deliver(event, *text);
    base::Wipe(text->data(), text->size());
    return result;
  }

  void PutBack(uint64_t seq) {
    base::MutexLock lock(w_.mu);
    w_.requeued.insert(w_.requeued.begin(), seq);
  }

  // Recorded before the cursor moves in memory: the pruner keeps what a restart would deliver
  // again. A cursor the store refused only means a redelivery.
  void Delivered(const Taken& t) {
    const uint64_t seq = t.event.seq;
    storage::WriteBatch batch;
    if (t.redelivered) batch.Delete(Namespace::kMeta, DeadLetterKey(seq));
    base::Status s = Commit(std::move(batch), seq, !t.redelivered, storage::Durability::kRelaxed);
    if (base::IsAborted(s)) {
      Reread();
    } else if (!s.ok()) {
      Log("cannot record the cursor: " + std::string(s.message()));
      fresh_ = !d_.options_.active;
      if (!t.redelivered) {
        base::MutexLock lock(w_.mu);
        w_.cursor = seq;
      }
    }
    base::MutexLock lock(w_.mu);
    if (t.redelivered && w_.dead_letters > 0) --w_.dead_letters;
    ++w_.delivered;
  }

  // The sink answered that it is gone: disabled until enabled again, the event kept for then.
  void Gone(const Taken& t, const std::string& detail) {
    storage::WriteBatch batch;
    batch.Put(Namespace::kMeta, HookDisabledKey(w_.name),
              std::to_string(d_.clock_.NowUnixSeconds()));
    (void)Commit(std::move(batch), t.event.seq, false, storage::Durability::kDurable);
    Log("disabled: the sink answered that it is gone (" + detail +
        "); events wait for it to be enabled again");
    base::MutexLock lock(w_.mu);
    w_.disabled = true;
    w_.last_error = detail;
    if (t.redelivered) w_.requeued.insert(w_.requeued.begin(), t.event.seq);
  }

  // Records the event as a dead letter, moving the cursor past it in the same commit unless it
  // was one already. False when the store refused (the caller tries again).
  bool Bury(const Taken& t, uint32_t attempts, const std::string& error) {
    const OutboxEvent& e = t.event;
    DeadLetter dead{.seq = e.seq,
                    .event_id = e.id,
                    .type = e.type,
                    .user = e.user,
                    .attempts = attempts,
                    .time = d_.clock_.NowUnixSeconds(),
                    .last_error = error};
    storage::WriteBatch batch;
    batch.Put(Namespace::kMeta, DeadLetterKey(e.seq), EncodeDeadLetter(dead));
    base::Status s = Commit(std::move(batch), e.seq, !t.redelivered, storage::Durability::kDurable);
    if (base::IsAborted(s)) {
      Reread();
      return true;
    }
    if (!s.ok()) {
      Log("cannot record a dead letter: " + std::string(s.message()));
      return false;
    }
    Log("event " + std::to_string(e.seq) + " (" + e.type + ") is a dead letter after " +
        std::to_string(attempts) + " attempts: " + error);
    base::MutexLock lock(w_.mu);
    if (!t.redelivered) ++w_.dead_letters;
    return true;
  }

  HookDispatcher& d_;
  Worker& w_;
  bool fresh_;  // whether this worker's state is the store's (see Reload)
};

void HookDispatcher::Run(Worker* w) { Worker::Loop(*this, *w).Run(); }

void HookDispatcher::Prune() {
  auto last = LastEventSequence(store_);
  if (!last.ok()) return;
  uint64_t through = *last;
  for (const auto& w : workers_) {
    base::MutexLock lock(w->mu);
    through = std::min(through, w->cursor);
    for (uint64_t seq : w->requeued) through = std::min(through, seq - 1);
  }
  // Dead letters keep their events, so that they can be delivered again.
  for (const auto& w : workers_) {
    (void)store_.Scan(Namespace::kMeta, HookDeadLetterPrefix(w->name),
                      [&](std::string_view key, const storage::Record&) {
                        auto seq =
                            storage::ParseLogKey(key.substr(HookDeadLetterPrefix(w->name).size()));
                        if (seq) through = std::min(through, *seq - 1);
                        return true;
                      });
  }
  const int64_t cutoff =
      clock_.NowUnixMicros() -
      std::chrono::duration_cast<std::chrono::microseconds>(options_.retention).count();
  auto pruned = PruneEvents(store_, through, cutoff, 10000);
  if (!pruned.ok() && options_.log) {
    options_.log("cannot prune the outbox: " + std::string(pruned.status().message()));
  }
}

std::vector<SinkStats> HookDispatcher::Stats() const {
  auto last_or = LastEventSequence(store_);
  const uint64_t last = last_or.ok() ? *last_or : 0;
  // A node that does not deliver shows the cursors the delivering node recorded.
  const bool shared = options_.active && !options_.active();
  std::vector<SinkStats> out;
  for (const auto& w : workers_) {
    std::optional<uint64_t> recorded;
    if (shared) {
      auto cursor = store_.Get(Namespace::kMeta, HookCursorKey(w->name));
      if (cursor.ok() && cursor->has_value()) recorded = ParseDecimal((*cursor)->value);
    }
    base::MutexLock lock(w->mu);
    const uint64_t position = recorded.value_or(w->cursor);
    out.push_back(SinkStats{.name = w->name,
                            .cursor = position,
                            .backlog = last > position ? last - position : 0,
                            .delivered = w->delivered,
                            .failed_attempts = w->failed_attempts,
                            .dead_letters = w->dead_letters,
                            .disabled = w->disabled,
                            .last_error = w->last_error});
  }
  return out;
}

}  // namespace otpd::service
