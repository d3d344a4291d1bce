#include "service/internal/seed_state.h"

#include <algorithm>

namespace otpd::service::internal {

using storage::Namespace;

CredentialState StricterState(const CredentialState& a, const CredentialState& b) {
  CredentialState out = b.token.watermark > a.token.watermark ? b : a;
  out.last_used = std::max(a.last_used, b.last_used);
  return out;
}

base::StatusOr<SeedStates::Kept*> SeedStates::KeptFor(storage::WriteBatch& batch,
                                                      std::string_view fingerprint) {
  if (auto it = kept_.find(fingerprint); it != kept_.end()) return &it->second;
  const std::string key = RetiredStateKey(fingerprint);
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> record,
                        directory_.store().Get(Namespace::kState, key));
  Kept kept;
  if (record) {
    OTPD_ASSIGN_OR_RETURN(kept.state, DecodeCredentialState(record->value));
    kept.version = record->version;
  }
  batch.RequireVersion(Namespace::kState, key, kept.version);
  return &kept_.emplace(std::string(fingerprint), std::move(kept)).first->second;
}

base::Status SeedStates::Retire(storage::WriteBatch& batch, std::string_view serial,
                                std::string_view fingerprint) {
  const std::string state_key = TokenStateKey(serial);
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> record,
                        directory_.store().Get(Namespace::kState, state_key));
  batch.RequireVersion(Namespace::kState, state_key, record ? record->version : 0);
  if (!record) return base::OkStatus();
  auto state = DecodeCredentialState(record->value);
  if (!state.ok())
    return state.status().WithContext("the sign-in state of token " + std::string(serial));
  OTPD_ASSIGN_OR_RETURN(Kept * kept, KeptFor(batch, fingerprint));
  kept->state = kept->state ? StricterState(*kept->state, *state) : *state;
  batch.Put(Namespace::kState, RetiredStateKey(fingerprint), EncodeCredentialState(*kept->state));
  batch.Delete(Namespace::kState, state_key);
  return base::OkStatus();
}

base::StatusOr<CredentialState> SeedStates::Resume(storage::WriteBatch& batch,
                                                   std::string_view serial,
                                                   std::string_view fingerprint,
                                                   const CredentialState& initial,
                                                   std::string_view other_serial) {
  CredentialState out = initial;
  OTPD_ASSIGN_OR_RETURN(Kept * kept, KeptFor(batch, fingerprint));
  if (kept->state) out = StricterState(out, *kept->state);
  if (!other_serial.empty() && other_serial != serial) {
    // The other token goes on accepting codes: this is where it stands now, which is the best
    // anyone can do for two tokens that share a seed (docs/engine.md).
    OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> live,
                          directory_.store().Get(Namespace::kState, TokenStateKey(other_serial)));
    if (live) {
      OTPD_ASSIGN_OR_RETURN(CredentialState state, DecodeCredentialState(live->value));
      out = StricterState(out, state);
    }
  }
  if (!(out == initial)) {
    batch.Put(Namespace::kState, TokenStateKey(serial), EncodeCredentialState(out));
  }
  return out;
}

}  // namespace otpd::service::internal
