// MethodAdmin manages a user's authentication methods other than hardware tokens (those are the
// inventory's, service/admin/inventory.h): phones, the email address, and software OATH tokens
// (authenticator apps), as Microsoft Entra does:
//
//   - phones: one per type (mobile, alternateMobile, office), each under the type's fixed id; a
//     mobile must exist before an alternate mobile (and outlive it); numbers are written
//     "+{country code} {number}" with an optional "x{extension}"; only a mobile can receive SMS;
//   - email: at most one; it serves password reset only, never sign-in;
//   - software tokens: otpd makes the secret (160 bits, SHA-1, 6 digits, 30 s, what every app
//     understands) and gives it once, as an otpauth URI; the method signs in only after it is
//     confirmed with a code the app shows; an enrolment not confirmed within enrolment_ttl lapses
//     (it stops counting toward the OATH method limit and is removed at the user's next change).
//
// Every change is authorized (Permission::kManageUserMethods on the user; a user enrolling and
// confirming their own app at sign-in: Permission::kRegisterOwnMethods), made under the user's
// fence with its audit record and its outbox event (method.added, method.updated,
// method.confirmed, method.deleted) in one durable batch, and told to the sign-in cache.
// Confirming an app also ends a user's registration_required state. A wrong confirming code is
// audited in bounded form (RefusalAudit, service/admin/audit.h): anyone who can name a user and a
// pending app can send wrong codes, and at sign-in they also count toward the user's lockout
// (SelfServiceActions checks them through the sign-in service).
//
// Thread-safe: methods may be called concurrently; concurrent changes to one user fail with
// Aborted rather than overwrite each other.

#ifndef OTPD_SERVICE_ADMIN_METHOD_ADMIN_H_
#define OTPD_SERVICE_ADMIN_METHOD_ADMIN_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/secret_bytes.h"
#include "base/statusor.h"
#include "engine/verifier.h"
#include "service/admin/audit.h"
#include "service/admin/inventory.h"
#include "service/admin/roles.h"
#include "service/hooks/outbox.h"
#include "service/model/directory.h"
#include "service/model/records.h"
#include "service/model/text_checks.h"

namespace otpd::service {

// The number as `viewer` may see it: whole for those SeesFullPhoneNumbers() allows, otherwise
// every digit but the country code and the last two replaced by the letter X, so that a
// ten-digit US number keeps "+1 ", then eight X's, then its last two digits.
std::string PhoneNumberFor(const Principal& viewer, std::string_view number);

struct MethodAdminOptions {
  // OATH methods (hardware tokens and apps) a user may have. Default 5.
  uint32_t max_oath_methods_per_user = 5;
  // How long an app enrolment may wait for its confirming code. Default 10 minutes.
  std::chrono::seconds enrolment_ttl{600};
  // The issuer in otpauth URIs (shown by the app). Default "otpd".
  std::string issuer = "otpd";
  // Windows for the confirming code. Default: WindowPolicy{}.
  engine::WindowPolicy windows;
};

struct Enrolment {
  MethodRecord method;
  base::SecretBytes secret_base32;  // shown once
  base::SecretBytes uri;            // otpauth://totp/...; shown once
};

class MethodAdmin {
 public:
  // `store`, `keys` and `clock` must outlive this; `invalidator` may be null.
  MethodAdmin(storage::Store& store, const storage::KeyRing& keys, const base::Clock& clock,
              MethodAdminOptions options, CacheInvalidator* invalidator = nullptr);

  // The user's methods in id order (records that fail their check are left out). NotFound when
  // the user does not exist.
  base::StatusOr<std::vector<MethodRecord>> List(const Principal& by, std::string_view upn) const;
  // One method; NotFound when the user or the method does not exist.
  base::StatusOr<MethodRecord> Get(const Principal& by, std::string_view upn,
                                   std::string_view id) const;

  // Adds a method of a kind an administrator adds directly (phones and email: those whose
  // MethodKindSpec has `check` and `place`), under the id the kind gives it. InvalidArgument for
  // a payload its kind's check refuses or a kind added another way; AlreadyExists for a second
  // one where the kind allows one (a phone of each type, one email); FailedPrecondition for an
  // alternate mobile without a mobile.
  base::StatusOr<MethodRecord> Add(const Principal& by, std::string_view upn,
                                   MethodRecord::Payload payload);
  // Replaces method `id`'s payload with `payload` (same kind: NotFound otherwise), under the
  // kind's `check` and `amend` (a phone's type cannot change; only a mobile receives SMS).
  base::StatusOr<MethodRecord> Update(const Principal& by, std::string_view upn,
                                      std::string_view id, MethodRecord::Payload payload);
  // Starts an app enrolment. ResourceExhausted at the OATH method limit.
  base::StatusOr<Enrolment> EnrolSoftwareToken(const Principal& by, std::string_view upn,
                                               std::string_view display_name);
  // Confirms an enrolment with the code its app shows now. InvalidArgument for a wrong code;
  // NotFound when there is no such enrolment (or it lapsed); FailedPrecondition when it is
  // confirmed already. With `fence`, the user record must still be at that version (the one a
  // CheckSoftwareTokenCode was answered under): Aborted otherwise.
  base::Status ConfirmSoftwareToken(const Principal& by, std::string_view upn, std::string_view id,
                                    std::string_view code,
                                    std::optional<uint64_t> fence = std::nullopt);
  // Whether `code` is what the pending app `id` shows now, changing nothing (a wrong code's
  // refusal is audited, in bounded form). Errors as ConfirmSoftwareToken's, but a wrong code
  // is false, not an error.
  base::StatusOr<bool> CheckSoftwareTokenCode(const Principal& by, std::string_view upn,
                                              std::string_view id, std::string_view code);
  // Writes the counts of refused codes not yet written (RefusalAudit::Flush); call it before
  // the store closes.
  void FlushRefusalAudit() { refusals_.Flush(); }
  // Deletes a phone, the email method or an app. A hardware token's method is not deleted here
  // (unassign the token: FailedPrecondition says so); the mobile is not deleted while an
  // alternate mobile exists (FailedPrecondition).
  base::Status DeleteMethod(const Principal& by, std::string_view upn, std::string_view id);

 private:
  struct Change;
  // Begins a change of `upn` for `by` (authorizing it), with the user's methods read. Lapsed
  // enrolments are dropped from the batch's view (and deleted by it). NotFound for a user who
  // does not exist: no door creates a user as a side effect.
  base::StatusOr<Change> Begin(const Principal& by, std::string_view upn,
                               std::string_view action) const;
  base::Status Commit(Change& change);
  // The verdict on `code` for the pending app `id` in `c` (NotFound, FailedPrecondition as
  // ConfirmSoftwareToken); nullopt for a wrong code, whose refusal is recorded with refusals_.
  base::StatusOr<std::optional<engine::Verdict>> CheckPending(Change& c, std::string_view id,
                                                              std::string_view code);
  // Adds the outbox event of a change to `method` (its id and kind, plus `data`).
  base::Status Event(Change& change, std::string_view type, const MethodRecord& method,
                     EventData data = {});

  const storage::KeyRing& keys_;
  const Directory directory_;
  const base::Clock& clock_;
  const MethodAdminOptions options_;
  CacheInvalidator* const invalidator_;
  RefusalAudit refusals_;
};

}  // namespace otpd::service

#endif  // OTPD_SERVICE_ADMIN_METHOD_ADMIN_H_
