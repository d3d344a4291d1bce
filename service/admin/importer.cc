#include "service/admin/importer.h"

#include <utility>

#include "base/constant_time.h"
#include "service/admin/audit.h"
#include "service/hooks/outbox.h"
#include "service/internal/staged_change.h"
#include "service/model/text_checks.h"

namespace otpd::service {

using storage::Durability;
using storage::Namespace;

namespace {

// An HOTP counter at or beyond this cannot be trusted to advance: no real token counts that far,
// and the top of the range is where arithmetic would wrap.
constexpr uint64_t kMaxHotpCounter = (uint64_t{1} << 63) - 1;

}  // namespace

Importer::Importer(storage::Store& store, const storage::KeyRing& keys, const base::Clock& clock,
                   const InventoryOptions& inventory, ImportOptions options,
                   CacheInvalidator* invalidator)
    : store_(store),
      keys_(keys),
      directory_(store, keys),
      seed_states_(directory_),
      clock_(clock),
      inventory_(inventory),
      options_(std::move(options)),
      users_(directory_, options_.create_users),
      invalidator_(invalidator),
      planned_(directory_, options_.create_users) {
  batch_record_.id = NewId();
  batch_record_.file = options_.file_name;
  batch_record_.sha256 = options_.file_sha256;
  batch_record_.format = options_.format;
  batch_record_.time = clock_.NowUnixSeconds();
  report_.batch_id = batch_record_.id;
}

void Importer::OnError(tokenio::RowError error) {
  ++report_.failed;
  report_.failures.push_back(std::move(error));
}

void Importer::Fail(const tokenio::TokenRecord& token, std::string reason) {
  OnError(tokenio::RowError{token.position, token.serial, std::move(reason)});
}

base::Status Importer::Begin() {
  if (begun_) return base::OkStatus();
  begun_ = true;
  if (options_.file_sha256.empty()) return base::OkStatus();
  // The same bytes imported before, by a run that stopped: this run is its continuation.
  std::optional<BatchRecord> stopped;
  OTPD_RETURN_IF_ERROR(store_.Scan(
      Namespace::kMeta, kBatchPrefix,
      [&](std::string_view, const storage::Record& record) -> base::StatusOr<bool> {
        OTPD_ASSIGN_OR_RETURN(BatchRecord batch, DecodeBatch(record.value));
        if (batch.sha256 == options_.file_sha256 && (!batch.complete || batch.assigning) &&
            (!stopped || batch.time > stopped->time)) {
          stopped = std::move(batch);
        }
        return true;
      }));
  if (!stopped) return base::OkStatus();
  batch_record_ = std::move(*stopped);
  report_.batch_id = batch_record_.id;
  report_.resumed = true;
  batch_stored_ = true;
  return base::OkStatus();
}

base::Status Importer::OnToken(tokenio::TokenRecord token) {
  OTPD_RETURN_IF_ERROR(Authorize(options_.principal, Permission::kManageInventory));
  OTPD_RETURN_IF_ERROR(Begin());
  // The chunk commits before a row that could make it larger than one batch of the store.
  if (pending_tokens_ > 0 && !RoomForAnotherRow()) OTPD_RETURN_IF_ERROR(Flush());
  const size_t failed_before = report_.failed;
  const uint64_t updated_before = report_.updated;
  OTPD_ASSIGN_OR_RETURN(bool keep, StageRow(token));
  if (report_.failed == failed_before) {
    for (const std::string& w : token.warnings) {
      report_.warnings.push_back(tokenio::RowError{token.position, token.serial, w});
    }
  }
  if (keep) {
    deferred_.push_back(
        Deferred{.row = std::move(token), .counted_update = report_.updated > updated_before});
  }
  if (pending_tokens_ >= options_.chunk_size) return Flush();
  return base::OkStatus();
}

bool Importer::RoomForAnotherRow() const {
  // What one row can add at the most: its token, seed index entry and sign-in states (an old
  // seed's retired), an audit record, the user it is assigned to (fenced and rewritten), that
  // user's method and event, and the previous owner's when a token is replaced. Counted
  // generously: a change and the condition on the same key count twice.
  constexpr size_t kRowKeys = 24;
  constexpr size_t kRowBytes = 64 << 10;
  // The chunk's own: its batch record, the outbox's counter, a user fence and record each.
  constexpr size_t kChunkKeys = 4;
  const storage::BatchLimits limits = store_.batch_limits();
  const size_t keys = pending_.size() + 2 * users_.size() + kChunkKeys + kRowKeys;
  const size_t bytes = pending_.ApproximateBytes() + kRowBytes;
  return keys <= limits.max_keys && bytes <= limits.max_bytes;
}

base::StatusOr<bool> Importer::CheckSeed(const tokenio::TokenRecord& in,
                                         const std::string& fingerprint, std::string* other) {
  if (auto staged = seeds_.find(fingerprint); staged != seeds_.end()) {
    *other = staged->second;
  } else {
    OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> entry,
                          store_.Get(Namespace::kMeta, SeedIndexKey(fingerprint)));
    if (entry) *other = entry->value;
  }
  if (other->empty() || *other == in.serial) return true;
  if (options_.allow_duplicate_seeds) {
    // Said once, when the row is first read.
    if (stage_ == Stage::kApplying) return true;
    report_.warnings.push_back(tokenio::RowError{
        in.position, in.serial, "the same seed is also stored under serial " + *other});
    return true;
  }
  Fail(in, "the same seed is already stored under serial " + *other +
               " (two tokens would show the same codes; use --allow-duplicate-seeds to import "
               "it anyway)");
  return false;
}

