#include "service/model/directory.h"

#include <algorithm>
#include <unordered_set>
#include <utility>

#include "base/mutex.h"
#include "tokenio/upn.h"

namespace otpd::service {

using storage::Namespace;

namespace {

// Names the record in an integrity error; keys are not secret.
base::Status Tampered(const base::Status& s, std::string_view what, std::string_view key) {
  return s.WithContext(std::string(what) + " " + std::string(key));
}

// Users and their methods are stored only under a normalised address: whatever bytes a caller
// passes, no record can land under another user's keys (a NUL, for one, separates a user's name
// from a method id in the methods namespace).
base::Status CheckStoredUpn(std::string_view upn) {
  auto normalised = tokenio::NormaliseUpn(upn);
  if (!normalised.ok()) return normalised.status();
  if (*normalised != upn) {
    return base::InvalidArgumentError("upn must be given trimmed and in lower case");
  }
  return base::OkStatus();
}

}  // namespace

base::StatusOr<std::optional<Versioned<UserRecord>>> Directory::GetUser(
    std::string_view upn) const {
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> stored, store_.Get(Namespace::kUsers, upn));
  if (!stored) return std::optional<Versioned<UserRecord>>();
  auto payload = keys_.OpenRecord(Namespace::kUsers, upn, stored->value);
  if (!payload.ok()) return Tampered(payload.status(), "user", upn);
  OTPD_ASSIGN_OR_RETURN(UserRecord user, DecodeUser(*payload));
  if (user.upn != upn)
    return base::DataLossError("user record " + std::string(upn) + " names another user");
  return std::optional<Versioned<UserRecord>>(
      Versioned<UserRecord>{std::move(user), stored->version});
}

base::StatusOr<TokenRecord> Directory::DecodeTokenAt(std::string_view serial,
                                                     std::string_view stored) const {
  auto payload = keys_.OpenRecord(Namespace::kTokens, serial, stored);
  if (!payload.ok()) return Tampered(payload.status(), "token", serial);
  OTPD_ASSIGN_OR_RETURN(TokenRecord token, DecodeToken(*payload));
  if (token.serial != serial) {
    return base::DataLossError("token record " + std::string(serial) + " names another serial");
  }
  return token;
}

base::StatusOr<std::optional<Versioned<TokenRecord>>> Directory::GetStoredToken(
    std::string_view serial) const {
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> stored,
                        store_.Get(Namespace::kTokens, serial));
  if (!stored) return std::optional<Versioned<TokenRecord>>();
  OTPD_ASSIGN_OR_RETURN(TokenRecord token, DecodeTokenAt(serial, stored->value));
  return std::optional<Versioned<TokenRecord>>(
      Versioned<TokenRecord>{std::move(token), stored->version});
}

base::StatusOr<std::optional<Versioned<TokenRecord>>> Directory::GetToken(
    std::string_view serial) const {
  OTPD_ASSIGN_OR_RETURN(std::optional<Versioned<TokenRecord>> token, GetStoredToken(serial));
  if (!token) return token;
  OTPD_ASSIGN_OR_RETURN(bool seen, Seen(token->record));
  if (!seen) return std::optional<Versioned<TokenRecord>>();
  // Seen for good: whoever writes the token back drops the mark.
  token->record.importing = false;
  return token;
}

namespace {

// The batches this process found complete. Batch ids are random and never reused, and a complete
// batch never becomes incomplete, so one set serves every store the process opens.
class CompleteBatches {
 public:
  static CompleteBatches& Get() {
    static CompleteBatches* const batches = new CompleteBatches();  // never destroyed
    return *batches;
  }
  bool Has(const std::string& id) const {
    base::MutexLock lock(mu_);
    return ids_.contains(id);
  }
  void Add(const std::string& id) {
    base::MutexLock lock(mu_);
    ids_.insert(id);
  }

 private:
  mutable base::Mutex mu_;
  std::unordered_set<std::string> ids_ OTPD_GUARDED_BY(mu_);
};

}  // namespace

base::StatusOr<bool> Directory::Seen(const TokenRecord& token) const {
  if (!token.importing) return true;
  CompleteBatches& complete = CompleteBatches::Get();
  if (complete.Has(token.batch)) return true;
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> stored,
                        store_.Get(Namespace::kMeta, BatchKey(token.batch)));
  if (!stored) return false;  // a batch being discarded
  OTPD_ASSIGN_OR_RETURN(BatchRecord batch, DecodeBatch(stored->value));
  if (batch.complete) complete.Add(token.batch);
  return batch.complete;
}

base::StatusOr<std::vector<base::StatusOr<MethodRecord>>> Directory::ReadMethods(
    std::string_view upn) const {
  std::vector<base::StatusOr<MethodRecord>> methods;
  OTPD_RETURN_IF_ERROR(
      store_.Scan(Namespace::kMethods, MethodPrefix(upn),
                  [&](std::string_view key, const storage::Record& stored) -> base::StatusOr<bool> {
                    auto payload = keys_.OpenRecord(Namespace::kMethods, key, stored.value);
                    if (!payload.ok()) {
                      methods.push_back(Tampered(payload.status(), "method of", upn));
                      return true;
                    }
                    base::StatusOr<MethodRecord> method = DecodeMethod(*payload);
                    if (method.ok() && MethodKey(upn, method->id) != key) {
                      method = base::DataLossError("method record of " + std::string(upn) +
                                                   " names another method id");
                    }
                    methods.push_back(std::move(method));
                    return true;
                  }));
  return methods;
}

