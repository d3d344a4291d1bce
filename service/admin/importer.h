// Importer takes the tokens a tokenio parser reads from a vendor's file and stores them in the
// inventory: new serials are added (sealed), serials already present with the same seed and
// parameters are left alone (so re-importing a file changes nothing), and a serial present with a
// different seed is a failure row unless `replace` is set. A upn in the file assigns the token to
// that user, creating the user if needed (under the user's fence, service/model/directory.h).
//
// A seed already stored under another serial (two tokens that would show the same codes) is a
// failure row unless `allow_duplicate_seeds` is set; an HOTP counter too large to advance is a
// failure row.
//
// An import is all or nothing as sign-ins and administrators see it, whatever its size. It runs
// in two stages:
//   1. storing: every new token is stored, in chunks (each chunk one atomic durable batch of the
//      store within storage::BatchLimits, so on etcd one transaction within the cluster's default
//      limits), marked as belonging to an import that is not complete (TokenRecord::importing):
//      no reader sees it. Rows that assign a token to a user or replace a stored token are checked
//      against the users and tokens as they are (a failure row otherwise) and kept for stage 2.
//   2. the batch record's `complete` flips in one commit (with the last chunk), and from that
//      commit on every new token is seen; then the kept rows are applied in chunks, each user's
//      change atomic (fenced), and the batch record's `assigning` clears.
// An import stopped in stage 1 (a failure, a node killed) leaves nothing seen; importing the same
// file again (same bytes) resumes its batch, and TokenInventory::DiscardBatch deletes it instead.
// Stopped in stage 2, the same file imported again applies the rows that were not applied yet.
// The batch record (file, hash, time, counts) goes in with every chunk, so its counts always
// equal what is stored; every token of the import references it.
//
// Not thread-safe: one Importer per import, fed by one parser.

#ifndef OTPD_SERVICE_ADMIN_IMPORTER_H_
#define OTPD_SERVICE_ADMIN_IMPORTER_H_

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/statusor.h"
#include "service/admin/inventory.h"
#include "service/admin/roles.h"
#include "service/internal/seed_state.h"
#include "service/internal/staged_change.h"
#include "service/model/directory.h"
#include "service/model/records.h"
#include "storage/keyring.h"
#include "storage/store.h"
#include "tokenio/token_record.h"

namespace otpd::service {

struct ImportOptions {
  // Validate everything and report, but write nothing. Default false.
  bool dry_run = false;
  // Overwrite the seed and parameters of serials that exist with different ones (only while the
  // token is available or assigned to the same user). Default false: such rows fail.
  bool replace = false;
  // Import a seed that is already stored under another serial (with a warning). Default false:
  // such rows fail.
  bool allow_duplicate_seeds = false;
  // Provenance, recorded in the batch record.
  std::string file_name;
  std::string file_sha256;
  std::string format;
  // Who imports: the inventory role is needed, and for rows that assign a token, the right to
  // manage that user's methods (such a row fails otherwise). Default: the owner, as otpctl.
  Principal principal = Principal::Owner("otpctl");
  // Create the users a row assigns a token to when they do not exist. Default true: a token file
  // (Entra CSV, PSKC) names the users its tokens go to, and the report counts the users it
  // created. The admin API's device bodies set it false: a device assigned to an unknown user
  // fails its row, as a method added to one does.
  bool create_users = true;
  // Tokens per atomic commit. Default 1000.
  size_t chunk_size = 1000;
};

struct ImportReport {
  std::string batch_id;
  uint64_t imported = 0;       // new tokens
  uint64_t updated = 0;        // existing serials replaced (--replace)
  uint64_t unchanged = 0;      // already present, identical
  uint64_t failed = 0;         // rows rejected by the parser or here
  uint64_t users_created = 0;  // users that did not exist and now hold a token of this file
  bool resumed = false;        // an earlier import of the same file had stopped; this finished it
  std::vector<tokenio::RowError> failures;
  std::vector<tokenio::RowError> warnings;  // accepted rows with a warning (e.g. short seed)
};

class Importer : public tokenio::TokenSink {
 public:
  // `store`, `keys` and `clock` must outlive the importer; `invalidator` (may be null) is told
  // about every user and replaced token once its chunk is committed.
  Importer(storage::Store& store, const storage::KeyRing& keys, const base::Clock& clock,
           const InventoryOptions& inventory, ImportOptions options,
           CacheInvalidator* invalidator = nullptr);

  // PermissionDenied (the whole import stops) when the principal may not manage the inventory.
  base::Status OnToken(tokenio::TokenRecord token) override;
  void OnError(tokenio::RowError error) override;

  // Completes the batch (its new tokens are seen from then on), then applies the rows that assign
  // or replace tokens. Call once, after the parser returned OK. On error, chunks committed before
  // stay committed, unseen until the import is run again.
  base::StatusOr<ImportReport> Finish();

