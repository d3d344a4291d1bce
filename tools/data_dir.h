// Opening a data directory for the tools: the RocksDB store and the key ring that unseals its
// secrets. Only tools/ names these concrete classes (ARCHITECTURE.md).

#ifndef OTPD_TOOLS_DATA_DIR_H_
#define OTPD_TOOLS_DATA_DIR_H_

#include <memory>
#include <string>

#include "base/statusor.h"
#include "storage/keyring.h"
#include "storage/rocksdb/rocksdb_store.h"

namespace otpd::tools {

struct DataDir {
  std::unique_ptr<storage::RocksDbStore> store;
  std::unique_ptr<storage::KeyRing> keys;
};

// The key file used when none is given: <data_dir>/master.key. Production deployments should keep
// the key elsewhere (docs/operations.md): a backup of the data directory then holds only sealed
// seeds.
std::string DefaultKeyFile(const std::string& data_dir);

// Opens (creating if needed) the data directory and its key ring. The master key comes from
// $OTPD_MASTER_KEY when set, else from `key_file` (created 0600 on first use). Errors name the
// directory or file: in use by another process (the daemon), not an otpd directory, a newer
// schema, a wrong master key.
base::StatusOr<DataDir> OpenDataDir(const std::string& data_dir, const std::string& key_file,
                                    bool create_if_missing = true);

// Reads a small secret file (a password, a pre-shared key), dropping one trailing newline.
base::StatusOr<base::SecretBytes> ReadSecretFile(const std::string& path);

// Reads an AES key file (a PSKC pre-shared key): hex, base64 or the raw 16, 24 or 32 bytes.
base::StatusOr<base::SecretBytes> ReadAesKeyFile(const std::string& path);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_DATA_DIR_H_
