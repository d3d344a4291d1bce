// Listener: one accepting socket (a Unix stream socket or a TCP port) and its accept loop. Each
// accepted connection goes to the listener's session factory with a ConnectionSlot that counts
// it against the listener's own limit until the session lets it go; past the limit the
// connection is refused at once with the listener's refusal line. Every listener counts apart, so
// connections on one (say, unauthenticated TCP) can never take another's share.
//
// Thread-safety: Open and the accessors run on the owning thread before Start; the accept loop
// runs on the listener's strand; Close may be called from any thread.

#ifndef OTPD_SERVER_INTERNAL_LISTENER_H_
#define OTPD_SERVER_INTERNAL_LISTENER_H_

#include <sys/types.h>

#include <atomic>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"

namespace otpd::server::internal {

using Socket = boost::asio::generic::stream_protocol::socket;

// Counts one connection against its listener's limit while it lives.
class ConnectionSlot {
 public:
  ConnectionSlot() = default;
  explicit ConnectionSlot(std::shared_ptr<std::atomic<int64_t>> live) : live_(std::move(live)) {}
  ConnectionSlot(ConnectionSlot&&) noexcept = default;
  ConnectionSlot& operator=(ConnectionSlot&& other) noexcept {
    Release();
    live_ = std::move(other.live_);
    return *this;
  }
  ~ConnectionSlot() { Release(); }

 private:
  void Release() {
    if (live_) live_->fetch_sub(1, std::memory_order_relaxed);
    live_.reset();
  }
  std::shared_ptr<std::atomic<int64_t>> live_;
};

struct ListenerOptions {
  std::string name;  // for logs: "verify", "admin"
  // The connection limit, read at every accept (it may change at runtime).
  std::function<uint32_t()> max_connections;
  // Written to a refused connection before it is closed (may be empty).
  std::string refusal;
  // Unix socket mode (set before listen(), so nobody connects under the umask's mode).
  uint32_t unix_mode = 0660;
  // Counted on every accept and refusal (may be null).
  std::atomic<uint64_t>* accepted = nullptr;
  std::atomic<uint64_t>* refused = nullptr;
};

// Receives each accepted connection: the socket (its executor is a strand of the io_context),
// whether it came over TCP, and its slot.
using SessionFactory = std::function<void(Socket socket, bool tcp, ConnectionSlot slot)>;

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(boost::asio::io_context& io, ListenerOptions options, SessionFactory factory);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Creates the Unix socket at `path`. A stale socket file (nobody accepting) is replaced; a live
  // one, or a path that is not a socket, is an error.
  base::Status OpenUnix(const std::string& path);
  // Listens on HOST:PORT; port 0 picks an ephemeral port (see port()).
  base::Status OpenTcp(const std::string& host_port);

  // Starts the accept loop.
  void Start();
  // Stops accepting and, for a Unix socket, removes the socket file if it is still ours.
  // With `io_running`, closes on the listener's strand and waits for it; must not be called on
  // an io thread then.
  void Close(bool io_running);

  uint16_t port() const { return port_; }
  // Connections of this listener open now.
  int64_t live() const { return live_->load(std::memory_order_relaxed); }

 private:
  void DoAccept();
  void OnAccept(const boost::system::error_code& ec);
  void Refuse(Socket& socket);

  boost::asio::io_context& io_;
  const ListenerOptions options_;
  const SessionFactory factory_;
  boost::asio::any_io_executor strand_;
  boost::asio::basic_socket_acceptor<boost::asio::generic::stream_protocol> acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::optional<Socket> peer_;
  std::shared_ptr<std::atomic<int64_t>> live_ = std::make_shared<std::atomic<int64_t>>(0);
  bool tcp_ = false;
  uint16_t port_ = 0;
  std::string unix_path_;
  ino_t unix_inode_ = 0;
};

}  // namespace otpd::server::internal

#endif  // OTPD_SERVER_INTERNAL_LISTENER_H_
