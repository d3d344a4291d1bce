#include "service/signin/self_service.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "base/codec.h"
#include "base/mac.h"
#include "base/seal.h"
#include "service/admin/audit.h"
#include "service/hooks/outbox.h"
#include "service/internal/staged_change.h"

namespace otpd::service {

using storage::Namespace;

namespace {

ActionResult Fail(Outcome outcome, std::string_view detail = {}) {
  ActionResult r(outcome);
  if (!detail.empty()) r.fields.emplace_back("detail", std::string(detail));
  return r;
}

// The outcome of a refused service call (never a secret in `status`).
ActionResult FromStatus(const base::Status& status) {
  switch (status.code()) {
    case base::StatusCode::kNotFound:
      return Fail(Outcome::kUnknownUser);
    case base::StatusCode::kInvalidArgument:
      return Fail(Outcome::kBadRequest, status.message());
    case base::StatusCode::kResourceExhausted:
    case base::StatusCode::kFailedPrecondition:
    case base::StatusCode::kAlreadyExists:
    case base::StatusCode::kPermissionDenied:
      return Fail(Outcome::kRefused, status.message());
    default:
      return Fail(Outcome::kUnavailable);
  }
}

// RFC 4648 base64url without padding.
std::string Base64Url(std::span<const uint8_t> bytes) {
  std::string s = base::Base64Encode(bytes);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return s;
}

}  // namespace

base::StatusOr<RememberedSession> RememberSession(const Directory& directory,
                                                  const base::Clock& clock, std::string_view upn,
                                                  uint32_t days, size_t max_sessions) {
  for (int attempt = 0;; ++attempt) {
    const int64_t now = clock.NowUnixSeconds();
    OTPD_ASSIGN_OR_RETURN(auto user, directory.GetUser(upn));
    if (!user) return base::NotFoundError("no user " + std::string(upn));
    RememberedSession made;
    uint8_t secret[32];
    OTPD_RETURN_IF_ERROR(base::RandomBytes(secret));
    std::string secret_text = Base64Url(secret);
    base::Wipe(secret, sizeof(secret));
    made.record = SessionRecord{.id = NewId(),
                                .secret_sha256 = base::HexEncode(base::Sha256(secret_text)),
                                .epoch = user->record.sessions_epoch,
                                .created = now,
                                .expires = now + int64_t{days} * 86400};
    std::string token = made.record.id + "." + secret_text;
    made.token = base::SecretBytes::FromString(token);
    base::Wipe(token.data(), token.size());
    base::Wipe(secret_text.data(), secret_text.size());

    storage::WriteBatch batch;
    // Conditional on the user record: a revocation that lands meanwhile makes this try again
    // under the new epoch, so the token handed out is never already revoked.
    batch.RequireVersion(Namespace::kUsers, upn, user->version);
    // Tidy the user's sessions: expired and revoked ones go, and the oldest beyond the limit.
    std::vector<SessionRecord> live;
    OTPD_RETURN_IF_ERROR(directory.store().Scan(
        Namespace::kSessions, MethodPrefix(upn),
        [&](std::string_view key, const storage::Record& stored) -> base::StatusOr<bool> {
          auto payload = directory.keys().OpenRecord(Namespace::kSessions, key, stored.value);
          auto s = payload.ok() ? DecodeSession(*payload)
                                : base::StatusOr<SessionRecord>(payload.status());
          if (!s.ok() || s->expires <= now || s->epoch < made.record.epoch) {
            batch.Delete(Namespace::kSessions, key);
          } else {
            live.push_back(std::move(*s));
          }
          return true;
        }));
    std::sort(live.begin(), live.end(),
              [](const auto& a, const auto& b) { return a.created < b.created; });
    for (size_t i = 0; i + max_sessions <= live.size() && i < live.size(); ++i) {
      batch.Delete(Namespace::kSessions, SessionKey(upn, live[i].id));
    }
    OTPD_RETURN_IF_ERROR(directory.PutSigned(
        batch, Namespace::kSessions, SessionKey(upn, made.record.id), EncodeSession(made.record)));
    Principal self = Principal::SelfService(std::string(upn));
    AuditRecord audit = MakeAudit(clock, self, "session.remember", "user/" + std::string(upn));
    audit.detail = "session " + made.record.id + ", " + std::to_string(days) + " days";
    AddAudit(batch, audit);
    base::Status s = directory.store().Commit(std::move(batch), storage::Durability::kDurable);
    if (base::IsAborted(s) && attempt < 3) continue;
    OTPD_RETURN_IF_ERROR(s);
    return made;
  }
}

SelfServiceActions::SelfServiceActions(const Directory& directory, const base::Clock& clock,
                                       SignInService& sign_in, MethodAdmin& methods,
                                       PasswordHasher& hasher, CacheInvalidator* invalidator,
                                       SelfServiceOptions options)
    : directory_(directory),
      clock_(clock),
      sign_in_(sign_in),
      methods_(methods),
      hasher_(hasher),
      invalidator_(invalidator),
      options_(options),
      pool_(options.threads, std::max<size_t>(1, options.max_queue), "otpd-self") {}

SelfServiceActions::~SelfServiceActions() { pool_.Stop(); }

void SelfServiceActions::Submit(const std::string& upn, std::function<ActionResult()> task,
                                ActionCallback done) {
  auto shared_done = std::make_shared<ActionCallback>(std::move(done));
  const bool queued =
      pool_.TrySubmit(std::hash<std::string>{}(upn),
                      [task = std::move(task), shared_done] { (*shared_done)(task()); });
  if (!queued) (*shared_done)(ActionResult(Outcome::kUnavailable));
}

void SelfServiceActions::Remember(const RememberRequest& request, ActionCallback done) {
  const uint32_t days = request.days == 0 ? options_.remember_default_days : request.days;
  if (days < 1 || days > options_.remember_max_days) {
    done(Fail(Outcome::kBadRequest,
              "days must be 1.." + std::to_string(options_.remember_max_days)));
    return;
  }
  const std::string upn = NormaliseUpn(request.user);
  Submit(
      upn,
      [this, upn, days]() -> ActionResult {
        auto made = RememberSession(directory_, clock_, upn, days, options_.max_sessions_per_user);
        if (!made.ok()) return FromStatus(made.status());
        ActionResult r(Outcome::kAccepted);
        r.fields.emplace_back("session", std::string(made->token.view()));
        r.fields.emplace_back("expires", std::to_string(made->record.expires));
        return r;
      },
      std::move(done));
}

void SelfServiceActions::SetPassword(const SetPasswordRequest& request, ActionCallback done) {
  const std::string upn = NormaliseUpn(request.user);
  auto old_password =
      std::make_shared<base::SecretBytes>(base::SecretBytes::FromString(request.old_password));
  auto new_password =
      std::make_shared<base::SecretBytes>(base::SecretBytes::FromString(request.new_password));
  // The current password is checked as PASSWORD checks it: the same lockout, the same fence.
  sign_in_.Password(
      SecretRequest{.user = upn, .secret = old_password->view()},
      AfterCheck(upn, std::move(done), [this, upn, old_password, new_password](uint64_t fence) {
        return DoSetPassword(upn, *old_password, *new_password, fence);
      }));
}

ActionResult SelfServiceActions::DoSetPassword(const std::string& upn,
                                               const base::SecretBytes& old_password,
                                               const base::SecretBytes& new_password,
                                               uint64_t fence) {
  if (base::Status policy = CheckPasswordPolicy(new_password.view(), upn); !policy.ok()) {
    return Fail(Outcome::kPolicy, policy.message());
  }
  if (new_password.Equals(old_password)) {
    return Fail(Outcome::kPolicy, "the new password must differ from the current one");
  }
  auto hash = hasher_.Hash(new_password.view());
  if (!hash.ok()) return Fail(Outcome::kUnavailable);
  // The user's own change, the current password proven: their own methods are theirs to change.
  const Principal self = Principal::SelfService(upn);
  auto change = internal::BeginChange(directory_, clock_, self, Permission::kRegisterOwnMethods,
                                      upn, "password.change");
  if (!change.ok()) return FromStatus(change.status());
  internal::StagedChange& c = *change;
  // Changed since the current password was checked (an administrator's reset, say): the check
  // no longer stands.
  if (c.user.version != fence) return Fail(Outcome::kUnavailable);
  auto methods = directory_.ReadMethods(upn);
  if (!methods.ok()) return Fail(Outcome::kUnavailable);
  MethodRecord method{.id = std::string(kPasswordMethodId), .created = c.now, .payload = {}};
  for (const auto& m : *methods) {
    if (m.ok() && m->id == kPasswordMethodId) method.created = m->created;
  }
  method.payload =
      PasswordPayload{.hash = std::move(*hash), .must_change = false, .last_changed = c.now};
  if (!directory_.PutMethod(c.batch, upn, method).ok() ||
      !AddEvent(c.batch, clock_, events::kPasswordChanged, upn, EventData().Str("by", self.actor))
           .ok() ||
      !internal::CommitChange(directory_, c, invalidator_).ok()) {
    return Fail(Outcome::kUnavailable);
  }
  return ActionResult(Outcome::kAccepted);
}

void SelfServiceActions::Enrol(const EnrolRequest& request, ActionCallback done) {
  const std::string upn = NormaliseUpn(request.user);
  const std::string name(request.name);
  if (request.tap.empty()) {
    if (!options_.registration_without_tap) {
      done(ActionResult(Outcome::kTapRequired));
      return;
    }
    Submit(
        upn, [this, upn, name] { return DoEnrol(upn, name, /*without_tap=*/true); },
        std::move(done));
    return;
  }
  auto shared_done = std::make_shared<ActionCallback>(std::move(done));
  auto first = std::make_shared<base::SecretBytes>(base::SecretBytes::FromString(request.tap));
  // Then the user may register: the factor is checked as TAP or PASSWORD checks it (a wrong one
  // counts toward the lockout; a one-time pass is used up by this).
  auto enrol = [this, upn, name, shared_done](SignInResult checked) {
    if (checked.outcome != Outcome::kAccepted) {
      ActionResult r(checked.outcome);
      r.retry_after_seconds = checked.retry_after_seconds;
      (*shared_done)(std::move(r));
      return;
    }
    Submit(
        upn, [this, upn, name] { return DoEnrol(upn, name, false); }, std::move(*shared_done));
  };
  if (!request.at_sign_in) {
    sign_in_.Tap(SecretRequest{.user = upn, .secret = first->view()}, enrol);
    return;
  }
  auto factor = std::make_shared<RegistrationFactor>(RegistrationFactor::kNone);
  Submit(
      upn,
      [this, upn, first, factor] { return CheckMayRegister(upn, first->view(), factor.get()); },
      [this, upn, first, factor, enrol, shared_done](ActionResult allowed) {
        if (allowed.outcome != Outcome::kAccepted) return (*shared_done)(std::move(allowed));
        const SecretRequest check{.user = upn, .secret = first->view()};
        if (*factor == RegistrationFactor::kPassword) {
          sign_in_.Password(check, enrol);
        } else {
          sign_in_.Tap(check, enrol);
        }
      });
}

bool MayRegisterAtSignIn(const UserRecord& user, const std::vector<MethodRecord>& methods) {
  return user.mfa_registration_required ||
         std::none_of(methods.begin(), methods.end(), IsSecondFactor);
}

RegistrationFactor RegistrationFactorFor(const UserRecord& user,
                                         const std::vector<MethodRecord>& methods,
                                         bool with_password) {
  if (!MayRegisterAtSignIn(user, methods)) return RegistrationFactor::kNone;
  auto has = [&](MethodKind kind) {
    return std::any_of(methods.begin(), methods.end(),
                       [kind](const MethodRecord& m) { return m.kind() == kind; });
  };
  if (has(MethodKind::kTemporaryAccessPass)) return RegistrationFactor::kTap;
  if (with_password && has(MethodKind::kPassword)) return RegistrationFactor::kPassword;
  return RegistrationFactor::kTap;
}

ActionResult SelfServiceActions::CheckMayRegister(const std::string& upn, std::string_view first,
                                                  RegistrationFactor* factor) {
  auto user = directory_.GetUser(upn);
  if (!user.ok()) return Fail(Outcome::kUnavailable);
  if (!*user) return Fail(Outcome::kUnknownUser);
  auto read = directory_.ReadMethods(upn);
  if (!read.ok()) return Fail(Outcome::kUnavailable);
  std::vector<MethodRecord> methods;
  for (auto& m : *read) {
    // A record that does not open is counted as a factor: never a reason to let someone in.
    if (!m.ok()) return Fail(Outcome::kRefused, "a method of the user cannot be read");
    methods.push_back(std::move(*m));
  }
  *factor = RegistrationFactorFor((*user)->record, methods, options_.registration_with_password);
  if (*factor == RegistrationFactor::kNone) {
    return Fail(Outcome::kRefused,
                "the user has a second factor already; sign in with it to add another");
  }
  if (*factor == RegistrationFactor::kTap &&
      std::all_of(first.begin(), first.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Fail(Outcome::kRefused, "a code is not a temporary access pass");
  }
  return ActionResult(Outcome::kAccepted);
}

base::StatusOr<std::string> SelfServiceActions::NewestPendingApp(const std::string& upn) {
  OTPD_ASSIGN_OR_RETURN(auto methods, directory_.ReadMethods(upn));
  const int64_t now = clock_.NowUnixSeconds();
  std::string newest;
  int64_t created = -1;
  for (const auto& m : methods) {
    if (!m.ok() || m->kind() != MethodKind::kSoftwareOath) continue;
    const auto& app = std::get<SoftwareOathPayload>(m->payload);
    if (app.confirmed || app.expires <= now || m->created < created) continue;
    newest = m->id;
    created = m->created;
  }
  return newest;
}

ActionResult SelfServiceActions::DoEnrol(const std::string& upn, const std::string& name,
                                         bool without_tap) {
  if (without_tap) {
    auto user = directory_.GetUser(upn);
    if (!user.ok()) return Fail(Outcome::kUnavailable);
    if (!*user) return Fail(Outcome::kUnknownUser);
    if (!(*user)->record.mfa_registration_required) return Fail(Outcome::kTapRequired);
  }
  auto enrolment = methods_.EnrolSoftwareToken(Principal::SelfService(upn), upn, name);
  if (!enrolment.ok()) return FromStatus(enrolment.status());
  ActionResult r(Outcome::kAccepted);
  r.fields.emplace_back("method", enrolment->method.id);
  r.fields.emplace_back("uri", std::string(enrolment->uri.view()));
  return r;
}

void SelfServiceActions::Confirm(const ConfirmRequest& request, ActionCallback done) {
  const std::string upn = NormaliseUpn(request.user);
  // Set once by the check (the newest pending app when none is named), read after it.
  auto method = std::make_shared<std::string>(request.method);
  auto code = std::make_shared<base::SecretBytes>(base::SecretBytes::FromString(request.otp));
  // The code is a factor: checked under the user's lockout, a wrong one counting toward it.
  auto check = [this, upn, method, code]() -> Outcome {
    if (method->empty()) {
      auto pending = NewestPendingApp(upn);
      if (!pending.ok()) return Outcome::kUnavailable;
      if (pending->empty()) return Outcome::kNoMethod;
      *method = std::move(*pending);
    }
    auto right =
        methods_.CheckSoftwareTokenCode(Principal::SelfService(upn), upn, *method, code->view());
    if (right.ok()) return *right ? Outcome::kAccepted : Outcome::kBadCode;
    if (base::IsNotFound(right.status())) return Outcome::kNoMethod;
    return FromStatus(right.status()).outcome;
  };
  sign_in_.CheckedFactor(
      CheckedRequest{.user = upn, .check = std::move(check)},
      AfterCheck(upn, std::move(done), [this, upn, method, code](uint64_t fence) {
        return DoConfirm(upn, *method, *code, fence);
      }));
}

SignInCallback SelfServiceActions::AfterCheck(const std::string& upn, ActionCallback done,
                                              std::function<ActionResult(uint64_t fence)> then) {
  auto shared_done = std::make_shared<ActionCallback>(std::move(done));
  return [this, upn, shared_done, then = std::move(then)](SignInResult checked) mutable {
    if (checked.outcome != Outcome::kAccepted) {
      ActionResult r(checked.outcome);
      r.retry_after_seconds = checked.retry_after_seconds;
      (*shared_done)(std::move(r));
      return;
    }
    // Possibly on the committer's thread here: the change runs on the pool.
    const uint64_t fence = checked.fence;
    Submit(
        upn, [then = std::move(then), fence] { return then(fence); }, std::move(*shared_done));
  };
}

ActionResult SelfServiceActions::DoConfirm(const std::string& upn, const std::string& method,
                                           const base::SecretBytes& code, uint64_t fence) {
  // Conditional on the user not having changed since the check (an administrator's change).
  base::Status s =
      methods_.ConfirmSoftwareToken(Principal::SelfService(upn), upn, method, code.view(), fence);
  if (s.ok()) return ActionResult(Outcome::kAccepted);
  if (base::IsInvalidArgument(s)) return Fail(Outcome::kBadCode);
  if (base::IsNotFound(s)) return Fail(Outcome::kNoMethod);
  if (base::IsAborted(s)) return Fail(Outcome::kUnavailable);
  return FromStatus(s);
}

}  // namespace otpd::service
