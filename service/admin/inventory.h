// TokenInventory is the hardware-token inventory and lifecycle, as Microsoft Entra runs it: list
// and show tokens, assign a token to a user, activate it with the code it shows, deactivate,
// unassign and delete. Every transition is one atomic, durable, audited Store batch, conditional
// on the token record not having changed since it was read and, for a token that belongs to a
// user, on the user's fence (service/model/directory.h); a transition that is not allowed is
// refused with a reason and changes nothing.
//
// A token's replay watermark (state/t/<serial>) lives as long as the token: unassigning and
// assigning it again, to anyone, keeps it, and activation only moves it forward, so a code the
// token showed and had accepted can never be accepted again.
//
// Changes to a user's tokens write their outbox event in the same batch (method.added at assign,
// token.activated, token.deactivated, method.deleted at unassign); activating a token also ends a
// user's registration_required state.
//
// Every change is made for a Principal and authorized first (service/admin/roles.h): the inventory
// (delete) needs the policy role; a user's tokens (assign, activate, deactivate, unassign) need
// the right to manage that user's methods. A refusal is PermissionDenied, changes nothing, and
// is audited.
//
// Thread-safe: every method may be called concurrently (conflicting changes to the same token
// fail with Aborted rather than overwrite each other).

#ifndef OTPD_SERVICE_ADMIN_INVENTORY_H_
#define OTPD_SERVICE_ADMIN_INVENTORY_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/statusor.h"
#include "engine/credential.h"
#include "engine/verifier.h"
#include "service/admin/roles.h"
#include "service/hooks/outbox.h"
#include "service/model/directory.h"
#include "service/model/records.h"
#include "storage/keyring.h"
#include "storage/store.h"

namespace otpd::service {

namespace internal {
class SeedStates;
struct StagedChange;
}  // namespace internal

struct InventoryOptions {
  // Windows for activation (the wide +/-2880-step search) and sign-in. Default: WindowPolicy{}.
  engine::WindowPolicy windows;
  // OATH methods (hardware tokens and authenticator apps) a user may have. Default 5 (Entra).
  uint32_t max_oath_methods_per_user = 5;
  // Wrong activation codes a token may receive before it must be unassigned and assigned again.
  // Default 10.
  uint32_t max_activation_failures = 10;
};

// Told about changes so that an in-memory sign-in cache (SignInVerifier) can drop what it holds
// for a user. Called after the change is committed. (The cache does not depend on it for
// correctness: the fence refuses sign-ins decided on what it held before the change.)
class CacheInvalidator {
 public:
  virtual ~CacheInvalidator() = default;
  virtual void InvalidateUser(std::string_view upn) = 0;
  virtual void InvalidateSerial(std::string_view serial) = 0;
};

struct TokenFilter {
  std::optional<TokenStatus> status;
  std::string user;   // upn; empty = any
  std::string batch;  // batch id; empty = any
  std::string after;  // only serials after this one (paging); empty = from the first
};

// kCodeUsed: a code the token showed at or below its watermark (right, but already used or
// older than one used): the token is fine, the user must wait for its next code.
enum class ActivationOutcome : uint8_t { kActivated, kWrongCode, kCodeUsed, kMalformedCode };

struct ActivationResult {
  ActivationOutcome outcome = ActivationOutcome::kWrongCode;
  int64_t drift = 0;      // steps, when activated
  uint32_t failures = 0;  // refused activation codes so far, when refused
};

// What a refused activation says to the administrator: which of the outcomes it was, and the
// count of refused codes so far. Empty for an activation that succeeded.
std::string ActivationRefusal(std::string_view serial, const ActivationResult& result);

// Opens a token's sealed seed and prepares it. Shared by the inventory and the verifier.
base::StatusOr<engine::Credential> OpenCredential(const storage::KeyRing& keys,
                                                  const TokenRecord& token);

// Makes `token` (available) the hardware OATH method of the user of `change`: adds the method
// record (within the OATH method limit, ResourceExhausted beyond it) and marks the token
// assigned. The token record itself is not written: the caller puts it.
base::Status StageAssignment(const Directory& directory, storage::WriteBatch& batch,
                             UserChange& change, TokenRecord& token, int64_t now,
                             uint32_t max_oath_methods);

// Checks that `upn` is shaped like an address (local@domain) and returns it in lower case.
// InvalidArgument naming the problem otherwise. The same check as a token file's upn column.
base::StatusOr<std::string> CheckUpn(std::string_view upn);

// The state a token starts from before its first activation.
CredentialState InitialState(const TokenRecord& token);

// The token's stored sign-in state, or InitialState() when it has none yet. `version`, when not
// null, receives the state record's version (0: none stored yet).
base::StatusOr<CredentialState> LoadCredentialState(const storage::Store& store,
                                                    const TokenRecord& token,
                                                    uint64_t* version = nullptr);

class TokenInventory {
 public:
  // `store`, `keys` and `clock` must outlive the inventory; `invalidator` may be null.
  TokenInventory(storage::Store& store, const storage::KeyRing& keys, const base::Clock& clock,
                 InventoryOptions options, CacheInvalidator* invalidator = nullptr);

