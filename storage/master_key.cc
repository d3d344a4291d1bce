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
#include "base/secret_file.h"
#include "storage/keyring.h"

namespace otpd::storage {
namespace {

std::string Errno(int err) { return std::strerror(err); }

// What a master key's text may be, for every refusal of one.
constexpr char kMasterKeyForms[] =
    "a master key is 32 bytes, written as 64 hex digits or 44 base64 characters (e.g. openssl "
    "rand -hex 32)";

base::StatusOr<base::SecretBytes> CheckKeySize(base::SecretBytes key, std::string_view source) {
  if (key.size() != kMasterKeyBytes) {
    return base::InvalidArgumentError(std::string(source) + " holds " + std::to_string(key.size()) +
                                      " bytes: " + kMasterKeyForms);
  }
  return key;
}

// A key file's content: the 32 raw bytes, or their text (ParseMasterKeyText).
base::StatusOr<base::SecretBytes> ParseKeyFile(const std::string& path, base::SecretBytes content) {
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
    return base::InvalidArgumentError("not hex or base64 of the right length (" +
                                      std::to_string(text.size()) +
                                      " characters): " + kMasterKeyForms);
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
    // The same checks as every other key file (base/secret_file.h): a key that others may read
    // is refused.
    auto content = base::ReadPrivateFile(path, "key file");
    if (content.ok()) return ParseKeyFile(path, std::move(content).value());
    if (!base::IsNotFound(content.status()) || !options.create_key_file) return content.status();
    OTPD_ASSIGN_OR_RETURN(base::SecretBytes key, GenerateMasterKey());
    base::Status created = WriteMasterKeyFile(path, key);
    if (created.ok()) return key;
    if (!base::IsAlreadyExists(created)) return created;
    // Another process created it first: read theirs.
  }
  return base::UnavailableError("cannot create or read key file " + path);
}

}  // namespace otpd::storage
