// HttpServer serves HTTP/1.1 (Boost.Beast) on a Unix socket and/or a TCP port (optionally TLS),
// on the daemon's io threads, and hands each complete request to a handler that answers
// asynchronously, so that the handler can run its work elsewhere (a worker pool) and never block
// an io thread. The admin API and the validate endpoint are built on it.
//
// What it enforces before a handler sees a request:
//   - a connection limit per listener (see below for who makes room past it);
//   - timeouts: a new request's headers must arrive within header_timeout of its first byte, its
//     body within body_timeout of its headers; a kept-alive connection idle for idle_timeout is
//     closed; the response must be taken by the client within body_timeout;
//   - sizes: headers at most 16 KiB (431), the body at most what body_limit says for that request
//     (413, before a byte of it is read when Content-Length says so);
//   - malformed HTTP answers 400 and closes; so does a body whose framing is ambiguous (RFC 9112
//     section 6: Transfer-Encoding with Content-Length, a final coding other than chunked, chunked
//     twice, Transfer-Encoding in HTTP/1.0), and a coding before the final chunked answers 501
//     (only chunked is implemented), so that no request can hide another in its body;
//   - a request the handler did not mark authenticated (Reply::MarkAuthenticated) ends its
//     connection after its answer; past the connection limit, a new connection takes the place of
//     the oldest one that has not authenticated and is not being answered (a half-sent request,
//     a TLS handshake, an idle connection never authenticated), so that unauthenticated clients,
//     however many and however slow, never keep authenticated ones out. Only when every place is
//     held by authenticated or busy connections is a new one refused (503).
// Requests on one connection are served one at a time (HTTP/1.1 pipelining is read but not
// overlapped). `Expect: 100-continue` is answered once the headers are accepted.
//
// Thread-safety: Start and Stop are called by the owning thread, never on an io thread. The
// handler runs on an io thread and must return quickly; it may call its Reply from any thread,
// exactly once.

#ifndef OTPD_SERVER_HTTP_HTTP_SERVER_H_
#define OTPD_SERVER_HTTP_HTTP_SERVER_H_

#include <sys/types.h>

#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "base/statusor.h"
#include "server/io_runner.h"

namespace otpd::server::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;
using RequestHeader = boost::beast::http::request_header<>;

// Who is on the other end of a connection.
struct Peer {
  bool tcp = false;
  bool tls = false;
  std::string address;       // the TCP peer's address; "unix" for the Unix socket
  std::optional<uid_t> uid;  // the Unix peer's uid (SO_PEERCRED)
};

// Receives the response to one request, exactly once, from any thread (later calls are
// ignored). A request counts as unauthenticated unless the handler calls MarkAuthenticated
// before answering: its connection is then closed after the answer (`Connection: close`), so that
// a client that never proves who it is cannot keep a place on the listener by being answered.
class Reply {
 public:
  using Send = std::function<void(Response response, bool authenticated)>;
  Reply() = default;
  explicit Reply(Send send);

  // The request's sender proved who it is (a client key, an API key, the admin socket's owner):
  // its connection may stay open for the next request, and is not evicted while idle.
  void MarkAuthenticated() const;
  void operator()(Response response) const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};
using Handler = std::function<void(Request request, const Peer& peer, Reply reply)>;
// The largest body accepted for a request, decided from its headers.
using BodyLimit = std::function<uint64_t(const RequestHeader& header)>;

struct HttpServerOptions {
  std::string name;                                // for logs: "admin", "validate"
  std::string unix_path;                           // "" = no Unix socket
  uint32_t unix_mode = 0600;                       // set before listen()
  std::string tcp_listen;                          // HOST:PORT; "" = no TCP listener
  std::shared_ptr<boost::asio::ssl::context> tls;  // TLS on the TCP listener when set
  uint32_t max_connections = 64;                   // per listener
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{60'000};
  std::chrono::milliseconds idle_timeout{60'000};
  // How long Stop() lets requests being served finish.
  std::chrono::milliseconds shutdown_grace{5'000};
  BodyLimit body_limit;  // null: 1 MiB for every request
};

struct HttpServerStats {
  std::atomic<int64_t> connections{0};
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_refused{0};
  std::atomic<uint64_t> timeouts{0};   // connections closed for a header, body or write timeout
  std::atomic<uint64_t> malformed{0};  // 400/413/431/501 answered before the handler
  std::atomic<uint64_t> evicted{0};    // unauthenticated connections closed to make room
};

// Loads a TLS server context from PEM files (certificate chain, private key), TLS 1.2 or later.
// InvalidArgument naming the file that cannot be used.
base::StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeTlsContext(
    const std::string& cert_file, const std::string& key_file);

class HttpServer {
 public:
  HttpServer(std::shared_ptr<IoRunner> runner, HttpServerOptions options, Handler handler);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listeners (the runner's threads may already run). Fails and leaves nothing
  // listening when a socket cannot be made (see Listener::OpenUnix/OpenTcp).
  base::Status Start();
  // Stops accepting, closes idle connections, lets requests being served answer for up to
  // shutdown_grace, then closes the rest. Idempotent.
  void Stop();

  uint16_t tcp_port() const { return tcp_port_; }
  const HttpServerStats& stats() const;

  class Impl;

 private:
  // The runner is held here, not by Impl: a session's handler still queued when the runner
  // stops holds its Impl, and an Impl holding the runner would keep the runner's io_context,
  // and so that handler, alive for ever.
  const std::shared_ptr<IoRunner> runner_;
  std::shared_ptr<Impl> impl_;
  uint16_t tcp_port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

// A response with `status`, `content_type` and `body`, keep-alive as the request asked.
Response MakeResponse(const Request& request, boost::beast::http::status status,
                      std::string_view content_type, std::string body);

}  // namespace otpd::server::http

#endif  // OTPD_SERVER_HTTP_HTTP_SERVER_H_
