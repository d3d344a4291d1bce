#include "service/credentials/temporary_access_pass.h"

#include "base/seal.h"
#include "service/hooks/outbox.h"
#include "service/internal/staged_change.h"

namespace otpd::service {

using internal::BeginChange;
using internal::CommitChange;
using internal::StagedChange;
using storage::Namespace;

namespace {

// The one TAP of a user lives under this fixed method id (a new one replaces it).
constexpr std::string_view kTapMethodId = "tap";

// A pass always holds a letter, so that no front end (nor the validate API) can take one for a
// code: drawn again in the rare case that every character is a digit.
base::StatusOr<base::SecretBytes> NewPass(uint32_t length) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  base::SecretBytes out(length);
  base::SecretBytes random(length);
  for (bool letter = false; !letter;) {
    OTPD_RETURN_IF_ERROR(base::RandomBytes(random.mutable_span()));
    for (size_t i = 0; i < length; ++i) {
      out.data()[i] = static_cast<uint8_t>(kAlphabet[random.data()[i] % 32]);  // unbiased
      letter = letter || out.data()[i] > '9';
    }
  }
  return out;
}

// The user's TAP method, if any, and whether its one use happened.
base::StatusOr<std::optional<MethodRecord>> ReadTap(const Directory& directory,
                                                    std::string_view upn) {
  OTPD_ASSIGN_OR_RETURN(auto methods, directory.ReadMethods(upn));
  for (auto& m : methods) {
    if (m.ok() && m->kind() == MethodKind::kTemporaryAccessPass) {
      return std::optional<MethodRecord>(std::move(*m));
    }
  }
  return std::optional<MethodRecord>();
}

base::StatusOr<bool> TapUsed(const storage::Store& store, std::string_view upn,
                             std::string_view tap_id) {
  OTPD_ASSIGN_OR_RETURN(auto used, store.Get(Namespace::kState, TapUseKey(upn)));
  return used.has_value() && used->value == tap_id;
}

}  // namespace

std::string_view TapUsabilityName(TapUsability u) {
  switch (u) {
    case TapUsability::kEnabled:
      return "enabledByPolicy";
    case TapUsability::kDisabledByPolicy:
      return "disabledByPolicy";
    case TapUsability::kExpired:
      return "expired";
    case TapUsability::kNotYetValid:
      return "notYetValid";
    case TapUsability::kUsed:
      return "oneTimeUsed";
  }
  return "disabledByPolicy";
}

TapUsability EvaluateTap(const TemporaryAccessPassPayload& tap, bool used, bool enabled,
                         int64_t now) {
  if (!enabled) return TapUsability::kDisabledByPolicy;
  if (tap.usable_once && used) return TapUsability::kUsed;
  if (now < tap.start) return TapUsability::kNotYetValid;
  if (now >= tap.start + int64_t{tap.lifetime_minutes} * 60) return TapUsability::kExpired;
  return TapUsability::kEnabled;
}

