// LocalBackend is the CommitBackend of a store that this process alone writes (memory, RocksDB):
// because nobody else writes, what the committer remembers is current, so it checks conditions
// and numbers versions and logs from its own memory, reading the backend only for keys it does
// not know, and writes each group as ONE atomic write with one fsync if any member asked for
// durability. A backend of this kind implements only its reads and that one write (Apply).
//
// What it remembers: the versions of the keys it wrote and of the conditions it checked
// (PipelineOptions::version_cache_entries), the versions callers read in the namespaces of
// PipelineOptions::learn_from_reads (Read teaches them), and where each log stands.
//
// Thread-safety: Read, ReadVersion, Scan and the learning calls from any thread; CommitGroup and
// Apply only from the committer.

#ifndef OTPD_STORAGE_LOCAL_BACKEND_H_
#define OTPD_STORAGE_LOCAL_BACKEND_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "storage/commit_pipeline.h"
#include "storage/store.h"
#include "storage/version_cache.h"

namespace otpd::storage {

// One change of a group, as handed to Apply. The views point into the submitted batches and are
// valid only for the duration of Apply.
struct Mutation {
  Namespace ns;
  std::string_view key;
  bool is_delete = false;
  std::string_view value;  // for a put
  uint64_t version = 0;    // the record's new version, for a put
};

// Where a namespace's log stands (WriteBatch::AppendToLog): the last number given out and the
// version of its counter record.
struct LogPosition {
  uint64_t last = 0;
  uint64_t version = 0;
};
using LogPositions = std::array<std::optional<LogPosition>, kNamespaceCount>;

class LocalBackend : public CommitBackend {
 public:
  // Only version_cache_entries and learn_from_reads of `options` matter here.
  explicit LocalBackend(const PipelineOptions& options = {});

  // The committed record, as ReadStored; teaches the committer its version in the namespaces of
  // learn_from_reads.
  base::StatusOr<std::optional<Record>> Read(Namespace ns, std::string_view key) const final;

  GroupWrites CommitGroup(std::span<GroupMember> members) final;

  // The committed record, nullopt when absent, without teaching anything.
  virtual base::StatusOr<std::optional<Record>> ReadStored(Namespace ns,
                                                           std::string_view key) const = 0;
  // The committed version of (ns, key); 0 when absent. The default reads the whole record.
  virtual base::StatusOr<uint64_t> ReadVersion(Namespace ns, std::string_view key) const;
  // Applies every mutation atomically (all or nothing), in order; when `sync` is true the change,
  // and every earlier one, is durable (fsynced) before this returns OK. `mutations` may be empty
  // when only a sync is asked for. Committer thread only.
  virtual base::Status Apply(std::span<const Mutation> mutations, bool sync) = 0;

  // Learning versions from reads (PipelineOptions::learn_from_reads). A reader takes a ticket
  // before it reads (ns, key), then offers what it found. The committer takes the offer before
  // its next group, unless its cache has forgotten anything since the ticket (a failed write, or
  // the reset at the limit) or already knows the key (then it wrote the key since, and knows
  // better). At most 65 536 offers wait; more are dropped. Read does this itself.
  bool Learns(Namespace ns) const;
  uint64_t LearnTicket() const { return published_forgets_.load(std::memory_order_acquire); }
  void Learn(Namespace ns, std::string_view key, uint64_t version, uint64_t ticket) const;

 private:
  struct Offer {
    KeyPrint key;
    uint64_t version;
    uint64_t ticket;
  };

  // On the committer: moves the offers into the version cache, then publishes its forgets.
  void TakeOffers();

  const size_t version_cache_entries_;
  const uint32_t learn_from_reads_;
  // Versions of keys this backend wrote. Only the committer thread touches it.
  VersionCache version_cache_;
  // The logs as committed, by namespace; read the first time a log is appended to, and forgotten
  // (read again) after a failed write. Only the committer thread touches it.
  LogPositions logs_;
  // version_cache_.forgets() as of the last group: the learning tickets.
  std::atomic<uint64_t> published_forgets_{0};

  mutable base::Mutex offers_mu_;
  mutable std::vector<Offer> offers_ OTPD_GUARDED_BY(offers_mu_);
};

}  // namespace otpd::storage

#endif  // OTPD_STORAGE_LOCAL_BACKEND_H_
