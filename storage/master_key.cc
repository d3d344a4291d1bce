// Loading and writing the master key (declared in storage/keyring.h).

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/codec.h"
#include "base/seal.h"
#include "storage/keyring.h"

namespace otpd::storage {
namespace {

std::string Errno(int err) { return std::strerror(err); }

std::string ModeString(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

base::StatusOr<base::SecretBytes> CheckKeySize(base::SecretBytes key, std::string_view source) {
  if (key.size() != kMasterKeyBytes) {
    return base::InvalidArgumentError(std::string(source) + " must hold a 32-byte key, found " +
                                      std::to_string(key.size()) + " bytes");
  }
  return key;
}

// Reads an existing key file, refusing one that others may read or write.
base::StatusOr<base::SecretBytes> ReadKeyFile(const std::string& path, int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    return base::UnavailableError("cannot stat key file " + path + ": " + Errno(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return base::PermissionDeniedError("key file " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    return base::PermissionDeniedError("key file " + path + " has mode " + ModeString(st.st_mode) +
                                       ": it must not be accessible by group or others "
                                       "(chmod 600 " +
                                       path + ")");
  }
  if (st.st_size > 4096) return base::InvalidArgumentError("key file " + path + " is too large");
  base::SecretBytes content(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < content.size()) {
    ssize_t n = read(fd, content.data() + got, content.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return base::UnavailableError("cannot read key file " + path);
    got += static_cast<size_t>(n);
  }
  if (content.size() == kMasterKeyBytes) return content;
  auto parsed = ParseMasterKeyText(content.view());
  if (!parsed.ok()) return parsed.status().WithContext("key file " + path);
  return parsed;
}

base::Status WriteAll(int fd, const base::SecretBytes& key) {
  size_t done = 0;
  while (done < key.size()) {
    ssize_t n = write(fd, key.data() + done, key.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return base::UnavailableError("write failed: " + Errno(errno));
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) return base::UnavailableError("fsync failed: " + Errno(errno));
  return base::OkStatus();
}

base::Status SyncParentDir(const std::string& path) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return base::UnavailableError("cannot open directory " + dir + ": " + Errno(errno));
  int rc = fsync(fd);
  close(fd);
  if (rc != 0) return base::UnavailableError("cannot fsync directory " + dir + ": " + Errno(errno));
  return base::OkStatus();
}

}  // namespace

base::StatusOr<base::SecretBytes> ParseMasterKeyText(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  if (text.size() == 2 * kMasterKeyBytes) {
    auto hex = base::HexDecode(text);
    if (hex.ok()) return CheckKeySize(std::move(hex).value(), "master key");
  }
  auto b64 = base::Base64Decode(text);
  if (!b64.ok()) {
    return base::InvalidArgumentError("master key must be 64 hex digits or base64 of 32 bytes");
  }
  return CheckKeySize(std::move(b64).value(), "master key");
}

base::StatusOr<base::SecretBytes> GenerateMasterKey() {
  base::SecretBytes key(kMasterKeyBytes);
  OTPD_RETURN_IF_ERROR(base::RandomBytes(key.mutable_span()));
  return key;
}

base::Status WriteMasterKeyFile(const std::string& path, const base::SecretBytes& key) {
  if (key.size() != kMasterKeyBytes)
    return base::InvalidArgumentError("master key must be 32 bytes");
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return base::UnavailableError("cannot create " + tmp + ": " + Errno(errno));
  base::Status written = WriteAll(fd, key);
  close(fd);
  if (written.ok()) {
    // link() fails if `path` exists, so an existing key is never replaced.
    if (link(tmp.c_str(), path.c_str()) != 0) {
      int err = errno;
      written = err == EEXIST ? base::AlreadyExistsError("key file " + path + " already exists")
                              : base::UnavailableError("cannot create " + path + ": " + Errno(err));
    }
  }
  unlink(tmp.c_str());
  if (!written.ok()) return written.WithContext("writing key file " + path);
  return SyncParentDir(path);
}

base::StatusOr<base::SecretBytes> LoadMasterKey(const MasterKeyOptions& options) {
  if (!options.env_var.empty()) {
    const char* value = std::getenv(options.env_var.c_str());
    if (value != nullptr && *value != '\0') {
      auto key = ParseMasterKeyText(value);
      if (!key.ok()) return key.status().WithContext("environment variable " + options.env_var);
      return key;
    }
  }
  if (options.key_file.empty()) {
    return base::NotFoundError("no master key: set " + (options.env_var.empty()
                                                            ? std::string("a key file")
                                                            : options.env_var + " or a key file"));
  }
  const std::string& path = options.key_file;
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
      auto key = ReadKeyFile(path, fd);
      close(fd);
      return key;
    }
    if (errno != ENOENT) {
      return base::PermissionDeniedError("cannot open key file " + path + ": " + Errno(errno));
    }
    if (!options.create_key_file)
      return base::NotFoundError("key file " + path + " does not exist");
    OTPD_ASSIGN_OR_RETURN(base::SecretBytes key, GenerateMasterKey());
    base::Status created = WriteMasterKeyFile(path, key);
    if (created.ok()) return key;
    if (!base::IsAlreadyExists(created)) return created;
    // Another process created it first: read theirs.
  }
  return base::UnavailableError("cannot create or read key file " + path);
}

}  // namespace otpd::storage