 private:
  enum class Stage { kStoring, kApplying };
  // What one row will change, before it joins the chunk.
  struct Staged {
    storage::WriteBatch batch;
    TokenRecord token;        // as it will be stored
    std::string fingerprint;  // of the new seed; indexed when the row commits ("" = seed kept)
    bool replacing = false;
    bool assign_only = false;     // a token stored by this batch, now assigned to the row's user
    bool same_seed = false;       // a replaced token keeps its seed
    std::string old_fingerprint;  // of the seed this row takes off the serial, if any
    std::string other_serial;     // another serial holding the same seed (duplicates allowed)
  };
  // A row kept for stage 2, and whether the report counted it as an update.
  struct Deferred {
    tokenio::TokenRecord row;
    bool counted_update = false;
  };

  // Finds the batch of an earlier import of the same file that stopped, to resume it. Once.
  base::Status Begin();
  // One row: CheckRow, StageToken, StageUser, then Join (stage 2's rows, or stage 1's new
  // tokens). True when the row is kept for stage 2.
  base::StatusOr<bool> StageRow(tokenio::TokenRecord& token);
  // Stage 2: applies the rows kept.
  base::Status ApplyDeferred();
  // False (a failure row) when the row's upn, free text or counter cannot be stored.
  bool CheckRow(tokenio::TokenRecord& in);
  // The token record the row stores: a new one, or the stored one it replaces (StageReplace) or
  // assigns (StageOwn), with the file's seed and parameters. False when the row ends here.
  base::StatusOr<bool> StageToken(const tokenio::TokenRecord& in, Staged& row, int64_t now);
  // Takes the stored token `old` into `row` when it may be replaced (--replace, its owner, the
  // principal's right); false when the row ends here (unchanged, or a failure row).
  base::StatusOr<bool> StageReplace(const tokenio::TokenRecord& in, TokenRecord& old, Staged& row,
                                    int64_t now);
  // A token this batch stored already (an earlier run of the same file, or stage 1): false when
  // there is nothing left to do, true when the row assigns it.
  base::StatusOr<bool> StageOwn(const tokenio::TokenRecord& in, TokenRecord& old, Staged& row);
  // The row's users: a replaced token's owner joins the chunk's changes; a upn naming someone
  // else assigns the token to them, with its outbox event. False for a failure row.
  base::StatusOr<bool> StageUser(const tokenio::TokenRecord& in, Staged& row, int64_t now);
  // Joins a row that passed every check to the chunk, with its seed states and audit record.
  base::Status Join(Staged& row);
  // Checks the seed against those already stored or staged; a failure row when it is stored
  // under another serial (and duplicates are not allowed).
  // `other` is set to the serial that holds the seed already, if any.
  base::StatusOr<bool> CheckSeed(const tokenio::TokenRecord& in, const std::string& fingerprint,
                                 std::string* other);
  // False (a failure row, and a refusal in the audit log under the token) when the principal may
  // not replace `old`: a token assigned to a user takes the right to manage that user's methods.
  base::StatusOr<bool> AuthorizeReplace(const tokenio::TokenRecord& in, const TokenRecord& old,
                                        int64_t now);
  // Stages the seed index entry and the sign-in states of a row that passed every check: the old
  // seed's state retired (row.old_fingerprint, "" = the seed stays), the new seed's resumed.
  base::Status StageSeedState(Staged& row);
  base::Status Flush();
  // Whether one more row fits the chunk within the store's batch limits (etcd's transaction).
  bool RoomForAnotherRow() const;
  // The users a row changes: in stage 1 only checked (never committed), in stage 2 the chunk's.
  internal::StagedUsers& Users() { return stage_ == Stage::kStoring ? planned_ : users_; }
  void Fail(const tokenio::TokenRecord& token, std::string reason);

  storage::Store& store_;
  const storage::KeyRing& keys_;
  const Directory directory_;
  internal::SeedStates seed_states_;
  const base::Clock& clock_;
  const InventoryOptions inventory_;
  const ImportOptions options_;
  ImportReport report_;
  BatchRecord batch_record_;
  storage::WriteBatch pending_;
  size_t pending_tokens_ = 0;
  // Counts of the rows in `pending_`, added to batch_record_ when it commits.
  uint64_t pending_imported_ = 0, pending_updated_ = 0;
  // The users this chunk changes, fenced when it commits.
  internal::StagedUsers users_;
  // Tokens replaced in this chunk (their owners are among users_).
  std::vector<std::string> replaced_;
  CacheInvalidator* const invalidator_;
  // Seeds (by fingerprint) of the rows staged in this import, and their serials.
  std::unordered_map<std::string, std::string> seeds_;
  Stage stage_ = Stage::kStoring;
  bool begun_ = false;
  bool batch_stored_ = false;  // the batch record is in the store (a chunk, or an earlier run)
  // Stage 1's users: every row's assignment checked against them, so that limits add up.
  internal::StagedUsers planned_;
  std::vector<Deferred> deferred_;
};

}  // namespace otpd::service

#endif  // OTPD_SERVICE_ADMIN_IMPORTER_H_
