// EtcdStore::WatchNamespace: one etcd watch stream per watched namespace, on a thread of its own,
// resumed from the next unseen revision on another member whenever the stream breaks.
//
// A member that stops answering (SIGSTOP, a dead host) is noticed by gRPC's keep-alive pings
// (storage/etcd/etcd_client.cc: within about 8 s); one cut off from the leader ends the stream
// itself because the watch is opened with etcd's "require leader" metadata. Either way the watch
// moves on to the next member and asks for every revision it has not seen, so no change is
// skipped unless etcd compacted its history meanwhile; then `lost` tells the owner to forget
// everything, and the watch replays from the oldest revision etcd still has.

#include <chrono>
#include <thread>

#include "base/mutex.h"
#include "base/thread_name.h"
#include "storage/etcd/etcd_backend.h"
#include "storage/etcd/etcd_client.h"
#include "storage/etcd/etcd_store.h"
#include "storage/internal/record_codec.h"

namespace otpd::storage {
namespace {

class EtcdWatch final : public StoreWatch {
 public:
  EtcdWatch(std::shared_ptr<etcd_internal::EtcdClient> client, std::string prefix,
            WatchCallbacks callbacks, int64_t start_revision)
      : client_(std::move(client)),
        prefix_(std::move(prefix)),
        end_(internal::PrefixSuccessor(prefix_).value()),
        callbacks_(std::move(callbacks)),
        next_revision_(start_revision) {
    thread_ = std::thread([this] {
      base::SetCurrentThreadName("otpd-etcd-watch");
      Run();
    });
  }

  ~EtcdWatch() override {
    {
      base::MutexLock lock(mu_);
      stopping_ = true;
      if (context_ != nullptr) context_->TryCancel();
    }
    cv_.SignalAll();
    thread_.join();
  }

 private:
  void Run() {
    for (;;) {
      size_t endpoint = 0;
      std::shared_ptr<etcdserverpb::Watch::Stub> service = client_->WatchService(&endpoint);
      grpc::ClientContext context;
      client_->PrepareContext(&context);
      // The member ends the stream when it loses its leader (etcd's
      // rpctypes.MetadataRequireLeaderKey).
      context.AddMetadata("hasleader", "true");
      {
        base::MutexLock lock(mu_);
        if (stopping_) return;
        context_ = &context;
      }
      Stream(service.get(), &context);
      bool stopping;
      {
        base::MutexLock lock(mu_);
        context_ = nullptr;
        stopping = stopping_;
      }
      if (stopping) return;
      client_->ReportFailure(endpoint);
      base::MutexLock lock(mu_);
      if (!stopping_) cv_.WaitFor(lock, std::chrono::milliseconds(200));
    }
  }

  // Reads one stream until it ends; callbacks run here, with no lock held.
  void Stream(etcdserverpb::Watch::Stub* service, grpc::ClientContext* context) {
    auto stream = service->Watch(context);
    etcdserverpb::WatchRequest request;
    etcdserverpb::WatchCreateRequest* create = request.mutable_create_request();
    create->set_key(prefix_);
    create->set_range_end(end_);
    create->set_start_revision(next_revision_);
    create->set_progress_notify(true);
    if (!stream->Write(request)) {
      stream->Finish();
      return;
    }
    etcdserverpb::WatchResponse response;
    while (stream->Read(&response)) {
      if (response.compact_revision() != 0) {
        // The revisions we asked for are gone: whatever changed meanwhile is unknown.
        if (callbacks_.lost) callbacks_.lost();
        next_revision_ = response.compact_revision();
        break;
      }
      for (const mvccpb::Event& event : response.events()) {
        std::string_view key = event.kv().key();
        if (key.size() >= prefix_.size() && callbacks_.changed) {
          callbacks_.changed(key.substr(prefix_.size()));
        }
        next_revision_ = std::max(next_revision_, event.kv().mod_revision() + 1);
      }
      if (response.events_size() == 0 && !response.created() && response.header().revision() > 0) {
        // A progress notification: every revision up to this one has been delivered.
        next_revision_ = std::max(next_revision_, response.header().revision() + 1);
      }
      if (response.canceled()) break;
    }
    context->TryCancel();
    stream->Finish();
  }

  const std::shared_ptr<etcd_internal::EtcdClient> client_;
  const std::string prefix_;
  const std::string end_;
  const WatchCallbacks callbacks_;
  int64_t next_revision_;  // watch thread only

  base::Mutex mu_;
  base::CondVar cv_;
  bool stopping_ OTPD_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ OTPD_GUARDED_BY(mu_) = nullptr;
  std::thread thread_;
};

}  // namespace

base::StatusOr<std::unique_ptr<StoreWatch>> EtcdStore::WatchNamespace(Namespace ns,
                                                                      WatchCallbacks callbacks) {
  if (!IsValidNamespace(ns)) return base::InvalidArgumentError("invalid namespace");
  std::string prefix = prefix_;
  prefix.append(NamespaceName(ns));
  prefix.push_back('/');
  // From the revision after now: every change committed after this call returns is seen.
  etcdserverpb::RangeRequest probe;
  probe.set_key(prefix);
  probe.set_range_end(internal::PrefixSuccessor(prefix).value());
  probe.set_count_only(true);
  etcdserverpb::RangeResponse response;
  OTPD_RETURN_IF_ERROR(client_->Range(probe, &response).WithContext("starting an etcd watch"));
  return std::unique_ptr<StoreWatch>(new EtcdWatch(client_, std::move(prefix), std::move(callbacks),
                                                   response.header().revision() + 1));
}

}  // namespace otpd::storage
