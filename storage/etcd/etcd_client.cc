#include "storage/etcd/etcd_client.h"

#include <fstream>
#include <iterator>
#include <utility>

namespace otpd::storage::etcd_internal {
namespace {

base::StatusOr<std::string> ReadPem(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return base::NotFoundError("cannot read the etcd " + std::string(what) + " " + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Whether a failed call may be sent to another member: the member did not answer, or answered
// that it cannot serve (no leader, stopping, too many requests).
bool TryElsewhere(const grpc::Status& s) {
  switch (s.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::ABORTED:
      return true;
    default:
      return false;
  }
}

bool TokenExpired(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAUTHENTICATED &&
         s.error_message().find("invalid auth token") != std::string::npos;
}

}  // namespace

base::Status FromGrpc(const grpc::Status& s, std::string_view what, std::string_view endpoint) {
  if (s.ok()) return base::OkStatus();
  std::string message =
      "etcd " + std::string(endpoint) + ": " + std::string(what) + ": " + s.error_message();
  switch (s.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
      return base::InvalidArgumentError(message);
    case grpc::StatusCode::PERMISSION_DENIED:
      return base::PermissionDeniedError(message);
    case grpc::StatusCode::UNAUTHENTICATED:
      return base::UnauthenticatedError(message);
    case grpc::StatusCode::FAILED_PRECONDITION:
      return base::FailedPreconditionError(message);
    case grpc::StatusCode::OUT_OF_RANGE:
      return base::OutOfRangeError(message);
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return base::ResourceExhaustedError(message);
    case grpc::StatusCode::NOT_FOUND:
      return base::NotFoundError(message);
    default:
      return base::UnavailableError(message);
  }
}

base::StatusOr<std::shared_ptr<EtcdClient>> EtcdClient::Connect(const EtcdConnection& o) {
  if (o.endpoints.empty()) return base::InvalidArgumentError("no etcd endpoints given");
  std::shared_ptr<EtcdClient> client(new EtcdClient());
  client->timeout_ = o.timeout.count() > 0 ? o.timeout : std::chrono::milliseconds(2000);
  client->user_ = o.user;
  client->password_ = o.password.Clone();

  bool tls = !o.ca_file.empty();
  for (const std::string& e : o.endpoints) tls = tls || StartsWith(e, "https://");
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (tls) {
    grpc::SslCredentialsOptions ssl;
    if (!o.ca_file.empty()) {
      OTPD_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPem(o.ca_file, "CA"));
    }
    if (!o.cert_file.empty() != !o.key_file.empty()) {
      return base::InvalidArgumentError("an etcd client certificate needs its key, and back");
    }
    if (!o.cert_file.empty()) {
      OTPD_ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadPem(o.cert_file, "client certificate"));
      OTPD_ASSIGN_OR_RETURN(ssl.pem_private_key, ReadPem(o.key_file, "client key"));
    }
    credentials = grpc::SslCredentials(ssl);
    base::Wipe(ssl.pem_private_key.data(), ssl.pem_private_key.size());
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }

