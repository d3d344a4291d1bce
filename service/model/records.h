// The records service/ keeps in the Store, and their encodings. Cold records (users, methods,
// tokens, batches, audit) are JSON objects so that they can evolve field by field; the hot
// per-credential and per-user sign-in state is a small fixed binary layout rewritten on every
// sign-in. Users, methods and tokens are stored signed (service/model/directory.h); the functions
// here only turn records into bytes and back.
//
// Keys: users/<upn>, methods/<upn>\0<method id>, tokens/<serial>, state/t/<serial> (a hardware
// token's sign-in state, kept for the token's whole life whoever it is assigned to),
// state/m/<upn>\0<method id> (an authenticator app's sign-in state), state/u/<upn> (a user's
// lockout state), state/c/<upn> (the user's phone challenge), state/a/<upn> (the one-time
// temporary access pass the user has used), apppw/<upn>\0<id> (app passwords),
// sessions/<upn>\0<id> (remembered MFA sessions), meta/batch/<batch id>, meta/seed/<fingerprint>
// (the serial a seed is stored under), audit/<time micros, big-endian><random>, outbox/<sequence>
// (lifecycle events, service/hooks/outbox.h).

#ifndef OTPD_SERVICE_MODEL_RECORDS_H_
#define OTPD_SERVICE_MODEL_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/password_hash.h"
#include "base/statusor.h"
#include "engine/lockout.h"
#include "engine/otp_params.h"
#include "engine/verifier.h"
#include "service/model/method_kind.h"

