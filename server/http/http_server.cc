#include "server/http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <map>
#include <string_view>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "server/internal/listener.h"

namespace otpd::server::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using boost::system::error_code;
using internal::ConnectionSlot;
using internal::Socket;

namespace {

constexpr uint32_t kMaxHeaderBytes = 16 * 1024;
constexpr uint64_t kDefaultBodyLimit = 1 << 20;
constexpr std::chrono::milliseconds kAbortWait{2000};

std::string PeerAddress(Socket& socket) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getpeername(socket.native_handle(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return "?";
  }
  char text[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, text, sizeof(text));
  } else if (addr.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, text, sizeof(text));
  }
  return text;
}

std::optional<uid_t> PeerUid(Socket& socket) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return std::nullopt;
  }
  return cred.uid;
}

// A plain-text answer for requests refused before any handler (the handler's own errors are
// its business).
Response EarlyError(unsigned version, bhttp::status status, std::string_view message) {
  Response response{status, version == 0 ? 11u : version};
  response.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  response.set(bhttp::field::connection, "close");
  response.keep_alive(false);
  response.body() = std::string(message) + "\n";
  response.prepare_payload();
  return response;
}

struct FramingError {
  bhttp::status status;
  std::string message;
};

// Refuses a body whose length could be read two ways (RFC 9112 section 6.1 and 6.3), so that no
// request can hide another in its body for this server or a proxy in front of it: both
// Transfer-Encoding and Content-Length, a final coding other than chunked, chunked twice, or
// Transfer-Encoding in HTTP/1.0 (400); a coding other than chunked before the final chunked is
// answered 501, the status RFC 9112 gives for a coding the server does not decode. Codings are
// compared without case; empty list elements are skipped, as the list syntax allows.
std::optional<FramingError> CheckFraming(const RequestHeader& header) {
  std::vector<std::string_view> codings;
  auto [first, last] = header.equal_range(bhttp::field::transfer_encoding);
  if (first == last) return std::nullopt;
  for (auto it = first; it != last; ++it) {
    std::string_view list = it->value();
    while (!list.empty()) {
      const size_t comma = list.find(',');
      std::string_view item = list.substr(0, comma);
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (!item.empty()) codings.push_back(item);
    }
  }
  auto bad = [](std::string message) {
    return FramingError{bhttp::status::bad_request, std::move(message)};
  };
  if (header.version() < 11) return bad("Transfer-Encoding is not allowed in an HTTP/1.0 request");
  if (header.count(bhttp::field::content_length) > 0) {
    return bad("a request may not have both Transfer-Encoding and Content-Length");
  }
  if (codings.empty() || !boost::beast::iequals(codings.back(), "chunked")) {
    return bad("the final transfer coding of a request must be chunked");
  }
  for (size_t i = 0; i + 1 < codings.size(); ++i) {
    if (boost::beast::iequals(codings[i], "chunked")) {
      return bad("the chunked transfer coding may be applied only once");
    }
  }
  if (codings.size() > 1) {
    return FramingError{bhttp::status::not_implemented,
                        "no transfer coding but chunked is implemented"};
  }
  return std::nullopt;
}

}  // namespace

struct Reply::State {
  Send send;
  std::atomic<bool> authenticated{false};
  std::atomic<bool> sent{false};
};

Reply::Reply(Send send) : state_(std::make_shared<State>()) { state_->send = std::move(send); }

void Reply::MarkAuthenticated() const {
  if (state_) state_->authenticated.store(true);
}

void Reply::operator()(Response response) const {
  if (!state_ || state_->sent.exchange(true)) return;
  state_->send(std::move(response), state_->authenticated.load());
}

// The shared state of a server: its options, handler, statistics and live sessions.
class HttpServer::Impl : public std::enable_shared_from_this<HttpServer::Impl> {
 public:
  class SessionBase {
   public:
    virtual ~SessionBase() = default;
    // Closes the connection now if it is between requests, else after the current answer.
    virtual void Drain() = 0;
    virtual void Abort() = 0;

