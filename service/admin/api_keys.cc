#include "service/admin/api_keys.h"

#include <algorithm>

#include "base/codec.h"
#include "base/constant_time.h"
#include "base/seal.h"
#include "service/admin/audit.h"
#include "service/admin/inventory.h"

namespace otpd::service {

using storage::Namespace;

namespace {

constexpr std::string_view kKeyPrefix = "otpd_";
constexpr size_t kIdChars = 16;
constexpr size_t kSecretBytes = 32;

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string SecretDigestHex(std::string_view secret) {
  base::Sha256Digest d = base::Sha256(secret);
  return base::HexEncode(std::span<const uint8_t>(d));
}

}  // namespace

base::StatusOr<std::optional<Versioned<ApiKeyRecord>>> ApiKeys::Load(std::string_view id) const {
  OTPD_ASSIGN_OR_RETURN(auto stored, directory_.GetSigned(Namespace::kMeta, ApiKeyRecordKey(id)));
  if (!stored) return std::optional<Versioned<ApiKeyRecord>>();
  OTPD_ASSIGN_OR_RETURN(ApiKeyRecord r, DecodeApiKey(stored->record));
  if (r.id != id) return base::DataLossError("API key record names another id");
  return std::optional<Versioned<ApiKeyRecord>>(Versioned<ApiKeyRecord>{r, stored->version});
}

base::StatusOr<std::vector<ApiKeyRecord>> ApiKeys::All() const {
  std::vector<ApiKeyRecord> out;
  OTPD_RETURN_IF_ERROR(directory_.store().Scan(
      Namespace::kMeta, kApiKeyPrefix,
      [&](std::string_view key, const storage::Record&) -> base::StatusOr<bool> {
        OTPD_ASSIGN_OR_RETURN(auto r, Load(key.substr(kApiKeyPrefix.size())));
        if (r) out.push_back(std::move(r->record));
        return true;
      }));
  std::sort(out.begin(), out.end(),
            [](const ApiKeyRecord& a, const ApiKeyRecord& b) { return a.name < b.name; });
  return out;
}

base::StatusOr<CreatedApiKey> ApiKeys::Create(const Principal& by, std::string_view name,
                                              const std::vector<std::string>& roles,
                                              std::string_view user) {
  AuditRecord audit = MakeAudit(clock_, by, "api_key.create", "apikey/" + std::string(name));
  if (base::Status allowed = Authorize(by, Permission::kManageApiKeys); !allowed.ok()) {
    return RecordRefusal(directory_.store(), std::move(audit), allowed);
  }
  if (!ValidName(name)) {
    return base::InvalidArgumentError("name: 1 to 64 of A-Z a-z 0-9 . _ -");
  }
  if (roles.empty()) return base::InvalidArgumentError("roles: a key needs at least one role");
  OTPD_RETURN_IF_ERROR(RoleSet::Parse(roles).status().WithContext("roles"));
  std::string upn;
  if (!user.empty()) {
    OTPD_ASSIGN_OR_RETURN(upn, CheckUpn(user));
  }
  OTPD_ASSIGN_OR_RETURN(std::vector<ApiKeyRecord> existing, All());
  for (const ApiKeyRecord& r : existing) {
    if (r.name == name) {
      return base::AlreadyExistsError("an API key named " + std::string(name) + " exists");
    }
  }
  uint8_t secret[kSecretBytes];
  OTPD_RETURN_IF_ERROR(base::RandomBytes(secret));
  std::string secret_text = base::HexEncode(secret);
  base::Wipe(secret, sizeof secret);
  CreatedApiKey created;
  ApiKeyRecord& r = created.record;
  r.id = NewId();
  r.name = std::string(name);
  r.roles = roles;
  r.user = upn;
  r.secret_sha256 = SecretDigestHex(secret_text);
  r.created = clock_.NowUnixSeconds();
  r.created_by = by.actor;
  std::string key_text = std::string(kKeyPrefix) + r.id + "_" + secret_text;
  created.key = base::SecretBytes::FromString(key_text);
  base::Wipe(secret_text.data(), secret_text.size());
  base::Wipe(key_text.data(), key_text.size());

  storage::WriteBatch batch;
  batch.RequireVersion(Namespace::kMeta, ApiKeyRecordKey(r.id), 0);
  OTPD_RETURN_IF_ERROR(
      directory_.PutSigned(batch, Namespace::kMeta, ApiKeyRecordKey(r.id), EncodeApiKey(r)));
  audit.target = "apikey/" + r.name;
  audit.detail = "roles " + [&] {
    std::string s;
    for (const std::string& role : roles) s += (s.empty() ? "" : ",") + role;
    return s;
  }();
  if (!upn.empty()) {
    // The key's holder becomes an administrator for the role checks (Directory::HoldsAdminKey):
    // a change to them decided before this key existed must not commit after it.
    auto holder = directory_.BeginUserChange(upn, r.created, false);
    if (holder.ok()) {
      OTPD_RETURN_IF_ERROR(directory_.Fence(batch, *holder, r.created));
    } else if (base::IsNotFound(holder.status())) {
      batch.RequireVersion(Namespace::kUsers, upn, 0);
    } else {
      return holder.status();
    }
  }
  AddAudit(batch, audit);
  base::Status s = directory_.store().Commit(std::move(batch), storage::Durability::kDurable);
  if (base::IsAborted(s)) {
    return base::AbortedError("user " + upn + " changed while the key was being made; try again");
  }
  OTPD_RETURN_IF_ERROR(s);
  return created;
}

base::StatusOr<std::vector<ApiKeyRecord>> ApiKeys::List(const Principal& by) const {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kManageApiKeys));
  return All();
}

