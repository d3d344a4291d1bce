#include "service/admin/inventory.h"

#include <algorithm>
#include <utility>

#include "base/seal.h"
#include "service/admin/audit.h"
#include "service/hooks/outbox.h"
#include "service/internal/seed_state.h"
#include "service/internal/staged_change.h"
#include "tokenio/upn.h"

namespace otpd::service {

using internal::StagedChange;
using storage::Durability;
using storage::Namespace;
using storage::WriteBatch;

std::string ActivationRefusal(std::string_view serial, const ActivationResult& result) {
  const std::string so_far =
      " (" + std::to_string(result.failures) + " refused activation codes so far)";
  switch (result.outcome) {
    case ActivationOutcome::kActivated:
      return "";
    case ActivationOutcome::kCodeUsed:
      return "the code is right for token " + std::string(serial) +
             " but was already used (or is older than one used); enter the next code it shows" +
             so_far;
    case ActivationOutcome::kMalformedCode:
      return "the code must be the token's digits only" + so_far;
    case ActivationOutcome::kWrongCode:
      break;
  }
  return "the code is not right for token " + std::string(serial) + so_far;
}

base::StatusOr<engine::Credential> OpenCredential(const storage::KeyRing& keys,
                                                  const TokenRecord& token) {
  auto seed = keys.OpenSecret(Namespace::kTokens, token.serial, token.sealed_seed);
  if (!seed.ok()) return seed.status().WithContext("token " + token.serial);
  return engine::Credential::Create(token.params, seed->span());
}

base::StatusOr<std::string> CheckUpn(std::string_view upn) { return tokenio::NormaliseUpn(upn); }

base::Status StageAssignment(const Directory& directory, WriteBatch& batch, UserChange& change,
                             TokenRecord& token, int64_t now, uint32_t max_oath_methods) {
  MethodRecord method{
      .id = NewId(), .created = now, .payload = HardwareOathPayload{.serial = token.serial}};
  OTPD_RETURN_IF_ERROR(directory.AddMethod(batch, change, method, max_oath_methods));
  token.status = TokenStatus::kAssigned;
  token.assigned_to = change.user.upn;
  token.method_id = method.id;
  token.activation_failures = 0;
  token.updated = now;
  return base::OkStatus();
}

CredentialState InitialState(const TokenRecord& token) {
  CredentialState s;
  if (token.params.type == engine::OtpType::kHotp) {
    s.token.watermark = token.initial_counter;
  } else {
    s.token.drift = token.initial_drift;
  }
  return s;
}

base::StatusOr<CredentialState> LoadCredentialState(const storage::Store& store,
                                                    const TokenRecord& token, uint64_t* version) {
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> record,
                        store.Get(Namespace::kState, TokenStateKey(token.serial)));
  if (version != nullptr) *version = record ? record->version : 0;
  if (!record) return InitialState(token);
  return DecodeCredentialState(record->value);
}

base::StatusOr<uint32_t> CountOathMethods(const Directory& directory, std::string_view upn) {
  OTPD_ASSIGN_OR_RETURN(auto methods, directory.ReadMethods(upn));
  uint32_t count = 0;
  for (const auto& m : methods) {
    if (!m.ok() || IsOathKind(m->kind())) ++count;
  }
  return count;
}

base::StatusOr<std::string> UnindexSeed(const Directory& directory, WriteBatch& batch,
                                        const TokenRecord& token) {
  OTPD_ASSIGN_OR_RETURN(
      base::SecretBytes seed,
      directory.keys().OpenSecret(Namespace::kTokens, token.serial, token.sealed_seed));
  OTPD_ASSIGN_OR_RETURN(std::string fp,
                        directory.keys().Fingerprint(kSeedFingerprintPurpose, seed.span()));
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> entry,
                        directory.store().Get(Namespace::kMeta, SeedIndexKey(fp)));
  if (entry && entry->value == token.serial) batch.Delete(Namespace::kMeta, SeedIndexKey(fp));
  return fp;
}