    // Written on the session's strand, read by Admit on any thread.
    std::atomic<bool> authenticated{false};  // has answered an authenticated request
    std::atomic<bool> busy{false};           // a request is with the handler or being written
  };

  Impl(HttpServerOptions options, Handler handler)
      : options(std::move(options)), handler(std::move(handler)) {}

  uint64_t BodyLimitFor(const RequestHeader& header) const {
    return options.body_limit ? options.body_limit(header) : kDefaultBodyLimit;
  }

  // Registers a new session of the TCP (or Unix) listener if it has a place, making one past the
  // limit by evicting the oldest session there that has not authenticated and is not busy (set
  // in *evicted, for the caller to abort). 0 when there is no place: refuse the connection.
  uint64_t Admit(const std::shared_ptr<SessionBase>& session, bool tcp,
                 std::shared_ptr<SessionBase>* evicted) {
    base::MutexLock lock(mu);
    int64_t& held = tcp ? held_tcp : held_unix;
    if (held >= static_cast<int64_t>(options.max_connections)) {
      for (auto& [id, entry] : sessions) {
        if (entry.tcp != tcp || entry.evicted) continue;
        std::shared_ptr<SessionBase> s = entry.session.lock();
        if (s == nullptr || s->authenticated.load() || s->busy.load()) continue;
        entry.evicted = true;
        --held;
        *evicted = std::move(s);
        break;
      }
      if (*evicted == nullptr) return 0;
    }
    ++held;
    const uint64_t id = next_id++;
    sessions.emplace(id, Entry{session, tcp, false});
    return id;
  }
  void Unregister(uint64_t id) {
    {
      base::MutexLock lock(mu);
      auto it = sessions.find(id);
      if (it != sessions.end()) {
        if (!it->second.evicted) --(it->second.tcp ? held_tcp : held_unix);
        sessions.erase(it);
      }
    }
    gone.SignalAll();
  }
  std::vector<std::shared_ptr<SessionBase>> Live() {
    std::vector<std::shared_ptr<SessionBase>> live;
    base::MutexLock lock(mu);
    for (auto& [id, entry] : sessions) {
      if (auto s = entry.session.lock()) live.push_back(std::move(s));
    }
    return live;
  }
  bool WaitForNoSessions(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    base::MutexLock lock(mu);
    while (!sessions.empty()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      gone.WaitFor(lock, left);
    }
    return true;
  }

  const HttpServerOptions options;
  const Handler handler;
  HttpServerStats stats;
  std::atomic<bool> stopping{false};
  std::vector<std::shared_ptr<internal::Listener>> listeners;

 private:
  base::Mutex mu;
  base::CondVar gone;
  struct Entry {
    std::weak_ptr<SessionBase> session;
    bool tcp = false;
    bool evicted = false;  // no longer counted: it is closing to make room
  };
  // By id, i.e. oldest first.
  std::map<uint64_t, Entry> sessions OTPD_GUARDED_BY(mu);
  uint64_t next_id OTPD_GUARDED_BY(mu) = 1;  // 0: not admitted
  // Sessions counted against each listener's limit.
  int64_t held_tcp OTPD_GUARDED_BY(mu) = 0;
  int64_t held_unix OTPD_GUARDED_BY(mu) = 0;
};

namespace {

template <class Stream>
class Session : public HttpServer::Impl::SessionBase,
                public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(std::shared_ptr<HttpServer::Impl> server, Stream stream, Peer peer, ConnectionSlot slot)
      : server_(std::move(server)),
        stream_(std::move(stream)),
        timer_(stream_.get_executor()),
        peer_(std::move(peer)),
        slot_(std::move(slot)) {
    server_->stats.connections.fetch_add(1, std::memory_order_relaxed);
  }
  ~Session() override {
    server_->stats.connections.fetch_sub(1, std::memory_order_relaxed);
    if (id_ != 0) server_->Unregister(id_);
  }

