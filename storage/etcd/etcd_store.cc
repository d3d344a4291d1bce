#include "storage/etcd/etcd_store.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <unordered_set>
#include <utility>

#include "base/codec.h"
#include "storage/etcd/etcd_backend.h"
#include "storage/etcd/etcd_election.h"
#include "storage/internal/record_codec.h"

namespace otpd::storage {
namespace etcd_internal {
namespace {

// Attempts at one Txn when other writers keep changing its keys between our reads and our write.
constexpr int kMaxAttempts = 16;
// Further attempts when only log counters changed: another node appended to a log meanwhile,
// which is progress for the cluster, and the next attempt numbers after it.
constexpr int kMaxLogConflicts = 256;
// Room left in a request for what the estimate below does not count (protobuf framing, the
// header, the auth token).
constexpr size_t kRequestSlack = 16 << 10;

base::Status CorruptAt(std::string_view key) {
  return base::DataLossError("etcd key " +
                             base::HexEncode(std::span<const uint8_t>(
                                 reinterpret_cast<const uint8_t*>(key.data()), key.size())) +
                             " does not hold an otpd record");
}

// The state a Range of one key found: its otpd version (decoded from the value) and mod_revision;
// for a log counter (`counter`), also the last number it holds.
base::StatusOr<KeyState> StateOf(const etcdserverpb::RangeResponse& r, std::string_view key,
                                 bool counter) {
  KeyState s;
  s.seen_at = r.header().revision();
  if (r.kvs_size() == 0) return s;
  const mvccpb::KeyValue& kv = r.kvs(0);
  if (kv.value().size() < internal::kVersionPrefixBytes) return CorruptAt(key);
  s.version = internal::ReadBigEndian64(kv.value());
  s.mod_revision = kv.mod_revision();
  if (counter) {
    std::optional<uint64_t> last =
        ParseLogCounter(std::string_view(kv.value()).substr(internal::kVersionPrefixBytes));
    if (!last) return CorruptAt(key);
    s.log_last = *last;
  }
  return s;
}

}  // namespace

// One Txn being put together: the compares (every key whose state the accepted and aborted
// batches were decided on), the final change of each key (several changes of one key in the
// Txn collapse into its last, with the version the sequence gives it), and the versions the
// accepted batches give their keys.
class EtcdBackend::Plan {
 public:
  enum class Outcome { kAccepted, kAborted, kNeedStates, kFull, kTooLarge };

  struct Change {
    bool is_delete = false;
    bool inserted = false;  // written once, by an Insert or an append: not remembered afterwards
    uint64_t version = 0;
    std::string_view value;
    uint64_t log_last = 0;  // a log counter's new last number
  };

  Plan(const EtcdBackend& backend, const StateMap& known)
      : backend_(backend), known_(known), budget_(backend.options_.max_request_bytes) {
    budget_ = budget_ > kRequestSlack * 2 ? budget_ - kRequestSlack : budget_ / 2;
  }