base::StatusOr<bool> Importer::AuthorizeReplace(const tokenio::TokenRecord& in,
                                                const TokenRecord& old, int64_t now) {
  if (old.assigned_to.empty()) return true;
  // Replacing the token of a user changes what that user signs in with: it takes the right to
  // manage that user's methods, whatever door the file came through.
  OTPD_ASSIGN_OR_RETURN(UserChange * change, Users().Of(old.assigned_to, now));
  base::Status allowed =
      AuthorizeChange(directory_, options_.principal, Permission::kManageUserMethods, change->user);
  if (allowed.ok()) return true;
  if (!options_.dry_run) {
    AuditRecord audit =
        MakeAudit(clock_, options_.principal, "token.replace", "token/" + old.serial);
    audit.detail = "user " + old.assigned_to + ", batch " + batch_record_.id;
    static_cast<void>(RecordRefusal(store_, std::move(audit), allowed));
  }
  Fail(in, std::string(allowed.message()));
  return false;
}

// Returns a non-OK status only when the import as a whole cannot go on (storage failure); a
// problem with this token is recorded as a failure row. Each step returns false when the row
// ends there (a failure row, or a token already stored as it is).
base::StatusOr<bool> Importer::StageRow(tokenio::TokenRecord& in) {
  const int64_t now = clock_.NowUnixSeconds();
  if (!CheckRow(in)) return false;
  // This token's changes are gathered apart and joined to the chunk only if the row succeeds.
  Staged row;
  OTPD_ASSIGN_OR_RETURN(bool go_on, StageToken(in, row, now));
  if (!go_on) return false;
  const bool changes_users = row.replacing || row.assign_only || !in.upn.empty();
  if (stage_ == Stage::kApplying || !changes_users) {
    OTPD_ASSIGN_OR_RETURN(go_on, StageUser(in, row, now));
    if (!go_on) return false;
    OTPD_RETURN_IF_ERROR(Join(row));
    return false;
  }
  // A row that changes users is checked now, against the users as they are and the rows before
  // it, and applied once the batch is complete: what a user signs in with never refers to a
  // token nobody sees.
  Staged check;
  check.token = row.token;
  OTPD_ASSIGN_OR_RETURN(go_on, StageUser(in, check, now));
  if (!go_on) return false;
  if (row.replacing) {
    ++report_.updated;
    return true;
  }
  if (!row.assign_only) OTPD_RETURN_IF_ERROR(Join(row));  // the new token, unassigned for now
  return true;
}

base::Status Importer::ApplyDeferred() {
  stage_ = Stage::kApplying;
  std::vector<Deferred> rows = std::move(deferred_);
  deferred_.clear();
  for (Deferred& d : rows) {
    if (pending_tokens_ > 0 && !RoomForAnotherRow()) OTPD_RETURN_IF_ERROR(Flush());
    const size_t joined_before = pending_tokens_;
    OTPD_RETURN_IF_ERROR(StageRow(d.row).status());
    // A replacement that is refused or no longer needed now (the token changed meanwhile) is not
    // an update after all.
    if (d.counted_update && pending_tokens_ == joined_before) --report_.updated;
    if (pending_tokens_ >= options_.chunk_size) OTPD_RETURN_IF_ERROR(Flush());
  }
  return Flush();
}