  // The token record (its sealed seed is never decrypted here). NotFound if absent.
  base::StatusOr<TokenRecord> Get(std::string_view serial) const;

  // Calls fn for every token matching `filter`, in serial order, until fn returns false.
  base::Status List(const TokenFilter& filter,
                    const std::function<bool(const TokenRecord&)>& fn) const;

  // Get and List for `by`, who needs Permission::kRead (PermissionDenied otherwise).
  base::StatusOr<TokenRecord> Get(const Principal& by, std::string_view serial) const;
  base::Status List(const Principal& by, const TokenFilter& filter,
                    const std::function<bool(const TokenRecord&)>& fn) const;

  // Every import batch, oldest id first.
  base::Status ListBatches(const std::function<bool(const BatchRecord&)>& fn) const;
  // `by` (who needs Permission::kRead) lists the batches.
  base::Status ListBatches(const Principal& by,
                           const std::function<bool(const BatchRecord&)>& fn) const;

  // Deletes what an import that did not complete stored (its tokens, none of which was ever
  // seen, with their seed index entries; their seeds' states are kept as Delete keeps them), in
  // changes within the store's batch limits, then its batch record. Permission::kManageInventory.
  // FailedPrecondition for a complete batch, NotFound for an unknown one. Returns how many tokens
  // it deleted. Interrupted, it can be run again.
  base::StatusOr<uint64_t> DiscardBatch(std::string_view id, const Principal& by);

  // Assigns an available token to `upn`. InvalidArgument when `upn` is not an address, NotFound
  // when no such user exists (users are created explicitly, never by an assignment); refused
  // unless the token is available, or when the user already has max_oath_methods_per_user OATH
  // methods.
  base::Status Assign(std::string_view serial, std::string_view upn, const Principal& by);

  // Checks `code` in the activation window. A right code activates the token, learns its drift
  // and sets its replay watermark; a wrong one sets failedActivation and counts toward
  // max_activation_failures. Refused for available tokens, activated tokens and tokens whose
  // activation attempts are exhausted.
  base::StatusOr<ActivationResult> Activate(std::string_view serial, std::string_view code,
                                            const Principal& by,
                                            std::optional<std::string> display_name = {});

  // Changes the descriptive fields of an available token (Entra: only unassigned tokens are
  // updatable; the seed never is). InvalidArgument for a field longer than 256 characters or
  // holding control characters. The hash function and a TOTP token's time step change only while
  // the token has never accepted a code (no sign-in state stored): a used token's watermark
  // counts steps of its old parameters, and codes it already accepted could come back
  // (FailedPrecondition).
  struct Update {
    std::optional<std::string> display_name, manufacturer, model;
    std::optional<engine::HashAlgorithm> algorithm;
    std::optional<uint32_t> period;
  };
  base::StatusOr<TokenRecord> UpdateToken(std::string_view serial, const Update& update,
                                          const Principal& by);