base::StatusOr<std::string> TapFingerprint(const storage::KeyRing& keys, std::string_view upn,
                                           std::string_view pass) {
  std::string data(upn);
  data.push_back('\0');
  data.append(pass);
  auto fp = keys.Fingerprint(
      kTapFingerprintPurpose,
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
  base::Wipe(data.data(), data.size());
  return fp;
}

base::StatusOr<CreatedTap> TemporaryAccessPasses::Create(const Principal& by, std::string_view upn,
                                                         const TapRequest& request) {
  const uint32_t lifetime = request.lifetime_minutes.value_or(policy_.default_lifetime_minutes);
  if (lifetime < policy_.min_lifetime_minutes || lifetime > policy_.max_lifetime_minutes) {
    return base::InvalidArgumentError("lifetimeInMinutes must be " +
                                      std::to_string(policy_.min_lifetime_minutes) + ".." +
                                      std::to_string(policy_.max_lifetime_minutes));
  }
  OTPD_ASSIGN_OR_RETURN(
      StagedChange c,
      BeginChange(directory_, clock_, by, Permission::kManageUserMethods, upn, "tap.create"));
  if (!policy_.enabled) {
    return RecordRefusal(
        directory_.store(), c.audit,
        base::FailedPreconditionError("temporary access passes are disabled by policy"));
  }
  const int64_t start = request.start.value_or(c.now);
  if (start < c.now - 300) {
    return base::InvalidArgumentError("startDateTime must not be in the past");
  }
  CreatedTap created;
  OTPD_ASSIGN_OR_RETURN(created.pass, NewPass(policy_.length));
  TemporaryAccessPassPayload tap{
      .start = start, .lifetime_minutes = lifetime, .usable_once = request.usable_once};
  OTPD_ASSIGN_OR_RETURN(tap.fingerprint,
                        TapFingerprint(directory_.keys(), c.upn(), created.pass.view()));
  // A new pass is a new credential: a fresh id, so that a one-time use of the old one does not
  // count for it (state/a/<upn> names the id used).
  MethodRecord method{
      .id = std::string(kTapMethodId) + "-" + NewId(), .created = c.now, .payload = tap};
  OTPD_ASSIGN_OR_RETURN(auto old, ReadTap(directory_, c.upn()));
  if (old) c.batch.Delete(Namespace::kMethods, MethodKey(c.upn(), old->id));
  c.batch.Delete(Namespace::kState, TapUseKey(c.upn()));
  OTPD_RETURN_IF_ERROR(directory_.PutMethod(c.batch, c.upn(), method));
  c.audit.detail = "pass " + method.id + ", " + std::to_string(lifetime) + " minutes" +
                   (request.usable_once ? ", usable once" : "");
  OTPD_RETURN_IF_ERROR(AddEvent(c.batch, clock_, events::kTapCreated, c.upn(),
                                EventData()
                                    .Str("id", method.id)
                                    .Int("start", start)
                                    .Int("lifetime_minutes", lifetime)
                                    .Bool("usable_once", request.usable_once)
                                    .Bool("replaced", old.has_value())
                                    .Str("by", by.actor)));
  OTPD_RETURN_IF_ERROR(CommitChange(directory_, c, invalidator_));
  created.tap.method = std::move(method);
  created.tap.usability = EvaluateTap(tap, false, policy_.enabled, clock_.NowUnixSeconds());
  return created;
}

base::StatusOr<TapView> TemporaryAccessPasses::Get(const Principal& by,
                                                   std::string_view upn_in) const {
  OTPD_RETURN_IF_ERROR(AuthorizeReadOf(by, upn_in));
  OTPD_ASSIGN_OR_RETURN(const std::string upn, CheckUpn(upn_in));
  OTPD_ASSIGN_OR_RETURN(auto tap, ReadTap(directory_, upn));
  if (!tap) return base::NotFoundError("user " + upn + " has no temporary access pass");
  OTPD_ASSIGN_OR_RETURN(bool used, TapUsed(directory_.store(), upn, tap->id));
  TapView view;
  view.usability = EvaluateTap(std::get<TemporaryAccessPassPayload>(tap->payload), used,
                               policy_.enabled, clock_.NowUnixSeconds());
  view.method = std::move(*tap);
  std::get<TemporaryAccessPassPayload>(view.method.payload).fingerprint.clear();
  return view;
}

base::Status TemporaryAccessPasses::Delete(const Principal& by, std::string_view upn,
                                           std::optional<std::string_view> id) {
  OTPD_ASSIGN_OR_RETURN(
      StagedChange c,
      BeginChange(directory_, clock_, by, Permission::kManageUserMethods, upn, "tap.delete"));
  OTPD_ASSIGN_OR_RETURN(auto tap, ReadTap(directory_, c.upn()));
  if (!tap || (id && tap->id != *id)) {
    return base::NotFoundError("user " + c.upn() + " has no temporary access pass" +
                               (id ? " with that id" : ""));
  }
  c.batch.Delete(Namespace::kMethods, MethodKey(c.upn(), tap->id));
  c.batch.Delete(Namespace::kState, TapUseKey(c.upn()));
  c.audit.detail = "pass " + tap->id;
  OTPD_RETURN_IF_ERROR(AddEvent(c.batch, clock_, events::kTapDeleted, c.upn(),
                                EventData().Str("id", tap->id).Str("by", by.actor)));
  return CommitChange(directory_, c, invalidator_);
}

}  // namespace otpd::service
