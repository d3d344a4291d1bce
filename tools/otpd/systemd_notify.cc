#include "tools/otpd/systemd_notify.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace otpd::tools {

base::Status NotifySystemd(std::string_view state) {
  const char* env = std::getenv("NOTIFY_SOCKET");
  if (env == nullptr || env[0] == '\0') return base::OkStatus();
  const std::string_view name(env);
  const std::string where = "NOTIFY_SOCKET " + std::string(name);
  if (name[0] != '/' && name[0] != '@') {
    return base::InvalidArgumentError(where + ": not an absolute path or @abstract name");
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (name.size() >= sizeof(address.sun_path)) {
    return base::InvalidArgumentError(where + ": too long");
  }
  std::memcpy(address.sun_path, name.data(), name.size());
  // An abstract socket's name starts with a NUL byte, and its length is the address's length.
  if (name[0] == '@') address.sun_path[0] = '\0';
  const socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() +
                                                  (name[0] == '@' ? 0 : 1));

  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return base::UnavailableError(where + ": socket: " + std::strerror(errno));
  const ssize_t sent = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                              reinterpret_cast<const sockaddr*>(&address), length);
  const int error = errno;
  close(fd);
  if (sent < 0) return base::UnavailableError(where + ": " + std::strerror(error));
  if (static_cast<size_t>(sent) != state.size()) {
    return base::UnavailableError(where + ": the notification was cut short");
  }
  return base::OkStatus();
}

base::Status NotifyReady() { return NotifySystemd("READY=1"); }

base::Status NotifyReloading() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const uint64_t usec =
      static_cast<uint64_t>(now.tv_sec) * 1000000u + static_cast<uint64_t>(now.tv_nsec) / 1000u;
  return NotifySystemd("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

base::Status NotifyStopping() { return NotifySystemd("STOPPING=1"); }

}  // namespace otpd::tools
