// Listener: one accepting socket of the verify server (a Unix stream socket or a TCP port) and
// its accept loop, which hands each connection to a new Session or, past max_connections,
// refuses it.
//
// Thread-safety: Open and the accessors run on the thread that owns the server before Start;
// the accept loop runs on the listener's strand; Close may be called from any thread.

#ifndef OTPD_SERVER_INTERNAL_LISTENERS_H_
#define OTPD_SERVER_INTERNAL_LISTENERS_H_

#include <sys/types.h>

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "server/internal/core.h"
#include "server/internal/session.h"

namespace otpd::server::internal {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  explicit Listener(Core& core);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Creates the Unix socket at `path` with mode 0660. A stale socket file (nobody accepting) is
  // replaced; a live one, or a path that is not a socket, is an error.
  base::Status OpenUnix(const std::string& path);
  // Listens on HOST:PORT; port 0 picks an ephemeral port (see port()).
  base::Status OpenTcp(const std::string& host_port, bool trusted);

  // Starts the accept loop.
  void Start();
  // Stops accepting and, for a Unix socket, removes the socket file if it is still ours.
  // With `io_running`, closes on the listener's strand and waits for it; must not be called on
  // an io thread then.
  void Close(bool io_running);

  uint16_t port() const { return port_; }

 private:
  void DoAccept();
  void OnAccept(const boost::system::error_code& ec);
  void Refuse(Socket& socket);

  Core& core_;
  boost::asio::any_io_executor strand_;
  boost::asio::basic_socket_acceptor<boost::asio::generic::stream_protocol> acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::optional<Socket> peer_;
  bool tcp_ = false;
  bool trusted_ = false;
  uint16_t port_ = 0;
  std::string unix_path_;
  ino_t unix_inode_ = 0;
};

}  // namespace otpd::server::internal

#endif  // OTPD_SERVER_INTERNAL_LISTENERS_H_
