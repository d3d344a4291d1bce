// A single holder of a role among the otpd nodes of one etcd cluster: the holder's identity is
// written under <prefix>elections/<name> with an etcd lease, created only when no one holds it,
// and kept alive while the holder renews the lease. For work exactly one node should do at a
// time (delivering the outbox).
//
// Losing the role: when renewals fail long enough that the lease may have expired on the cluster
// (2/3 of its TTL after the last renewal that was sent and answered) or the cluster says it is
// gone, the holder stops believing it holds the role and calls `on_lost` once. A holder therefore
// believes it holds the role for less time than the cluster grants it, so two nodes never both
// believe they hold it, as long as their clocks run at about the same rate (no shared clock is
// needed). Work done under the role should still be idempotent or fenced: a process paused
// longer than the TTL (SIGSTOP, swapping) learns it lost the role only when it runs again.
//
// Thread-safety: every method may be called from any thread; `on_lost` runs on the renewal thread.

#ifndef OTPD_STORAGE_ETCD_ETCD_ELECTION_H_
#define OTPD_STORAGE_ETCD_ETCD_ELECTION_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "base/mutex.h"
#include "base/statusor.h"
#include "storage/etcd/etcd_store.h"
#include "storage/store_role.h"

namespace otpd::storage {

// The name of the role, this node's identity, the lease's TTL and what to call when the role is
// lost (storage/store_role.h).
using ElectionOptions = RoleOptions;

class EtcdElection final : public StoreRole {
 public:
  // `store` must outlive the election.
  EtcdElection(const EtcdStore& store, ElectionOptions options);
  ~EtcdElection() override;  // Resign()
  EtcdElection(const EtcdElection&) = delete;
  EtcdElection& operator=(const EtcdElection&) = delete;

  // Takes the role when nobody holds it. True when this node holds it now (also when it already
  // did); false when another does. Unavailable when the cluster cannot be reached.
  base::StatusOr<bool> TryAcquire() override;
  // True while this node may act as the holder: until the last answered renewal's validity ends
  // (see above), even if the renewal thread is still waiting for a member.
  bool held() const override;
  // The identity of the current holder, "" when nobody holds the role.
  base::StatusOr<std::string> Holder() const override;
  // Gives the role up at once (revokes the lease, which deletes the key). on_lost is not called.
  base::Status Resign() override;

 private:
  void Renew(int64_t lease, std::chrono::steady_clock::time_point granted_at);
  void StopRenewing();

  const std::shared_ptr<etcd_internal::EtcdClient> client_;
  const std::string key_;
  const ElectionOptions options_;

  mutable base::Mutex mu_;
  base::CondVar cv_;
  bool held_ OTPD_GUARDED_BY(mu_) = false;
  bool stop_ OTPD_GUARDED_BY(mu_) = false;
  int64_t lease_ OTPD_GUARDED_BY(mu_) = 0;
  // held() is false from this instant on even while a renewal is still waiting for an answer.
  std::chrono::steady_clock::time_point valid_until_ OTPD_GUARDED_BY(mu_);
  std::thread renewer_;  // started and joined by callers of TryAcquire/Resign, under op_mu_
  base::Mutex op_mu_;    // serializes TryAcquire and Resign
};

}  // namespace otpd::storage

#endif  // OTPD_STORAGE_ETCD_ETCD_ELECTION_H_
