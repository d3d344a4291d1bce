#include "base/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace otpd::base {
namespace {

std::string ModeString(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Checks the open file `fd` and reads it whole.
StatusOr<SecretBytes> ReadChecked(const std::string& path, std::string_view what, int fd,
                                  size_t max_bytes) {
  const std::string name = std::string(what) + " " + path;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    return UnavailableError("cannot stat " + name + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return PermissionDeniedError(name + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    return PermissionDeniedError(name + " has mode " + ModeString(st.st_mode) +
                                 ": it must not be accessible by group or others (chmod 600 " +
                                 path + ")");
  }
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    return InvalidArgumentError(name + " is too large");
  }
  SecretBytes content(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < content.size()) {
    ssize_t n = read(fd, content.data() + got, content.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return UnavailableError("cannot read " + name);
    got += static_cast<size_t>(n);
  }
  return content;
}

}  // namespace

StatusOr<SecretBytes> ReadPrivateFile(const std::string& path, std::string_view what,
                                      size_t max_bytes) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return NotFoundError(std::string(what) + " " + path + " does not exist");
    return PermissionDeniedError("cannot open " + std::string(what) + " " + path + ": " +
                                 std::strerror(err));
  }
  StatusOr<SecretBytes> content = ReadChecked(path, what, fd, max_bytes);
  close(fd);
  return content;
}

}  // namespace otpd::base
