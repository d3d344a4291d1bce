// Directory is the service's access to the records that decide who signs in with what: users,
// their methods and the hardware-token inventory. Each is stored signed (KeyRing::SignRecord,
// bound to its namespace and key) and checked when read, so whoever can write the database but
// does not hold the master key cannot assign a token to another user, move a record to another
// key, or forge a method: such a record reads as DataLoss and is never used.
//
// The per-user fence: every change to a user's methods, tokens, registration state or sessions
// goes through a UserChange, whose Commit makes the batch conditional on the version of the
// user's record (users/<upn>) as it was read and rewrites that record, so the version moves.
// Sign-in commits are conditional on the version they loaded (SignInVerifier), so a change that
// returned has ordered itself after every sign-in already committed, and a sign-in decided on
// the state before it fails its condition and is decided again.
//
// Thread-safety: const methods may be called from any thread; the Directory holds no state of
// its own beyond references.

#ifndef OTPD_SERVICE_MODEL_DIRECTORY_H_
#define OTPD_SERVICE_MODEL_DIRECTORY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/statusor.h"
#include "service/admin/roles.h"
#include "service/model/records.h"
#include "storage/keyring.h"
#include "storage/store.h"

namespace otpd::service {

template <typename T>
struct Versioned {
  T record;
  uint64_t version = 0;
};

// A change to one user in progress: the user record as read (or as it will be created) and the
// version the change is conditional on (0: the user must not exist yet).
struct UserChange {
  UserRecord user;
  uint64_t version = 0;
  // The user's OATH methods (hardware and software tokens) when the change began, plus those this
  // change added (AddMethod). Methods whose record fails its check are counted too.
  uint32_t oath_methods = 0;
};

class Directory {
 public:
  // `store` and `keys` must outlive the directory.
  Directory(storage::Store& store, const storage::KeyRing& keys) : store_(store), keys_(keys) {}

  storage::Store& store() const { return store_; }
  const storage::KeyRing& keys() const { return keys_; }

  // The user, nullopt when absent. DataLoss when the record fails its check.
  base::StatusOr<std::optional<Versioned<UserRecord>>> GetUser(std::string_view upn) const;
  // The token, nullopt when absent or not seen yet (Seen; a token returned has `importing`
  // cleared, so that writing it back drops the mark). DataLoss when the record fails its check or
  // names another serial than its key.
  base::StatusOr<std::optional<Versioned<TokenRecord>>> GetToken(std::string_view serial) const;
  // The token as stored, seen or not: for the importer and the discarding of a batch.
  base::StatusOr<std::optional<Versioned<TokenRecord>>> GetStoredToken(
      std::string_view serial) const;
  // Decodes a token record read by a scan of the tokens namespace under `serial`; a scan that
  // answers readers skips tokens that are not Seen.
  base::StatusOr<TokenRecord> DecodeTokenAt(std::string_view serial, std::string_view stored) const;
  // Whether readers see the token: false while it belongs to an import whose batch is not
  // complete (TokenRecord::importing). A batch once complete stays so, and is remembered by the
  // process, so only the first look at a complete batch reads its record.
  base::StatusOr<bool> Seen(const TokenRecord& token) const;
  // Every method of the user in method-id order, each either the record or the reason it cannot
  // be used (DataLoss for one that fails its check). The outer status is a read error.
  base::StatusOr<std::vector<base::StatusOr<MethodRecord>>> ReadMethods(std::string_view upn) const;

  // Any signed record: its payload and version, nullopt when absent, DataLoss when it fails its
  // check. For records kept elsewhere than users, methods and tokens (API keys in meta).
  base::StatusOr<std::optional<Versioned<std::string>>> GetSigned(storage::Namespace ns,
                                                                  std::string_view key) const;
  base::Status PutSigned(storage::WriteBatch& batch, storage::Namespace ns, std::string_view key,
                         std::string_view payload) const;

  // Adds a signed put of the record to `batch`.
  base::Status PutUser(storage::WriteBatch& batch, const UserRecord& user) const;
  base::Status PutToken(storage::WriteBatch& batch, const TokenRecord& token) const;
  base::Status PutMethod(storage::WriteBatch& batch, std::string_view upn,
                         const MethodRecord& method) const;

  // Starts a change to `upn` (normalised). NotFound when the user does not exist and `create` is
  // false; when `create` is true a missing user is created by the change's Commit, and a `upn`
  // that is not a trimmed, lower-case e-mail address is InvalidArgument. PutUser and PutMethod
  // refuse such a name too, so no record is ever stored under one.
  base::StatusOr<UserChange> BeginUserChange(std::string_view upn, int64_t now, bool create) const;

  // True when an API key with a role beyond reader names `upn` as the person holding it (or a
  // key record fails its check: the safe side).
  base::StatusOr<bool> HoldsAdminKey(std::string_view upn) const;

  // Adds `method` to the user of `change`. OATH methods count toward `max_oath_methods`
  // (ResourceExhausted naming the user and the limit when it is reached).
  base::Status AddMethod(storage::WriteBatch& batch, UserChange& change, const MethodRecord& method,
                         uint32_t max_oath_methods) const;

  // Adds the fence to `batch`: the condition on the user's version and the rewritten user record
  // (updated = now). Call once per change, with everything else of the change in `batch`.
  base::Status Fence(storage::WriteBatch& batch, UserChange& change, int64_t now) const;

 private:
  storage::Store& store_;
  const storage::KeyRing& keys_;
};

// Authorize (service/admin/roles.h) for a change to `target`, having first found out, when the
// answer can depend on it, whether an API key with an administrative role names the target
// (UserRecord::holds_admin_key, set here). Every authorization on a user goes through this.
base::Status AuthorizeChange(const Directory& directory, const Principal& by, Permission permission,
                             UserRecord& target);

}  // namespace otpd::service

#endif  // OTPD_SERVICE_MODEL_DIRECTORY_H_
