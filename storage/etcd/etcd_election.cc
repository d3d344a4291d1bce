#include "storage/etcd/etcd_election.h"

#include "base/thread_name.h"
#include "storage/etcd/etcd_client.h"

namespace otpd::storage {

EtcdElection::EtcdElection(const EtcdStore& store, ElectionOptions options)
    : client_(store.client()),
      key_(store.prefix() + "elections/" + options.name),
      options_(std::move(options)) {}

EtcdElection::~EtcdElection() { (void)Resign(); }

bool EtcdElection::held() const {
  base::MutexLock lock(mu_);
  return held_ && std::chrono::steady_clock::now() < valid_until_;
}

base::StatusOr<std::string> EtcdElection::Holder() const {
  etcdserverpb::RangeRequest request;
  request.set_key(key_);
  etcdserverpb::RangeResponse response;
  OTPD_RETURN_IF_ERROR(client_->Range(request, &response));
  return response.kvs_size() == 0 ? std::string() : response.kvs(0).value();
}

base::StatusOr<bool> EtcdElection::TryAcquire() {
  base::MutexLock op(op_mu_);
  {
    base::MutexLock lock(mu_);
    if (held_ && std::chrono::steady_clock::now() < valid_until_) return true;
  }
  StopRenewing();  // a renewer left from a role lost earlier
  const auto asked_at = std::chrono::steady_clock::now();
  int64_t lease = 0, ttl = 0;
  OTPD_RETURN_IF_ERROR(client_->LeaseGrant(options_.ttl.count(), &lease, &ttl));
  etcdserverpb::TxnRequest txn;
  etcdserverpb::Compare* nobody = txn.add_compare();
  nobody->set_result(etcdserverpb::Compare::EQUAL);
  nobody->set_target(etcdserverpb::Compare::CREATE);
  nobody->set_key(key_);
  nobody->set_create_revision(0);
  etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(key_);
  put->set_value(options_.holder);
  put->set_lease(lease);
  etcdserverpb::TxnResponse response;
  base::Status s = client_->Txn(txn, &response, /*read_only=*/false);
  if (!s.ok() || !response.succeeded()) {
    // Not ours (or unknown): the lease, and the key if the put did go through, expire unrenewed.
    (void)client_->LeaseRevoke(lease);
    OTPD_RETURN_IF_ERROR(s);
    return false;
  }
  {
    base::MutexLock lock(mu_);
    held_ = true;
    stop_ = false;
    lease_ = lease;
    valid_until_ = asked_at + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  options_.ttl) * 2 / 3;
  }
  renewer_ = std::thread([this, lease, asked_at] {
    base::SetCurrentThreadName("otpd-election");
    Renew(lease, asked_at);
  });
  return true;
}

void EtcdElection::Renew(int64_t lease, std::chrono::steady_clock::time_point granted_at) {
  using Clock = std::chrono::steady_clock;
  const auto ttl = std::chrono::duration_cast<Clock::duration>(options_.ttl);
  // The lease lives at least `ttl` after the last renewal request the cluster answered was sent.
  // Believing in the role only for 2/3 of that leaves room for clocks that run a little apart.
  Clock::time_point valid_until = granted_at + ttl * 2 / 3;
  for (;;) {
    {
      base::MutexLock lock(mu_);
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(ttl / 3);
      cv_.WaitFor(lock, wait);
      if (stop_) return;
    }
    const Clock::time_point sent = Clock::now();
    int64_t remaining = 0;
    base::Status s = client_->LeaseKeepAlive(lease, &remaining);
    // Lost: the cluster says the lease is gone, or it may be by now. An answer that comes after
    // the validity ran out does not bring the role back: held() already said false meanwhile.
    bool lost = Clock::now() >= valid_until || (s.ok() && remaining <= 0);
    if (!lost && s.ok()) {
      valid_until = sent + ttl * 2 / 3;
      base::MutexLock lock(mu_);
      valid_until_ = valid_until;
    }
    if (!lost) continue;
    {
      base::MutexLock lock(mu_);
      if (stop_) return;
      held_ = false;
      lease_ = 0;
    }
    (void)client_->LeaseRevoke(lease);  // lets another node take the role at once, if it lives
    if (options_.on_lost) options_.on_lost();
    return;
  }
}

void EtcdElection::StopRenewing() {
  {
    base::MutexLock lock(mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  if (renewer_.joinable()) renewer_.join();
}

base::Status EtcdElection::Resign() {
  base::MutexLock op(op_mu_);
  StopRenewing();
  int64_t lease;
  {
    base::MutexLock lock(mu_);
    lease = lease_;
    held_ = false;
    lease_ = 0;
  }
  if (lease == 0) return base::OkStatus();
  return client_->LeaseRevoke(lease);
}

}  // namespace otpd::storage