  // Takes a place on the listener (see Impl::Admit) and starts serving, or refuses the
  // connection with a 503 when there is none.
  void Start(bool tcp) {
    std::shared_ptr<HttpServer::Impl::SessionBase> evicted;
    id_ = server_->Admit(this->shared_from_this(), tcp, &evicted);
    if (id_ == 0) return Refuse503();
    if (evicted != nullptr) {
      server_->stats.evicted.fetch_add(1, std::memory_order_relaxed);
      evicted->Abort();
    }
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls) {
        self->Arm(self->server_->options.header_timeout);
        self->stream_.async_handshake(asio::ssl::stream_base::server, [self](const error_code& ec) {
          if (ec) return self->Close();
          self->WaitForRequest();
        });
      } else {
        self->WaitForRequest();
      }
    });
  }

  void Drain() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->draining_ = true;
      if (!self->serving_) self->Close();
    });
  }
  void Abort() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->Close(); });
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, Socket>;

  Socket& Lowest() {
    if constexpr (kTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }

  // Closes the connection when `timeout` passes before the next Arm or Disarm.
  void Arm(std::chrono::milliseconds timeout) {
    const uint64_t generation = ++timer_generation_;
    timer_.expires_after(timeout);
    timer_.async_wait([self = this->shared_from_this(), generation](const error_code& ec) {
      if (ec || generation != self->timer_generation_ || self->closed_) return;
      self->server_->stats.timeouts.fetch_add(1, std::memory_order_relaxed);
      self->Close();
    });
  }
  void Disarm() {
    ++timer_generation_;
    timer_.cancel();
  }

  // Before any other use of the stream: a best-effort explanation (a fresh socket's send buffer
  // is empty, and non-blocking mode guarantees this never waits), then the close.
  void Refuse503() {
    server_->stats.connections_refused.fetch_add(1, std::memory_order_relaxed);
    static constexpr std::string_view kRefusal =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    error_code ignored;
    Lowest().non_blocking(true, ignored);
    Lowest().write_some(asio::buffer(kRefusal), ignored);
    Close();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    Disarm();
    error_code ignored;
    Lowest().shutdown(asio::socket_base::shutdown_both, ignored);
    Lowest().close(ignored);
  }

  // Waits (up to idle_timeout; header_timeout for the first request) for the first byte of the
  // next request, so that the header timeout counts from that byte.
  void WaitForRequest() {
    if (closed_) return;
    if (draining_ || server_->stopping.load()) return Close();
    if (buffer_.size() > 0) return ReadHeader();
    Arm(first_ ? server_->options.header_timeout : server_->options.idle_timeout);
    auto space = buffer_.prepare(4096);
    stream_.async_read_some(space,
                            [self = this->shared_from_this()](const error_code& ec, size_t n) {
                              if (ec || n == 0) return self->Close();
                              self->buffer_.commit(n);
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    first_ = false;
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(std::numeric_limits<uint64_t>::max());
    Arm(server_->options.header_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](const error_code& ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(const error_code& ec) {
    if (closed_) return;
    if (ec == bhttp::error::header_limit) {
      return Refuse(bhttp::status::request_header_fields_too_large, "request headers too large");
    }
    if (ec) {
      if (ec == asio::error::operation_aborted || ec == bhttp::error::end_of_stream ||
          ec == asio::error::eof) {
        return Close();
      }
      return Refuse(bhttp::status::bad_request, "malformed HTTP request");
    }
    const RequestHeader& header = parser_->get().base();
    if (std::optional<FramingError> bad = CheckFraming(header)) {
      return Refuse(bad->status, std::move(bad->message));
    }
    const uint64_t limit = server_->BodyLimitFor(header);
    if (auto length = parser_->content_length(); length && *length > limit) {
      return Refuse(bhttp::status::payload_too_large,
                    "the request body is larger than " + std::to_string(limit) + " bytes");
    }
    parser_->body_limit(limit);
    Arm(server_->options.body_timeout);
    if (boost::beast::iequals(header[bhttp::field::expect], "100-continue")) {
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                       header.version());
      bhttp::async_write(stream_, *cont,
                         [self = this->shared_from_this(), cont](const error_code& wec, size_t) {
                           if (wec) return self->Close();
                           self->ReadBody();
                         });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](const error_code& ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(const error_code& ec) {
    if (closed_) return;
    if (ec == bhttp::error::body_limit) {
      return Refuse(bhttp::status::payload_too_large, "the request body is too large");
    }
    if (ec) {
      if (ec == asio::error::operation_aborted || ec == asio::error::eof ||
          ec == bhttp::error::partial_message) {
        return Close();
      }
      return Refuse(bhttp::status::bad_request, "malformed HTTP request");
    }
    Disarm();
    serving_ = true;
    busy.store(true);
    Request request = parser_->release();
    parser_.reset();
    keep_alive_ = request.keep_alive();
    Reply reply([self = this->shared_from_this()](Response response, bool authenticated) {
      asio::post(self->stream_.get_executor(),
                 [self, response = std::move(response), authenticated]() mutable {
                   self->Write(std::move(response), authenticated);
                 });
    });
    server_->handler(std::move(request), peer_, std::move(reply));
  }

  void Refuse(bhttp::status status, std::string message) {
    server_->stats.malformed.fetch_add(1, std::memory_order_relaxed);
    keep_alive_ = false;
    unsigned version = parser_ ? parser_->get().version() : 11;
    serving_ = true;
    Write(EarlyError(version, status, message), /*trusted=*/false);
  }

  void Write(Response response, bool trusted) {
    if (closed_) return;
    busy.store(true);
    if (trusted) authenticated.store(true);
    const bool keep =
        trusted && keep_alive_ && response.keep_alive() && !draining_ && !server_->stopping.load();
    response.keep_alive(keep);
    response.prepare_payload();
    response_ = std::make_unique<Response>(std::move(response));
    Arm(server_->options.body_timeout);
    bhttp::async_write(stream_, *response_,
                       [self = this->shared_from_this(), keep](const error_code& ec, size_t) {
                         self->response_.reset();
                         self->serving_ = false;
                         self->busy.store(false);
                         if (ec || !keep) return self->Finish();
                         self->Disarm();
                         self->WaitForRequest();
                       });
  }

  // Ends the connection after a last response.
  void Finish() {
    if constexpr (kTls) {
      if (!closed_) {
        Arm(std::chrono::milliseconds(1000));
        stream_.async_shutdown(
            [self = this->shared_from_this()](const error_code&) { self->Close(); });
        return;
      }
    }
    Close();
  }

  const std::shared_ptr<HttpServer::Impl> server_;
  Stream stream_;
  asio::steady_timer timer_;
  uint64_t timer_generation_ = 0;
  const Peer peer_;
  ConnectionSlot slot_;
  uint64_t id_ = 0;
  boost::beast::flat_buffer buffer_{kMaxHeaderBytes * 2};
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::unique_ptr<Response> response_;
  bool first_ = true;
  bool serving_ = false;
  bool draining_ = false;
  bool keep_alive_ = true;
  bool closed_ = false;
};

}  // namespace

base::StatusOr<std::shared_ptr<asio::ssl::context>> MakeTlsContext(const std::string& cert_file,
                                                                   const std::string& key_file) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  error_code ec;
  context->use_certificate_chain_file(cert_file, ec);
  if (ec) {
    return base::InvalidArgumentError("cannot use the certificate " + cert_file + ": " +
                                      ec.message());
  }
  context->use_private_key_file(key_file, asio::ssl::context::pem, ec);
  if (ec) {
    return base::InvalidArgumentError("cannot use the private key " + key_file + ": " +
                                      ec.message());
  }
  return context;
}

HttpServer::HttpServer(std::shared_ptr<IoRunner> runner, HttpServerOptions options, Handler handler)
    : runner_(std::move(runner)),
      impl_(std::make_shared<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { Stop(); }

const HttpServerStats& HttpServer::stats() const { return impl_->stats; }

base::Status HttpServer::Start() {
  if (started_) return base::FailedPreconditionError("HttpServer::Start called twice");
  started_ = true;
  const HttpServerOptions& o = impl_->options;
  auto fail = [this](base::Status status) {
    for (auto& listener : impl_->listeners) listener->Close(/*io_running=*/false);
    impl_->listeners.clear();
    stopped_ = true;
    return status;
  };
  // A weak reference: a pending accept holds its listener, the listener this factory, and the
  // Impl the io runner whose io_context holds that accept. A strong one made a cycle that kept
  // all of them alive after Stop when an accept was still queued.
  auto factory = [weak = std::weak_ptr<Impl>(impl_)](Socket socket, bool tcp, ConnectionSlot slot) {
    std::shared_ptr<Impl> impl = weak.lock();
    if (impl == nullptr) return;  // stopped and gone: the socket closes with this scope
    impl->stats.connections_accepted.fetch_add(1, std::memory_order_relaxed);
    Peer peer;
    peer.tcp = tcp;
    if (tcp) {
      peer.address = PeerAddress(socket);
    } else {
      peer.address = "unix";
      peer.uid = PeerUid(socket);
    }
    if (tcp && impl->options.tls) {
      peer.tls = true;
      auto session = std::make_shared<Session<asio::ssl::stream<Socket>>>(
          impl, asio::ssl::stream<Socket>(std::move(socket), *impl->options.tls), std::move(peer),
          std::move(slot));
      session->Start(tcp);
    } else {
      auto session = std::make_shared<Session<Socket>>(impl, std::move(socket), std::move(peer),
                                                       std::move(slot));
      session->Start(tcp);
    }
  };
  auto listener_options = [&] {
    internal::ListenerOptions lo;
    lo.name = o.name;
    // The limit is the server's (Impl::Admit, which makes room by evicting); the listener's,
    // twice as high, only bounds the descriptors of connections still closing after eviction.
    lo.max_connections = [max = o.max_connections] { return 2 * max + 8; };
    lo.refusal =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    lo.unix_mode = o.unix_mode;
    lo.refused = &impl_->stats.connections_refused;
    return lo;
  };
  if (!o.unix_path.empty()) {
    auto listener =
        std::make_shared<internal::Listener>(runner_->io(), listener_options(), factory);
    impl_->listeners.push_back(listener);
    if (base::Status s = listener->OpenUnix(o.unix_path); !s.ok()) {
      return fail(s.WithContext(o.name + " socket"));
    }
  }
  if (!o.tcp_listen.empty()) {
    auto listener =
        std::make_shared<internal::Listener>(runner_->io(), listener_options(), factory);
    impl_->listeners.push_back(listener);
    if (base::Status s = listener->OpenTcp(o.tcp_listen); !s.ok()) {
      return fail(s.WithContext(o.name + " listener"));
    }
    tcp_port_ = listener->port();
  }
  for (auto& listener : impl_->listeners) listener->Start();
  return base::OkStatus();
}

void HttpServer::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  impl_->stopping.store(true);
  for (auto& listener : impl_->listeners) listener->Close(/*io_running=*/true);
  impl_->listeners.clear();
  for (auto& session : impl_->Live()) session->Drain();
  if (!impl_->WaitForNoSessions(impl_->options.shutdown_grace)) {
    spdlog::warn("{}: closing connections with requests still being served", impl_->options.name);
    for (auto& session : impl_->Live()) session->Abort();
    impl_->WaitForNoSessions(kAbortWait);
  }
}

Response MakeResponse(const Request& request, bhttp::status status, std::string_view content_type,
                      std::string body) {
  Response response{status, request.version()};
  response.set(bhttp::field::server, "otpd");
  if (!content_type.empty()) response.set(bhttp::field::content_type, content_type);
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

}  // namespace otpd::server::http
