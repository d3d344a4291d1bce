// KeyRing seals secrets (token seeds, software-token secrets) before they reach the Store and
// opens them again, under AES-256-GCM data keys that are themselves wrapped by a master key.
//
//   master key  32 bytes from a key file (mode 0600) or the OTPD_MASTER_KEY environment variable;
//               never stored in the data directory.
//   data keys   32 random bytes each, versioned 1, 2, ...; stored in the meta namespace wrapped
//               (sealed) under the master key, with the current version recorded:
//                 meta "keyring/current"           -> decimal version of the current data key
//                 meta "keyring/dk/<10-digit ver>" -> sealed data key (base/seal.h blob)
//
// A secret is sealed under the current data key with associated data binding it to its namespace
// and record key (the blob header binds the key version), so a sealed seed copied to another
// record does not open. Old data keys stay, so old blobs (and backups) remain readable;
// RotateDataKey plus ResealAll moves records to the new key online.
//
// Records that decide who may sign in with what (users, methods, tokens) are also signed: an
// HMAC-SHA256 under a key derived from the data key binds the record's bytes to its namespace
// and key, so whoever can write the database but does not hold the master key cannot change an
// assignment, move a record to another key, or forge one. The same derivation gives a keyed
// fingerprint for recognising a seed that is already stored, without storing anything that
// reveals it.
//
// Thread-safety: SealSecret, OpenSecret and current_version may be called concurrently from any
// thread, also during rotations. Rotations are serialised internally.

#ifndef OTPD_STORAGE_KEYRING_H_
#define OTPD_STORAGE_KEYRING_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "base/seal.h"
#include "base/secret_bytes.h"
#include "base/statusor.h"
#include "storage/store.h"

namespace otpd::storage {

inline constexpr size_t kMasterKeyBytes = 32;
inline constexpr char kMasterKeyEnvVar[] = "OTPD_MASTER_KEY";

struct MasterKeyOptions {
  // Path of the key file holding the master key (32 raw bytes, or its hex or base64 text). Empty:
  // no key file. Default: empty.
  std::string key_file;

  // When the key file does not exist, create it with 32 fresh random bytes and mode 0600.
  // Default: true.
  bool create_key_file = true;

  // Environment variable holding the master key as hex (64 digits) or base64 (44 characters). When
  // it is set (and not empty) it wins over key_file. Empty: do not consult the environment.
  // Default: "OTPD_MASTER_KEY".
  std::string env_var = kMasterKeyEnvVar;
};

// Loads the master key as `options` describe. Errors: NotFound when neither source yields a key;
// PermissionDenied when the key file is group- or world-accessible or not a regular file;
// InvalidArgument when a key is not 32 bytes or not hex/base64. Messages name the file or variable,
// never the key.
base::StatusOr<base::SecretBytes> LoadMasterKey(const MasterKeyOptions& options);

// Parses hex (64 digits) or base64 text of a 32-byte key; surrounding whitespace is ignored.
base::StatusOr<base::SecretBytes> ParseMasterKeyText(std::string_view text);

// 32 fresh random bytes.
base::StatusOr<base::SecretBytes> GenerateMasterKey();

// Writes `key` (32 raw bytes) to `path` with mode 0600, atomically (temporary file, fsync,
// rename, fsync of the directory). Fails with AlreadyExists if `path` exists.
base::Status WriteMasterKeyFile(const std::string& path, const base::SecretBytes& key);

struct ResealStats {
  uint64_t scanned = 0;    // records offered to `rewrite`
  uint64_t rewritten = 0;  // records committed with a new value
  uint64_t retries = 0;    // pages retried because a record changed meanwhile
};

class KeyRing {
 public:
  // Returns nullopt to leave a record alone, a new value to store, or an error to stop the walk.
  // May be called more than once for the same record (after a conflict), so it must not have side
  // effects beyond its return value.
  using RewriteFn = std::function<base::StatusOr<std::optional<std::string>>(
      std::string_view key, std::string_view value, KeyRing& ring)>;

  // Loads the data keys from `store` (which must outlive the KeyRing), creating data key 1 when
  // the store has none, unless `create_first_key` is false (a read-only store, say): then a store
  // without data keys is NotFound. Errors: FailedPrecondition "master key does not match this data
  // directory" when the wrapped data keys do not open under `master_key`; DataLoss when the key
  // records are inconsistent; InvalidArgument for a master key that is not 32 bytes.
  static base::StatusOr<std::unique_ptr<KeyRing>> Open(Store& store, base::SecretBytes master_key,
                                                       bool create_first_key = true);