  client->credentials_ = credentials;
  for (const std::string& e : o.endpoints) {
    std::string target = e;
    for (std::string_view scheme : {"http://", "https://"}) {
      if (StartsWith(target, scheme)) target = target.substr(scheme.size());
    }
    while (!target.empty() && target.back() == '/') target.pop_back();
    if (target.empty()) return base::InvalidArgumentError("empty etcd endpoint");
    auto m = std::make_unique<Member>();
    m->name = target;
    std::shared_ptr<Connection> conn = client->Connect(target);
    base::MutexLock lock(m->mu);
    m->conn = std::move(conn);
    lock.Unlock();
    client->members_.push_back(std::move(m));
  }
  if (!client->user_.empty()) {
    base::Status last;
    for (size_t i = 0; i < client->members_.size(); ++i) {
      last = client->Authenticate(i);
      if (last.ok() || !base::IsUnavailable(last)) break;
    }
    OTPD_RETURN_IF_ERROR(last);
  }
  return client;
}

std::shared_ptr<EtcdClient::Connection> EtcdClient::Connect(const std::string& target) const {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(256 << 20);
  // A member that stops answering (a partition, SIGSTOP) is noticed by keep-alive pings even on
  // an idle watch stream. etcd refuses pings more often than every 5 s (its
  // --grpc-keepalive-min-time).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 3000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // A restarted member is used again within a second, not after gRPC's default 20 s backoff.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Its own subchannel: a rebuilt channel must not inherit the stuck one (see the header).
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto conn = std::make_shared<Connection>();
  conn->channel = grpc::CreateCustomChannel(target, credentials_, args);
  conn->kv = etcdserverpb::KV::NewStub(conn->channel);
  conn->watch = etcdserverpb::Watch::NewStub(conn->channel);
  conn->lease = etcdserverpb::Lease::NewStub(conn->channel);
  conn->maintenance = etcdserverpb::Maintenance::NewStub(conn->channel);
  conn->auth = etcdserverpb::Auth::NewStub(conn->channel);
  return conn;
}

std::shared_ptr<EtcdClient::Connection> EtcdClient::ConnectionOf(size_t member) {
  Member& m = *members_[member];
  base::MutexLock lock(m.mu);
  return m.conn;
}

void EtcdClient::Succeeded(size_t member) {
  Member& m = *members_[member];
  base::MutexLock lock(m.mu);
  m.failing_since = {};
}

void EtcdClient::Failed(size_t member) {
  Member& m = *members_[member];
  const auto now = std::chrono::steady_clock::now();
  {
    base::MutexLock lock(m.mu);
    if (m.failing_since == std::chrono::steady_clock::time_point{}) {
      m.failing_since = now;
      return;
    }
    if (now - m.failing_since < kRebuildAfter || now - m.rebuilt_at < kRebuildAfter) return;
    m.rebuilt_at = now;
  }
  std::shared_ptr<Connection> fresh = Connect(m.name);  // outside the lock: calls go on meanwhile
  base::MutexLock lock(m.mu);
  m.conn = std::move(fresh);
  rebuilt_.fetch_add(1);
}

base::Status EtcdClient::Authenticate(size_t member) {
  etcdserverpb::AuthenticateRequest request;
  request.set_name(user_);
  request.set_password(std::string(password_.view()));
  etcdserverpb::AuthenticateResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout_);
  grpc::Status s = ConnectionOf(member)->auth->Authenticate(&context, request, &response);
  base::Wipe(request.mutable_password()->data(), request.mutable_password()->size());
  if (!s.ok()) return FromGrpc(s, "authenticating as " + user_, members_[member]->name);
  base::MutexLock lock(token_mu_);
  token_ = response.token();
  return base::OkStatus();
}

std::string EtcdClient::Token() const {
  base::MutexLock lock(token_mu_);
  return token_;
}

void EtcdClient::PrepareContext(grpc::ClientContext* context) {
  if (user_.empty()) return;
  context->AddMetadata("token", Token());
}

void EtcdClient::ReportFailure(size_t endpoint) {
  Failed(endpoint);
  size_t expected = endpoint;
  current_.compare_exchange_strong(expected, (endpoint + 1) % members_.size());
}

std::shared_ptr<etcdserverpb::Watch::Stub> EtcdClient::WatchService(size_t* endpoint) {
  *endpoint = current_.load() % members_.size();
  std::shared_ptr<Connection> conn = ConnectionOf(*endpoint);
  etcdserverpb::Watch::Stub* watch = conn->watch.get();
  return std::shared_ptr<etcdserverpb::Watch::Stub>(std::move(conn), watch);
}

