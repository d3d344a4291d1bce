// SignInVerifier's user cache (service/signin/sign_in_verifier.h): reading a user's records from
// the Store into it, keeping it within its memory budget, and dropping what it knows of a user or a
// token's owner when an administrator's change makes it stale.

#include "base/secret_bytes.h"
#include "service/signin/sign_in_verifier.h"

namespace otpd::service {

using storage::Namespace;

namespace {

// Approximate memory of a cached user, for the cache's budget: the structures, the strings'
// heap blocks and the table slot.
size_t Charge(std::string_view upn, size_t credentials, size_t strings) {
  constexpr size_t kUser = 160, kSlot = 32, kCredential = 320;
  return kUser + kSlot + upn.size() + credentials * kCredential + strings;
}

}  // namespace

// ---- eviction --------------------------------------------------------------------------------

void SignInVerifier::EraseLocked(Stripe& stripe, std::string_view upn, uint64_t hash,
                                 CachedUser& user) {
  stripe.bytes -= user.charge;
  cached_bytes_.fetch_sub(static_cast<int64_t>(user.charge));
  cached_users_.fetch_sub(1);
  stripe.users.Erase(upn, hash);
}

void SignInVerifier::EvictLocked(Stripe& stripe) {
  // The clock: a sweep clears each entry's referenced bit and drops the first entry found
  // without it; users with commits in flight (or requests waiting for them) stay.
  const size_t slots = stripe.users.slot_count();
  for (size_t steps = 0; stripe.bytes > stripe_budget_ && steps < 2 * slots + 2; ++steps) {
    if (stripe.hand >= slots) stripe.hand = 0;
    auto entry = stripe.users.At(stripe.hand);
    if (!entry) {
      ++stripe.hand;
      continue;
    }
    CachedUser& u = *entry->value;
    if (u.referenced || u.inflight > 0 || !u.parked.empty()) {
      u.referenced = false;
      ++stripe.hand;
      continue;
    }
    counters_.cache_evictions.fetch_add(1, std::memory_order_relaxed);
    EraseLocked(stripe, std::string(entry->key), entry->hash, u);  // the slot is read again
  }
}

// ---- invalidation ----------------------------------------------------------------------------

void SignInVerifier::InvalidateUser(std::string_view upn_in) {
  const std::string upn = NormaliseUpn(upn_in);
  const uint64_t hash = UpnHash(upn);
  Stripe& stripe = StripeFor(hash);
  Deliveries refused;
  {
    base::MutexLock lock(stripe.mu);
    InvalidateLocked(stripe, upn, hash, &refused);
  }
  Deliver(std::move(refused));
}

void SignInVerifier::InvalidateLocked(Stripe& stripe, std::string_view upn, uint64_t hash,
                                      Deliveries* out) {
  ++stripe.generation;
  CachedUser* u = stripe.users.Find(upn, hash);
  if (u == nullptr) return;
  if (u->inflight > 0) {
    u->stale = true;  // dropped once its commits complete
    return;
  }
  std::vector<std::unique_ptr<Deferred>> parked = std::move(u->parked);
  EraseLocked(stripe, upn, hash, *u);
  // Requests that waited for the commits go to the loader, in their order.
  for (auto& request : parked) DispatchLocked(stripe, std::move(request), out);
}

void SignInVerifier::InvalidateSerial(std::string_view serial) {
  base::MutexLock lock(owners_mu_);
  owners_.erase(std::string(serial));
}

// ---- reading the Store -----------------------------------------------------------------------

base::StatusOr<std::string> SignInVerifier::OwnerOf(std::string_view serial) {
  {
    base::MutexLock lock(owners_mu_);
    auto it = owners_.find(std::string(serial));
    if (it != owners_.end()) return it->second;
  }
  auto token = directory_.GetToken(serial);
  if (!token.ok()) {
    if (!base::IsDataLoss(token.status())) return token.status();
    ReportIntegrity(token.status());
    return base::NotFoundError("token fails its integrity check");
  }
  if (!*token) return base::NotFoundError("unknown token");
  const std::string& owner = (*token)->record.assigned_to;
  if (!owner.empty()) {
    base::MutexLock lock(owners_mu_);
    owners_.emplace(std::string(serial), owner);
  }
  return owner;
}

void SignInVerifier::ReportIntegrity(const base::Status& status) {
  counters_.integrity_failures.fetch_add(1, std::memory_order_relaxed);
  if (options_.on_integrity_error) options_.on_integrity_error(status);
}

base::StatusOr<std::optional<SignInVerifier::CachedCredential>> SignInVerifier::LoadCredential(
    const std::string& upn, const MethodRecord& method) {
  using Loaded = std::optional<CachedCredential>;
  if (method.kind() == MethodKind::kHardwareOath) {
    const std::string serial(method.serial());
    OTPD_ASSIGN_OR_RETURN(std::optional<Versioned<TokenRecord>> token, directory_.GetToken(serial));
    // A method that outlived its token, or a token now assigned elsewhere: nothing to verify.
    if (!token || token->record.assigned_to != upn || token->record.method_id != method.id) {
      return Loaded();
    }
    OTPD_ASSIGN_OR_RETURN(engine::Credential credential, OpenCredential(keys_, token->record));
    uint64_t version = 0;
    OTPD_ASSIGN_OR_RETURN(CredentialState state,
                          LoadCredentialState(store_, token->record, &version));
    return Loaded(CachedCredential{.method_id = method.id,
                                   .kind = MethodKind::kHardwareOath,
                                   .serial = serial,
                                   .state_key = TokenStateKey(serial),
                                   .usable = token->record.status == TokenStatus::kActivated,
                                   .credential = std::move(credential),
                                   .state = state,
                                   .state_version = version});
  }
  if (method.kind() == MethodKind::kSoftwareOath) {
    const auto& app = std::get<SoftwareOathPayload>(method.payload);
    OTPD_ASSIGN_OR_RETURN(
        base::SecretBytes secret,
        keys_.OpenSecret(Namespace::kMethods, MethodKey(upn, method.id), app.sealed_secret));
    OTPD_ASSIGN_OR_RETURN(engine::Credential credential,
                          engine::Credential::Create(app.params, secret.span()));
    const std::string state_key = MethodStateKey(upn, method.id);
    OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> stored,
                          store_.Get(Namespace::kState, state_key));
    CredentialState state;
    if (stored) {
      OTPD_ASSIGN_OR_RETURN(state, DecodeCredentialState(stored->value));
    }
    return Loaded(CachedCredential{.method_id = method.id,
                                   .kind = MethodKind::kSoftwareOath,
                                   .state_key = state_key,
                                   .usable = app.confirmed,
                                   .credential = std::move(credential),
                                   .state = state,
                                   .state_version = stored ? stored->version : 0});
  }
  return Loaded();  // phones and email do not sign in with a code
}

