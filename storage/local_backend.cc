#include "storage/local_backend.h"

#include <chrono>
#include <deque>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace otpd::storage {
namespace {

using VersionMap = std::unordered_map<KeyPrint, uint64_t, KeyPrintHash>;
using KeySet = std::unordered_set<KeyPrint, KeyPrintHash>;

// Versions as they will be once the batches accepted so far into the group are applied; 0 means
// deleted. Lookups fall through to the backend for keys the group has not touched.
class VersionView {
 public:
  // `cache` holds versions known from earlier groups' successful writes.
  VersionView(const LocalBackend* backend, const VersionCache& cache)
      : backend_(backend), cache_(cache) {}

  base::StatusOr<uint64_t> Version(const VersionMap& delta, const KeyPrint& k, Namespace ns,
                                   std::string_view key) {
    if (auto it = delta.find(k); it != delta.end()) return it->second;
    if (auto it = overlay_.find(k); it != overlay_.end()) return it->second;
    if (std::optional<uint64_t> v = cache_.Find(k)) return *v;
    return backend_->ReadVersion(ns, key);
  }

  void Merge(const VersionMap& delta) {
    for (const auto& [k, v] : delta) overlay_[k] = v;
  }

  // The versions this group's accepted batches give their keys.
  const VersionMap& overlay() const { return overlay_; }

 private:
  const LocalBackend* backend_;
  const VersionCache& cache_;
  VersionMap overlay_;
};

// The logs as one group leaves them: numbers are handed out as the group's batches are prepared,
// in order, and given back when a batch fails.
struct GroupLogs {
  LogPositions state;             // by namespace
  std::deque<std::string> bytes;  // the log keys and counter values the mutations point into
  uint32_t touched = 0;           // namespaces appended to, as a mask of 1 << ns
};

// The committed state of the log of `ns`, from its counter record.
base::StatusOr<LogPosition> ReadLogPosition(const LocalBackend* backend, Namespace ns) {
  OTPD_ASSIGN_OR_RETURN(std::optional<Record> counter, backend->ReadStored(ns, kLogCounterKey));
  LogPosition state;
  if (!counter) return state;
  std::optional<uint64_t> last = ParseLogCounter(counter->value);
  if (!last) {
    return base::DataLossError("the log counter of " + std::string(NamespaceName(ns)) +
                               " is malformed");
  }
  state.last = *last;
  state.version = counter->version;
  return state;
}

// Checks `batch`'s conditions and turns its ops into mutations (appended to `out`) with the
// versions they will have; the keys of its inserts are added to `inserted`, and its appends get
// their log numbers from `logs`. On failure nothing is appended and `view` and `logs` are
// unchanged.
base::Status PrepareBatch(const WriteBatch& batch, const LocalBackend* backend, VersionView& view,
                          VersionMap& delta, GroupLogs& logs, std::vector<Mutation>* out,
                          KeySet* inserted) {
  delta.clear();
  for (const auto& c : batch.conditions()) {
    OTPD_ASSIGN_OR_RETURN(uint64_t current,
                          view.Version(delta, Fingerprint(c.ns, c.key), c.ns, c.key));
    if (current != c.version) {
      return base::AbortedError("version conflict on " + std::string(NamespaceName(c.ns)) + "/" +
                                c.key + ": expected " + std::to_string(c.version) + ", found " +
                                std::to_string(current));
    }
    // Remembered once the group is written: the next condition on this key (a user's fence is
    // checked by every sign-in) needs no backend read.
    delta.emplace(Fingerprint(c.ns, c.key), current);
  }
  const size_t first = out->size();
  const auto logs_before = logs.state;
  const size_t bytes_before = logs.bytes.size();
  const uint32_t touched_before = logs.touched;
  auto fail = [&](base::Status status) {
    out->resize(first);
    logs.state = logs_before;
    while (logs.bytes.size() > bytes_before) logs.bytes.pop_back();
    logs.touched = touched_before;
    return status;
  };
  for (const auto& op : batch.ops()) {
    if (op.kind == WriteBatch::OpKind::kAppend) {
      auto& log = logs.state[static_cast<size_t>(op.ns)];
      if (!log) {
        auto state = ReadLogPosition(backend, op.ns);
        if (!state.ok()) return fail(state.status());
        log = *state;
      }
      ++log->last;
      logs.bytes.push_back(LogKey(log->last));
      logs.touched |= 1u << static_cast<unsigned>(op.ns);
      out->push_back(Mutation{op.ns, logs.bytes.back(), false, op.value, 1});
      continue;
    }
    const KeyPrint k = Fingerprint(op.ns, op.key);
    if (op.kind == WriteBatch::OpKind::kDelete) {
      delta[k] = 0;
      out->push_back(Mutation{op.ns, op.key, true, {}, 0});
      continue;
    }
    if (op.kind == WriteBatch::OpKind::kInsert) {
      // Write-once keys need no version read, and are kept out of the version cache.
      delta[k] = 1;
      inserted->insert(k);
      out->push_back(Mutation{op.ns, op.key, false, op.value, 1});
      continue;
    }
    auto current = view.Version(delta, k, op.ns, op.key);
    if (!current.ok()) return fail(current.status());
    uint64_t version = *current + 1;
    delta[k] = version;
    out->push_back(Mutation{op.ns, op.key, false, op.value, version});
  }
  view.Merge(delta);
  return base::OkStatus();
}

}  // namespace

