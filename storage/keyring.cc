#include "storage/keyring.h"

#include <cstdio>
#include <utility>
#include <vector>

namespace otpd::storage {
namespace {

constexpr std::string_view kCurrentKey = "keyring/current";
constexpr std::string_view kDataKeyPrefix = "keyring/dk/";
constexpr int kMaxResealAttempts = 16;

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

}  // namespace

KeyRing::KeyRing(Store& store, base::SecretBytes master_key)
    : store_(store), master_key_(std::move(master_key)) {}

base::StatusOr<std::unique_ptr<KeyRing>> KeyRing::Open(Store& store, base::SecretBytes master_key,
                                                       bool create_first_key) {
  if (master_key.size() != kMasterKeyBytes) {
    return base::InvalidArgumentError("master key must be 32 bytes");
  }
  std::unique_ptr<KeyRing> ring(new KeyRing(store, std::move(master_key)));
  std::lock_guard lock(ring->rotate_mu_);
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
    std::map<uint32_t, std::shared_ptr<const base::Sealer>> sealers;
    base::Status scan_error;
    OTPD_RETURN_IF_ERROR(store_.Scan(
        Namespace::kMeta, kDataKeyPrefix, [&](std::string_view key, const Record& record) {
          auto version = ParseVersion(key.substr(kDataKeyPrefix.size()));
          if (!version) {
            scan_error = base::DataLossError("malformed key ring record name");
            return false;
          }
          auto data_key = Unwrap(master_key_, *version, record.value);
          if (!data_key.ok()) {
            scan_error = data_key.status();
            return false;
          }
          auto sealer = base::Sealer::Create(std::move(data_key).value(), *version);
          if (!sealer.ok()) {
            scan_error = sealer.status();
            return false;
          }
          sealers[*version] = std::make_shared<const base::Sealer>(std::move(sealer).value());
          return true;
        }));
    OTPD_RETURN_IF_ERROR(scan_error);
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
    std::unique_lock lock(mu_);
    sealers_ = std::move(sealers);
    current_ = *version;
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
  std::shared_lock lock(mu_);
  return current_;
}

std::vector<uint32_t> KeyRing::versions() const {
  std::shared_lock lock(mu_);
  std::vector<uint32_t> out;
  for (const auto& [version, sealer] : sealers_) out.push_back(version);
  return out;
}

base::StatusOr<std::string> KeyRing::SealSecret(Namespace ns, std::string_view record_key,
                                                std::span<const uint8_t> plaintext) const {
  std::shared_ptr<const base::Sealer> sealer;
  {
    std::shared_lock lock(mu_);
    auto it = sealers_.find(current_);
    if (it == sealers_.end()) return base::InternalError("key ring has no current data key");
    sealer = it->second;
  }
  return sealer->Seal(plaintext, SecretAad(ns, record_key));
}

base::StatusOr<base::SecretBytes> KeyRing::OpenSecret(Namespace ns, std::string_view record_key,
                                                      std::string_view blob) const {
  OTPD_ASSIGN_OR_RETURN(uint32_t version, base::SealedKeyVersion(blob));
  std::shared_ptr<const base::Sealer> sealer;
  {
    std::shared_lock lock(mu_);
    auto it = sealers_.find(version);
    if (it == sealers_.end()) {
      return base::FailedPreconditionError("secret sealed under unknown data key version " +
                                           std::to_string(version));
    }
    sealer = it->second;
  }
  return sealer->Open(blob, SecretAad(ns, record_key));
}

base::Status KeyRing::RotateMasterKey(base::SecretBytes new_master_key) {
  if (new_master_key.size() != kMasterKeyBytes) {
    return base::InvalidArgumentError("master key must be 32 bytes");
  }
  std::lock_guard rotate(rotate_mu_);
  WriteBatch batch;
  OTPD_ASSIGN_OR_RETURN(std::optional<Record> current, store_.Get(Namespace::kMeta, kCurrentKey));
  if (!current) return base::DataLossError("key ring's current data key record is missing");
  batch.RequireVersion(Namespace::kMeta, kCurrentKey, current->version);
  base::Status error;
  OTPD_RETURN_IF_ERROR(store_.Scan(
      Namespace::kMeta, kDataKeyPrefix, [&](std::string_view key, const Record& record) {
        auto version = ParseVersion(key.substr(kDataKeyPrefix.size()));
        if (!version) {
          error = base::DataLossError("malformed key ring record name");
          return false;
        }
        auto data_key = Unwrap(master_key_, *version, record.value);
        if (!data_key.ok()) {
          error = data_key.status();
          return false;
        }
        auto wrapped = Wrap(new_master_key, *version, *data_key);
        if (!wrapped.ok()) {
          error = wrapped.status();
          return false;
        }
        batch.RequireVersion(Namespace::kMeta, key, record.version);
        batch.Put(Namespace::kMeta, key, *wrapped);
        return true;
      }));
  OTPD_RETURN_IF_ERROR(error);
  OTPD_RETURN_IF_ERROR(store_.Commit(std::move(batch), Durability::kDurable));
  master_key_ = std::move(new_master_key);
  return base::OkStatus();
}

base::StatusOr<uint32_t> KeyRing::RotateDataKey() {
  std::lock_guard rotate(rotate_mu_);
  OTPD_ASSIGN_OR_RETURN(std::optional<Record> current, store_.Get(Namespace::kMeta, kCurrentKey));
  if (!current) return base::DataLossError("key ring's current data key record is missing");
  uint32_t next;
  {
    std::shared_lock lock(mu_);
    next = sealers_.empty() ? 1 : sealers_.rbegin()->first + 1;
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
  OTPD_ASSIGN_OR_RETURN(base::Sealer sealer, base::Sealer::Create(std::move(data_key), next));
  std::unique_lock lock(mu_);
  sealers_[next] = std::make_shared<const base::Sealer>(std::move(sealer));
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
      base::Status error;
      std::string last_key;
      OTPD_RETURN_IF_ERROR(
          store_.ScanFrom(ns, "", start, [&](std::string_view key, const Record& record) {
            ++seen;
            last_key.assign(key);
            auto rewritten = rewrite(key, record.value, *this);
            if (!rewritten.ok()) {
              error = rewritten.status();
              return false;
            }
            if (rewritten->has_value()) {
              batch.RequireVersion(ns, key, record.version);
              batch.Put(ns, key, **rewritten);
            }
            return seen < batch_size;
          }));
      OTPD_RETURN_IF_ERROR(error);
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
