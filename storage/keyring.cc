#include "storage/keyring.h"

#include <cstdio>
#include <utility>
#include <vector>

#include "base/codec.h"
#include "base/constant_time.h"
#include "base/mac.h"

namespace otpd::storage {
namespace {

constexpr std::string_view kCurrentKey = "keyring/current";
constexpr std::string_view kDataKeyPrefix = "keyring/dk/";
constexpr int kMaxResealAttempts = 16;

// Record trailer: format byte, data-key version (big-endian), HMAC-SHA256.
constexpr uint8_t kRecordMacFormat = 0xA1;
constexpr size_t kRecordTrailerBytes = 1 + 4 + base::kSha256Bytes;
constexpr std::string_view kRecordMacLabel = "otpd/record-mac/v1";
constexpr std::string_view kFingerprintLabel = "otpd/fingerprint/v1";

// What a record's MAC covers: namespace, key (length-prefixed, so the boundary between key and
// payload is unambiguous) and payload.
base::StatusOr<base::Sha256Digest> RecordMac(const base::SecretBytes& mac_key, Namespace ns,
                                             std::string_view record_key,
                                             std::string_view payload) {
  const std::string key_length = std::to_string(record_key.size());
  return base::HmacSha256(mac_key.span(),
                          {"otpd/record/", NamespaceName(ns), std::string_view("\0", 1), key_length,
                           std::string_view("\0", 1), record_key, payload});
}

std::string DataKeyRecordKey(uint32_t version) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%010u", version);
  return std::string(kDataKeyPrefix) + buf;
}

std::string WrapAad(uint32_t version) { return "otpd/keyring/data-key/" + std::to_string(version); }

// Associated data of a sealed secret: binds the blob to its namespace and record key. The key
// version is bound by the blob header, which GCM authenticates too.
std::string SecretAad(Namespace ns, std::string_view record_key) {
  std::string aad = "otpd/secret/";
  aad.append(NamespaceName(ns));
  aad.push_back('\0');
  aad.append(std::to_string(record_key.size()));
  aad.push_back('\0');
  aad.append(record_key);
  return aad;
}

std::optional<uint32_t> ParseVersion(std::string_view text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v == 0 || v > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(v);
}

// Calls `visit` with every stored data key record: its record name, version and record. Stops at
// the first error `visit` returns; DataLoss on a malformed record name.
base::Status ScanDataKeys(const Store& store,
                          const std::function<base::Status(std::string_view key, uint32_t version,
                                                           const Record& record)>& visit) {
  return store.Scan(Namespace::kMeta, kDataKeyPrefix,
                    [&](std::string_view key, const Record& record) -> base::StatusOr<bool> {
                      auto version = ParseVersion(key.substr(kDataKeyPrefix.size()));
                      if (!version) return base::DataLossError("malformed key ring record name");
                      OTPD_RETURN_IF_ERROR(visit(key, *version, record));
                      return true;
                    });
}

}  // namespace

KeyRing::KeyRing(Store& store, base::SecretBytes master_key)
    : store_(store), master_key_(std::move(master_key)) {}

base::StatusOr<std::unique_ptr<KeyRing>> KeyRing::Open(Store& store, base::SecretBytes master_key,
                                                       bool create_first_key) {
  if (master_key.size() != kMasterKeyBytes) {
    return base::InvalidArgumentError("master key must be 32 bytes");
  }
  std::unique_ptr<KeyRing> ring(new KeyRing(store, std::move(master_key)));
  base::MutexLock lock(ring->rotate_mu_);
  OTPD_RETURN_IF_ERROR(ring->Load(create_first_key));
  return ring;
}

base::StatusOr<base::SecretBytes> KeyRing::Unwrap(const base::SecretBytes& master, uint32_t version,
                                                  std::string_view wrapped) const {
  OTPD_ASSIGN_OR_RETURN(base::Sealer sealer, base::Sealer::Create(master.Clone(), version));
  auto key = sealer.Open(wrapped, WrapAad(version));
  if (base::IsDataLoss(key.status())) {
    return base::FailedPreconditionError(
        "master key does not match this data directory (data key " + std::to_string(version) +
        " cannot be unwrapped)");
  }
  if (!key.ok()) return key.status().WithContext("data key " + std::to_string(version));
  if (key->size() != base::kSealKeyBytes) {
    return base::DataLossError("data key " + std::to_string(version) + " has the wrong size");
  }
  return key;
}