LocalBackend::LocalBackend(const PipelineOptions& options)
    : version_cache_entries_(options.version_cache_entries),
      learn_from_reads_(options.learn_from_reads),
      version_cache_(options.version_cache_entries) {}

base::StatusOr<std::optional<Record>> LocalBackend::Read(Namespace ns, std::string_view key) const {
  if (!Learns(ns)) return ReadStored(ns, key);
  const uint64_t ticket = LearnTicket();
  base::StatusOr<std::optional<Record>> record = ReadStored(ns, key);
  if (record.ok()) Learn(ns, key, record->has_value() ? (*record)->version : 0, ticket);
  return record;
}

base::StatusOr<uint64_t> LocalBackend::ReadVersion(Namespace ns, std::string_view key) const {
  OTPD_ASSIGN_OR_RETURN(std::optional<Record> record, ReadStored(ns, key));
  return record.has_value() ? record->version : 0;
}

bool LocalBackend::Learns(Namespace ns) const {
  return IsValidNamespace(ns) && version_cache_entries_ != 0 &&
         (learn_from_reads_ >> static_cast<unsigned>(ns) & 1) != 0;
}

void LocalBackend::Learn(Namespace ns, std::string_view key, uint64_t version,
                         uint64_t ticket) const {
  if (!Learns(ns)) return;
  constexpr size_t kMaxOffers = 1 << 16;
  const KeyPrint k = Fingerprint(ns, key);
  base::MutexLock lock(offers_mu_);
  if (offers_.size() < kMaxOffers) offers_.push_back(Offer{k, version, ticket});
}

void LocalBackend::TakeOffers() {
  std::vector<Offer> offers;
  {
    base::MutexLock lock(offers_mu_);
    offers.swap(offers_);
  }
  for (const Offer& o : offers) {
    if (o.ticket != version_cache_.forgets()) continue;
    if (!version_cache_.Find(o.key)) version_cache_.Put(o.key, o.version);
  }
  published_forgets_.store(version_cache_.forgets(), std::memory_order_release);
}

namespace {

// Each log appended to records its last number in the same atomic write.
void AddLogCounters(GroupLogs& logs, std::vector<Mutation>* mutations) {
  for (size_t ns = 0; ns < logs.state.size(); ++ns) {
    if ((logs.touched >> ns & 1) == 0) continue;
    LogPosition& log = *logs.state[ns];
    logs.bytes.push_back(LogKey(log.last));  // the same 8-byte encoding
    ++log.version;
    mutations->push_back(Mutation{static_cast<Namespace>(ns), kLogCounterKey, false,
                                  logs.bytes.back(), log.version});
  }
}

uint64_t MicrosSince(std::chrono::steady_clock::time_point started) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now() - started)
                                   .count());
}

}  // namespace

CommitBackend::GroupWrites LocalBackend::CommitGroup(std::span<GroupMember> members) {
  TakeOffers();
  VersionView view(this, version_cache_);
  VersionMap delta;
  std::vector<Mutation> mutations;
  KeySet inserted;
  GroupLogs logs{logs_, {}, 0};
  bool sync = false;
  for (GroupMember& m : members) {
    m.result = PrepareBatch(*m.batch, this, view, delta, logs, &mutations, &inserted);
    if (m.result.ok() && m.durability == Durability::kDurable) sync = true;
  }
  AddLogCounters(logs, &mutations);
  GroupWrites writes;
  // A durable batch with nothing to write still asks for an fsync: it acts as a barrier that makes
  // earlier relaxed commits durable.
  if (mutations.empty() && !sync) return writes;
  writes.writes = 1;
  writes.syncs = sync ? 1 : 0;
  writes.batches_in_one_write = members.size();
  const auto started = std::chrono::steady_clock::now();
  base::Status written = Apply(mutations, sync);
  if (sync) writes.sync_micros = MicrosSince(started);
  if (!written.ok()) {
    for (GroupMember& m : members) {
      if (m.result.ok()) m.result = written;
    }
    // Whether a failed write reached the backend is not known: read these keys again next time.
    for (const auto& [k, v] : view.overlay()) version_cache_.Erase(k);
    for (size_t ns = 0; ns < logs_.size(); ++ns) {
      if ((logs.touched >> ns & 1) != 0) logs_[ns].reset();
    }
  } else {
    for (const auto& [k, v] : view.overlay()) {
      if (inserted.empty() || !inserted.contains(k)) version_cache_.Put(k, v);
    }
    for (size_t ns = 0; ns < logs_.size(); ++ns) {
      if ((logs.touched >> ns & 1) != 0) logs_[ns] = logs.state[ns];
    }
  }
  published_forgets_.store(version_cache_.forgets(), std::memory_order_release);
  return writes;
}

}  // namespace otpd::storage