namespace otpd::service {

enum class TokenStatus : uint8_t { kAvailable, kAssigned, kActivated, kFailedActivation };

// "available", "assigned", "activated", "failedActivation" (the statuses of Microsoft Entra's
// hardware OATH tokens).
std::string_view TokenStatusName(TokenStatus status);
base::StatusOr<TokenStatus> ParseTokenStatus(std::string_view name);

struct UserRecord {
  std::string upn;  // lower-case
  std::string display_name;
  std::vector<std::string> roles;  // role names (service/admin/roles.h)
  bool mfa_registration_required = false;
  // Remembered MFA sessions issued under an older epoch are revoked (revokeMfaSessions moves it
  // on: one write revokes them all).
  uint64_t sessions_epoch = 0;
  // The second factor the user prefers to be asked for (Graph's signInPreferences
  // userPreferredMethodForSecondaryAuthentication): "oath", "sms", "voiceMobile",
  // "voiceAlternateMobile", "voiceOffice"; "" for none (UserActions::SetPreferredMethod).
  std::string preferred_method;
  int64_t created = 0;  // Unix seconds
  int64_t updated = 0;
  // Not stored: set by AuthorizeChange (service/model/directory.h) when an API key with an
  // administrative role names this user as its holder, so that the role checks treat the person
  // behind the key as the administrator they act as (service/admin/roles.h).
  bool holds_admin_key = false;
};

// What each kind of method holds. The order of MethodRecord::Payload's alternatives is
// MethodKind's; each names its kind (kKind) and service/model/method_kinds.cc checks the order.
struct HardwareOathPayload {
  static constexpr MethodKind kKind = MethodKind::kHardwareOath;
  std::string serial;  // the token (tokens/<serial>) that backs the method
  friend bool operator==(const HardwareOathPayload&, const HardwareOathPayload&) = default;
};
struct SoftwareOathPayload {
  static constexpr MethodKind kKind = MethodKind::kSoftwareOath;
  std::string display_name;
  engine::OtpParams params;
  std::string sealed_secret;  // sealed for methods/<upn>\0<id>
  bool confirmed = false;     // false until the user proves the app shows the right codes
  int64_t expires = 0;        // Unix seconds; an unconfirmed enrolment is void after it
  friend bool operator==(const SoftwareOathPayload&, const SoftwareOathPayload&) = default;
};
enum class PhoneType : uint8_t { kMobile, kAlternateMobile, kOffice };
// "mobile", "alternateMobile", "office".
std::string_view PhoneTypeName(PhoneType type);
std::optional<PhoneType> ParsePhoneType(std::string_view name);
// The phone and channel a preferred sign-in method names (Graph's
// userPreferredMethodForSecondaryAuthentication): "sms" the mobile by SMS, "voiceMobile",
// "voiceAlternateMobile" and "voiceOffice" that phone called; nullopt for "oath", none or else.
struct PreferredPhone {
  PhoneType type = PhoneType::kMobile;
  std::string_view channel;  // "sms" or "voice"
};
std::optional<PreferredPhone> PhoneOfPreference(std::string_view preferred);
// The fixed method ids of Microsoft Graph's phone methods, and of the email method.
inline constexpr std::string_view kMobilePhoneId = "3179e48a-750b-4051-897c-87b9720928f7";
inline constexpr std::string_view kAlternateMobilePhoneId = "b6332ec1-7057-4abe-9331-3d72feddfe41";
inline constexpr std::string_view kOfficePhoneId = "e37fc753-ff3b-4958-9484-eaa9425c82bc";
inline constexpr std::string_view kEmailMethodId = "3ddfcfc8-9383-446f-83cc-3ab9be4be18f";
// The fixed id of the user's phone method of `type`.
std::string_view PhoneMethodId(PhoneType type);

struct PhonePayload {
  static constexpr MethodKind kKind = MethodKind::kPhone;
  PhoneType type = PhoneType::kMobile;
  std::string number;  // "+<country code> <number>[x<extension>]"
  bool sms_sign_in = false;
  friend bool operator==(const PhonePayload&, const PhonePayload&) = default;
};
struct EmailPayload {
  static constexpr MethodKind kKind = MethodKind::kEmail;
  std::string address;
  friend bool operator==(const EmailPayload&, const EmailPayload&) = default;
};
// The user's password (service/credentials/passwords.h), under Graph's fixed id for it. Only its
// scrypt hash is kept.
struct PasswordPayload {
  static constexpr MethodKind kKind = MethodKind::kPassword;
  base::PasswordHash hash;
  bool must_change = false;  // set by an administrator's reset, cleared by the user's change
  int64_t last_changed = 0;  // Unix seconds
  friend bool operator==(const PasswordPayload&, const PasswordPayload&) = default;
};
// A temporary access pass (service/credentials/temporary_access_pass.h): at most one per user. Only
// a keyed fingerprint of the pass is kept (KeyRing::Fingerprint, purpose "tap"): a short pass could
// be found from a plain hash by trying them all, not from a fingerprint without the master key.
struct TemporaryAccessPassPayload {
  static constexpr MethodKind kKind = MethodKind::kTemporaryAccessPass;
  std::string fingerprint;
  int64_t start = 0;               // Unix seconds: usable from then
  uint32_t lifetime_minutes = 60;  // usable until start + lifetime
  bool usable_once = false;
  friend bool operator==(const TemporaryAccessPassPayload&,
                         const TemporaryAccessPassPayload&) = default;
};

struct MethodRecord {
  using Payload = std::variant<HardwareOathPayload, SoftwareOathPayload, PhonePayload, EmailPayload,
                               PasswordPayload, TemporaryAccessPassPayload>;

  std::string id;
  int64_t created = 0;
  Payload payload;

