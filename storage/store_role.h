// A role that at most one of the processes sharing a store holds at a time, for work exactly one
// node should do (delivering the outbox): Store::NewRole. A store that this process alone writes
// (RocksDB, memory) answers UnimplementedError, since the process then holds every role; etcd
// elects a holder with a lease (storage/etcd/etcd_election.h).
//
// Thread-safety: every method may be called from any thread.

#ifndef OTPD_STORAGE_STORE_ROLE_H_
#define OTPD_STORAGE_STORE_ROLE_H_

#include <chrono>
#include <functional>
#include <string>

#include "base/statusor.h"

namespace otpd::storage {

struct RoleOptions {
  std::string name;    // the role, e.g. "outbox"
  std::string holder;  // this node's identity, as others see it (Holder())
  // How long the role outlives its holder's last renewal. Default: 10 s.
  std::chrono::seconds ttl{10};
  // Called once when the role is lost (renewals failed too long), on the store's own thread.
  std::function<void()> on_lost;
};

class StoreRole {
 public:
  virtual ~StoreRole() = default;

  // Takes the role when nobody holds it. True when this node holds it now (also when it already
  // did); false when another does. Unavailable when the store cannot be reached.
  virtual base::StatusOr<bool> TryAcquire() = 0;
  // True while this node may act as the holder.
  virtual bool held() const = 0;
  // The identity of the current holder, "" when nobody holds the role.
  virtual base::StatusOr<std::string> Holder() const = 0;
  // Gives the role up at once. on_lost is not called.
  virtual base::Status Resign() = 0;
};

}  // namespace otpd::storage

#endif  // OTPD_STORAGE_STORE_ROLE_H_
