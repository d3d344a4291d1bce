// Delivery of the outbox (service/hooks/outbox.h) to hooks: each configured sink has a worker
// thread and a durable cursor (meta/hooks/<sink>/cursor, the last sequence number it has taken),
// and takes the events in sequence order, one at a time: so every user's events (every event, in
// fact) arrive in the order their changes committed, at least once. A receiver de-duplicates by
// the event's id (docs/hooks.md).
//
// A delivery that fails is retried after a delay that doubles from `initial` up to `max`
// (RetrySchedule; a sink's Retry-After, when it gives one, is honoured up to `max`); after
// `attempts` failures the event goes to the sink's dead letters (meta/hooks/<sink>/dead/<seq>,
// shown by HookAdmin::DeadLetters and in Stats) and the cursor moves on. A sink that answers "gone"
// (HTTP 410) is disabled (meta/hooks/<sink>/disabled) until the owner enables it again; its cursor
// stays, so nothing is lost. Cursors survive restarts and kill -9: a restarted worker goes on
// after the last event it recorded, so an event may be delivered twice, never skipped.
//
// Events are removed from the outbox once every sink's cursor is past them and they are older
// than the retention (so SUBSCRIBE from= can still replay recent ones).
//
// Several nodes on one store (HookOptions::active): only the active node delivers and prunes;
// the cursors live in the store, so a node that takes over goes on where the last one recorded.
// Dead letters put back (HookAdmin::RedeliverDeadLetters) are delivered by the node that was asked,
// once it is active.
//
// OutboxFeed serves SUBSCRIBE (service/signin/sign_in.h EventFeed) from the same log.
//
// Thread-safety: AddSink before Start; everything else from any thread.

#ifndef OTPD_SERVICE_HOOKS_HOOKS_H_
#define OTPD_SERVICE_HOOKS_HOOKS_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/statusor.h"
#include "service/admin/roles.h"
#include "service/hooks/outbox.h"
#include "service/signin/sign_in.h"
#include "storage/keyring.h"
#include "storage/store.h"

namespace otpd::service {

enum class DeliveryOutcome : uint8_t {
  kDelivered,  // taken (HTTP 2xx, exit code 0)
  kRetry,      // try again later
  kGone,       // the sink wants no more events (HTTP 410): disable it
};

struct DeliveryResult {
  DeliveryOutcome outcome = DeliveryOutcome::kRetry;
  // The sink asked to wait this long before the next attempt (HTTP Retry-After).
  std::optional<std::chrono::milliseconds> retry_after;
  // For stats and logs: "HTTP 503", "exit code 2", "timed out"; never the event.
  std::string detail;
};

// Where events go. Implementations: the exec and webhook sinks (server/hooks/), or any C++
// object (an in-process consumer).
class EventSink {
 public:
  virtual ~EventSink() = default;
  // Delivers one event: `json` is the event as EventJson made it (with its secrets opened when
  // wants_secrets()). Called on the sink's own worker thread, one event at a time; it may block
  // up to the sink's own timeout, and must return (not hang) when it cannot deliver.
  virtual DeliveryResult Deliver(const OutboxEvent& event, std::string_view json) = 0;
  // Whether the sink gets events' secrets (the code of an sms.send: a carrier's hook needs it).
  virtual bool wants_secrets() const { return true; }
};

struct RetrySchedule {
  std::chrono::milliseconds initial{5000};
  std::chrono::milliseconds max{3'600'000};
  // Deliveries tried per event before it becomes a dead letter.
  uint32_t attempts = 15;
  // The wait after the n-th failed attempt (n >= 1): initial * 2^(n-1), at most max.
  std::chrono::milliseconds Delay(uint32_t failed_attempts) const;
};

struct DeadLetter {
  uint64_t seq = 0;
  std::string event_id;
  std::string type;
  std::string user;
  uint32_t attempts = 0;
  int64_t time = 0;  // Unix seconds it was given up
  std::string last_error;
};

struct SinkStats {
  std::string name;
  uint64_t cursor = 0;     // the last event taken (delivered or dead-lettered)
  uint64_t backlog = 0;    // events committed after the cursor
  uint64_t delivered = 0;  // since start
  uint64_t failed_attempts = 0;
  uint64_t dead_letters = 0;  // stored
  bool disabled = false;
  std::string last_error;
};

struct HookOptions {
  // How often workers look for events when no notification came. Default 1 s.
  std::chrono::milliseconds poll{1000};
  // Events are kept at least this long after every sink has taken them. Default 7 days.
  std::chrono::seconds retention{std::chrono::hours(24 * 7)};
  // How often old events are pruned. Default 60 s.
  std::chrono::milliseconds prune_every{60'000};
  // Called (from a worker) with one line about a failure or a state change, for the log; never
  // the event's content.
  std::function<void(const std::string&)> log;
  // Several nodes sharing one store (etcd): delivery and pruning run only while this returns
  // true (the node holds the delivery role, storage/etcd/etcd_election.h). A worker that becomes
  // active reads its cursor and state from the store again, since another node may have moved
  // them; cursor writes are conditional on the cursor's version, so a node that lost the role
  // while delivering never moves a cursor back. Null: always active (one node).
  std::function<bool()> active;
};

class HookDispatcher {
 public:
  // `store`, `keys` and `clock` must outlive this.
  HookDispatcher(storage::Store& store, const storage::KeyRing& keys, const base::Clock& clock,
                 HookOptions options);
  ~HookDispatcher();  // Stop()

