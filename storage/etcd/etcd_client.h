// The gRPC side of the etcd Store: one channel per cluster member, TLS and etcd authentication,
// unary calls with a deadline, and fail-over to the next member when one does not answer.
// Private to storage/etcd/: only this folder sees gRPC and the generated etcd API.
//
// Which calls are retried on another member: reads (Range, read-only Txn) and calls that are
// refused before they run (an expired auth token). A write whose outcome is unknown (the member
// died or timed out after the request was sent) is never sent again: the caller gets
// UnavailableError and must treat the write as possibly applied, exactly as with a failed fsync.
//
// Reconnecting: gRPC's channel to a member reconnects by itself after the member restarts, except
// after every member was down at once: then a channel was seen to stay in TRANSIENT_FAILURE,
// failing every call fast with the error of its last attempt during the outage, while a new
// channel to the same address connected at once (gRPC 1.51's pick_first policy, which does not
// always start a new attempt on its own). So a member whose calls have failed for longer than
// kRebuildAfter since the last one that succeeded gets a new channel (at most one per
// kRebuildAfter), with a subchannel of its own rather than one shared through gRPC's global
// subchannel pool.
//
// Thread-safety: every method may be called from any thread.

#ifndef OTPD_STORAGE_ETCD_ETCD_CLIENT_H_
#define OTPD_STORAGE_ETCD_ETCD_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/secret_bytes.h"
#include "base/statusor.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "storage/etcd/etcd_store.h"

namespace otpd::storage::etcd_internal {

// gRPC's status as ours: Unavailable for everything that says "the cluster did not answer"
// (connection refused, deadline, no leader), the etcd error kinds otherwise. The message names
// the member and what was being done, never a key's value.
base::Status FromGrpc(const grpc::Status& s, std::string_view what, std::string_view endpoint);

class EtcdClient {
 public:
  // Builds the channels (nothing is sent yet) and, with a user, authenticates against the first
  // member that answers.
  static base::StatusOr<std::shared_ptr<EtcdClient>> Connect(const EtcdConnection& options);

  // A linearizable read, tried on each member in turn until one answers.
  base::Status Range(const etcdserverpb::RangeRequest& request,
                     etcdserverpb::RangeResponse* response);
  // A transaction. `read_only` ones are retried like Range; others are sent once (see above).
  base::Status Txn(const etcdserverpb::TxnRequest& request, etcdserverpb::TxnResponse* response,
                   bool read_only);

  base::Status LeaseGrant(int64_t ttl_seconds, int64_t* id, int64_t* granted_ttl);
  // One keep-alive round trip; *ttl is what remains (0 or less: the lease is gone).
  base::Status LeaseKeepAlive(int64_t id, int64_t* ttl);
  base::Status LeaseRevoke(int64_t id);

  // Streams etcd's snapshot of its whole database (Maintenance.Snapshot) into `path`.
  base::Status Snapshot(const std::string& path);

  // For long-lived streams (watch): the current member's Watch service (gRPC's generated client
  // class, kept alive by the pointer), its index, and a context carrying the auth token.
  // `ReportFailure(index)` moves on to the next member (and counts as a failed call there).
  std::shared_ptr<etcdserverpb::Watch::Stub> WatchService(size_t* endpoint);
  void PrepareContext(grpc::ClientContext* context);
  void ReportFailure(size_t endpoint);
  const std::string& endpoint_name(size_t endpoint) const { return members_[endpoint]->name; }

  // A member's channel is rebuilt after its calls failed for this long (see above).
  static constexpr std::chrono::milliseconds kRebuildAfter{1000};
  // How many channels were rebuilt so far (for tests and logs).
  uint64_t rebuilt_channels() const { return rebuilt_.load(); }

  std::chrono::milliseconds timeout() const { return timeout_; }

 private:
  // One channel to a member and its services.
  struct Connection {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Watch::Stub> watch;
    std::unique_ptr<etcdserverpb::Lease::Stub> lease;
    std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance;
    std::unique_ptr<etcdserverpb::Auth::Stub> auth;
  };
  struct Member {
    std::string name;  // host:port, for messages and the channel's target
    base::Mutex mu;
    std::shared_ptr<Connection> conn OTPD_GUARDED_BY(mu);
    // Since when its calls fail (none succeeded since); the epoch while they succeed.
    std::chrono::steady_clock::time_point failing_since OTPD_GUARDED_BY(mu);
    std::chrono::steady_clock::time_point rebuilt_at OTPD_GUARDED_BY(mu);
  };

  EtcdClient() = default;

  std::shared_ptr<Connection> Connect(const std::string& target) const;
  std::shared_ptr<Connection> ConnectionOf(size_t member);
  // A call to `member` succeeded, or failed as "did not answer" (which may rebuild its channel).
  void Succeeded(size_t member);
  void Failed(size_t member);

  // Runs `call(conn, context)` on the current member, then on the others while `retry` says
  // the failure allows it (and once more after re-authenticating when the token expired).
  template <typename Call>
  base::Status Invoke(std::string_view what, bool retry_on_unavailable, const Call& call);
  base::Status Authenticate(size_t member);
  std::string Token() const;

  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::vector<std::unique_ptr<Member>> members_;
  std::atomic<uint64_t> rebuilt_{0};
  std::atomic<size_t> current_{0};
  std::chrono::milliseconds timeout_{2000};
  std::string user_;
  base::SecretBytes password_;
  mutable base::Mutex token_mu_;
  std::string token_ OTPD_GUARDED_BY(token_mu_);
};

}  // namespace otpd::storage::etcd_internal

#endif  // OTPD_STORAGE_ETCD_ETCD_CLIENT_H_