base::StatusOr<std::string> KeyRing::Wrap(const base::SecretBytes& master, uint32_t version,
                                          const base::SecretBytes& data_key) const {
  OTPD_ASSIGN_OR_RETURN(base::Sealer sealer, base::Sealer::Create(master.Clone(), version));
  return sealer.Seal(data_key.span(), WrapAad(version));
}

base::Status KeyRing::Load(bool create_first_key) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    OTPD_ASSIGN_OR_RETURN(std::optional<Record> current, store_.Get(Namespace::kMeta, kCurrentKey));
    std::map<uint32_t, std::shared_ptr<const DataKey>> sealers;
    base::SecretBytes fingerprint_key;
    const base::SecretBytes* master = &master_key_;
    OTPD_RETURN_IF_ERROR(ScanDataKeys(
        store_, [&](std::string_view, uint32_t version, const Record& record) -> base::Status {
          OTPD_ASSIGN_OR_RETURN(base::SecretBytes data_key, Unwrap(*master, version, record.value));
          if (version == 1) {
            OTPD_ASSIGN_OR_RETURN(base::Sha256Digest fp,
                                  base::HmacSha256(data_key.span(), {kFingerprintLabel}));
            fingerprint_key = base::SecretBytes(std::span<const uint8_t>(fp));
            base::Wipe(fp.data(), fp.size());
          }
          OTPD_ASSIGN_OR_RETURN(sealers[version], MakeDataKey(std::move(data_key), version));
          return base::OkStatus();
        }));
    if (!current.has_value() && sealers.empty()) {
      if (!create_first_key) return base::NotFoundError("the key ring has no data key yet");
      base::Status created = CreateFirstDataKey();
      if (base::IsAborted(created)) continue;  // someone else created it: load theirs
      OTPD_RETURN_IF_ERROR(created);
      continue;
    }
    if (!current.has_value())
      return base::DataLossError("key ring has data keys but no current key");
    auto version = ParseVersion(current->value);
    if (!version || sealers.count(*version) == 0) {
      return base::DataLossError("key ring's current data key is missing");
    }
    if (fingerprint_key.empty()) return base::DataLossError("key ring's first data key is missing");
    base::WriterLock lock(mu_);
    keys_ = std::move(sealers);
    current_ = *version;
    fingerprint_key_ = std::move(fingerprint_key);
    return base::OkStatus();
  }
  return base::AbortedError("key ring changed concurrently while loading");
}

base::Status KeyRing::CreateFirstDataKey() {
  OTPD_ASSIGN_OR_RETURN(base::SecretBytes data_key, GenerateMasterKey());
  OTPD_ASSIGN_OR_RETURN(std::string wrapped, Wrap(master_key_, 1, data_key));
  WriteBatch batch;
  batch.RequireVersion(Namespace::kMeta, kCurrentKey, 0);
  batch.RequireVersion(Namespace::kMeta, DataKeyRecordKey(1), 0);
  batch.Put(Namespace::kMeta, DataKeyRecordKey(1), wrapped);
  batch.Put(Namespace::kMeta, kCurrentKey, "1");
  return store_.Commit(std::move(batch), Durability::kDurable);
}

uint32_t KeyRing::current_version() const {
  base::ReaderLock lock(mu_);
  return current_;
}

base::StatusOr<std::shared_ptr<const KeyRing::DataKey>> KeyRing::MakeDataKey(
    base::SecretBytes data_key, uint32_t version) {
  OTPD_ASSIGN_OR_RETURN(base::Sha256Digest mac,
                        base::HmacSha256(data_key.span(), {kRecordMacLabel}));
  base::SecretBytes mac_key{std::span<const uint8_t>(mac)};
  base::Wipe(mac.data(), mac.size());
  OTPD_ASSIGN_OR_RETURN(base::Sealer sealer, base::Sealer::Create(std::move(data_key), version));
  return std::make_shared<const DataKey>(DataKey{std::move(sealer), std::move(mac_key)});
}

std::shared_ptr<const KeyRing::DataKey> KeyRing::Find(uint32_t version) const {
  base::ReaderLock lock(mu_);
  auto it = keys_.find(version);
  return it == keys_.end() ? nullptr : it->second;
}

