// Connecting a test client to a server on this machine: a TCP port on 127.0.0.1, or a Unix
// socket. Each returns the connected descriptor (the caller owns it) or -1, closing what it
// opened when the connection fails.

#ifndef OTPD_TESTS_TESTING_LOCAL_SOCKET_H_
#define OTPD_TESTS_TESTING_LOCAL_SOCKET_H_

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace otpd::testing {

inline int ConnectDescriptor(int fd, const sockaddr* addr, socklen_t len) {
  if (fd < 0) return -1;
  if (::connect(fd, addr, len) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline int ConnectLoopbackTcp(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ConnectDescriptor(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0),
                           reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
}

// The same from a chosen source address of 127.0.0.0/8 (Linux answers all of it on loopback), so
// that a test can be a client on another address than 127.0.0.1.
inline int ConnectLoopbackTcpFrom(uint16_t port, uint32_t source_host_order) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in source{};
  source.sin_family = AF_INET;
  source.sin_addr.s_addr = htonl(source_host_order);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof(source)) != 0) {
    ::close(fd);
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ConnectDescriptor(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
}

inline int ConnectUnixSocket(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  return ConnectDescriptor(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0),
                           reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
}

}  // namespace otpd::testing

#endif  // OTPD_TESTS_TESTING_LOCAL_SOCKET_H_