base::Status ApiKeys::Revoke(const Principal& by, std::string_view id_or_name) {
  AuditRecord audit = MakeAudit(clock_, by, "api_key.revoke", "apikey/" + std::string(id_or_name));
  if (base::Status allowed = Authorize(by, Permission::kManageApiKeys); !allowed.ok()) {
    return RecordRefusal(directory_.store(), std::move(audit), allowed);
  }
  OTPD_ASSIGN_OR_RETURN(std::vector<ApiKeyRecord> keys, All());
  const ApiKeyRecord* found = nullptr;
  for (const ApiKeyRecord& r : keys) {
    if (r.id == id_or_name || r.name == id_or_name) found = &r;
  }
  if (found == nullptr) {
    return base::NotFoundError("no API key " + std::string(id_or_name).substr(0, 64));
  }
  storage::WriteBatch batch;
  batch.Delete(Namespace::kMeta, ApiKeyRecordKey(found->id));
  audit.target = "apikey/" + found->name;
  AddAudit(batch, audit);
  OTPD_RETURN_IF_ERROR(directory_.store().Commit(std::move(batch), storage::Durability::kDurable));
  return base::OkStatus();
}

base::StatusOr<Principal> ApiKeys::Authenticate(std::string_view bearer) const {
  const base::Status denied = base::UnauthenticatedError("unknown or revoked API key");
  // otpd_<16 hex id>_<64 hex secret>
  if (bearer.size() != kKeyPrefix.size() + kIdChars + 1 + 2 * kSecretBytes ||
      !bearer.starts_with(kKeyPrefix) || bearer[kKeyPrefix.size() + kIdChars] != '_') {
    return denied;
  }
  const std::string id(bearer.substr(kKeyPrefix.size(), kIdChars));
  const std::string_view secret = bearer.substr(kKeyPrefix.size() + kIdChars + 1);
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return denied;
  }
  // Hashed before the read, so that an unknown key costs what a wrong one does.
  const std::string given = SecretDigestHex(secret);
  // Read on every use, never from memory: a key revoked or changed through another node must not
  // outlive the call that revoked it by one request.
  base::StatusOr<std::optional<Versioned<ApiKeyRecord>>> loaded = Load(id);
  if (!loaded.ok()) {
    // A record that fails its check is never used; a read that failed is not a refusal.
    if (loaded.status().code() == base::StatusCode::kDataLoss) return denied;
    return loaded.status();
  }
  if (!*loaded) return denied;
  const ApiKeyRecord& record = (*loaded)->record;
  if (!base::ConstantTimeEqualsPublicLength(given, record.secret_sha256)) return denied;
  Principal p;
  p.actor = "apikey:" + record.name;
  p.user = record.user;
  auto roles = RoleSet::Parse(record.roles);
  if (roles.ok()) p.roles = *roles;
  return p;
}

}  // namespace otpd::service
