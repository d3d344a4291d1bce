#include "service/model/record_upgrade.h"

#include <string>
#include <unordered_set>

#include "service/model/records.h"

namespace otpd::service {

using storage::Namespace;

namespace {

constexpr std::string_view kLayoutKey = "records/layout";
constexpr std::string_view kLayout = "2";  // signed records and the seed index
constexpr size_t kPage = 500;

// Signs the unsigned records of one namespace, page by page; for tokens also indexes their seeds.
base::Status UpgradeNamespace(storage::Store& store, const storage::KeyRing& keys, Namespace ns,
                              UpgradeStats* stats) {
  std::string start;
  for (;;) {
    storage::WriteBatch batch;
    std::unordered_set<std::string> indexed;
    size_t seen = 0;
    std::string last;
    OTPD_RETURN_IF_ERROR(store.ScanFrom(
        ns, "", start,
        [&](std::string_view key, const storage::Record& record) -> base::StatusOr<bool> {
          ++seen;
          last.assign(key);
          std::string payload;
          if (auto open = keys.OpenRecord(ns, key, record.value); open.ok()) {
            payload = std::string(*open);
          } else {
            payload = record.value;
            OTPD_ASSIGN_OR_RETURN(std::string signed_record, keys.SignRecord(ns, key, payload));
            batch.RequireVersion(ns, key, record.version);
            batch.Put(ns, key, signed_record);
            ++stats->signed_records;
          }
          if (ns == Namespace::kTokens) {
            OTPD_ASSIGN_OR_RETURN(TokenRecord token, DecodeToken(payload));
            OTPD_ASSIGN_OR_RETURN(base::SecretBytes seed,
                                  keys.OpenSecret(ns, key, token.sealed_seed));
            OTPD_ASSIGN_OR_RETURN(std::string fp,
                                  keys.Fingerprint(kSeedFingerprintPurpose, seed.span()));
            OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> entry,
                                  store.Get(Namespace::kMeta, SeedIndexKey(fp)));
            if (!entry && indexed.insert(fp).second) {
              batch.RequireVersion(Namespace::kMeta, SeedIndexKey(fp), 0);
              batch.Put(Namespace::kMeta, SeedIndexKey(fp), std::string(key));
              ++stats->indexed_seeds;
            }
          }
          return seen < kPage;
        }));
    if (!batch.empty()) {
      base::Status s = store.Commit(std::move(batch), storage::Durability::kDurable);
      if (base::IsAborted(s)) continue;  // something changed meanwhile: read the page again
      OTPD_RETURN_IF_ERROR(s);
    }
    if (seen < kPage) return base::OkStatus();
    start = last;
    start.push_back('\0');
  }
}

}  // namespace

base::StatusOr<bool> RecordsUpgraded(const storage::Store& store) {
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> layout,
                        store.Get(Namespace::kMeta, kLayoutKey));
  return layout && layout->value == kLayout;
}

base::Status UpgradeRecords(storage::Store& store, const storage::KeyRing& keys,
                            UpgradeStats* stats) {
  UpgradeStats local;
  if (stats == nullptr) stats = &local;
  OTPD_ASSIGN_OR_RETURN(bool upgraded, RecordsUpgraded(store));
  if (upgraded) return base::OkStatus();
  for (Namespace ns : {Namespace::kUsers, Namespace::kMethods, Namespace::kTokens}) {
    OTPD_RETURN_IF_ERROR(UpgradeNamespace(store, keys, ns, stats)
                             .WithContext("upgrading " + std::string(NamespaceName(ns))));
  }
  storage::WriteBatch done;
  done.Put(Namespace::kMeta, kLayoutKey, kLayout);
  return store.Commit(std::move(done), storage::Durability::kDurable);
}

}  // namespace otpd::service