  // Adds a sink before Start. Names are 1..64 of [A-Za-z0-9._-] and unique (InvalidArgument).
  base::Status AddSink(std::string name, std::unique_ptr<EventSink> sink, RetrySchedule retry);
  // Reads each sink's cursor and starts its worker. A new sink starts after the events already
  // in the outbox (it receives what happens from now on). Also starts the pruner.
  base::Status Start();
  // Stops the workers (a delivery in progress finishes). Idempotent.
  void Stop();

  std::vector<SinkStats> Stats() const;

 private:
  // The admin calls (HookAdmin) redeliver to a running worker and wake it.
  friend class HookAdmin;
  struct Worker;
  void Run(Worker* w);
  void Prune();
  bool Active() const { return !options_.active || options_.active(); }
  // Reads the sink's cursor (and its version) and whether it is disabled from the store.
  base::Status Reload(Worker* w);
  // Commits `batch`, which moves the sink's cursor to `seq`, on the condition that nobody moved
  // it since this worker last read or wrote it; records the move in memory on success.
  base::Status CommitCursor(Worker* w, storage::WriteBatch batch, uint64_t seq,
                            storage::Durability durability);
  Worker* Find(std::string_view name) const;
  // Waits `d` or until stopping; false when stopping.
  bool Sleep(Worker* w, std::chrono::milliseconds d);

  storage::Store& store_;
  const storage::KeyRing& keys_;
  const base::Clock& clock_;
  const HookOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  base::Mutex prune_mu_;
  base::CondVar prune_cv_;
  std::thread pruner_;
};

// Meta keys of a sink's state.
std::string HookCursorKey(std::string_view sink);
std::string HookDisabledKey(std::string_view sink);
std::string HookDeadLetterPrefix(std::string_view sink);

// The hook state the admin API shows and changes, for a running daemon and a stopped one alike.
// Permission::kRead to list, kManageHooks to change; a refused call changes nothing. With the
// daemon's dispatcher (`running`), the sinks are the configured ones, with its counters. Without
// one (otpctl on a stopped daemon's data directory) they are the sinks with a cursor in the store
// (a sink gets one when a daemon first runs it), with what the store holds of them: nothing is
// delivered, so RedeliverDeadLetters is refused (FailedPrecondition) and the counts of a running
// worker (delivered, failed attempts, last error) are 0 and empty.
//
// Thread-safety: as the store's and the dispatcher's.
class HookAdmin {
 public:
  // `store` (the dispatcher's) and `running` (null: no daemon delivers here) must outlive this.
  HookAdmin(storage::Store& store, HookDispatcher* running) : store_(store), running_(running) {}

  base::StatusOr<std::vector<SinkStats>> ListSinks(const Principal& by) const;
  // NotFound for an unknown sink.
  base::StatusOr<std::vector<DeadLetter>> DeadLetters(const Principal& by,
                                                      std::string_view sink) const;
  // Puts the sink's dead letters back in front of its queue (delivered again, oldest first, before
  // the events after its cursor) and removes them from the dead letters. Returns how many.
  base::StatusOr<size_t> RedeliverDeadLetters(const Principal& by, std::string_view sink);
  // Enables a sink disabled by a 410. NotFound for an unknown sink.
  base::Status EnableSink(const Principal& by, std::string_view sink);

 private:
  // NotFound unless the dispatcher runs `sink` or, without one, the store has its cursor.
  base::Status Known(std::string_view sink) const;
  // Every sink with a cursor in the store.
  base::StatusOr<std::vector<SinkStats>> StoredSinks() const;

  storage::Store& store_;
  HookDispatcher* const running_;
};

struct FeedOptions {
  std::chrono::milliseconds poll{500};
  // Subscribers at once; more are refused. Default 64.
  size_t max_subscribers = 64;
  // Events read per subscriber per round. Default 256.
  size_t batch = 256;
};

// EventFeed over the outbox: one thread reads new events for every subscriber (never an io
// thread) and hands them over in order; a subscriber whose deliver returns false is dropped.
class OutboxFeed final : public EventFeed {
 public:
  OutboxFeed(const storage::Store& store, FeedOptions options);
  ~OutboxFeed() override;  // Stop()

  // Null when there are max_subscribers already (the caller answers unavailable).
  std::shared_ptr<FeedSubscription> Subscribe(
      uint64_t from, std::function<bool(std::vector<FeedEvent>)> deliver) override;
  uint64_t NextSequence() const override;
  void Stop();
  size_t subscribers() const;

 private:
  struct Sub;
  void Run();

  const storage::Store& store_;
  const FeedOptions options_;
  mutable base::Mutex mu_;
  std::vector<std::shared_ptr<Sub>> subs_ OTPD_GUARDED_BY(mu_);
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace otpd::service

#endif  // OTPD_SERVICE_HOOKS_HOOKS_H_