  MethodKind kind() const { return static_cast<MethodKind>(payload.index()); }
  // The token's serial for a hardware OATH method; empty for every other kind.
  std::string_view serial() const {
    const auto* hw = std::get_if<HardwareOathPayload>(&payload);
    return hw ? std::string_view(hw->serial) : std::string_view();
  }
  friend bool operator==(const MethodRecord&, const MethodRecord&) = default;
};

// A hardware token in the inventory. The seed is only ever held sealed (AES-256-GCM under the data
// key, bound to tokens/<serial>).
struct TokenRecord {
  std::string serial;
  std::string manufacturer;
  std::string model;
  std::string display_name;  // an administrator's name for it; may be empty
  engine::OtpParams params;
  std::string sealed_seed;
  TokenStatus status = TokenStatus::kAvailable;
  std::string assigned_to;  // upn, empty when available
  std::string method_id;    // the user's method that this token backs
  std::string batch;        // the import batch it came from
  // Stored by an import whose batch is not complete yet: no reader sees the token until the batch
  // record says complete (Directory::Seen). The mark is dropped when the token is next written
  // (an assignment); until then, a process reads the batch record once to learn it is complete.
  bool importing = false;
  uint64_t initial_counter = 0;      // HOTP: the counter the token starts at
  int64_t initial_drift = 0;         // TOTP: drift known from the vendor (PSKC TimeDrift)
  std::optional<int64_t> not_after;  // the vendor's expiry date, if any
  uint32_t activation_failures = 0;
  int64_t created = 0;
  int64_t updated = 0;
};

// Provenance of one import.
struct BatchRecord {
  std::string id;
  std::string file;    // the file name as given
  std::string sha256;  // of the file's bytes, hex
  std::string format;
  int64_t time = 0;
  uint64_t imported = 0;
  uint64_t updated = 0;
  uint64_t unchanged = 0;
  uint64_t failed = 0;
  // Every new token of the file is stored: they are seen from the commit that sets this. Before,
  // none is (an import stopped midway is finished by importing the same file again, or discarded).
  bool complete = false;
  // Complete, and the rows that assign tokens to users or replace stored ones are still being
  // applied, one user's change at a time; importing the same file again finishes them.
  bool assigning = false;
};

// The hot sign-in state of one OATH credential.
struct CredentialState {
  engine::TokenState token;
  int64_t last_used = 0;  // Unix seconds of the last accepted code, 0 if never