base::StatusOr<std::unique_ptr<SignInVerifier::CachedUser>> SignInVerifier::LoadUser(
    const std::string& upn) {
  counters_.cache_loads.fetch_add(1, std::memory_order_relaxed);
  auto user = std::make_unique<CachedUser>();
  auto record = directory_.GetUser(upn);
  if (!record.ok() && !base::IsDataLoss(record.status())) return record.status();
  if (record.ok() && !*record) return std::unique_ptr<CachedUser>();
  if (!record.ok()) {
    // Cached as broken, so that it is reported once, not on every request.
    ReportIntegrity(record.status());
    user->broken = true;
    user->charge = Charge(upn, 0, 0);
    return user;
  }
  user->fence = (*record)->version;
  user->registration_required = (*record)->record.mfa_registration_required;
  user->sessions_epoch = (*record)->record.sessions_epoch;
  user->preferred_phone = PhoneOfPreference((*record)->record.preferred_method);

  OTPD_ASSIGN_OR_RETURN(auto methods, directory_.ReadMethods(upn));
  std::vector<std::string> serials;
  size_t strings = 0;
  for (const auto& method : methods) {
    if (!method.ok()) {
      ReportIntegrity(method.status());
      continue;
    }
    // The other factors' material: what PASSWORD, TAP and CHALLENGE need, from the same read.
    if (const auto* password = std::get_if<PasswordPayload>(&method->payload)) {
      user->password = *password;
      strings += 96;
      continue;
    }
    if (const auto* tap = std::get_if<TemporaryAccessPassPayload>(&method->payload)) {
      user->tap = internal::CachedTap{.method_id = method->id, .pass = *tap, .used = false};
      strings += 96;
      continue;
    }
    if (const auto* phone = std::get_if<PhonePayload>(&method->payload)) {
      user->phones.push_back(internal::CachedPhone{method->id, phone->type, phone->number});
      strings += 96;
      continue;
    }
    auto credential = LoadCredential(upn, *method);
    if (!credential.ok()) {
      // Storage errors make the whole load fail (and the request unavailable); a record that
      // cannot be trusted or opened only makes its own credential unusable.
      const base::Status& s = credential.status();
      if (!base::IsDataLoss(s) && !base::IsFailedPrecondition(s) && !base::IsInvalidArgument(s)) {
        return s;
      }
      ReportIntegrity(s.WithContext("credential " + method->id + " of " + upn));
      continue;
    }
    if (!*credential) continue;
    if (!(*credential)->serial.empty()) serials.push_back((*credential)->serial);
    strings += (*credential)->method_id.size() + (*credential)->serial.size() * 2 + 16;
    user->credentials.push_back(std::move(**credential));
  }
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> lockout,
                        store_.Get(Namespace::kState, LockoutKey(upn)));
  if (lockout) {
    OTPD_ASSIGN_OR_RETURN(user->lockout, DecodeLockout(lockout->value));
    user->lockout_version = lockout->version;
  }
  // Read only for users who have a phone or a pass: most users cost no extra read.
  if (!user->phones.empty()) {
    OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> challenge,
                          store_.Get(Namespace::kState, ChallengeKey(upn)));
    if (challenge) {
      auto decoded = DecodeChallenge(challenge->value);
      if (decoded.ok()) {
        user->challenge = std::move(*decoded);
      } else {
        ReportIntegrity(decoded.status().WithContext("phone challenge of " + upn));
      }
    }
  }
  if (user->tap) {
    OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> used,
                          store_.Get(Namespace::kState, TapUseKey(upn)));
    user->tap->used = used.has_value() && used->value == user->tap->method_id;
  }
  user->charge = Charge(upn, user->credentials.size(), strings);
  if (!serials.empty()) {
    base::MutexLock lock(owners_mu_);
    for (std::string& s : serials) owners_.insert_or_assign(std::move(s), upn);
  }
  return user;
}

}  // namespace otpd::service