  // Decides `batch` against the Txn so far. kAccepted and kAborted add it (an aborted batch's
  // compares stay: its abort holds only if the states it was decided on are current);
  // kNeedStates lists in *missing the keys whose state is unknown; kFull means it does not fit
  // beside what is already planned, kTooLarge that it does not fit in any Txn. *why explains
  // kAborted and kTooLarge.
  Outcome Add(const WriteBatch& batch, std::vector<std::string>* missing, std::string* why) {
    std::unordered_map<std::string, uint64_t> delta;  // this batch's versions, 0 = deleted
    std::map<std::string, int64_t> new_compares;
    std::map<std::string, Change> changes;
    std::map<std::string, uint64_t> logs;  // this batch's log counters: the last number it takes
    size_t bytes = 0;
    bool need = false;
    auto lookup = [&](const std::string& key) -> std::optional<uint64_t> {
      if (auto it = delta.find(key); it != delta.end()) return it->second;
      if (auto it = overlay_.find(key); it != overlay_.end()) return it->second;
      auto state = known_.find(key);
      if (state == known_.end()) {
        missing->push_back(key);
        need = true;
        return std::nullopt;
      }
      if (!compares_.contains(key) &&
          new_compares.emplace(key, state->second.mod_revision).second) {
        bytes += 2 * key.size() + 48;  // the compare and the failure branch's range
      }
      return state->second.version;
    };
    bool aborted = false;
    for (const auto& c : batch.conditions()) {
      std::string key = backend_.FullKey(c.ns, c.key);
      std::optional<uint64_t> current = lookup(key);
      if (!current) continue;
      if (*current == c.version) {
        if (c.version == 0 || Vouched(key, delta)) continue;
        // The version asked for exists, but another node wrote it: the caller can only have
        // predicted it from a write of its own that did not happen (a chain of commits whose
        // first failed). Equal numbers, different records.
        *why = "version conflict on " + std::string(NamespaceName(c.ns)) + "/" + c.key +
               ": version " + std::to_string(c.version) +
               " was written by another node, not the one expected";
      } else {
        *why = "version conflict on " + std::string(NamespaceName(c.ns)) + "/" + c.key +
               ": expected " + std::to_string(c.version) + ", found " + std::to_string(*current);
      }
      aborted = true;
      break;
    }
    if (!aborted) {
      for (const auto& op : batch.ops()) {
        std::string key = backend_.FullKey(op.ns, op.key);
        Change change;
        switch (op.kind) {
          case WriteBatch::OpKind::kDelete:
            change.is_delete = true;
            break;
          case WriteBatch::OpKind::kInsert:
            change.inserted = true;
            change.version = 1;
            change.value = op.value;
            break;
          case WriteBatch::OpKind::kAppend: {
            // The log's next number comes from its counter as this Txn finds it: the counter's
            // compare makes the Txn fail if another node appended meanwhile (etcd_store.h).
            const std::string counter = backend_.FullKey(op.ns, kLogCounterKey);
            auto log = logs.find(counter);
            if (log == logs.end()) {
              std::optional<uint64_t> current = lookup(counter);
              if (!current) continue;
              uint64_t last = 0;
              if (auto o = log_overlay_.find(counter); o != log_overlay_.end()) {
                last = o->second;
              } else if (auto k = known_.find(counter); k != known_.end()) {
                last = k->second.log_last;
              }
              delta[counter] = *current + 1;
              log = logs.emplace(counter, last).first;
            }
            ++log->second;
            owned_.push_back(backend_.FullKey(op.ns, LogKey(log->second)));
            change.inserted = true;
            change.version = 1;
            change.value = op.value;
            delta[owned_.back()] = 1;
            changes[owned_.back()] = change;
            continue;
          }
          case WriteBatch::OpKind::kPut: {
            std::optional<uint64_t> current = lookup(key);
            if (!current) continue;
            change.version = *current + 1;
            change.value = op.value;
            break;
          }
        }
        delta[key] = change.version;
        changes[key] = change;
      }
      // Each log appended to records its last number in the same Txn.
      for (const auto& [counter, last] : logs) {
        owned_.push_back(LogKey(last));  // the same 8-byte encoding
        changes[counter] =
            Change{.version = delta[counter], .value = owned_.back(), .log_last = last};
      }
    }
    if (need) return Outcome::kNeedStates;
    for (const auto& [key, change] : changes) {
      if (!changes_.contains(key)) bytes += key.size() + 32;
      bytes += change.value.size() + internal::kVersionPrefixBytes;
    }
    size_t new_changes = 0;
    for (const auto& [key, change] : changes) new_changes += changes_.contains(key) ? 0 : 1;
    const size_t limit = backend_.options_.max_txn_ops;
    const bool fits = compares_.size() + new_compares.size() <= limit &&
                      changes_.size() + new_changes <= limit && bytes_ + bytes <= budget_;
    if (!fits) {
      if (!empty()) return Outcome::kFull;
      *why = "write batch too large for one etcd transaction (" + std::to_string(new_changes) +
             " changes, " + std::to_string(new_compares.size()) + " compares, about " +
             std::to_string(bytes) + " bytes; the cluster allows " + std::to_string(limit) +
             " operations (--max-txn-ops) and " +
             std::to_string(backend_.options_.max_request_bytes) +
             " bytes (--max-request-bytes) per transaction)";
      return Outcome::kTooLarge;
    }
    for (auto& [key, revision] : new_compares) compares_.emplace(key, revision);
    bytes_ += bytes;
    if (aborted) return Outcome::kAborted;
    for (auto& [key, version] : delta) overlay_[key] = version;
    for (auto& [key, change] : changes) changes_[key] = change;
    for (auto& [counter, last] : logs) log_overlay_[counter] = last;
    return Outcome::kAccepted;
  }

