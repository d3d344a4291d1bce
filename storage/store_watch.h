// An optional Store interface for stores that other processes write too (etcd, shared by several
// otpd nodes): notifications of changes to a namespace, so that a node can drop what it caches of
// records another node changed. Stores with a single writer (RocksDB, memory) do not implement
// it; callers find it with dynamic_cast and do without.
//
// Notifications are hints for caches, never the basis of a decision: every decision that matters
// is committed with RequireVersion conditions (docs/architecture.md, fences), so a late or lost
// notification costs at most a failed condition, never a wrong answer.

#ifndef OTPD_STORAGE_STORE_WATCH_H_
#define OTPD_STORAGE_STORE_WATCH_H_

#include <functional>
#include <memory>
#include <string_view>

#include "base/statusor.h"
#include "storage/store.h"

namespace otpd::storage {

struct WatchCallbacks {
  // A record of the namespace was written or deleted (by anyone, this process included). Called
  // on the watch's own thread, in commit order; must be short and must not block on the Store.
  std::function<void(std::string_view key)> changed;
  // Changes may have been missed (the watch was cut off longer than the store keeps history):
  // everything cached from the namespace should be forgotten. Same thread.
  std::function<void()> lost;
};

// Watching stops when the handle is destroyed; no callback runs after the destructor returns.
class StoreWatch {
 public:
  virtual ~StoreWatch() = default;
};

class WatchableStore {
 public:
  virtual ~WatchableStore() = default;
  // Starts watching `ns` from now on. Fails when the store cannot be reached.
  virtual base::StatusOr<std::unique_ptr<StoreWatch>> WatchNamespace(Namespace ns,
                                                                     WatchCallbacks callbacks) = 0;
};

}  // namespace otpd::storage

#endif  // OTPD_STORAGE_STORE_WATCH_H_
