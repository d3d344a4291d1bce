#include "storage/store.h"

#include <utility>

namespace otpd::storage {

std::string_view NamespaceName(Namespace ns) {
  switch (ns) {
    case Namespace::kUsers:
      return "users";
    case Namespace::kMethods:
      return "methods";
    case Namespace::kTokens:
      return "tokens";
    case Namespace::kState:
      return "state";
    case Namespace::kSessions:
      return "sessions";
    case Namespace::kAppPasswords:
      return "apppw";
    case Namespace::kOutbox:
      return "outbox";
    case Namespace::kAudit:
      return "audit";
    case Namespace::kMeta:
      return "meta";
  }
  return "invalid";
}

std::vector<Namespace> AllNamespaces() {
  std::vector<Namespace> all;
  all.reserve(kNamespaceCount);
  for (int i = 0; i < kNamespaceCount; ++i) all.push_back(static_cast<Namespace>(i));
  return all;
}

void WriteBatch::Put(Namespace ns, std::string_view key, std::string_view value) {
  ops_.push_back(Op{OpKind::kPut, ns, std::string(key), std::string(value)});
  bytes_ += key.size() + value.size() + 16;
}

void WriteBatch::Delete(Namespace ns, std::string_view key) {
  ops_.push_back(Op{OpKind::kDelete, ns, std::string(key), {}});
  bytes_ += key.size() + 16;
}

void WriteBatch::Insert(Namespace ns, std::string_view key, std::string_view value) {
  ops_.push_back(Op{OpKind::kInsert, ns, std::string(key), std::string(value)});
  bytes_ += key.size() + value.size() + 16;
}

void WriteBatch::AppendToLog(Namespace ns, std::string_view value) {
  ops_.push_back(Op{OpKind::kAppend, ns, {}, std::string(value)});
  bytes_ += value.size() + 32;
}

std::string LogKey(uint64_t number) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i) {
    key[static_cast<size_t>(i)] = static_cast<char>(number & 0xff);
    number >>= 8;
  }
  return key;
}

namespace {
std::optional<uint64_t> BigEndian64(std::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}
}  // namespace

std::optional<uint64_t> ParseLogKey(std::string_view key) { return BigEndian64(key); }
std::optional<uint64_t> ParseLogCounter(std::string_view value) { return BigEndian64(value); }

void WriteBatch::Append(WriteBatch&& other) {
  if (ops_.empty() && conditions_.empty()) {
    *this = std::move(other);
  } else {
    ops_.reserve(ops_.size() + other.ops_.size());
    for (Op& op : other.ops_) ops_.push_back(std::move(op));
    for (Condition& c : other.conditions_) conditions_.push_back(std::move(c));
    bytes_ += other.bytes_;
  }
  other.Clear();
}

void WriteBatch::RequireVersion(Namespace ns, std::string_view key, uint64_t version) {
  conditions_.push_back(Condition{ns, std::string(key), version});
  bytes_ += key.size() + 16;
}

void WriteBatch::Clear() {
  ops_.clear();
  conditions_.clear();
  bytes_ = 0;
}

base::Status CommitEach(Store& store, std::vector<WriteBatch> changes, Durability durability,
                        size_t* committed) {
  const BatchLimits limits = store.batch_limits();
  size_t done = 0;
  size_t joined = 0;
  if (committed != nullptr) *committed = 0;
  WriteBatch batch;
  auto commit = [&]() -> base::Status {
    if (joined == 0) return base::OkStatus();
    OTPD_RETURN_IF_ERROR(store.Commit(std::exchange(batch, WriteBatch()), durability));
    done += std::exchange(joined, 0);
    if (committed != nullptr) *committed = done;
    return base::OkStatus();
  };
  for (WriteBatch& change : changes) {
    if (joined > 0 && (batch.size() + change.size() > limits.max_keys ||
                       batch.ApproximateBytes() + change.ApproximateBytes() > limits.max_bytes)) {
      OTPD_RETURN_IF_ERROR(commit());
    }
    batch.Append(std::move(change));
    ++joined;
  }
  return commit();
}

base::Status Store::ScanFrom(Namespace ns, std::string_view prefix, std::string_view start,
                             const ScanFn& fn) const {
  return Scan(ns, prefix, [&](std::string_view key, const Record& record) -> base::StatusOr<bool> {
    if (key < start) return true;
    return fn(key, record);
  });
}

base::Status Store::Backup(const std::string& dir) const {
  return base::UnimplementedError("this store cannot write backups: " + dir + " was not written");
}

base::StatusOr<std::unique_ptr<StoreWatch>> Store::WatchNamespace(Namespace ns, WatchCallbacks) {
  return base::UnimplementedError("this store has no change notifications (" +
                                  std::string(NamespaceName(ns)) +
                                  "): this process is its only writer");
}

base::StatusOr<std::unique_ptr<StoreRole>> Store::NewRole(RoleOptions options) const {
  return base::UnimplementedError("this store has no roles (" + options.name +
                                  "): this process is its only writer and holds every role");
}

}  // namespace otpd::storage