bool Importer::CheckRow(tokenio::TokenRecord& in) {
  if (!in.upn.empty()) {
    auto upn = CheckUpn(in.upn);
    if (!upn.ok()) {
      Fail(in, std::string(upn.status().message()));
      return false;
    }
    in.upn = std::move(*upn);
  }
  for (const auto& [field, text] :
       {std::pair<std::string_view, std::string_view>{"manufacturer", in.manufacturer},
        {"model", in.model}}) {
    if (base::Status clean = CheckFreeText(field, text); !clean.ok()) {
      Fail(in, std::string(clean.message()));
      return false;
    }
  }
  if (in.params.type == engine::OtpType::kHotp && in.counter > kMaxHotpCounter) {
    Fail(in, "HOTP counter is beyond 2^63-1; a token this far along cannot be trusted to advance");
    return false;
  }
  return true;
}

base::StatusOr<bool> Importer::StageToken(const tokenio::TokenRecord& in, Staged& row,
                                          int64_t now) {
  OTPD_ASSIGN_OR_RETURN(std::string fingerprint,
                        keys_.Fingerprint(kSeedFingerprintPurpose, in.seed.span()));
  OTPD_ASSIGN_OR_RETURN(std::optional<Versioned<TokenRecord>> existing,
                        directory_.GetStoredToken(in.serial));
  if (existing && existing->record.batch == batch_record_.id) {
    OTPD_ASSIGN_OR_RETURN(bool go_on, StageOwn(in, existing->record, row));
    if (!go_on) return false;
  } else if (existing) {
    OTPD_ASSIGN_OR_RETURN(bool seen, directory_.Seen(existing->record));
    if (!seen) {
      Fail(in, "serial is held by import batch " + existing->record.batch +
                   ", which has not completed: import that batch's file again to finish it, or "
                   "discard the batch");
      return false;
    }
    OTPD_ASSIGN_OR_RETURN(bool go_on, StageReplace(in, existing->record, row, now));
    if (!go_on) return false;
  } else {
    // Seen once the batch is complete.
    row.token.importing = true;
    row.token.serial = in.serial;
    row.token.created = now;
  }
  if (!row.same_seed) {
    OTPD_ASSIGN_OR_RETURN(bool unique, CheckSeed(in, fingerprint, &row.other_serial));
    if (!unique) return false;
    row.fingerprint = fingerprint;
  }
  row.batch.RequireVersion(Namespace::kTokens, in.serial, existing ? existing->version : 0);

  TokenRecord& token = row.token;
  token.manufacturer = in.manufacturer;
  token.model = in.model;
  token.display_name = in.display_name;
  token.params = in.params;
  token.initial_counter = in.counter;
  token.initial_drift = in.time_drift;
  token.not_after = in.not_after;
  token.batch = batch_record_.id;
  token.updated = now;
  token.activation_failures = 0;
  OTPD_ASSIGN_OR_RETURN(token.sealed_seed,
                        keys_.SealSecret(Namespace::kTokens, token.serial, in.seed.span()));
  return true;
}

base::StatusOr<bool> Importer::StageReplace(const tokenio::TokenRecord& in, TokenRecord& old,
                                            Staged& row, int64_t now) {
  auto seed = keys_.OpenSecret(Namespace::kTokens, old.serial, old.sealed_seed);
  if (!seed.ok()) return seed.status().WithContext("token " + old.serial);
  row.same_seed = base::ConstantTimeEquals(seed->span(), in.seed.span());
  if (row.same_seed && old.params == in.params && (in.upn.empty() || in.upn == old.assigned_to)) {
    ++report_.unchanged;
    return false;
  }
  if (!options_.replace) {
    Fail(in, "serial already exists with a different seed, parameters or user (use --replace)");
    return false;
  }
  if (old.status != TokenStatus::kAvailable && old.assigned_to != in.upn) {
    Fail(in,
         "serial exists and is assigned to " + old.assigned_to + "; unassign it before replacing");
    return false;
  }
  OTPD_ASSIGN_OR_RETURN(bool allowed, AuthorizeReplace(in, old, now));
  if (!allowed) return false;
  row.token = std::move(old);
  row.replacing = true;
  if (!row.same_seed) {
    // The old seed leaves this serial: its index entry goes, its state is kept under it.
    OTPD_ASSIGN_OR_RETURN(row.old_fingerprint, UnindexSeed(directory_, row.batch, row.token));
  }
  if (row.token.status == TokenStatus::kActivated ||
      row.token.status == TokenStatus::kFailedActivation) {
    row.token.status = TokenStatus::kAssigned;  // a changed token starts over, inactive
  }
  return true;
}