base::Status ResealTokenSeeds(storage::KeyRing& keys, size_t batch_size,
                              storage::ResealStats* stats) {
  auto rewrite = [](std::string_view key, std::string_view value,
                    storage::KeyRing& ring) -> base::StatusOr<std::optional<std::string>> {
    OTPD_ASSIGN_OR_RETURN(std::string_view payload,
                          ring.OpenRecord(Namespace::kTokens, key, value));
    OTPD_ASSIGN_OR_RETURN(TokenRecord token, DecodeToken(payload));
    auto version = base::SealedKeyVersion(token.sealed_seed);
    if (version.ok() && *version == ring.current_version()) return std::optional<std::string>();
    OTPD_ASSIGN_OR_RETURN(base::SecretBytes seed,
                          ring.OpenSecret(Namespace::kTokens, key, token.sealed_seed));
    OTPD_ASSIGN_OR_RETURN(token.sealed_seed, ring.SealSecret(Namespace::kTokens, key, seed.span()));
    OTPD_ASSIGN_OR_RETURN(std::string signed_record,
                          ring.SignRecord(Namespace::kTokens, key, EncodeToken(token)));
    return std::optional<std::string>(std::move(signed_record));
  };
  return keys.ResealAll(Namespace::kTokens, rewrite, batch_size, stats);
}

TokenInventory::TokenInventory(storage::Store& store, const storage::KeyRing& keys,
                               const base::Clock& clock, InventoryOptions options,
                               CacheInvalidator* invalidator)
    : store_(store),
      keys_(keys),
      directory_(store, keys),
      clock_(clock),
      options_(std::move(options)),
      invalidator_(invalidator) {}

base::StatusOr<TokenInventory::Loaded> TokenInventory::Load(std::string_view serial) const {
  OTPD_ASSIGN_OR_RETURN(std::optional<Loaded> token, directory_.GetToken(serial));
  if (!token) return base::NotFoundError("no token with serial " + std::string(serial));
  return std::move(*token);
}

base::StatusOr<TokenRecord> TokenInventory::Get(std::string_view serial) const {
  OTPD_ASSIGN_OR_RETURN(Loaded loaded, Load(serial));
  return std::move(loaded.record);
}

base::Status TokenInventory::List(const TokenFilter& filter,
                                  const std::function<bool(const TokenRecord&)>& fn) const {
  const std::string user = NormaliseUpn(filter.user);
  const std::string start = filter.after.empty() ? "" : filter.after + std::string(1, '\0');
  return store_.ScanFrom(
      Namespace::kTokens, "", start,
      [&](std::string_view key, const storage::Record& record) -> base::StatusOr<bool> {
        OTPD_ASSIGN_OR_RETURN(TokenRecord token, directory_.DecodeTokenAt(key, record.value));
        OTPD_ASSIGN_OR_RETURN(bool seen, directory_.Seen(token));
        if (!seen) return true;
        if (filter.status && token.status != *filter.status) return true;
        if (!user.empty() && token.assigned_to != user) return true;
        if (!filter.batch.empty() && token.batch != filter.batch) return true;
        return fn(token);
      });
}

base::StatusOr<TokenRecord> TokenInventory::Get(const Principal& by,
                                                std::string_view serial) const {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kRead));
  return Get(serial);
}

base::Status TokenInventory::List(const Principal& by, const TokenFilter& filter,
                                  const std::function<bool(const TokenRecord&)>& fn) const {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kRead));
  return List(filter, fn);
}

base::Status TokenInventory::ListBatches(const std::function<bool(const BatchRecord&)>& fn) const {
  return store_.Scan(Namespace::kMeta, kBatchPrefix,
                     [&](std::string_view, const storage::Record& record) -> base::StatusOr<bool> {
                       OTPD_ASSIGN_OR_RETURN(BatchRecord batch, DecodeBatch(record.value));
                       return fn(batch);
                     });
}

base::Status TokenInventory::ListBatches(const Principal& by,
                                         const std::function<bool(const BatchRecord&)>& fn) const {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kRead));
  return ListBatches(fn);
}

