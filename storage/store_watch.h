// Notifications of changes to a namespace, for stores that other processes write too (etcd,
// shared by several otpd nodes), so that a node can drop what it caches of records another node
// changed (Store::WatchNamespace). Stores with a single writer (RocksDB, memory) answer
// UnimplementedError: there is nothing to watch.
//
// Notifications are hints for caches, never the basis of a decision: every decision that matters
// is committed with RequireVersion conditions (docs/architecture.md, fences), so a late or lost
// notification costs at most a failed condition, never a wrong answer.

#ifndef OTPD_STORAGE_STORE_WATCH_H_
#define OTPD_STORAGE_STORE_WATCH_H_

#include <functional>
#include <string_view>

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

}  // namespace otpd::storage

#endif  // OTPD_STORAGE_STORE_WATCH_H_
