// The CommitBackend behind EtcdStore. Private to storage/etcd/.

#ifndef OTPD_STORAGE_ETCD_ETCD_BACKEND_H_
#define OTPD_STORAGE_ETCD_ETCD_BACKEND_H_

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/mutex.h"
#include "storage/commit_pipeline.h"
#include "storage/etcd/etcd_client.h"
#include "storage/etcd/etcd_store.h"

namespace otpd::storage::etcd_internal {

// What is known of one etcd key: otpd's version (0: absent), etcd's mod_revision (0: absent) and
// the cluster revision at which this was true. `vouched`: this process's callers may know this
// version, because a Read or Scan returned it to them or this process wrote it; a state learnt
// only from etcd's answer to a commit (another node wrote it) is not vouched for. `log_last`:
// for a log counter (storage/store.h, kLogCounterKey), the last number it holds.
struct KeyState {
  uint64_t version = 0;
  int64_t mod_revision = 0;
  int64_t seen_at = 0;
  bool vouched = false;
  uint64_t log_last = 0;
};

// EtcdOptions without the connection (which holds a secret and is not copied).
struct BackendSettings {
  std::string prefix;
  size_t max_txn_ops = 128;
  size_t max_request_bytes = 1536 * 1024;
  size_t scan_page = 512;
  size_t key_state_entries = 1 << 20;
};

class EtcdBackend final : public CommitBackend {
 public:
  EtcdBackend(std::shared_ptr<EtcdClient> client, BackendSettings settings);

  base::StatusOr<std::optional<Record>> Read(Namespace ns, std::string_view key) const override;
  base::Status Scan(Namespace ns, std::string_view prefix, std::string_view start,
                    const ScanFn& fn) const override;
  GroupWrites CommitGroup(std::span<GroupMember> members) override;
  // Groups with disjoint keys share only the client and the key states, both thread-safe.
  bool ConcurrentGroups() const override { return true; }

  // "<prefix><namespace>/" and "<prefix><namespace>/<key>".
  std::string NamespacePrefix(Namespace ns) const;
  std::string FullKey(Namespace ns, std::string_view key) const;
  // Whether `full_key` is the log counter of a namespace (storage/store.h, kLogCounterKey).
  bool IsLogCounter(std::string_view full_key) const;

 private:
  class Plan;
  using StateMap = std::unordered_map<std::string, KeyState>;

  // Commits one Txn's worth of `members` from `first` on; returns the index after the last member
  // it decided. On a failure whose outcome is unknown it fails every member from `first` on.
  size_t CommitSome(std::span<GroupMember> members, size_t first, StateMap& known,
                    GroupWrites* writes);
  // Reads the states of `keys` (all of them, in Txns of at most max_txn_ops ranges) into `known`.
  base::Status ReadStates(const std::vector<std::string>& keys, StateMap& known);
  // The states this process knows, newest wins (`seen_at`).
  void Learn(const std::string& key, const KeyState& state) const;
  void Forget(const std::string& key) const;
  std::optional<KeyState> Known(const std::string& key) const;
  bool LearnsFrom(Namespace ns) const { return ns == Namespace::kUsers || ns == Namespace::kState; }
  // Whether `full_key` is in a namespace whose conditions need vouched states (LearnsFrom): the
  // sign-in path chains commits of a user's state on versions it predicts, and a version that
  // another node wrote must never satisfy such a prediction (etcd_store.h, "Conditions").
  bool Tracked(std::string_view full_key) const;

  const std::shared_ptr<EtcdClient> client_;
  const BackendSettings options_;

  mutable base::Mutex states_mu_;
  mutable StateMap states_ OTPD_GUARDED_BY(states_mu_);
};

}  // namespace otpd::storage::etcd_internal

#endif  // OTPD_STORAGE_ETCD_ETCD_BACKEND_H_
