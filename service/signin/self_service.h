// The verify socket's self-service verbs (service/signin/sign_in.h SelfService), for users acting
// for themselves through a front end after proving a factor:
//
//   REMEMBER     a remembered MFA session (an opaque token, kept as the SHA-256 of its secret
//                part in a signed sessions/<upn>\0<id> record, under the user's sessions epoch);
//                the server grants it only right after an MFA success for the user on the same
//                connection (docs/protocol.md);
//   SET_PASSWORD the user's own change: the current password is checked like PASSWORD (a wrong
//                one counts toward the lockout), the new one against the policy, and the change
//                is committed only if the user did not change since the check (the fence);
//   ENROL        a new authenticator app (pending) after a temporary access pass, or, if the
//                operator allows it, without one for a user who must register again; at a
//                sign-in, after the first factor RegistrationFactorFor names;
//   CONFIRM      confirms it with a code; that ends the user's registration_required state. The
//                code is checked like a factor (SignInService::CheckedFactor): refused as
//                `locked` while the user is locked, a wrong one counting toward the lockout as
//                a wrong code at VERIFY does, a right one clearing the failures; wrong ones are
//                audited in bounded form (MethodAdmin, RefusalAudit).
//
// Work that blocks (the Store, scrypt) runs on a small pool of its own, never on the caller's
// (io) thread. Each change is audited with the user as the actor ("user:<upn>").
//
// Thread-safe.

#ifndef OTPD_SERVICE_SIGNIN_SELF_SERVICE_H_
#define OTPD_SERVICE_SIGNIN_SELF_SERVICE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "base/clock.h"
#include "base/statusor.h"
#include "service/admin/inventory.h"
#include "service/admin/method_admin.h"
#include "service/credentials/passwords.h"
#include "service/model/directory.h"
#include "service/signin/sign_in.h"
#include "service/signin/worker_pool.h"

namespace otpd::service {

struct SelfServiceOptions {
  // REMEMBER without days=, and the longest allowed. Defaults 90 and 365.
  uint32_t remember_default_days = 90;
  uint32_t remember_max_days = 365;
  // ENROL without a temporary access pass for a user marked registration_required. Default
  // false: otpd cannot tell whether the front end checked who is at the keyboard, and whoever
  // registers the first app of such a user owns the account's second factor from then on.
  bool registration_without_tap = false;
  // A user who may register at a sign-in and holds no temporary access pass proves themselves
  // with their otpd password instead (RegistrationFactorFor). Default false: a password is often
  // shared with other systems or phished, and whoever registers first owns the second factor.
  bool registration_with_password = false;
  // Remembered sessions kept per user; the oldest go beyond it. Default 50.
  size_t max_sessions_per_user = 50;
  size_t threads = 2;
  size_t max_queue = 256;
};

// A remembered session just made.
struct RememberedSession {
  SessionRecord record;
  base::SecretBytes token;  // "<id>.<secret>": shown once
};

// Makes a remembered session for `upn` (who must exist) valid for `days` days, under the user's
// current sessions epoch; expired and revoked sessions of the user are deleted in the same batch.
// Blocks on the Store.
base::StatusOr<RememberedSession> RememberSession(const Directory& directory,
                                                  const base::Clock& clock, std::string_view upn,
                                                  uint32_t days, size_t max_sessions);

// Who may register a second factor at a sign-in, after a first factor the operator trusts: a
// user an administrator asked to register again (mfaRegistrationRequired), or one without any
// second factor yet (no activated or assigned hardware token, no confirmed authenticator app, no
// phone). A user who has one registers more on a page where they sign in with it.
bool MayRegisterAtSignIn(const UserRecord& user, const std::vector<MethodRecord>& methods);

// The first factor a user proves before registering at a sign-in.
enum class RegistrationFactor : uint8_t {
  kNone,      // the user may not register there (MayRegisterAtSignIn)
  kTap,       // their temporary access pass
  kPassword,  // their otpd password (only where the operator trusts it)
};

// What `user` must prove to register at a sign-in: nothing allows it for a user who may not; a
// temporary access pass while the user has one (an administrator who gave a pass meant it to be
// used, whatever else is allowed); otherwise the user's otpd password where `with_password` and
// they have one; otherwise a pass (the check then fails: they have none). The one rule every
// door asks (the verify socket's ENROL at a sign-in, /validate/check, the Security info page).
RegistrationFactor RegistrationFactorFor(const UserRecord& user,
                                         const std::vector<MethodRecord>& methods,
                                         bool with_password);

class SelfServiceActions final : public SelfService {
 public:
  // Everything must outlive this; `invalidator` may be null.
  SelfServiceActions(const Directory& directory, const base::Clock& clock, SignInService& sign_in,
                     MethodAdmin& methods, PasswordHasher& hasher, CacheInvalidator* invalidator,
                     SelfServiceOptions options);
  ~SelfServiceActions() override;

  void Remember(const RememberRequest& request, ActionCallback done) override;
  void SetPassword(const SetPasswordRequest& request, ActionCallback done) override;
  void Enrol(const EnrolRequest& request, ActionCallback done) override;
  void Confirm(const ConfirmRequest& request, ActionCallback done) override;

  // Finishes queued work and refuses new work (answered unavailable); writes the counts of
  // refused confirming codes not yet written. Call it before the store closes.
  void Stop() {
    pool_.Stop();
    methods_.FlushRefusalAudit();
  }

 private:
  // Runs `task` on the pool; answers unavailable when the pool is full.
  void Submit(const std::string& upn, std::function<ActionResult()> task, ActionCallback done);
  // The answer to a factor checked by the sign-in service: a refusal (wrong, locked, ...) goes
  // to `done` as it is; an acceptance runs `then` on the pool with the user's fence as the check
  // read it, and its result goes to `done`.
  SignInCallback AfterCheck(const std::string& upn, ActionCallback done,
                            std::function<ActionResult(uint64_t fence)> then);
  ActionResult DoSetPassword(const std::string& upn, const base::SecretBytes& old_password,
                             const base::SecretBytes& new_password, uint64_t fence);
  ActionResult DoEnrol(const std::string& upn, const std::string& name, bool without_tap);
  // kAccepted when `upn` may register at a sign-in after proving `first` (`factor` set to what
  // RegistrationFactorFor names), a refusal otherwise. Digits alone are a code (the old token's,
  // say), never a pass: refused without a check that would count a failure.
  ActionResult CheckMayRegister(const std::string& upn, std::string_view first,
                                RegistrationFactor* factor);
  // The id of the user's newest unconfirmed, unexpired authenticator app: "" when none.
  base::StatusOr<std::string> NewestPendingApp(const std::string& upn);
  ActionResult DoConfirm(const std::string& upn, const std::string& method,
                         const base::SecretBytes& code, uint64_t fence);

  const Directory& directory_;
  const base::Clock& clock_;
  SignInService& sign_in_;
  MethodAdmin& methods_;
  PasswordHasher& hasher_;
  CacheInvalidator* const invalidator_;
  const SelfServiceOptions options_;
  WorkerPool pool_;  // last: stopped first
};

}  // namespace otpd::service

#endif  // OTPD_SERVICE_SIGNIN_SELF_SERVICE_H_