template <typename Call>
base::Status EtcdClient::Invoke(std::string_view what, bool retry_on_unavailable,
                                const Call& call) {
  const size_t n = members_.size();
  base::Status last = base::UnavailableError("etcd: no member answered");
  bool reauthenticated = false;
  for (size_t attempt = 0; attempt < n + 1; ++attempt) {
    const size_t index = current_.load() % n;
    const Member& member = *members_[index];
    std::shared_ptr<Connection> conn = ConnectionOf(index);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + timeout_);
    PrepareContext(&context);
    grpc::Status s = call(*conn, &context);
    if (s.ok()) {
      Succeeded(index);
      return base::OkStatus();
    }
    if (TokenExpired(s) && !reauthenticated && !user_.empty()) {
      // Refused before it ran: safe to send again with a fresh token.
      reauthenticated = true;
      OTPD_RETURN_IF_ERROR(Authenticate(index));
      continue;
    }
    last = FromGrpc(s, what, member.name);
    if (!TryElsewhere(s)) return last;
    ReportFailure(index);
    if (!retry_on_unavailable) return last;
  }
  return last;
}

base::Status EtcdClient::Range(const etcdserverpb::RangeRequest& request,
                               etcdserverpb::RangeResponse* response) {
  return Invoke("range", true, [&](Connection& m, grpc::ClientContext* context) {
    return m.kv->Range(context, request, response);
  });
}

base::Status EtcdClient::Txn(const etcdserverpb::TxnRequest& request,
                             etcdserverpb::TxnResponse* response, bool read_only) {
  return Invoke("txn", read_only, [&](Connection& m, grpc::ClientContext* context) {
    return m.kv->Txn(context, request, response);
  });
}

base::Status EtcdClient::LeaseGrant(int64_t ttl_seconds, int64_t* id, int64_t* granted_ttl) {
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(ttl_seconds);
  etcdserverpb::LeaseGrantResponse response;
  // A grant that timed out may have created a lease nobody renews: it simply expires.
  OTPD_RETURN_IF_ERROR(
      Invoke("lease grant", true, [&](Connection& m, grpc::ClientContext* context) {
        return m.lease->LeaseGrant(context, request, &response);
      }));
  if (!response.error().empty())
    return base::UnavailableError("etcd lease grant: " + response.error());
  *id = response.id();
  *granted_ttl = response.ttl();
  return base::OkStatus();
}

base::Status EtcdClient::LeaseKeepAlive(int64_t id, int64_t* ttl) {
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(id);
  etcdserverpb::LeaseKeepAliveResponse response;
  OTPD_RETURN_IF_ERROR(
      Invoke("lease keep-alive", true, [&](Connection& m, grpc::ClientContext* context) {
        auto stream = m.lease->LeaseKeepAlive(context);
        if (!stream->Write(request) || !stream->Read(&response)) {
          context->TryCancel();
          grpc::Status s = stream->Finish();
          return s.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream closed") : s;
        }
        stream->WritesDone();
        context->TryCancel();  // one answer is all this call wants
        stream->Finish();
        return grpc::Status::OK;
      }));
  *ttl = response.ttl();
  return base::OkStatus();
}

base::Status EtcdClient::LeaseRevoke(int64_t id) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(id);
  etcdserverpb::LeaseRevokeResponse response;
  return Invoke("lease revoke", true, [&](Connection& m, grpc::ClientContext* context) {
    return m.lease->LeaseRevoke(context, request, &response);
  });
}

base::Status EtcdClient::Snapshot(const std::string& path) {
  const size_t index = current_.load() % members_.size();
  const Member& member = *members_[index];
  std::shared_ptr<Connection> conn = ConnectionOf(index);
  grpc::ClientContext context;
  // A snapshot of a large database takes a while: no per-call deadline beyond a generous one.
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(30));
  PrepareContext(&context);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return base::UnavailableError("cannot create " + path);
  auto reader = conn->maintenance->Snapshot(&context, etcdserverpb::SnapshotRequest());
  etcdserverpb::SnapshotResponse chunk;
  while (reader->Read(&chunk))
    out.write(chunk.blob().data(), static_cast<std::streamsize>(chunk.blob().size()));
  grpc::Status s = reader->Finish();
  if (!s.ok()) {
    ReportFailure(index);
    return FromGrpc(s, "snapshot", member.name);
  }
  out.flush();
  if (!out) return base::UnavailableError("cannot write " + path);
  return base::OkStatus();
}

}  // namespace otpd::storage::etcd_internal