base::StatusOr<bool> Importer::StageOwn(const tokenio::TokenRecord& in, TokenRecord& old,
                                        Staged& row) {
  auto seed = keys_.OpenSecret(Namespace::kTokens, old.serial, old.sealed_seed);
  if (!seed.ok()) return seed.status().WithContext("token " + old.serial);
  if (!base::ConstantTimeEquals(seed->span(), in.seed.span()) || !(old.params == in.params)) {
    Fail(in,
         "an earlier run of this import stored the serial with another seed or parameters; "
         "discard batch " +
             batch_record_.id + " to import the file again");
    return false;
  }
  if (stage_ == Stage::kStoring) ++report_.imported;  // stored by an earlier run
  if (in.upn.empty() || !old.assigned_to.empty()) return false;
  row.token = std::move(old);
  row.token.importing = false;  // applied after the batch completed: seen for good
  row.same_seed = true;
  row.assign_only = true;
  return true;
}

base::StatusOr<bool> Importer::StageUser(const tokenio::TokenRecord& in, Staged& row, int64_t now) {
  TokenRecord& token = row.token;
  if (!token.assigned_to.empty()) {
    // Replacing the token of a user changes what that user signs in with.
    OTPD_RETURN_IF_ERROR(Users().Of(token.assigned_to, now).status());
  }
  if (in.upn.empty() || token.assigned_to == in.upn) return true;
  auto begun = Users().Of(in.upn, now);
  if (base::IsNotFound(begun.status())) {
    Fail(in, "no user " + in.upn + " exists; create the user before assigning a token to it");
    return false;
  }
  OTPD_ASSIGN_OR_RETURN(UserChange * change, std::move(begun));
  if (base::Status allowed = AuthorizeChange(directory_, options_.principal,
                                             Permission::kManageUserMethods, change->user);
      !allowed.ok()) {
    Fail(in, std::string(allowed.message()));
    return false;
  }
  UserChange before = *change;
  base::Status assigned = StageAssignment(directory_, row.batch, *change, token, now,
                                          inventory_.max_oath_methods_per_user);
  if (!assigned.ok()) {
    *change = std::move(before);
    if (!base::IsResourceExhausted(assigned)) return assigned;
    Fail(in, std::string(assigned.message()));
    return false;
  }
  // The assignment is the user's new method: its event goes in the same batch.
  OTPD_RETURN_IF_ERROR(AddEvent(row.batch, clock_, events::kMethodAdded, in.upn,
                                EventData()
                                    .Str("serial", token.serial)
                                    .Str("method_id", token.method_id)
                                    .Str("id", token.method_id)
                                    .Str("kind", MethodKindName(MethodKind::kHardwareOath))
                                    .Str("by", options_.principal.actor)));
  return true;
}

base::Status Importer::Join(Staged& row) {
  const TokenRecord& token = row.token;
  OTPD_RETURN_IF_ERROR(directory_.PutToken(row.batch, token));
  // Nothing below fails the row: what the seed states stage joins the chunk.
  OTPD_RETURN_IF_ERROR(StageSeedState(row));
  if (row.replacing) {
    AuditRecord audit =
        MakeAudit(clock_, options_.principal, "token.replace", "token/" + token.serial);
    audit.detail =
        std::string(row.same_seed ? "parameters" : "seed") + " replaced, batch " + batch_record_.id;
    if (!token.assigned_to.empty()) audit.detail += ", user " + token.assigned_to;
    AddAudit(row.batch, audit);
  }
  pending_.Append(std::move(row.batch));
  ++pending_tokens_;
  if (row.replacing) {
    replaced_.push_back(token.serial);
    ++pending_updated_;  // the report counted it when the row was read
  } else if (!row.assign_only) {
    ++report_.imported;
    ++pending_imported_;
  }
  return base::OkStatus();
}