base::StatusOr<uint64_t> TokenInventory::DiscardBatch(std::string_view id, const Principal& by) {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kManageInventory));
  const std::string key = BatchKey(id);
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> stored, store_.Get(Namespace::kMeta, key));
  if (stored) {
    OTPD_ASSIGN_OR_RETURN(BatchRecord batch, DecodeBatch(stored->value));
    if (batch.complete) {
      return base::FailedPreconditionError(
          "batch " + std::string(id) +
          " is complete: its tokens are in the inventory, delete them one by one");
    }
  }
  // The batch's tokens, never seen: nobody else changes them, so they are read first and deleted
  // in changes that stay within what one batch of the store may hold.
  std::vector<std::string> serials;
  OTPD_RETURN_IF_ERROR(store_.Scan(
      Namespace::kTokens, "",
      [&](std::string_view serial, const storage::Record& record) -> base::StatusOr<bool> {
        OTPD_ASSIGN_OR_RETURN(TokenRecord token, directory_.DecodeTokenAt(serial, record.value));
        if (token.importing && token.batch == id) serials.push_back(token.serial);
        return true;
      }));
  if (!stored && serials.empty()) {
    return base::NotFoundError("no import batch " + std::string(id));
  }
  // A token takes its record, its seed index entry and two state records, each with a condition.
  const storage::BatchLimits limits = store_.batch_limits();
  const size_t per_change = std::max<size_t>(1, std::min<size_t>(256, limits.max_keys / 8));
  uint64_t deleted = 0;
  for (size_t first = 0; first < serials.size(); first += per_change) {
    WriteBatch batch;
    internal::SeedStates seeds(directory_);
    const size_t end = std::min(serials.size(), first + per_change);
    for (size_t i = first; i < end; ++i) {
      OTPD_ASSIGN_OR_RETURN(std::optional<Loaded> token, directory_.GetStoredToken(serials[i]));
      if (!token) continue;
      OTPD_RETURN_IF_ERROR(StageDelete(batch, *token, seeds));
      ++deleted;
    }
    OTPD_RETURN_IF_ERROR(store_.Commit(std::move(batch), Durability::kDurable));
  }
  WriteBatch last;
  if (stored) {
    last.RequireVersion(Namespace::kMeta, key, stored->version);
    last.Delete(Namespace::kMeta, key);
  }
  AuditRecord audit = MakeAudit(clock_, by, "batch.discard", "batch/" + std::string(id));
  audit.detail = std::to_string(deleted) + " tokens of an import that did not complete";
  OTPD_RETURN_IF_ERROR(CommitTokenChange(std::move(last), audit));
  return deleted;
}

AuditRecord TokenInventory::Audit(std::string_view action, std::string_view serial,
                                  const Principal& by) const {
  // One naming style for every audit action: <subject>.<verb>.
  return MakeAudit(clock_, by, "token." + std::string(action), "token/" + std::string(serial));
}

base::Status TokenInventory::CommitTokenChange(WriteBatch batch, const AuditRecord& audit) {
  AddAudit(batch, audit);
  base::Status s = store_.Commit(std::move(batch), Durability::kDurable);
  if (base::IsAborted(s)) {
    return base::AbortedError(audit.target + " changed while " + audit.action +
                              " was in progress; try again");
  }
  if (s.ok()) NotifyOutbox();
  return s;
}

base::Status TokenInventory::Event(WriteBatch& batch, std::string_view type,
                                   const TokenRecord& token, std::string_view user,
                                   const Principal& by, EventData data) {
  data.Str("serial", token.serial);
  if (!token.method_id.empty()) data.Str("method_id", token.method_id);
  return AddEvent(batch, clock_, type, user, data.Str("by", by.actor));
}

base::Status TokenInventory::Refuse(std::string_view action, std::string_view serial,
                                    const Principal& by, base::Status why) {
  return RecordRefusal(store_, Audit(action, serial, by), std::move(why));
}

base::Status TokenInventory::AuthorizeFor(const TokenRecord& token, std::string_view action,
                                          const Principal& by) {
  base::Status allowed = Authorize(by, token.assigned_to.empty() ? Permission::kManageInventory
                                                                 : Permission::kManageUserMethods);
  if (!allowed.ok()) return Refuse(action, token.serial, by, allowed);
  return base::OkStatus();
}

void TokenInventory::Invalidate(const TokenRecord& token) {
  if (invalidator_ == nullptr) return;
  invalidator_->InvalidateSerial(token.serial);
  if (!token.assigned_to.empty()) invalidator_->InvalidateUser(token.assigned_to);
}

base::StatusOr<StagedChange> TokenInventory::BeginTokenChange(const TokenRecord& token,
                                                              std::string_view upn,
                                                              std::string_view action,
                                                              const Principal& by,
                                                              int64_t now) const {
  const bool owner = upn.empty();
  auto c = internal::StageChange(directory_, owner ? std::string_view(token.assigned_to) : upn, now,
                                 Audit(action, token.serial, by));
  if (owner && base::IsNotFound(c.status())) {
    return base::DataLossError("token " + token.serial + " is assigned to " + token.assigned_to +
                               ", who does not exist");
  }
  OTPD_RETURN_IF_ERROR(c.status());
  OTPD_RETURN_IF_ERROR(
      internal::AuthorizeStaged(directory_, by, Permission::kManageUserMethods, *c));
  c->serials.push_back(token.serial);
  c->conflict =
      c->audit.target + " changed while " + c->audit.action + " was in progress; try again";
  return c;
}