std::vector<uint32_t> KeyRing::versions() const {
  base::ReaderLock lock(mu_);
  std::vector<uint32_t> out;
  for (const auto& [version, key] : keys_) out.push_back(version);
  return out;
}

base::StatusOr<std::string> KeyRing::SealSecret(Namespace ns, std::string_view record_key,
                                                std::span<const uint8_t> plaintext) const {
  std::shared_ptr<const DataKey> key = Find(current_version());
  if (key == nullptr) return base::InternalError("key ring has no current data key");
  return key->sealer.Seal(plaintext, SecretAad(ns, record_key));
}

base::StatusOr<base::SecretBytes> KeyRing::OpenSecret(Namespace ns, std::string_view record_key,
                                                      std::string_view blob) const {
  OTPD_ASSIGN_OR_RETURN(uint32_t version, base::SealedKeyVersion(blob));
  std::shared_ptr<const DataKey> key = Find(version);
  if (key == nullptr) {
    return base::FailedPreconditionError("secret sealed under unknown data key version " +
                                         std::to_string(version));
  }
  return key->sealer.Open(blob, SecretAad(ns, record_key));
}

base::StatusOr<std::string> KeyRing::SignRecord(Namespace ns, std::string_view record_key,
                                                std::string_view payload) const {
  const uint32_t version = current_version();
  std::shared_ptr<const DataKey> key = Find(version);
  if (key == nullptr) return base::InternalError("key ring has no current data key");
  OTPD_ASSIGN_OR_RETURN(base::Sha256Digest mac, RecordMac(key->mac_key, ns, record_key, payload));
  std::string out;
  out.reserve(payload.size() + kRecordTrailerBytes);
  out.append(payload);
  out.push_back(static_cast<char>(kRecordMacFormat));
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(version >> shift));
  out.append(reinterpret_cast<const char*>(mac.data()), mac.size());
  return out;
}

base::StatusOr<std::string_view> KeyRing::OpenRecord(Namespace ns, std::string_view record_key,
                                                     std::string_view stored) const {
  auto tampered = [&] {
    return base::DataLossError("record " + std::string(NamespaceName(ns)) +
                               " fails its integrity check (not written by otpd with this key)");
  };
  if (stored.size() < kRecordTrailerBytes) return tampered();
  const std::string_view payload = stored.substr(0, stored.size() - kRecordTrailerBytes);
  const auto* trailer = reinterpret_cast<const uint8_t*>(stored.data() + payload.size());
  if (trailer[0] != kRecordMacFormat) return tampered();
  const uint32_t version = (uint32_t{trailer[1]} << 24) | (uint32_t{trailer[2]} << 16) |
                           (uint32_t{trailer[3]} << 8) | uint32_t{trailer[4]};
  std::shared_ptr<const DataKey> key = Find(version);
  if (key == nullptr) {
    return base::FailedPreconditionError("record signed under unknown data key version " +
                                         std::to_string(version));
  }
  OTPD_ASSIGN_OR_RETURN(base::Sha256Digest mac, RecordMac(key->mac_key, ns, record_key, payload));
  if (!base::ConstantTimeEqualsPublicLength(mac,
                                            std::span<const uint8_t>(trailer + 5, mac.size()))) {
    return tampered();
  }
  return payload;
}

base::StatusOr<std::string> KeyRing::Fingerprint(std::string_view purpose,
                                                 std::span<const uint8_t> data) const {
  base::SecretBytes key;
  {
    base::ReaderLock lock(mu_);
    key = fingerprint_key_.Clone();
  }
  OTPD_ASSIGN_OR_RETURN(
      base::Sha256Digest fp,
      base::HmacSha256(
          key.span(), {purpose, std::string_view("\0", 1),
                       std::string_view(reinterpret_cast<const char*>(data.data()), data.size())}));
  return base::HexEncode(std::span<const uint8_t>(fp.data(), 16));
}