  bool empty() const { return compares_.empty() && changes_.empty(); }

  const std::map<std::string, int64_t>& compares() const { return compares_; }
  const std::map<std::string, Change>& changes() const { return changes_; }

  etcdserverpb::TxnRequest Request() const {
    etcdserverpb::TxnRequest txn;
    for (const auto& [key, revision] : compares_) {
      etcdserverpb::Compare* c = txn.add_compare();
      c->set_result(etcdserverpb::Compare::EQUAL);
      c->set_target(etcdserverpb::Compare::MOD);
      c->set_key(key);
      c->set_mod_revision(revision);  // 0: the key does not exist
      txn.add_failure()->mutable_request_range()->set_key(key);
    }
    for (const auto& [key, change] : changes_) {
      etcdserverpb::RequestOp* op = txn.add_success();
      if (change.is_delete) {
        op->mutable_request_delete_range()->set_key(key);
      } else {
        etcdserverpb::PutRequest* put = op->mutable_request_put();
        put->set_key(key);
        put->set_value(internal::EncodeRecord(change.version, change.value));
      }
    }
    return txn;
  }

 private:
  // Whether a condition met by the version of `key` may rely on it: a version this Txn gives the
  // key, one the caller may have seen, or any version outside the tracked namespaces.
  bool Vouched(const std::string& key,
               const std::unordered_map<std::string, uint64_t>& delta) const {
    if (delta.contains(key) || overlay_.contains(key) || !backend_.Tracked(key)) return true;
    auto state = known_.find(key);
    return state != known_.end() && state->second.vouched;
  }