base::Status TokenInventory::Assign(std::string_view serial, std::string_view upn_in,
                                    const Principal& actor) {
  OTPD_ASSIGN_OR_RETURN(const std::string upn, CheckUpn(upn_in));
  OTPD_ASSIGN_OR_RETURN(Loaded loaded, Load(serial));
  TokenRecord& token = loaded.record;
  const int64_t now = clock_.NowUnixSeconds();
  // A token is assigned only to a user who exists (NotFound otherwise): no door creates users.
  OTPD_ASSIGN_OR_RETURN(StagedChange c, BeginTokenChange(token, upn, "assign", actor, now));
  if (token.status != TokenStatus::kAvailable) {
    return Refuse("assign", serial, actor,
                  base::FailedPreconditionError("token " + token.serial + " is " +
                                                std::string(TokenStatusName(token.status)) +
                                                " to " + token.assigned_to +
                                                "; only available tokens can be assigned"));
  }
  c.batch.RequireVersion(Namespace::kTokens, token.serial, loaded.version);
  base::Status staged =
      StageAssignment(directory_, c.batch, c.user, token, now, options_.max_oath_methods_per_user);
  if (base::IsResourceExhausted(staged)) return Refuse("assign", serial, actor, staged);
  OTPD_RETURN_IF_ERROR(staged);
  OTPD_RETURN_IF_ERROR(directory_.PutToken(c.batch, token));
  c.audit.detail = "user " + upn;
  OTPD_RETURN_IF_ERROR(Event(c.batch, events::kMethodAdded, token, upn, actor,
                             EventData()
                                 .Str("id", token.method_id)
                                 .Str("kind", MethodKindName(MethodKind::kHardwareOath))));
  return internal::CommitChange(directory_, c, invalidator_);
}

base::StatusOr<ActivationResult> TokenInventory::Activate(std::string_view serial,
                                                          std::string_view code,
                                                          const Principal& actor,
                                                          std::optional<std::string> display_name) {
  OTPD_ASSIGN_OR_RETURN(Loaded loaded, Load(serial));
  TokenRecord& token = loaded.record;
  if (token.status == TokenStatus::kAvailable) {
    return Refuse("activate", serial, actor,
                  base::FailedPreconditionError("token " + token.serial +
                                                " is not assigned to a user; assign it first"));
  }
  if (token.status == TokenStatus::kActivated) {
    return Refuse("activate", serial, actor,
                  base::FailedPreconditionError("token " + token.serial + " is already activated"));
  }
  if (token.activation_failures >= options_.max_activation_failures) {
    return Refuse(
        "activate", serial, actor,
        base::ResourceExhaustedError(
            "token " + token.serial + " has had " + std::to_string(token.activation_failures) +
            " wrong activation codes; unassign and assign it again to retry"));
  }
  const int64_t now = clock_.NowUnixSeconds();
  if (token.not_after && *token.not_after < now) {
    return Refuse("activate", serial, actor,
                  base::FailedPreconditionError("token " + token.serial + " has expired"));
  }
  OTPD_ASSIGN_OR_RETURN(engine::Credential credential, OpenCredential(keys_, token));
  OTPD_ASSIGN_OR_RETURN(StagedChange c, BeginTokenChange(token, {}, "activate", actor, now));

  // The token keeps its watermark across deactivation and reassignment: activation searches
  // only at and above it, so codes the token showed before can never be accepted again.
  OTPD_ASSIGN_OR_RETURN(CredentialState state, LoadCredentialState(store_, token));
  engine::Verdict verdict = engine::Activate(credential, state.token, code, now, options_.windows);

  c.batch.RequireVersion(Namespace::kTokens, token.serial, loaded.version);
  ActivationResult result;
  token.updated = now;
  if (verdict.accepted()) {
    token.status = TokenStatus::kActivated;
    token.activation_failures = 0;
    if (display_name) token.display_name = *display_name;
    state.token = verdict.new_state;
    c.batch.Put(Namespace::kState, TokenStateKey(token.serial), EncodeCredentialState(state));
    result.outcome = ActivationOutcome::kActivated;
    result.drift = verdict.drift;
    c.audit.detail = "drift " + std::to_string(verdict.drift) + " steps";
    // An activated token is a registered MFA method: a user who had to register again has.
    const bool registered = c.user.user.mfa_registration_required;
    c.user.user.mfa_registration_required = false;
    if (registered) c.audit.detail += ", registration completed";
    OTPD_RETURN_IF_ERROR(
        Event(c.batch, events::kTokenActivated, token, token.assigned_to, actor,
              EventData().Int("drift", verdict.drift).Bool("registration_completed", registered)));
  } else {
    token.status = TokenStatus::kFailedActivation;
    ++token.activation_failures;
    result.outcome = verdict.kind == engine::VerdictKind::kReplayed ? ActivationOutcome::kCodeUsed
                     : verdict.kind == engine::VerdictKind::kMalformed
                         ? ActivationOutcome::kMalformedCode
                         : ActivationOutcome::kWrongCode;
    result.failures = token.activation_failures;
    c.audit.result = result.outcome == ActivationOutcome::kCodeUsed        ? "code already used"
                     : result.outcome == ActivationOutcome::kMalformedCode ? "malformed code"
                                                                           : "wrong code";
  }
  OTPD_RETURN_IF_ERROR(directory_.PutToken(c.batch, token));
  OTPD_RETURN_IF_ERROR(internal::CommitChange(directory_, c, invalidator_));
  return result;
}