  friend bool operator==(const CredentialState&, const CredentialState&) = default;
};

// An app password (service/credentials/app_passwords.h): a long random password for clients that
// cannot do MFA. Only its SHA-256 is kept (signed, in apppw/<upn>\0<id>).
struct AppPasswordRecord {
  std::string id;
  std::string display_name;
  std::string sha256;  // hex of the password's SHA-256
  int64_t created = 0;
  friend bool operator==(const AppPasswordRecord&, const AppPasswordRecord&) = default;
};

// A remembered MFA session (REMEMBER, SESSION): signed, in sessions/<upn>\0<id>. Revoked when the
// user's sessions_epoch has moved past `epoch`.
struct SessionRecord {
  std::string id;
  std::string secret_sha256;  // hex of the SHA-256 of the token's secret part
  uint64_t epoch = 0;
  int64_t created = 0;
  int64_t expires = 0;
  friend bool operator==(const SessionRecord&, const SessionRecord&) = default;
};

// A user's phone challenge (CHALLENGE, then VERIFY), in state/c/<upn>: the pending one-time code
// (its keyed fingerprint) and the rate limit's window.
struct ChallengeState {
  std::string fingerprint;    // of upn \0 code; empty when no code is pending
  std::string method_id;      // the phone it was sent to
  int64_t expires = 0;        // Unix seconds
  bool used = false;          // accepted once; kept until it expires so that a reuse is a replay
  std::string channel;        // "sms" or "voice": how the code went ("" in older records)
  int64_t window_start = 0;   // the rate limit's current window
  uint32_t window_count = 0;  // challenges sent in it
  friend bool operator==(const ChallengeState&, const ChallengeState&) = default;
};

struct AuditRecord {
  int64_t time_micros = 0;
  std::string actor;
  std::string action;
  std::string target;
  std::string result;      // "ok" or the reason it was refused
  std::string detail;      // never a secret
  std::string request_id;  // the admin API request that did it, if any
};

// An API key for the admin API (service/admin/api_keys.h): only the SHA-256 of its secret is kept,
// signed, in meta/apikey/<id>.
struct ApiKeyRecord {
  std::string id;    // 16 hex characters
  std::string name;  // unique, 1..64 of [A-Za-z0-9._-]
  std::vector<std::string> roles;
  std::string user;           // optional UPN: the person holding the key
  std::string secret_sha256;  // hex
  int64_t created = 0;
  std::string created_by;
};
inline constexpr std::string_view kApiKeyPrefix = "apikey/";  // in meta
std::string ApiKeyRecordKey(std::string_view id);
std::string EncodeApiKey(const ApiKeyRecord& r);
base::StatusOr<ApiKeyRecord> DecodeApiKey(std::string_view data);

std::string EncodeUser(const UserRecord& r);
base::StatusOr<UserRecord> DecodeUser(std::string_view data);
std::string EncodeMethod(const MethodRecord& r);
base::StatusOr<MethodRecord> DecodeMethod(std::string_view data);
std::string EncodeToken(const TokenRecord& r);
base::StatusOr<TokenRecord> DecodeToken(std::string_view data);
std::string EncodeBatch(const BatchRecord& r);
base::StatusOr<BatchRecord> DecodeBatch(std::string_view data);
std::string EncodeAudit(const AuditRecord& r);
base::StatusOr<AuditRecord> DecodeAudit(std::string_view data);

std::string EncodeAppPassword(const AppPasswordRecord& r);
base::StatusOr<AppPasswordRecord> DecodeAppPassword(std::string_view data);
std::string EncodeSession(const SessionRecord& r);
base::StatusOr<SessionRecord> DecodeSession(std::string_view data);
std::string EncodeChallenge(const ChallengeState& s);
base::StatusOr<ChallengeState> DecodeChallenge(std::string_view data);

std::string EncodeCredentialState(const CredentialState& s);
base::StatusOr<CredentialState> DecodeCredentialState(std::string_view data);
std::string EncodeLockout(const engine::LockoutState& s);
base::StatusOr<engine::LockoutState> DecodeLockout(std::string_view data);

// Keys.
std::string MethodKey(std::string_view upn, std::string_view method_id);
std::string MethodPrefix(std::string_view upn);  // all of a user's methods
std::string TokenStateKey(std::string_view serial);
std::string MethodStateKey(std::string_view upn, std::string_view method_id);
std::string LockoutKey(std::string_view upn);
std::string ChallengeKey(std::string_view upn);  // state/c/<upn>
std::string TapUseKey(std::string_view upn);     // state/a/<upn>: the id of the used one-time TAP
std::string AppPasswordKey(std::string_view upn, std::string_view id);  // apppw; MethodPrefix
std::string SessionKey(std::string_view upn, std::string_view id);      // sessions; MethodPrefix
std::string BatchKey(std::string_view batch_id);
inline constexpr std::string_view kBatchPrefix = "batch/";
// The meta record naming the serial under which a seed (by its KeyRing fingerprint) is stored.
std::string SeedIndexKey(std::string_view fingerprint);
// state/r/<fingerprint>: the sign-in state of a deleted token, kept under its seed's fingerprint
// so that the same seed imported again (under any serial) resumes from its watermark.
std::string RetiredStateKey(std::string_view fingerprint);
inline constexpr std::string_view kSeedIndexPrefix = "seed/";
// The KeyRing::Fingerprint purpose for seeds.
inline constexpr std::string_view kSeedFingerprintPurpose = "seed";
// A time-ordered unique audit key: 8 bytes of big-endian micros then 8 random bytes.
std::string AuditKey(int64_t time_micros);

// A fresh random identifier: 16 lower-case hex characters (safe in protocol ids and paths).
std::string NewId();

// Lower-cases an UPN (ASCII letters) for use as a key.
std::string NormaliseUpn(std::string_view upn);
// True when NormaliseUpn(upn) == upn.
bool IsNormalisedUpn(std::string_view upn);

}  // namespace otpd::service

#endif  // OTPD_SERVICE_MODEL_RECORDS_H_