  const EtcdBackend& backend_;
  const StateMap& known_;
  size_t budget_;
  size_t bytes_ = 0;
  std::map<std::string, int64_t> compares_;
  std::map<std::string, Change> changes_;
  std::unordered_map<std::string, uint64_t> overlay_;
  std::unordered_map<std::string, uint64_t> log_overlay_;  // log counters: the last number taken
  std::deque<std::string> owned_;  // log keys and counter values the changes point into
};

EtcdBackend::EtcdBackend(std::shared_ptr<EtcdClient> client, BackendSettings settings)
    : client_(std::move(client)), options_(std::move(settings)) {}

std::string EtcdBackend::NamespacePrefix(Namespace ns) const {
  std::string p = options_.prefix;
  p.append(NamespaceName(ns));
  p.push_back('/');
  return p;
}

std::string EtcdBackend::FullKey(Namespace ns, std::string_view key) const {
  std::string k = NamespacePrefix(ns);
  k.append(key);
  return k;
}

bool EtcdBackend::IsLogCounter(std::string_view full_key) const {
  if (!full_key.starts_with(options_.prefix) || !full_key.ends_with(kLogCounterKey)) return false;
  for (Namespace ns : AllNamespaces()) {
    if (full_key == FullKey(ns, kLogCounterKey)) return true;
  }
  return false;
}

bool EtcdBackend::Tracked(std::string_view full_key) const {
  for (Namespace ns : {Namespace::kUsers, Namespace::kState}) {
    if (full_key.starts_with(NamespacePrefix(ns))) return true;
  }
  return false;
}

void EtcdBackend::Learn(const std::string& key, const KeyState& state) const {
  base::MutexLock lock(states_mu_);
  auto it = states_.find(key);
  if (it != states_.end()) {
    // The same record seen again (e.g. in a failed Txn's answer) stays vouched for.
    const bool same =
        it->second.mod_revision == state.mod_revision && it->second.version == state.version;
    if (it->second.seen_at <= state.seen_at) {
      const bool vouched = state.vouched || (same && it->second.vouched);
      it->second = state;
      it->second.vouched = vouched;
    } else if (same && state.vouched) {
      it->second.vouched = true;
    }
    return;
  }
  if (states_.size() >= options_.key_state_entries) states_.clear();
  if (options_.key_state_entries != 0) states_.emplace(key, state);
}

void EtcdBackend::Forget(const std::string& key) const {
  base::MutexLock lock(states_mu_);
  states_.erase(key);
}

std::optional<KeyState> EtcdBackend::Known(const std::string& key) const {
  base::MutexLock lock(states_mu_);
  auto it = states_.find(key);
  if (it == states_.end()) return std::nullopt;
  return it->second;
}

base::StatusOr<std::optional<Record>> EtcdBackend::Read(Namespace ns, std::string_view key) const {
  const std::string full = FullKey(ns, key);
  etcdserverpb::RangeRequest request;
  request.set_key(full);
  etcdserverpb::RangeResponse response;
  OTPD_RETURN_IF_ERROR(client_->Range(request, &response));
  OTPD_ASSIGN_OR_RETURN(KeyState state, StateOf(response, full, /*counter=*/false));
  state.vouched = true;  // the caller is about to see this version
  if (LearnsFrom(ns)) Learn(full, state);
  if (response.kvs_size() == 0) return std::optional<Record>();
  return internal::DecodeRecord(response.kvs(0).value());
}

base::Status EtcdBackend::Scan(Namespace ns, std::string_view prefix, std::string_view start,
                               const ScanFn& fn) const {
  const std::string ns_prefix = NamespacePrefix(ns);
  std::string begin = FullKey(ns, start);
  // Never empty: the namespace prefix ends with '/', which has a successor.
  const std::string end = internal::PrefixSuccessor(FullKey(ns, prefix)).value();
  int64_t revision = 0;  // the first page's, so that every page shows the same state
  for (;;) {
    etcdserverpb::RangeRequest request;
    request.set_key(begin);
    request.set_range_end(end);
    request.set_limit(static_cast<int64_t>(options_.scan_page));
    request.set_revision(revision);
    etcdserverpb::RangeResponse response;
    OTPD_RETURN_IF_ERROR(client_->Range(request, &response));
    if (revision == 0) revision = response.header().revision();
    for (const mvccpb::KeyValue& kv : response.kvs()) {
      std::optional<Record> record = internal::DecodeRecord(kv.value());
      if (!record) return CorruptAt(kv.key());
      if (LearnsFrom(ns)) {
        Learn(kv.key(), KeyState{.version = record->version,
                                 .mod_revision = kv.mod_revision(),
                                 .seen_at = revision,
                                 .vouched = true});
      }
      std::string_view key = std::string_view(kv.key()).substr(ns_prefix.size());
      OTPD_ASSIGN_OR_RETURN(bool more, fn(key, *record));
      if (!more) return base::OkStatus();
    }
    if (!response.more() || response.kvs_size() == 0) return base::OkStatus();
    begin = response.kvs(response.kvs_size() - 1).key();
    begin.push_back('\0');  // the smallest key after the last one seen
  }
}

base::Status EtcdBackend::ReadStates(const std::vector<std::string>& keys, StateMap& known) {
  const size_t chunk = std::max<size_t>(1, options_.max_txn_ops);
  for (size_t first = 0; first < keys.size(); first += chunk) {
    const size_t last = std::min(keys.size(), first + chunk);
    etcdserverpb::TxnRequest request;
    for (size_t i = first; i < last; ++i) {
      request.add_success()->mutable_request_range()->set_key(keys[i]);
    }
    etcdserverpb::TxnResponse response;
    OTPD_RETURN_IF_ERROR(client_->Txn(request, &response, /*read_only=*/true));
    for (size_t i = first; i < last; ++i) {
      const etcdserverpb::ResponseOp& op = response.responses(static_cast<int>(i - first));
      etcdserverpb::RangeResponse range = op.response_range();
      range.mutable_header()->set_revision(response.header().revision());
      OTPD_ASSIGN_OR_RETURN(KeyState state, StateOf(range, keys[i], IsLogCounter(keys[i])));
      known[keys[i]] = state;
    }
  }
  return base::OkStatus();
}

CommitBackend::GroupWrites EtcdBackend::CommitGroup(std::span<GroupMember> members) {
  GroupWrites writes;
  // The states this group is decided on: what this process knew, and reads of the rest, all at
  // once before the first Txn (the keys of a whole group in one or a few round trips).
  StateMap known;
  std::vector<std::string> unknown;
  std::unordered_set<std::string> asked;
  auto want = [&](Namespace ns, std::string_view key) {
    std::string full = FullKey(ns, key);
    if (known.contains(full) || asked.contains(full)) return;
    if (std::optional<KeyState> s = Known(full)) {
      known.emplace(full, *s);
    } else {
      asked.insert(full);
      unknown.push_back(std::move(full));
    }
  };
  for (const GroupMember& m : members) {
    for (const auto& c : m.batch->conditions()) want(c.ns, c.key);
    for (const auto& op : m.batch->ops()) {
      if (op.kind == WriteBatch::OpKind::kPut) want(op.ns, op.key);
      if (op.kind == WriteBatch::OpKind::kAppend) want(op.ns, kLogCounterKey);
    }
  }
  if (base::Status s = ReadStates(unknown, known); !s.ok()) {
    for (GroupMember& m : members) m.result = s;
    return writes;
  }
  size_t next = 0;
  while (next < members.size()) next = CommitSome(members, next, known, &writes);
  return writes;
}

size_t EtcdBackend::CommitSome(std::span<GroupMember> members, size_t first, StateMap& known,
                               GroupWrites* writes) {
  int log_conflicts = 0;
  for (int attempt = 0; attempt < kMaxAttempts;) {
    Plan plan(*this, known);
    size_t end = first;
    bool durable = false;
    std::vector<std::string> missing;
    for (; end < members.size(); ++end) {
      GroupMember& m = members[end];
      std::string why;
      missing.clear();
      Plan::Outcome outcome = plan.Add(*m.batch, &missing, &why);
      if (outcome == Plan::Outcome::kNeedStates) {
        // Only keys the group-wide read could not foresee (none today); read them and retry.
        if (base::Status s = ReadStates(missing, known); !s.ok()) {
          for (size_t i = first; i < members.size(); ++i) members[i].result = s;
          return members.size();
        }
        outcome = plan.Add(*m.batch, &missing, &why);
        if (outcome == Plan::Outcome::kNeedStates) {
          m.result = base::InternalError("etcd store: key states missing after reading them");
          continue;
        }
      }
      if (outcome == Plan::Outcome::kFull) break;
      if (outcome == Plan::Outcome::kTooLarge) {
        m.result = base::InvalidArgumentError(why);
        continue;
      }
      if (outcome == Plan::Outcome::kAborted) {
        m.result = base::AbortedError(why);
        continue;
      }
      m.result = base::OkStatus();
      if (m.durability == Durability::kDurable) durable = true;
    }
    if (plan.empty()) return end;  // nothing to write or check (empty batches, refusals)

    etcdserverpb::TxnResponse response;
    base::Status sent =
        client_->Txn(plan.Request(), &response, /*read_only=*/plan.changes().empty());
    if (!sent.ok()) {
      // Whether it was applied is unknown: nobody may rely on what we knew of these keys, and
      // no later member of the group may be decided on them either.
      for (const auto& [key, revision] : plan.compares()) Forget(key);
      for (const auto& [key, change] : plan.changes()) Forget(key);
      for (size_t i = first; i < members.size(); ++i) members[i].result = sent;
      return members.size();
    }
    const int64_t revision = response.header().revision();
    if (response.succeeded()) {
      if (!plan.changes().empty()) {
        ++writes->writes;
        if (durable) ++writes->syncs;
      }
      for (const auto& [key, change] : plan.changes()) {
        KeyState state{change.is_delete ? 0 : change.version, change.is_delete ? 0 : revision,
                       revision, /*vouched=*/true, change.log_last};
        known[key] = state;
        if (change.inserted && !Tracked(key)) {
          Forget(key);
        } else {
          Learn(key, state);
        }
      }
      return end;
    }
    // Another writer changed some of the keys since we learnt their states: take the current
    // ones from the failure branch and decide the same members again.
    size_t i = 0;
    bool only_logs = true;  // whether only log counters changed
    for (const auto& [key, compared] : plan.compares()) {
      if (static_cast<int>(i) >= response.responses_size()) break;
      etcdserverpb::RangeResponse range =
          response.responses(static_cast<int>(i++)).response_range();
      range.mutable_header()->set_revision(revision);
      base::StatusOr<KeyState> state = StateOf(range, key, IsLogCounter(key));
      if (!state.ok()) {
        for (size_t j = first; j < members.size(); ++j) members[j].result = state.status();
        return members.size();
      }
      // Unchanged keys (a compare of this Txn that held) keep their standing; a changed one was
      // written by another node and is not vouched for until a caller reads it.
      if (auto it = known.find(key); it != known.end() && it->second.vouched &&
                                     it->second.mod_revision == state->mod_revision &&
                                     it->second.version == state->version) {
        state->vouched = true;
      }
      if (state->mod_revision != compared && !IsLogCounter(key)) only_logs = false;
      known[key] = *state;
      Learn(key, *state);
    }
    if (!only_logs || ++log_conflicts > kMaxLogConflicts) ++attempt;
  }
  for (size_t i = first; i < members.size(); ++i) {
    members[i].result = base::UnavailableError(
        "etcd store: the keys of this commit kept changing under it; try again");
  }
  return members.size();
}

}  // namespace etcd_internal

namespace {

PipelineOptions ToPipelineOptions(const EtcdOptions& o) {
  PipelineOptions p;
  p.max_queue = o.max_queue;
  p.max_group_bytes = o.max_group_bytes;
  p.max_group_batches = o.max_group_batches;
  p.max_groups_in_flight = o.groups_in_flight;
  return p;
}

}  // namespace

EtcdStore::EtcdStore(std::unique_ptr<etcd_internal::EtcdBackend> backend,
                     std::shared_ptr<etcd_internal::EtcdClient> client, std::string prefix,
                     const EtcdOptions& options)
    : PipelinedStore(std::move(backend), ToPipelineOptions(options)),
      client_(std::move(client)),
      prefix_(std::move(prefix)),
      limits_{.max_keys = options.max_txn_ops, .max_bytes = options.max_request_bytes / 2} {}

EtcdStore::~EtcdStore() = default;

base::StatusOr<std::unique_ptr<EtcdStore>> EtcdStore::Open(const EtcdOptions& options) {
  etcd_internal::BackendSettings settings{.prefix = options.prefix,
                                          .max_txn_ops = options.max_txn_ops,
                                          .max_request_bytes = options.max_request_bytes,
                                          .scan_page = options.scan_page,
                                          .key_state_entries = options.key_state_entries};
  if (settings.prefix.empty() || settings.prefix.back() != '/') settings.prefix.push_back('/');
  if (settings.max_txn_ops == 0) {
    return base::InvalidArgumentError("etcd max_txn_ops must be positive");
  }
  if (settings.scan_page == 0) settings.scan_page = 512;
  OTPD_ASSIGN_OR_RETURN(std::shared_ptr<etcd_internal::EtcdClient> client,
                        etcd_internal::EtcdClient::Connect(options.connection));
  // Reachable, and allowed to read under the prefix.
  etcdserverpb::RangeRequest probe;
  probe.set_key(settings.prefix);
  probe.set_range_end(internal::PrefixSuccessor(settings.prefix).value());
  probe.set_count_only(true);
  etcdserverpb::RangeResponse response;
  OTPD_RETURN_IF_ERROR(client->Range(probe, &response).WithContext("opening the etcd store"));
  const std::string prefix = settings.prefix;
  auto backend = std::make_unique<etcd_internal::EtcdBackend>(client, std::move(settings));
  return std::unique_ptr<EtcdStore>(
      new EtcdStore(std::move(backend), std::move(client), prefix, options));
}

base::Status EtcdStore::Backup(const std::string& snapshot_path,
                               const std::string& manifest_path) const {
  OTPD_RETURN_IF_ERROR(client_->Snapshot(snapshot_path));
  std::ofstream manifest(manifest_path, std::ios::binary | std::ios::trunc);
  if (!manifest) return base::UnavailableError("cannot create " + manifest_path);
  for (Namespace ns : AllNamespaces()) {
    OTPD_RETURN_IF_ERROR(Scan(ns, "", [&](std::string_view key, const Record& r) {
      manifest << NamespaceName(ns) << '\t'
               << base::HexEncode(std::span<const uint8_t>(
                      reinterpret_cast<const uint8_t*>(key.data()), key.size()))
               << '\t' << r.version << '\n';
      return true;
    }));
  }
  manifest.flush();
  if (!manifest) return base::UnavailableError("cannot write " + manifest_path);
  return base::OkStatus();
}

base::Status EtcdStore::Backup(const std::string& dir) const {
  if (mkdir(dir.c_str(), 0700) != 0) {
    return base::UnavailableError("cannot create " + dir + ": " + std::strerror(errno));
  }
  return Backup(dir + "/" + kEtcdSnapshotFile, dir + "/" + kEtcdKeysFile);
}

base::StatusOr<std::unique_ptr<StoreRole>> EtcdStore::NewRole(RoleOptions options) const {
  return std::unique_ptr<StoreRole>(std::make_unique<EtcdElection>(*this, std::move(options)));
}

}  // namespace otpd::storage