namespace {

base::Status CheckDescriptiveField(std::string_view name, const std::optional<std::string>& value) {
  if (!value) return base::OkStatus();
  if (value->size() > 256) {
    return base::InvalidArgumentError(std::string(name) + " is longer than 256 characters");
  }
  for (unsigned char c : *value) {
    if (c < 0x20 || c == 0x7f) {
      return base::InvalidArgumentError(std::string(name) + " holds a control character");
    }
  }
  return base::OkStatus();
}

}  // namespace

base::StatusOr<TokenRecord> TokenInventory::UpdateToken(std::string_view serial,
                                                        const Update& update,
                                                        const Principal& actor) {
  OTPD_RETURN_IF_ERROR(CheckDescriptiveField("displayName", update.display_name));
  OTPD_RETURN_IF_ERROR(CheckDescriptiveField("manufacturer", update.manufacturer));
  OTPD_RETURN_IF_ERROR(CheckDescriptiveField("model", update.model));
  OTPD_ASSIGN_OR_RETURN(Loaded loaded, Load(serial));
  TokenRecord& token = loaded.record;
  OTPD_RETURN_IF_ERROR(AuthorizeFor(token, "update", actor));
  if (token.status != TokenStatus::kAvailable) {
    return Refuse("update", serial, actor,
                  base::FailedPreconditionError("token " + token.serial + " is assigned to " +
                                                token.assigned_to +
                                                "; only unassigned tokens can be updated"));
  }
  if (update.algorithm || update.period) {
    OTPD_RETURN_IF_ERROR(ChangeParams(token, update, actor));
  }
  if (update.display_name) token.display_name = *update.display_name;
  if (update.manufacturer) token.manufacturer = *update.manufacturer;
  if (update.model) token.model = *update.model;
  token.updated = clock_.NowUnixSeconds();
  WriteBatch batch;
  batch.RequireVersion(Namespace::kTokens, token.serial, loaded.version);
  OTPD_RETURN_IF_ERROR(directory_.PutToken(batch, token));
  OTPD_RETURN_IF_ERROR(CommitTokenChange(std::move(batch), Audit("update", serial, actor)));
  return token;
}

base::Status TokenInventory::ChangeParams(TokenRecord& token, const Update& update,
                                          const Principal& actor) {
  if (update.period && token.params.type != engine::OtpType::kTotp) {
    return base::InvalidArgumentError("timeIntervalInSeconds is for TOTP tokens; " + token.serial +
                                      " is an HOTP token");
  }
  uint64_t state_version = 0;
  OTPD_RETURN_IF_ERROR(LoadCredentialState(store_, token, &state_version).status());
  if (state_version != 0) {
    return Refuse("update", token.serial, actor,
                  base::FailedPreconditionError(
                      "token " + token.serial +
                      " has been activated before: its hash function and time step cannot "
                      "change, or codes it already accepted could be accepted again"));
  }
  if (update.algorithm) token.params.algorithm = *update.algorithm;
  if (update.period) token.params.period = *update.period;
  return token.params.Validate();
}

