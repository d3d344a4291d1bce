#include "service/importer.h"

#include <utility>

#include "base/constant_time.h"

namespace otpd::service {

using storage::Durability;
using storage::Namespace;

Importer::Importer(storage::Store& store, const storage::KeyRing& keys, const base::Clock& clock,
                   const InventoryOptions& inventory, ImportOptions options)
    : store_(store),
      keys_(keys),
      clock_(clock),
      inventory_(inventory),
      options_(std::move(options)) {
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

base::Status Importer::OnToken(tokenio::TokenRecord token) {
  const size_t failed_before = report_.failed;
  OTPD_RETURN_IF_ERROR(Stage(token));
  if (report_.failed == failed_before) {
    for (const std::string& w : token.warnings) {
      report_.warnings.push_back(tokenio::RowError{token.position, token.serial, w});
    }
  }
  if (pending_tokens_ >= options_.chunk_size) return Flush();
  return base::OkStatus();
}

base::Status Importer::ReserveMethod(const std::string& upn, int64_t now,
                                     storage::WriteBatch* batch) {
  if (!known_users_.contains(upn)) {
    OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> user, store_.Get(Namespace::kUsers, upn));
    if (!user) {
      batch->RequireVersion(Namespace::kUsers, upn, 0);
      batch->Put(Namespace::kUsers, upn,
                 EncodeUser(UserRecord{.upn = upn, .created = now, .updated = now}));
    }
    known_users_.insert(upn);
    OTPD_ASSIGN_OR_RETURN(method_counts_[upn], CountOathMethods(store_, upn));
  }
  uint32_t& count = method_counts_[upn];
  if (count >= inventory_.max_oath_methods_per_user) {
    return base::ResourceExhaustedError("user " + upn + " already has " + std::to_string(count) +
                                        " OATH methods (the limit is " +
                                        std::to_string(inventory_.max_oath_methods_per_user) + ")");
  }
  ++count;
  return base::OkStatus();
}

// Returns a non-OK status only when the import as a whole cannot go on (storage failure); a
// problem with this token is recorded as a failure row.
base::Status Importer::Stage(tokenio::TokenRecord& in) {
  const int64_t now = clock_.NowUnixSeconds();
  // This token's changes are gathered apart and joined to the chunk only if the row succeeds.
  storage::WriteBatch staged;
  in.upn = NormaliseUpn(in.upn);
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> existing_record,
                        store_.Get(Namespace::kTokens, in.serial));
  TokenRecord token;
  bool replacing = false;
  if (existing_record) {
    OTPD_ASSIGN_OR_RETURN(TokenRecord existing, DecodeToken(existing_record->value));
    auto seed = keys_.OpenSecret(Namespace::kTokens, existing.serial, existing.sealed_seed);
    if (!seed.ok()) return seed.status().WithContext("token " + existing.serial);
    const bool same = base::ConstantTimeEquals(seed->span(), in.seed.span()) &&
                      existing.params == in.params &&
                      (in.upn.empty() || in.upn == existing.assigned_to);
    if (same) {
      ++report_.unchanged;
      return base::OkStatus();
    }
    if (!options_.replace) {
      Fail(in, "serial already exists with a different seed, parameters or user (use --replace)");
      return base::OkStatus();
    }
    if (existing.status != TokenStatus::kAvailable && existing.assigned_to != in.upn) {
      Fail(in, "serial exists and is assigned to " + existing.assigned_to +
                   "; unassign it before replacing");
      return base::OkStatus();
    }
    token = std::move(existing);
    replacing = true;
    // A new seed makes the old watermark and drift meaningless: start over, inactive.
    if (token.status == TokenStatus::kActivated || token.status == TokenStatus::kFailedActivation) {
      token.status = TokenStatus::kAssigned;
    }
    staged.Delete(Namespace::kState, TokenStateKey(token.serial));
  } else {
    token.serial = in.serial;
    token.created = now;
  }
  staged.RequireVersion(Namespace::kTokens, in.serial,
                        existing_record ? existing_record->version : 0);