  // An activated token stays assigned but can no longer sign in until activated again.
  base::Status Deactivate(std::string_view serial, const Principal& by);

  // Returns an assigned (or activated) token to the inventory: the user's method is deleted; the
  // token keeps its replay watermark.
  base::Status Unassign(std::string_view serial, const Principal& by);

  // Deletes an available token, its state and its seed's index entry. Refused while the token is
  // assigned.
  base::Status Delete(std::string_view serial, const Principal& by);

 private:
  using Loaded = Versioned<TokenRecord>;
  base::StatusOr<Loaded> Load(std::string_view serial) const;
  // Stages the deletion of `token` (read at `version`): its record, its seed index entry, and its
  // sign-in state kept under its seed by `seeds`.
  base::Status StageDelete(storage::WriteBatch& batch, const Loaded& token,
                           internal::SeedStates& seeds) const;
  // UpdateToken's change of `token`'s hash function or time step, where it is allowed.
  base::Status ChangeParams(TokenRecord& token, const Update& update, const Principal& actor);
  // Commits a change to the inventory alone (no user's): `batch` plus an audit record, durably;
  // maps a lost race to Aborted. A change to a token's user goes through BeginTokenChange and
  // internal::CommitChange instead.
  base::Status CommitTokenChange(storage::WriteBatch batch, const AuditRecord& audit);
  // Adds an outbox event about `token` (its serial and method id, plus `data`).
  base::Status Event(storage::WriteBatch& batch, std::string_view type, const TokenRecord& token,
                     std::string_view user, const Principal& by, EventData data);
  // Begins the change a transition of `token` makes to `upn` (empty: the token's owner, who
  // must exist: DataLoss otherwise), audited on the token as `action`, with `by` authorized to
  // manage that user's methods (a refusal is audited). The commit drops the token from the
  // sign-in cache too.
  base::StatusOr<internal::StagedChange> BeginTokenChange(const TokenRecord& token,
                                                          std::string_view upn,
                                                          std::string_view action,
                                                          const Principal& by, int64_t now) const;
  base::Status Refuse(std::string_view action, std::string_view serial, const Principal& by,
                      base::Status why);
  AuditRecord Audit(std::string_view action, std::string_view serial, const Principal& by) const;
  // Authorizes `by` to change `token` when no user's change is begun: the inventory for an
  // unassigned token, the right to manage users' methods for an assigned one.
  base::Status AuthorizeFor(const TokenRecord& token, std::string_view action, const Principal& by);
  void Invalidate(const TokenRecord& token);

  storage::Store& store_;
  const storage::KeyRing& keys_;
  const Directory directory_;
  const base::Clock& clock_;
  const InventoryOptions options_;
  CacheInvalidator* const invalidator_;
};

// Re-seals every token seed that is not under the key ring's current data key, in batches of
// `batch_size` (after KeyRing::RotateDataKey). Online and restartable: records already current are
// skipped; a token changed meanwhile is re-read, never overwritten.
base::Status ResealTokenSeeds(storage::KeyRing& keys, size_t batch_size,
                              storage::ResealStats* stats = nullptr);

// Counts a user's OATH methods (hardware and software tokens; records that fail their integrity
// check count too).
base::StatusOr<uint32_t> CountOathMethods(const Directory& directory, std::string_view upn);

// Deletes the seed index entry of `token` when it names this token; returns the seed's
// fingerprint.
base::StatusOr<std::string> UnindexSeed(const Directory& directory, storage::WriteBatch& batch,
                                        const TokenRecord& token);

}  // namespace otpd::service

#endif  // OTPD_SERVICE_ADMIN_INVENTORY_H_