base::Status TokenInventory::Deactivate(std::string_view serial, const Principal& actor) {
  OTPD_ASSIGN_OR_RETURN(Loaded loaded, Load(serial));
  TokenRecord& token = loaded.record;
  if (token.status != TokenStatus::kActivated) {
    return Refuse("deactivate", serial, actor,
                  base::FailedPreconditionError("token " + token.serial + " is " +
                                                std::string(TokenStatusName(token.status)) +
                                                "; only activated tokens can be deactivated"));
  }
  OTPD_ASSIGN_OR_RETURN(StagedChange c,
                        BeginTokenChange(token, {}, "deactivate", actor, clock_.NowUnixSeconds()));
  token.status = TokenStatus::kAssigned;
  token.updated = c.now;
  c.batch.RequireVersion(Namespace::kTokens, token.serial, loaded.version);
  OTPD_RETURN_IF_ERROR(directory_.PutToken(c.batch, token));
  OTPD_RETURN_IF_ERROR(
      Event(c.batch, events::kTokenDeactivated, token, token.assigned_to, actor, EventData()));
  return internal::CommitChange(directory_, c, invalidator_);
}

base::Status TokenInventory::Unassign(std::string_view serial, const Principal& actor) {
  OTPD_ASSIGN_OR_RETURN(Loaded loaded, Load(serial));
  TokenRecord token = loaded.record;
  if (token.status == TokenStatus::kAvailable) {
    return Refuse("unassign", serial, actor,
                  base::FailedPreconditionError("token " + token.serial + " is not assigned"));
  }
  OTPD_ASSIGN_OR_RETURN(StagedChange c,
                        BeginTokenChange(token, {}, "unassign", actor, clock_.NowUnixSeconds()));
  c.batch.RequireVersion(Namespace::kTokens, token.serial, loaded.version);
  if (!token.method_id.empty()) {
    c.batch.Delete(Namespace::kMethods, MethodKey(token.assigned_to, token.method_id));
  }
  // The token's sign-in state stays: its watermark never goes backwards, whoever holds it next.
  c.audit.detail = "user " + token.assigned_to;
  OTPD_RETURN_IF_ERROR(Event(c.batch, events::kMethodDeleted, token, token.assigned_to, actor,
                             EventData()
                                 .Str("id", token.method_id)
                                 .Str("kind", MethodKindName(MethodKind::kHardwareOath))));
  token.status = TokenStatus::kAvailable;
  token.assigned_to.clear();
  token.method_id.clear();
  token.activation_failures = 0;
  token.updated = c.now;
  OTPD_RETURN_IF_ERROR(directory_.PutToken(c.batch, token));
  return internal::CommitChange(directory_, c, invalidator_);
}

base::Status TokenInventory::Delete(std::string_view serial, const Principal& actor) {
  OTPD_ASSIGN_OR_RETURN(Loaded loaded, Load(serial));
  const TokenRecord& token = loaded.record;
  OTPD_RETURN_IF_ERROR(AuthorizeFor(token, "delete", actor));
  if (token.status != TokenStatus::kAvailable) {
    return Refuse("delete", serial, actor,
                  base::FailedPreconditionError("token " + token.serial + " is assigned to " +
                                                token.assigned_to + "; unassign it first"));
  }
  WriteBatch batch;
  internal::SeedStates seeds(directory_);
  OTPD_RETURN_IF_ERROR(StageDelete(batch, loaded, seeds));
  OTPD_RETURN_IF_ERROR(CommitTokenChange(std::move(batch), Audit("delete", serial, actor)));
  Invalidate(token);
  return base::OkStatus();
}

base::Status TokenInventory::StageDelete(WriteBatch& batch, const Loaded& loaded,
                                         internal::SeedStates& seeds) const {
  const TokenRecord& token = loaded.record;
  batch.RequireVersion(Namespace::kTokens, token.serial, loaded.version);
  batch.Delete(Namespace::kTokens, token.serial);
  OTPD_ASSIGN_OR_RETURN(std::string fingerprint, UnindexSeed(directory_, batch, token));
  // The watermark outlives the token: were the same seed imported again, codes it accepted
  // before must stay refused (an HOTP token would otherwise start again from its file's counter).
  return seeds.Retire(batch, token.serial, fingerprint);
}

}  // namespace otpd::service
