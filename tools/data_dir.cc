#include "tools/data_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "base/codec.h"
#include "base/mac.h"
#include "base/secret_file.h"
#include "service/model/record_upgrade.h"

namespace otpd::tools {
namespace {

namespace fs = std::filesystem;

constexpr char kInsecureFlag[] = "--insecure-key-in-data-dir";

std::string Absolute(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return ec ? path : p.string();
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

const char* EnvOrNull(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

// Where the master key comes from, decided before anything is opened.
struct KeySource {
  bool from_env = false;
  std::string file;  // when !from_env
};

base::StatusOr<KeySource> ResolveKeySource(const DataDirOptions& o) {
  KeySource source;
  if (EnvOrNull(storage::kMasterKeyEnvVar) != nullptr) {
    source.from_env = true;
    return source;
  }
  source.file = o.key_file;
  if (source.file.empty()) {
    if (const char* env = EnvOrNull(kKeyFileEnvVar)) source.file = env;
  }
  const std::string& dir = o.data_dir;
  if (source.file.empty()) {
    const std::string legacy = dir + "/master.key";
    if (Exists(legacy)) {
      return base::FailedPreconditionError(
          "no master key given for data directory " + dir + ". It holds " + legacy +
          ", which is no longer read from there (a copy of the directory would carry the key "
          "that opens it): move it out, e.g. mv " +
          legacy + " /etc/otpd/master.key, and pass --key-file /etc/otpd/master.key (or set " +
          kKeyFileEnvVar + "); or keep it and pass --key-file " + legacy + " " + kInsecureFlag);
    }
    return base::FailedPreconditionError(
        "no master key given for data directory " + dir + ": pass --key-file FILE (or set " +
        kKeyFileEnvVar + "), or set " + storage::kMasterKeyEnvVar +
        (o.access == DataDirAccess::kCreate ? "; otpctl init creates the key file" : ""));
  }
  if (!o.allow_key_in_data_dir && IsInsideDirectory(source.file, dir)) {
    return base::FailedPreconditionError(
        "key file " + source.file + " is inside the data directory " + dir +
        ", so a copy of the directory would carry the key that opens it: keep the key elsewhere "
        "(e.g. /etc/otpd/master.key, mode 0600) and pass that path, or pass " +
        kInsecureFlag);
  }
  return source;
}

// The key from `source`; the key file is created (0600) only when `create` is true and it does
// not exist yet. *created tells whether it was.
base::StatusOr<base::SecretBytes> LoadKey(const KeySource& source, bool create, bool* created) {
  *created = false;
  storage::MasterKeyOptions options;
  options.key_file = source.file;
  options.create_key_file = false;
  if (create && !source.from_env && !Exists(source.file)) {
    OTPD_ASSIGN_OR_RETURN(base::SecretBytes key, storage::GenerateMasterKey());
    OTPD_RETURN_IF_ERROR(storage::WriteMasterKeyFile(source.file, key));
    *created = true;
    return key;
  }
  auto key = storage::LoadMasterKey(options);
  if (base::IsNotFound(key.status()) && !source.file.empty()) {
    return base::NotFoundError("key file " + source.file +
                               " does not exist (only otpctl init creates one, with a new data "
                               "directory)");
  }
  return key;
}

// No otpd database at `dir`: what to do, naming the path, otpctl init and otpd's --init.
base::Status NoDatabase(const std::string& dir, const base::Status& why) {
  if (base::IsNotFound(why)) {
    return base::NotFoundError(std::string(why.message()) +
                               ": check the path, or create a data directory there with otpctl "
                               "init --data-dir " +
                               dir + " --key-file FILE (or start otpd once with --init)");
  }
  return base::Status(why.code(), std::string(why.message()) +
                                      ": check the path (otpctl init creates a data directory "
                                      "only where there is none, or an empty one)");
}

void Describe(const KeySource& source, const base::SecretBytes& key, DataDir* dir) {
  dir->key_file = source.from_env ? "" : Absolute(source.file);
  dir->key_source = source.from_env
                        ? std::string("environment variable ") + storage::kMasterKeyEnvVar
                        : "key file " + dir->key_file;
  dir->key_id = MasterKeyId(key);
}

storage::RocksDbOptions StoreOptions(const std::string& path) {
  storage::RocksDbOptions options;
  options.path = path;
  options.create_if_missing = false;
  return options;
}

// A new database and its first data key. The directory must be missing or empty.
base::StatusOr<DataDir> Create(const DataDirOptions& o) {
  OTPD_ASSIGN_OR_RETURN(KeySource source, ResolveKeySource(o));
  DataDir dir;
  OTPD_ASSIGN_OR_RETURN(base::SecretBytes key, LoadKey(source, true, &dir.created_key_file));
  Describe(source, key, &dir);
  storage::RocksDbOptions options = StoreOptions(o.data_dir);
  options.create_if_missing = true;
  auto store = storage::RocksDbStore::Open(options);
  if (!store.ok()) {
    // A key file made for a database that was not created would only mislead.
    if (dir.created_key_file) unlink(source.file.c_str());
    return store.status();
  }
  dir.store = std::move(*store);
  OTPD_ASSIGN_OR_RETURN(dir.keys, storage::KeyRing::Open(*dir.store, std::move(key)));
  OTPD_RETURN_IF_ERROR(service::UpgradeRecords(*dir.store, *dir.keys));  // marks the layout
  dir.created = true;
  return dir;
}

// An existing database: read-only first, to check the directory and then the key without
// writing anything; then, for write access, read-write.
base::StatusOr<DataDir> OpenExisting(const DataDirOptions& o) {
  storage::RocksDbOptions options = StoreOptions(o.data_dir);
  options.read_only = true;
  auto store = storage::RocksDbStore::Open(options);
  if (!store.ok()) {
    const base::Status& s = store.status();
    if (base::IsNotFound(s) ||
        s.message().find("not an otpd data directory") != std::string::npos) {
      return NoDatabase(o.data_dir, s);
    }
    return s;
  }
  OTPD_ASSIGN_OR_RETURN(KeySource source, ResolveKeySource(o));
  DataDir dir;
  bool unused = false;
  OTPD_ASSIGN_OR_RETURN(base::SecretBytes key, LoadKey(source, false, &unused));
  Describe(source, key, &dir);
  auto keys = storage::KeyRing::Open(**store, key.Clone(), /*create_first_key=*/false);
  const bool no_data_key = base::IsNotFound(keys.status());
  if (!keys.ok() && !(no_data_key && o.access != DataDirAccess::kReadOnly)) {
    return base::Status(keys.status().code(), "data directory " + o.data_dir + ": " +
                                                  std::string(keys.status().message()) +
                                                  "; the key used: " + dir.key_source +
                                                  ", key id " + dir.key_id);
  }
  if (o.access == DataDirAccess::kReadOnly) {
    OTPD_ASSIGN_OR_RETURN(bool upgraded, service::RecordsUpgraded(**store));
    if (!upgraded) {
      return base::FailedPreconditionError(
          "data directory " + o.data_dir +
          " was written by an earlier otpd: open it once for writing (start otpd on it, or run "
          "an otpctl command that changes it) so that its records are brought up to date");
    }
    dir.store = std::move(*store);
    dir.keys = std::move(*keys);
    return dir;
  }
  if (keys.ok()) keys->reset();
  store->reset();
  OTPD_ASSIGN_OR_RETURN(dir.store, storage::RocksDbStore::Open(StoreOptions(o.data_dir)));
  OTPD_ASSIGN_OR_RETURN(dir.keys, storage::KeyRing::Open(*dir.store, std::move(key)));
  // Records written by an earlier otpd are signed (once) before anything reads them.
  OTPD_RETURN_IF_ERROR(service::UpgradeRecords(*dir.store, *dir.keys));
  return dir;
}

}  // namespace

bool IsInsideDirectory(const std::string& path, const std::string& dir) {
  const std::string p = Absolute(path);
  std::string d = Absolute(dir);
  if (d.empty()) return false;
  if (d.back() != '/') d += '/';
  return p.rfind(d, 0) == 0;
}

std::string MasterKeyId(const base::SecretBytes& master_key) {
  static constexpr char kLabel[] = "otpd master key id";
  auto mac = base::HmacSha256(master_key.span(), {kLabel});
  if (!mac.ok()) return "unknown";
  return base::HexEncode(std::span<const uint8_t>(mac->data(), 8));
}

base::StatusOr<DataDir> OpenDataDir(const DataDirOptions& o) {
  if (o.data_dir.empty()) {
    return base::InvalidArgumentError(
        std::string("no data directory given: pass --data-dir or set ") + kDataDirEnvVar);
  }
  const bool has_database = Exists(o.data_dir + "/CURRENT");
  switch (o.access) {
    case DataDirAccess::kCreate:
      if (has_database) {
        return base::AlreadyExistsError("data directory " + o.data_dir +
                                        " already holds an otpd database; nothing changed");
      }
      return Create(o);
    case DataDirAccess::kOpenOrCreate:
      if (!has_database) return Create(o);
      return OpenExisting(o);
    case DataDirAccess::kReadOnly:
    case DataDirAccess::kReadWrite:
      return OpenExisting(o);
  }
  return base::InternalError("unknown data directory access");
}

base::StatusOr<DataDir> OpenDataDir(const std::string& data_dir, const std::string& key_file,
                                    bool create_if_missing) {
  DataDirOptions options;
  options.data_dir = data_dir;
  options.key_file = key_file;
  options.access = create_if_missing ? DataDirAccess::kOpenOrCreate : DataDirAccess::kReadWrite;
  options.allow_key_in_data_dir = false;
  return OpenDataDir(options);
}

base::StatusOr<base::SecretBytes> ReadSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return base::NotFoundError("cannot read " + path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.eof() && in.fail()) return base::UnavailableError("error reading " + path);
  size_t size = text.size();
  if (size > 0 && text[size - 1] == '\n') --size;
  if (size > 0 && text[size - 1] == '\r') --size;
  base::SecretBytes secret = base::SecretBytes::FromString(std::string_view(text).substr(0, size));
  base::Wipe(text.data(), text.size());
  return secret;
}

base::StatusOr<base::SecretBytes> ReadPrivateLine(const std::string& path, std::string_view what) {
  OTPD_ASSIGN_OR_RETURN(base::SecretBytes content, base::ReadPrivateFile(path, what));
  size_t size = content.size();
  if (size > 0 && content.data()[size - 1] == '\n') --size;
  if (size > 0 && content.data()[size - 1] == '\r') --size;
  if (size == content.size()) return content;
  return base::SecretBytes::FromString(content.view().substr(0, size));
}

base::StatusOr<base::SecretBytes> ReadPasswordFile(const std::string& path) {
  return ReadPrivateLine(path, "password file");
}

base::StatusOr<base::SecretBytes> ReadAesKeyFile(const std::string& path) {
  // Checked as the master key file is: a transfer key that others may read is refused.
  OTPD_ASSIGN_OR_RETURN(base::SecretBytes text, ReadPrivateLine(path, "key file"));
  auto sized = [](const base::SecretBytes& k) {
    return k.size() == 16 || k.size() == 24 || k.size() == 32;
  };
  if (auto hex = base::HexDecode(text.view()); hex.ok() && sized(*hex)) return std::move(*hex);
  if (auto b64 = base::Base64Decode(text.view()); b64.ok() && sized(*b64)) return std::move(*b64);
  if (sized(text)) return text;
  return base::InvalidArgumentError(path +
                                    ": not a 128, 192 or 256-bit AES key (hex, base64 or raw)");
}

}  // namespace otpd::tools