base::StatusOr<std::optional<Versioned<std::string>>> Directory::GetSigned(
    Namespace ns, std::string_view key) const {
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> stored, store_.Get(ns, key));
  if (!stored) return std::optional<Versioned<std::string>>();
  auto payload = keys_.OpenRecord(ns, key, stored->value);
  if (!payload.ok()) return Tampered(payload.status(), NamespaceName(ns), key);
  return std::optional<Versioned<std::string>>(
      Versioned<std::string>{std::string(*payload), stored->version});
}

base::Status Directory::PutSigned(storage::WriteBatch& batch, Namespace ns, std::string_view key,
                                  std::string_view payload) const {
  OTPD_ASSIGN_OR_RETURN(std::string signed_record, keys_.SignRecord(ns, key, payload));
  batch.Put(ns, key, signed_record);
  return base::OkStatus();
}

base::Status Directory::PutUser(storage::WriteBatch& batch, const UserRecord& user) const {
  OTPD_RETURN_IF_ERROR(CheckStoredUpn(user.upn));
  OTPD_ASSIGN_OR_RETURN(std::string signed_record,
                        keys_.SignRecord(Namespace::kUsers, user.upn, EncodeUser(user)));
  batch.Put(Namespace::kUsers, user.upn, signed_record);
  return base::OkStatus();
}

base::Status Directory::PutToken(storage::WriteBatch& batch, const TokenRecord& token) const {
  OTPD_ASSIGN_OR_RETURN(std::string signed_record,
                        keys_.SignRecord(Namespace::kTokens, token.serial, EncodeToken(token)));
  batch.Put(Namespace::kTokens, token.serial, signed_record);
  return base::OkStatus();
}

base::Status Directory::PutMethod(storage::WriteBatch& batch, std::string_view upn,
                                  const MethodRecord& method) const {
  OTPD_RETURN_IF_ERROR(CheckStoredUpn(upn));
  const std::string key = MethodKey(upn, method.id);
  OTPD_ASSIGN_OR_RETURN(std::string signed_record,
                        keys_.SignRecord(Namespace::kMethods, key, EncodeMethod(method)));
  batch.Put(Namespace::kMethods, key, signed_record);
  return base::OkStatus();
}

base::StatusOr<UserChange> Directory::BeginUserChange(std::string_view upn, int64_t now,
                                                      bool create) const {
  // Without `create`, a malformed name is simply nobody's (NotFound below).
  if (create) OTPD_RETURN_IF_ERROR(CheckStoredUpn(upn));
  UserChange change;
  OTPD_ASSIGN_OR_RETURN(std::optional<Versioned<UserRecord>> user, GetUser(upn));
  if (user) {
    change.user = std::move(user->record);
    change.version = user->version;
  } else if (create) {
    change.user = UserRecord{.upn = std::string(upn), .created = now, .updated = now};
  } else {
    return base::NotFoundError("no user " + std::string(upn));
  }
  OTPD_ASSIGN_OR_RETURN(auto methods, ReadMethods(upn));
  for (const auto& m : methods) {
    if (!m.ok() || IsOathKind(m->kind())) ++change.oath_methods;
  }
  return change;
}

base::Status AuthorizeChange(const Directory& directory, const Principal& by, Permission permission,
                             UserRecord& target) {
  // Only an authentication administrator's answer can depend on it (the owner and a privileged
  // administrator may act on anyone): the keys are read only then.
  const bool depends = !by.owner && !by.self_service &&
                       !by.roles.Has(Role::kPrivilegedAuthenticationAdministrator) &&
                       by.roles.Has(Role::kAuthenticationAdministrator) && !HoldsAdminRole(target);
  if (depends) {
    OTPD_ASSIGN_OR_RETURN(target.holds_admin_key, directory.HoldsAdminKey(target.upn));
  }
  return Authorize(by, permission, &target);
}

base::StatusOr<bool> Directory::HoldsAdminKey(std::string_view upn) const {
  // Keys are few (one per front end or administrator), so a scan costs less than an index
  // would to keep right; a key record that fails its check counts, the safe side.
  bool holds = false;
  OTPD_RETURN_IF_ERROR(
      store_.Scan(Namespace::kMeta, kApiKeyPrefix,
                  [&](std::string_view key, const storage::Record& stored) -> base::StatusOr<bool> {
                    auto payload = keys_.OpenRecord(Namespace::kMeta, key, stored.value);
                    auto record = payload.ok() ? DecodeApiKey(*payload) : payload.status();
                    if (!record.ok()) {
                      holds = true;
                      return false;
                    }
                    if (record->user != upn) return true;
                    holds = std::any_of(record->roles.begin(), record->roles.end(),
                                        [](const std::string& role) { return role != "reader"; });
                    return !holds;
                  }));
  return holds;
}

base::Status Directory::AddMethod(storage::WriteBatch& batch, UserChange& change,
                                  const MethodRecord& method, uint32_t max_oath_methods) const {
  if (IsOathKind(method.kind())) {
    if (change.oath_methods >= max_oath_methods) {
      return base::ResourceExhaustedError(
          "user " + change.user.upn + " already has " + std::to_string(change.oath_methods) +
          " OATH methods (the limit is " + std::to_string(max_oath_methods) + ")");
    }
    ++change.oath_methods;
  }
  return PutMethod(batch, change.user.upn, method);
}

base::Status Directory::Fence(storage::WriteBatch& batch, UserChange& change, int64_t now) const {
  batch.RequireVersion(Namespace::kUsers, change.user.upn, change.version);
  change.user.updated = now;
  return PutUser(batch, change.user);
}

}  // namespace otpd::service
