#include "service/api_keys.h"

#include <openssl/crypto.h>

#include <algorithm>

#include <boost/json.hpp>

#include "base/codec.h"
#include "base/seal.h"
#include "service/audit.h"
#include "service/inventory.h"

namespace otpd::service {

namespace json = boost::json;
using storage::Namespace;

namespace {

constexpr std::string_view kPrefix = "apikey/";
constexpr std::string_view kKeyPrefix = "otpd_";
constexpr size_t kIdChars = 16;
constexpr size_t kSecretBytes = 32;

std::string RecordKey(std::string_view id) { return std::string(kPrefix) + std::string(id); }

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string Encode(const ApiKeyRecord& r) {
  json::object o;
  o["id"] = r.id;
  o["name"] = r.name;
  json::array roles;
  for (const std::string& role : r.roles) roles.emplace_back(role);
  o["roles"] = std::move(roles);
  if (!r.user.empty()) o["user"] = r.user;
  o["secret_sha256"] = r.secret_sha256;
  o["created"] = r.created;
  o["created_by"] = r.created_by;
  return json::serialize(o);
}

base::StatusOr<ApiKeyRecord> Decode(std::string_view data) {
  boost::system::error_code ec;
  json::value v = json::parse(data, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  auto str = [&](std::string_view k) -> std::string {
    const json::value* f = o->if_contains(k);
    return f != nullptr && f->is_string() ? std::string(f->get_string()) : std::string();
  };
  if (o == nullptr) return base::DataLossError("API key record is not a JSON object");
  ApiKeyRecord r;
  r.id = str("id");
  r.name = str("name");
  r.user = str("user");
  r.secret_sha256 = str("secret_sha256");
  r.created_by = str("created_by");
  if (const json::value* c = o->if_contains("created"); c != nullptr && c->is_int64()) {
    r.created = c->get_int64();
  }
  if (const json::value* roles = o->if_contains("roles"); roles != nullptr && roles->is_array()) {
    for (const json::value& role : roles->get_array()) {
      if (role.is_string()) r.roles.emplace_back(role.get_string());
    }
  }
  if (r.id.size() != kIdChars || r.secret_sha256.size() != 64) {
    return base::DataLossError("API key record is incomplete");
  }
  return r;
}

std::string SecretDigestHex(std::string_view secret) {
  base::Sha256Digest d = base::Sha256(secret);
  return base::HexEncode(std::span<const uint8_t>(d));
}

}  // namespace

base::StatusOr<std::optional<Versioned<ApiKeyRecord>>> ApiKeys::Load(std::string_view id) const {
  OTPD_ASSIGN_OR_RETURN(auto stored, directory_.GetSigned(Namespace::kMeta, RecordKey(id)));
  if (!stored) return std::optional<Versioned<ApiKeyRecord>>();
  OTPD_ASSIGN_OR_RETURN(ApiKeyRecord r, Decode(stored->record));
  if (r.id != id) return base::DataLossError("API key record names another id");
  return std::optional<Versioned<ApiKeyRecord>>(Versioned<ApiKeyRecord>{r, stored->version});
}

base::StatusOr<std::vector<ApiKeyRecord>> ApiKeys::All() const {
  std::vector<ApiKeyRecord> out;
  OTPD_RETURN_IF_ERROR(directory_.store().Scan(
      Namespace::kMeta, kPrefix,
      [&](std::string_view key, const storage::Record&) -> base::StatusOr<bool> {
        OTPD_ASSIGN_OR_RETURN(auto r, Load(key.substr(kPrefix.size())));
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
  AuditRecord audit = MakeAudit(clock_, by, "apikey.create", "apikey/" + std::string(name));
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
  batch.RequireVersion(Namespace::kMeta, RecordKey(r.id), 0);
  OTPD_RETURN_IF_ERROR(directory_.PutSigned(batch, Namespace::kMeta, RecordKey(r.id), Encode(r)));
  audit.target = "apikey/" + r.name;
  audit.detail = "roles " + [&] {
    std::string s;
    for (const std::string& role : roles) s += (s.empty() ? "" : ",") + role;
    return s;
  }();
  AddAudit(batch, audit);
  OTPD_RETURN_IF_ERROR(directory_.store().Commit(std::move(batch), storage::Durability::kDurable));
  return created;
}

base::StatusOr<std::vector<ApiKeyRecord>> ApiKeys::List(const Principal& by) const {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kManageApiKeys));
  return All();
}

base::Status ApiKeys::Revoke(const Principal& by, std::string_view id_or_name) {
  AuditRecord audit = MakeAudit(clock_, by, "apikey.revoke", "apikey/" + std::string(id_or_name));
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
  batch.Delete(Namespace::kMeta, RecordKey(found->id));
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
  if (given.size() != record.secret_sha256.size() ||
      CRYPTO_memcmp(given.data(), record.secret_sha256.data(), given.size()) != 0) {
    return denied;
  }
  Principal p;
  p.actor = "apikey:" + record.name;
  p.user = record.user;
  auto roles = RoleSet::Parse(record.roles);
  if (roles.ok()) p.roles = *roles;
  return p;
}

}  // namespace otpd::service