base::Status KeyRing::RotateMasterKey(base::SecretBytes new_master_key) {
  if (new_master_key.size() != kMasterKeyBytes) {
    return base::InvalidArgumentError("master key must be 32 bytes");
  }
  base::MutexLock rotate(rotate_mu_);
  WriteBatch batch;
  OTPD_ASSIGN_OR_RETURN(std::optional<Record> current, store_.Get(Namespace::kMeta, kCurrentKey));
  if (!current) return base::DataLossError("key ring's current data key record is missing");
  batch.RequireVersion(Namespace::kMeta, kCurrentKey, current->version);
  const base::SecretBytes* master = &master_key_;
  OTPD_RETURN_IF_ERROR(ScanDataKeys(
      store_, [&](std::string_view key, uint32_t version, const Record& record) -> base::Status {
        OTPD_ASSIGN_OR_RETURN(base::SecretBytes data_key, Unwrap(*master, version, record.value));
        OTPD_ASSIGN_OR_RETURN(std::string wrapped, Wrap(new_master_key, version, data_key));
        batch.RequireVersion(Namespace::kMeta, key, record.version);
        batch.Put(Namespace::kMeta, key, wrapped);
        return base::OkStatus();
      }));
  OTPD_RETURN_IF_ERROR(store_.Commit(std::move(batch), Durability::kDurable));
  master_key_ = std::move(new_master_key);
  return base::OkStatus();
}

base::StatusOr<uint32_t> KeyRing::RotateDataKey() {
  base::MutexLock rotate(rotate_mu_);
  OTPD_ASSIGN_OR_RETURN(std::optional<Record> current, store_.Get(Namespace::kMeta, kCurrentKey));
  if (!current) return base::DataLossError("key ring's current data key record is missing");
  uint32_t next;
  {
    base::ReaderLock lock(mu_);
    next = keys_.empty() ? 1 : keys_.rbegin()->first + 1;
  }
  if (next == 0) return base::OutOfRangeError("data key versions exhausted");
  OTPD_ASSIGN_OR_RETURN(base::SecretBytes data_key, GenerateMasterKey());
  OTPD_ASSIGN_OR_RETURN(std::string wrapped, Wrap(master_key_, next, data_key));
  WriteBatch batch;
  batch.RequireVersion(Namespace::kMeta, kCurrentKey, current->version);
  batch.RequireVersion(Namespace::kMeta, DataKeyRecordKey(next), 0);
  batch.Put(Namespace::kMeta, DataKeyRecordKey(next), wrapped);
  batch.Put(Namespace::kMeta, kCurrentKey, std::to_string(next));
  OTPD_RETURN_IF_ERROR(store_.Commit(std::move(batch), Durability::kDurable));
  OTPD_ASSIGN_OR_RETURN(std::shared_ptr<const DataKey> key, MakeDataKey(std::move(data_key), next));
  base::WriterLock lock(mu_);
  keys_[next] = std::move(key);
  current_ = next;
  return next;
}

base::Status KeyRing::ResealAll(Namespace ns, const RewriteFn& rewrite, size_t batch_size,
                                ResealStats* stats) {
  if (batch_size == 0) return base::InvalidArgumentError("ResealAll batch_size must be positive");
  ResealStats local;
  std::string start;
  for (;;) {
    std::string next_start;
    bool done = false;
    int attempt = 0;
    for (;; ++attempt) {
      if (attempt >= kMaxResealAttempts) {
        return base::AbortedError("ResealAll: records in namespace " +
                                  std::string(NamespaceName(ns)) + " keep changing");
      }
      WriteBatch batch;
      size_t seen = 0;
      std::string last_key;
      OTPD_RETURN_IF_ERROR(store_.ScanFrom(
          ns, "", start, [&](std::string_view key, const Record& record) -> base::StatusOr<bool> {
            ++seen;
            last_key.assign(key);
            OTPD_ASSIGN_OR_RETURN(std::optional<std::string> rewritten,
                                  rewrite(key, record.value, *this));
            if (rewritten.has_value()) {
              batch.RequireVersion(ns, key, record.version);
              batch.Put(ns, key, *rewritten);
            }
            return seen < batch_size;
          }));
      local.scanned += seen;
      done = seen < batch_size;
      next_start = last_key;
      next_start.push_back('\0');  // the smallest key after last_key
      size_t puts = batch.ops().size();
      if (puts == 0) break;
      base::Status committed = store_.Commit(std::move(batch), Durability::kDurable);
      if (committed.ok()) {
        local.rewritten += puts;
        break;
      }
      if (!base::IsAborted(committed)) return committed;
      ++local.retries;
    }
    if (stats != nullptr) *stats = local;
    if (done) return base::OkStatus();
    start = std::move(next_start);
  }
}

}  // namespace otpd::storage
