// Opening a data directory for the tools: the RocksDB store and the key ring that unseals its
// secrets. Only tools/ names these concrete classes (docs/architecture.md).
//
// The master key never lives implicitly in the data directory: it comes from $OTPD_MASTER_KEY,
// or from a key file given explicitly (DataDirOptions::key_file, else $OTPD_KEY_FILE). A key
// file inside the data directory is refused unless the caller allows it, so that a copy of the
// directory alone cannot open its seeds (docs/operations.md).
//
// Opening never writes into a directory before the key has been checked against it: an existing
// directory is first opened read-only and its data keys unwrapped with the master key; only then
// is it opened for writing (unless read-only access was asked for). A wrong or missing key leaves
// the directory exactly as it was, and no key file is ever created except with a new database.

#ifndef OTPD_TOOLS_DATA_DIR_H_
#define OTPD_TOOLS_DATA_DIR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/statusor.h"
#include "storage/keyring.h"
#include "storage/rocksdb/rocksdb_store.h"

namespace otpd::tools {

inline constexpr char kKeyFileEnvVar[] = "OTPD_KEY_FILE";
inline constexpr char kDataDirEnvVar[] = "OTPD_DATA_DIR";

enum class DataDirAccess {
  kReadOnly,      // an existing database, opened read-only: nothing in it changes
  kReadWrite,     // an existing database
  kCreate,        // a new database (the directory is missing or empty): otpctl init
  kOpenOrCreate,  // an existing database, or a new one when there is none yet: otpd
};

struct DataDirOptions {
  std::string data_dir;
  // The master key file. Empty: $OTPD_KEY_FILE. Either way $OTPD_MASTER_KEY, when set, wins.
  // With a new database (kCreate, kOpenOrCreate) a key file that does not exist is created
  // (32 random bytes, mode 0600); otherwise a missing key file is an error.
  std::string key_file;
  DataDirAccess access = DataDirAccess::kReadWrite;
  // Accept a key file inside the data directory (otpctl --insecure-key-in-data-dir). A copy of
  // the directory then carries the key that opens it. Default: refused.
  bool allow_key_in_data_dir = false;
};

struct DataDir {
  std::unique_ptr<storage::RocksDbStore> store;
  std::unique_ptr<storage::KeyRing> keys;
  // Where the master key came from: "environment variable OTPD_MASTER_KEY" or "key file PATH".
  std::string key_source;
  // The key file's absolute path, or empty when the key came from the environment.
  std::string key_file;
  // A fingerprint of the master key that identifies it without revealing it (16 hex digits of
  // HMAC-SHA256(key, "otpd master key id")).
  std::string key_id;
  // True when this open created the database (and, if it did not exist, the key file).
  bool created = false;
  bool created_key_file = false;
};

// Opens the data directory as `options` describe. Errors name the directory or the key file and
// say what to do:
//   - no database there (missing, empty, or another program's files) and no kCreate or
//     kOpenOrCreate: NotFound or FailedPrecondition, naming the path, `otpctl init` and otpd's
//     --init; nothing is created;
//   - kCreate on a directory that already holds a database: AlreadyExists;
//   - no master key given, a key file inside the data directory, a key file that does not exist
//     or is readable by others, a key that does not match: the directory is left untouched;
//   - in use by another process (the daemon), a newer schema, corruption (storage's errors).
base::StatusOr<DataDir> OpenDataDir(const DataDirOptions& options);

// The form otpd uses: kOpenOrCreate (or kReadWrite when `create_if_missing` is false), a key file
// inside the data directory not allowed.
base::StatusOr<DataDir> OpenDataDir(const std::string& data_dir, const std::string& key_file,
                                    bool create_if_missing = true);

// Reads a small file that is not a key file (a token's seed given to `otpctl code`), dropping one
// trailing newline. Key and password files go through ReadPrivateLine: checked for their mode.
base::StatusOr<base::SecretBytes> ReadSecretFile(const std::string& path);

// Reads a key or password file (an API key, a client key, a password), checked as the master key
// file is (base/secret_file.h: private to its owner, the same message everywhere), dropping one
// trailing line break. `what` names it in errors ("API key file").
base::StatusOr<base::SecretBytes> ReadPrivateLine(const std::string& path, std::string_view what);

// Reads an AES key file (a PSKC pre-shared key, a transfer key): hex, base64 or the raw 16, 24
// or 32 bytes. Checked as the master key file is (base/secret_file.h): a file that its group or
// others may access is refused, with the same message.
base::StatusOr<base::SecretBytes> ReadAesKeyFile(const std::string& path);

// Reads a password file (a PSKC password), dropping one trailing newline; checked as the key
// files are.
base::StatusOr<base::SecretBytes> ReadPasswordFile(const std::string& path);

// True when `path` names something inside directory `dir` (after resolving symbolic links and
// ".."; neither needs to exist).
bool IsInsideDirectory(const std::string& path, const std::string& dir);

// The fingerprint DataDir::key_id holds, of a 32-byte master key.
std::string MasterKeyId(const base::SecretBytes& master_key);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_DATA_DIR_H_
