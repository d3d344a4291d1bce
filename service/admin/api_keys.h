// API keys for the admin API over TCP. Each key has an id, a unique name, roles, and optionally
// the UPN of the person it belongs to (then nobody can use it on their own password). The key
// itself, `otpd_<id>_<secret>`, is shown once, when it is created; only the SHA-256 of its secret
// is kept, in a signed record meta/apikey/<id>, so neither a copy of the database nor its
// administrator can recover or forge one.
//
// Only the owner manages keys (Permission::kManageApiKeys); every change is audited.
//
// Authenticate reads the key's record from the store on every use and keeps nothing in memory:
// a revocation or change committed through any node (on etcd, any otpd sharing the cluster)
// binds every node from the moment the revoking call answers. The read is one point read, as
// linearizable as the store's reads (etcd's are), per admin request.
//
// Thread-safety: all methods may be called from any thread; the object holds no state of its
// own beyond references.

#ifndef OTPD_SERVICE_ADMIN_API_KEYS_H_
#define OTPD_SERVICE_ADMIN_API_KEYS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/mac.h"
#include "base/secret_bytes.h"
#include "base/statusor.h"
#include "service/admin/roles.h"
#include "service/model/directory.h"

namespace otpd::service {

struct CreatedApiKey {
  ApiKeyRecord record;
  base::SecretBytes key;  // `otpd_<id>_<secret>`: show it once, then forget it
};

class ApiKeys {
 public:
  // `directory` and `clock` must outlive this.
  ApiKeys(const Directory& directory, const base::Clock& clock)
      : directory_(directory), clock_(clock) {}

  // Creates a key. InvalidArgument for a bad name, no role or an unknown role; AlreadyExists
  // when the name is taken; PermissionDenied unless `by` is the owner.
  base::StatusOr<CreatedApiKey> Create(const Principal& by, std::string_view name,
                                       const std::vector<std::string>& roles,
                                       std::string_view user);
  // Every key, by name (without any secret). PermissionDenied unless `by` is the owner.
  base::StatusOr<std::vector<ApiKeyRecord>> List(const Principal& by) const;
  // Revokes the key with `id_or_name`. NotFound when there is none.
  base::Status Revoke(const Principal& by, std::string_view id_or_name);

  // The principal a bearer key stands for, as its stored record says now. Unauthenticated for
  // anything but a current key (the same answer, in about the same time, for a malformed,
  // unknown, revoked or wrong key, or one whose record fails its check); the store's error
  // (Unavailable, ...) when the record could not be read, so that the caller does not call a
  // good key bad.
  base::StatusOr<Principal> Authenticate(std::string_view bearer) const;

 private:
  base::StatusOr<std::optional<Versioned<ApiKeyRecord>>> Load(std::string_view id) const;
  base::StatusOr<std::vector<ApiKeyRecord>> All() const;

  const Directory& directory_;
  const base::Clock& clock_;
};

}  // namespace otpd::service

#endif  // OTPD_SERVICE_ADMIN_API_KEYS_H_