  token.manufacturer = in.manufacturer;
  token.model = in.model;
  token.params = in.params;
  token.initial_counter = in.counter;
  token.initial_drift = in.time_drift;
  token.not_after = in.not_after;
  token.batch = batch_record_.id;
  token.updated = now;
  token.activation_failures = 0;
  auto sealed = keys_.SealSecret(Namespace::kTokens, token.serial, in.seed.span());
  if (!sealed.ok()) return sealed.status();
  token.sealed_seed = std::move(*sealed);

  if (!in.upn.empty() && token.assigned_to != in.upn) {
    base::Status reserved = ReserveMethod(in.upn, now, &staged);
    if (!reserved.ok()) {
      if (!base::IsResourceExhausted(reserved)) return reserved;
      Fail(in, std::string(reserved.message()));
      return base::OkStatus();
    }
    MethodRecord method{
        .id = NewId(), .kind = MethodKind::kHardwareOath, .serial = token.serial, .created = now};
    staged.Put(Namespace::kMethods, MethodKey(in.upn, method.id), EncodeMethod(method));
    token.status = TokenStatus::kAssigned;
    token.assigned_to = in.upn;
    token.method_id = method.id;
  }
  staged.Put(Namespace::kTokens, token.serial, EncodeToken(token));
  for (const auto& c : staged.conditions()) pending_.RequireVersion(c.ns, c.key, c.version);
  for (const auto& op : staged.ops()) {
    if (op.kind == storage::WriteBatch::OpKind::kPut) {
      pending_.Put(op.ns, op.key, op.value);
    } else {
      pending_.Delete(op.ns, op.key);
    }
  }
  ++pending_tokens_;
  if (replacing) {
    ++report_.updated;
  } else {
    ++report_.imported;
  }
  return base::OkStatus();
}

base::Status Importer::Flush() {
  if (options_.dry_run || pending_.empty()) {
    pending_.Clear();
    pending_tokens_ = 0;
    return base::OkStatus();
  }
  if (!started_) {
    // The batch record goes in with the first chunk, so every stored token's batch exists.
    pending_.Put(Namespace::kMeta, BatchKey(batch_record_.id), EncodeBatch(batch_record_));
    started_ = true;
  }
  base::Status s = store_.Commit(std::move(pending_), Durability::kDurable);
  pending_ = storage::WriteBatch();
  pending_tokens_ = 0;
  if (base::IsAborted(s)) {
    return base::AbortedError("tokens changed while the import was running; run it again");
  }
  return s;
}

base::StatusOr<ImportReport> Importer::Finish() {
  OTPD_RETURN_IF_ERROR(Flush());
  if (options_.dry_run) return report_;
  batch_record_.imported = report_.imported;
  batch_record_.updated = report_.updated;
  batch_record_.unchanged = report_.unchanged;
  batch_record_.failed = report_.failed;
  batch_record_.complete = true;
  // Recorded even when nothing changed: a re-import that changed nothing still leaves a trace.
  storage::WriteBatch batch;
  batch.Put(Namespace::kMeta, BatchKey(batch_record_.id), EncodeBatch(batch_record_));
  AuditRecord audit;
  audit.time_micros = clock_.NowUnixMicros();
  audit.actor = options_.actor;
  audit.action = "import";
  audit.target = "batch/" + batch_record_.id;
  audit.result = "ok";
  audit.detail = "file " + batch_record_.file + ": " + std::to_string(report_.imported) +
                 " imported, " + std::to_string(report_.updated) + " updated, " +
                 std::to_string(report_.unchanged) + " unchanged, " +
                 std::to_string(report_.failed) + " failed";
  batch.Put(Namespace::kAudit, AuditKey(audit.time_micros), EncodeAudit(audit));
  OTPD_RETURN_IF_ERROR(store_.Commit(std::move(batch), Durability::kDurable));
  return report_;
}

}  // namespace otpd::service
