#include "server/internal/listener.h"

#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <cerrno>
#include <cstring>
#include <future>

#include "server/config.h"

namespace otpd::server::internal {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

base::Status SocketError(std::string_view what, const error_code& ec) {
  return base::UnavailableError(std::string(what) + ": " + ec.message());
}

// Removes a socket file nobody accepts on; refuses a live socket or a non-socket.
base::Status ClearStaleSocket(const std::string& path, std::string_view name) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return base::OkStatus();
    return base::FailedPreconditionError("cannot inspect the socket path " + path);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return base::FailedPreconditionError(path + " exists and is not a socket");
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return base::UnavailableError("socket() failed");
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int err = errno;
  ::close(fd);
  if (rc == 0) {
    return base::AlreadyExistsError("another process is serving " + path);
  }
  if (err != ECONNREFUSED) {
    return base::FailedPreconditionError("cannot probe the socket " + path + ": " +
                                         std::strerror(err));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return base::FailedPreconditionError("cannot remove the stale socket " + path);
  }
  spdlog::info("{}: removed a stale socket file {}", name, path);
  return base::OkStatus();
}

}  // namespace

Listener::Listener(asio::io_context& io, ListenerOptions options, SessionFactory factory)
    : io_(io),
      options_(std::move(options)),
      factory_(std::move(factory)),
      strand_(asio::make_strand(io)),
      acceptor_(strand_),
      retry_timer_(strand_) {}

Listener::~Listener() = default;

base::Status Listener::OpenUnix(const std::string& path) {
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    return base::InvalidArgumentError("socket path too long");
  }
  OTPD_RETURN_IF_ERROR(ClearStaleSocket(path, options_.name));
  asio::generic::stream_protocol::endpoint endpoint{asio::local::stream_protocol::endpoint(path)};
  error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (ec) return SocketError("cannot bind " + path, ec);
  // Before listen(), so that nobody connects while the mode is still the umask's.
  if (::chmod(path.c_str(), static_cast<mode_t>(options_.unix_mode)) != 0) {
    return base::FailedPreconditionError("cannot chmod the socket " + path);
  }
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) unix_inode_ = st.st_ino;
  unix_path_ = path;
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return SocketError("cannot listen on " + path, ec);
  return base::OkStatus();
}

base::Status Listener::OpenTcp(const std::string& host_port) {
  OTPD_ASSIGN_OR_RETURN(HostPort hp, ParseHostPort(host_port));
  std::string host = hp.host == "localhost" ? "127.0.0.1" : hp.host;
  error_code ec;
  asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) return base::InvalidArgumentError("listen: the host must be an IP address");
  asio::ip::tcp::endpoint tcp_endpoint(address, hp.port);
  asio::generic::stream_protocol::endpoint endpoint(tcp_endpoint);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return SocketError("cannot listen on " + host_port, ec);
  asio::generic::stream_protocol::endpoint bound = acceptor_.local_endpoint(ec);
  if (ec) return SocketError("cannot read the bound address", ec);
  if (bound.data()->sa_family == AF_INET) {
    port_ = ntohs(reinterpret_cast<const sockaddr_in*>(bound.data())->sin_port);
  } else if (bound.data()->sa_family == AF_INET6) {
    port_ = ntohs(reinterpret_cast<const sockaddr_in6*>(bound.data())->sin6_port);
  }
  tcp_ = true;
  return base::OkStatus();
}

void Listener::Start() {
  asio::post(strand_, [self = shared_from_this()] { self->DoAccept(); });
}

void Listener::Close(bool io_running) {
  auto close = [this] {
    error_code ignored;
    acceptor_.close(ignored);
    retry_timer_.cancel();
  };
  if (io_running) {
    std::promise<void> closed;
    asio::post(strand_, [&close, &closed] {
      close();
      closed.set_value();
    });
    closed.get_future().wait();
  } else {
    close();
  }
  if (!unix_path_.empty()) {
    struct stat st;
    if (::lstat(unix_path_.c_str(), &st) == 0 && st.st_ino == unix_inode_) {
      ::unlink(unix_path_.c_str());
    }
    unix_path_.clear();
  }
}

void Listener::DoAccept() {
  if (!acceptor_.is_open()) return;
  peer_.emplace(asio::make_strand(io_));
  acceptor_.async_accept(*peer_,
                         [self = shared_from_this()](const error_code& ec) { self->OnAccept(ec); });
}

void Listener::OnAccept(const error_code& ec) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // Typically EMFILE: wait a little instead of spinning on the error.
    spdlog::warn("{}: accept failed: {}", options_.name, ec.message());
    retry_timer_.expires_after(std::chrono::milliseconds(100));
    retry_timer_.async_wait([self = shared_from_this()](const error_code& wait_ec) {
      if (!wait_ec) self->DoAccept();
    });
    return;
  }
  if (live_->load(std::memory_order_relaxed) >= static_cast<int64_t>(options_.max_connections())) {
    Refuse(*peer_);
  } else {
    if (tcp_) {
      error_code ignored;
      peer_->set_option(asio::ip::tcp::no_delay(true), ignored);
    }
    live_->fetch_add(1, std::memory_order_relaxed);
    if (options_.accepted != nullptr) options_.accepted->fetch_add(1, std::memory_order_relaxed);
    factory_(std::move(*peer_), tcp_, ConnectionSlot(live_));
  }
  peer_.reset();
  DoAccept();
}

void Listener::Refuse(Socket& socket) {
  if (options_.refused != nullptr) options_.refused->fetch_add(1, std::memory_order_relaxed);
  // A best-effort explanation; a fresh socket's send buffer is empty, and non-blocking mode
  // guarantees this never waits.
  error_code ignored;
  socket.non_blocking(true, ignored);
  if (!options_.refusal.empty()) {
    socket.write_some(asio::buffer(options_.refusal.data(), options_.refusal.size()), ignored);
  }
  socket.shutdown(asio::socket_base::shutdown_both, ignored);
  socket.close(ignored);
}

}  // namespace otpd::server::internal