  // Seals `plaintext` for the record (ns, record_key) under the current data key.
  base::StatusOr<std::string> SealSecret(Namespace ns, std::string_view record_key,
                                         std::span<const uint8_t> plaintext) const;

  // Opens a blob sealed for (ns, record_key) under any known data key version. DataLoss when it
  // fails authentication (other record, tampering); FailedPrecondition for an unknown key version.
  base::StatusOr<base::SecretBytes> OpenSecret(Namespace ns, std::string_view record_key,
                                               std::string_view blob) const;

  // The version SealSecret uses.
  uint32_t current_version() const;

  // `payload` followed by a 37-byte trailer (format byte, data-key version, HMAC-SHA256) that
  // binds it to the record (ns, record_key) under the current data key.
  base::StatusOr<std::string> SignRecord(Namespace ns, std::string_view record_key,
                                         std::string_view payload) const;

  // The payload of a record made by SignRecord for (ns, record_key): a view into `stored`.
  // DataLoss when the trailer is missing or does not match (edited, moved to another key, or
  // never signed); FailedPrecondition for an unknown data-key version.
  base::StatusOr<std::string_view> OpenRecord(Namespace ns, std::string_view record_key,
                                              std::string_view stored) const;

  // A fingerprint of `data` for `purpose` (32 hex characters): equal inputs give equal
  // fingerprints for the lifetime of the data directory (it is keyed by the first data key, which
  // rotation never removes); without the master key it reveals nothing about `data`.
  base::StatusOr<std::string> Fingerprint(std::string_view purpose,
                                          std::span<const uint8_t> data) const;

  // Every data key version this ring holds, ascending.
  std::vector<uint32_t> versions() const;

  // Re-wraps every data key under `new_master_key` in one durable atomic batch. On success the
  // old master key no longer opens this data directory: persist the new key BEFORE calling this
  // (see docs/operations.md). On failure nothing changed.
  base::Status RotateMasterKey(base::SecretBytes new_master_key);

  // Adds a fresh data key and makes it current (durably). Returns the new version. Blobs sealed
  // under older versions stay readable.
  base::StatusOr<uint32_t> RotateDataKey();

  // Walks namespace `ns` in pages of `batch_size` records, calls `rewrite` for each, and commits
  // the rewritten values of a page in one durable batch conditional on every rewritten record's
  // version, so a record changed meanwhile is re-read and retried, never clobbered. Fails with
  // Aborted after repeated conflicts on the same page; earlier pages stay committed.
  base::Status ResealAll(Namespace ns, const RewriteFn& rewrite, size_t batch_size,
                         ResealStats* stats = nullptr);

 private:
  KeyRing(Store& store, base::SecretBytes master_key);

  base::Status Load(bool create_first_key) OTPD_REQUIRES(rotate_mu_);
  base::Status CreateFirstDataKey() OTPD_REQUIRES(rotate_mu_);
  base::StatusOr<base::SecretBytes> Unwrap(const base::SecretBytes& master, uint32_t version,
                                           std::string_view wrapped) const;
  base::StatusOr<std::string> Wrap(const base::SecretBytes& master, uint32_t version,
                                   const base::SecretBytes& data_key) const;

  // One data key, ready for use.
  struct DataKey {
    base::Sealer sealer;
    base::SecretBytes mac_key;  // derived from the data key, for SignRecord / OpenRecord
  };
  static base::StatusOr<std::shared_ptr<const DataKey>> MakeDataKey(base::SecretBytes data_key,
                                                                    uint32_t version);
  std::shared_ptr<const DataKey> Find(uint32_t version) const;

  Store& store_;
  base::Mutex rotate_mu_;  // serialises Load and rotations
  base::SecretBytes master_key_ OTPD_GUARDED_BY(rotate_mu_);

  mutable base::SharedMutex mu_;
  std::map<uint32_t, std::shared_ptr<const DataKey>> keys_ OTPD_GUARDED_BY(mu_);
  uint32_t current_ OTPD_GUARDED_BY(mu_) = 0;
  base::SecretBytes fingerprint_key_ OTPD_GUARDED_BY(mu_);  // derived from data key 1
};

}  // namespace otpd::storage

#endif  // OTPD_STORAGE_KEYRING_H_