base::Status Importer::StageSeedState(Staged& row) {
  const TokenRecord& token = row.token;
  if (!row.old_fingerprint.empty()) {
    OTPD_RETURN_IF_ERROR(seed_states_.Retire(row.batch, token.serial, row.old_fingerprint));
  }
  if (row.fingerprint.empty()) return base::OkStatus();
  // The first serial keeps the index entry when duplicates are allowed.
  auto [it, inserted] = seeds_.emplace(row.fingerprint, token.serial);
  // CheckSeed read the index entry: other_serial is what it holds ("" = none yet).
  if (inserted && row.other_serial.empty()) {
    row.batch.RequireVersion(Namespace::kMeta, SeedIndexKey(row.fingerprint), 0);
    row.batch.Put(Namespace::kMeta, SeedIndexKey(row.fingerprint), token.serial);
  }
  // A seed stored before comes back with the watermark it reached (internal/seed_state.h).
  return seed_states_
      .Resume(row.batch, token.serial, row.fingerprint, InitialState(token), row.other_serial)
      .status();
}

base::Status Importer::Flush() {
  if (options_.dry_run || (pending_.empty() && users_.empty())) {
    pending_.Clear();
    seed_states_.Clear();
    users_.Clear();
    replaced_.clear();
    pending_tokens_ = pending_imported_ = pending_updated_ = 0;
    return base::OkStatus();
  }
  // The batch record goes in with every chunk, with the counts as they will be once the chunk is
  // in, so that every stored token's batch exists and its counts are what is stored.
  BatchRecord record = batch_record_;
  record.imported += pending_imported_;
  record.updated += pending_updated_;
  record.unchanged = report_.unchanged;
  record.failed = report_.failed;
  pending_.Put(Namespace::kMeta, BatchKey(record.id), EncodeBatch(record));
  // Every user the chunk changes is fenced: the chunk is a change to each of them.
  base::StatusOr<uint64_t> created = users_.Commit(
      std::move(pending_), clock_.NowUnixSeconds(), replaced_,
      "tokens or users changed while the import was running; run it again", invalidator_);
  pending_ = storage::WriteBatch();
  seed_states_.Clear();
  replaced_.clear();
  pending_tokens_ = pending_imported_ = pending_updated_ = 0;
  OTPD_RETURN_IF_ERROR(created.status());
  report_.users_created += *created;
  batch_record_ = std::move(record);
  batch_stored_ = true;
  return base::OkStatus();
}

base::StatusOr<ImportReport> Importer::Finish() {
  OTPD_RETURN_IF_ERROR(Begin());
  if (options_.dry_run) {
    OTPD_RETURN_IF_ERROR(Flush());
    return report_;
  }
  // The last chunk completes the batch: from its commit on, every new token is seen.
  batch_record_.complete = true;
  batch_record_.assigning = !deferred_.empty();
  const bool flushing = !pending_.empty();
  OTPD_RETURN_IF_ERROR(Flush());
  if (!flushing && (batch_stored_ || !deferred_.empty())) {
    storage::WriteBatch flip;
    flip.Put(Namespace::kMeta, BatchKey(batch_record_.id), EncodeBatch(batch_record_));
    OTPD_RETURN_IF_ERROR(store_.Commit(std::move(flip), Durability::kDurable));
    batch_stored_ = true;
  }
  OTPD_RETURN_IF_ERROR(ApplyDeferred());
  batch_record_.assigning = false;
  batch_record_.unchanged = report_.unchanged;
  batch_record_.failed = report_.failed;
  // A batch is what an import stored: one that stored nothing (every token already there, or
  // every row refused) records none, and leaves its trace in the audit log alone.
  const bool stored = report_.imported + report_.updated > 0;
  storage::WriteBatch batch;
  if (batch_stored_ && stored) {
    batch.Put(Namespace::kMeta, BatchKey(batch_record_.id), EncodeBatch(batch_record_));
  } else if (batch_stored_) {
    batch.Delete(Namespace::kMeta, BatchKey(batch_record_.id));
  }
  AuditRecord audit =
      MakeAudit(clock_, options_.principal, "batch.import",
                stored ? "batch/" + batch_record_.id : "file/" + batch_record_.file);
  audit.detail = "file " + batch_record_.file + ": " + std::to_string(report_.imported) +
                 " imported, " + std::to_string(report_.updated) + " updated, " +
                 std::to_string(report_.unchanged) + " unchanged, " +
                 std::to_string(report_.failed) + " failed";
  if (report_.resumed) audit.detail += " (an earlier run of the same file finished)";
  AddAudit(batch, audit);
  OTPD_RETURN_IF_ERROR(store_.Commit(std::move(batch), Durability::kDurable));
  return report_;
}

}  // namespace otpd::service
