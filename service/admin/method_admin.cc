#include "service/admin/method_admin.h"

#include <cctype>

#include <algorithm>
#include <utility>

#include "base/codec.h"
#include "base/seal.h"
#include "engine/credential.h"
#include "service/admin/audit.h"
#include "service/credentials/passwords.h"
#include "service/hooks/outbox.h"
#include "service/internal/staged_change.h"
#include "tokenio/otpauth.h"
#include "tokenio/upn.h"

namespace otpd::service {

using storage::Namespace;

namespace {

bool Lapsed(const MethodRecord& m, int64_t now) {
  const auto* app = std::get_if<SoftwareOathPayload>(&m.payload);
  return app != nullptr && !app->confirmed && app->expires <= now;
}

// A user deleting their own method keeps a second factor: without one, the next sign-in would
// need an administrator. Checked inside the change, so two deletions at once cannot both pass
// (the second one's commit fails on the user's fence).
base::Status KeepsASecondFactor(const MethodRecord& going, const std::vector<MethodRecord>& all) {
  if (!IsSecondFactor(going)) return base::OkStatus();
  for (const MethodRecord& m : all) {
    if (m.id != going.id && IsSecondFactor(m)) return base::OkStatus();
  }
  return base::FailedPreconditionError(
      "this is your last sign-in method besides your password: add another one before deleting "
      "it");
}

base::Status NoSuchMethod(std::string_view upn, std::string_view id) {
  return base::NotFoundError("user " + std::string(upn) + " has no method " +
                             std::string(id).substr(0, 64));
}

base::Status WrongCode() {
  return base::InvalidArgumentError("verificationCode is not the code the app shows now");
}

}  // namespace

std::string PhoneNumberFor(const Principal& viewer, std::string_view number) {
  if (SeesFullPhoneNumbers(viewer)) return std::string(number);
  std::string out(number);
  const size_t space = out.find(' ');
  const size_t from = space == std::string::npos ? 0 : space + 1;
  size_t digits = 0;
  for (size_t i = from; i < out.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(out[i])) != 0) ++digits;
  }
  size_t seen = 0;
  for (size_t i = from; i < out.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(out[i])) == 0) continue;
    if (++seen + 2 <= digits) out[i] = 'X';
  }
  return out;
}

// A change to the user (internal/staged_change.h) with the user's methods read.
struct MethodAdmin::Change : internal::StagedChange {
  std::vector<MethodRecord> methods;  // current, lapsed enrolments left out

  MethodRecord* Find(std::string_view id) {
    for (MethodRecord& m : methods) {
      if (m.id == id) return &m;
    }
    return nullptr;
  }
};

MethodAdmin::MethodAdmin(storage::Store& store, const storage::KeyRing& keys,
                         const base::Clock& clock, MethodAdminOptions options,
                         CacheInvalidator* invalidator)
    : keys_(keys),
      directory_(store, keys),
      clock_(clock),
      options_(std::move(options)),
      invalidator_(invalidator),
      refusals_(store, clock) {}

base::StatusOr<MethodAdmin::Change> MethodAdmin::Begin(const Principal& by, std::string_view upn_in,
                                                       std::string_view action) const {
  const Permission permission =
      by.self_service ? Permission::kRegisterOwnMethods : Permission::kManageUserMethods;
  // A method is added only to a user who exists: creating one is always its own, explicit step.
  Change c;
  OTPD_ASSIGN_OR_RETURN(static_cast<internal::StagedChange&>(c),
                        internal::BeginChange(directory_, clock_, by, permission, upn_in, action));
  const std::string& upn = c.upn();
  OTPD_ASSIGN_OR_RETURN(auto methods, directory_.ReadMethods(upn));
  for (auto& m : methods) {
    if (!m.ok()) continue;
    if (Lapsed(*m, c.now)) {
      c.batch.Delete(Namespace::kMethods, MethodKey(upn, m->id));
      --c.user.oath_methods;
      continue;
    }
    c.methods.push_back(std::move(*m));
  }
  return c;
}

base::Status MethodAdmin::Commit(Change& c) {
  return internal::CommitChange(directory_, c, invalidator_);
}

base::Status MethodAdmin::Event(Change& c, std::string_view type, const MethodRecord& method,
                                EventData data) {
  const MethodKindSpec& kind = DescribeMethodKind(method.kind());
  data.Str("id", method.id).Str("kind", kind.name);
  if (!kind.event_label.empty()) data.Str(kind.event_label, kind.label(method));
  return AddEvent(c.batch, clock_, type, c.user.user.upn, data.Str("by", c.audit.actor));
}

base::StatusOr<std::vector<MethodRecord>> MethodAdmin::List(const Principal& by,
                                                            std::string_view upn_in) const {
  OTPD_RETURN_IF_ERROR(AuthorizeReadOf(by, upn_in));
  OTPD_ASSIGN_OR_RETURN(const std::string upn, CheckUpn(upn_in));
  OTPD_ASSIGN_OR_RETURN(auto user, directory_.GetUser(upn));
  if (!user) return base::NotFoundError("no user " + upn);
  OTPD_ASSIGN_OR_RETURN(auto methods, directory_.ReadMethods(upn));
  const int64_t now = clock_.NowUnixSeconds();
  std::vector<MethodRecord> out;
  for (auto& m : methods) {
    if (m.ok() && !Lapsed(*m, now)) out.push_back(std::move(*m));
  }
  return out;
}

base::StatusOr<MethodRecord> MethodAdmin::Get(const Principal& by, std::string_view upn,
                                              std::string_view id) const {
  OTPD_ASSIGN_OR_RETURN(std::vector<MethodRecord> methods, List(by, upn));
  for (MethodRecord& m : methods) {
    if (m.id == id) return std::move(m);
  }
  return NoSuchMethod(upn, id);
}

namespace {

// The rules of `kind` for MethodAdmin::Add and Update, or InvalidArgument when it has none.
base::StatusOr<const MethodKindSpec*> DirectlyManaged(MethodKind kind) {
  const MethodKindSpec& spec = DescribeMethodKind(kind);
  if (spec.check == nullptr || spec.place == nullptr) {
    return base::InvalidArgumentError(std::string(spec.name) +
                                      " methods are not added or changed this way");
  }
  return &spec;
}

// The audit record's detail for a change to `method`: its kind and label ("phone mobile").
std::string Detail(const MethodKindSpec& kind, const MethodRecord& method) {
  return kind.label == nullptr ? std::string() : std::string(kind.name) + " " + kind.label(method);
}

}  // namespace

base::StatusOr<MethodRecord> MethodAdmin::Add(const Principal& by, std::string_view upn,
                                              MethodRecord::Payload payload) {
  MethodRecord method{.payload = std::move(payload)};
  OTPD_ASSIGN_OR_RETURN(const MethodKindSpec* kind, DirectlyManaged(method.kind()));
  OTPD_RETURN_IF_ERROR(kind->check(method));
  OTPD_ASSIGN_OR_RETURN(Change c, Begin(by, upn, std::string(kind->name) + ".add"));
  OTPD_RETURN_IF_ERROR(kind->place(method, c.methods, c.user.user.upn));
  method.created = c.now;
  OTPD_RETURN_IF_ERROR(directory_.PutMethod(c.batch, c.user.user.upn, method));
  c.audit.detail = Detail(*kind, method);
  OTPD_RETURN_IF_ERROR(Event(c, events::kMethodAdded, method));
  OTPD_RETURN_IF_ERROR(Commit(c));
  return method;
}

base::StatusOr<MethodRecord> MethodAdmin::Update(const Principal& by, std::string_view upn,
                                                 std::string_view id,
                                                 MethodRecord::Payload payload) {
  MethodRecord method{.id = std::string(id), .payload = std::move(payload)};
  OTPD_ASSIGN_OR_RETURN(const MethodKindSpec* kind, DirectlyManaged(method.kind()));
  OTPD_RETURN_IF_ERROR(kind->check(method));
  OTPD_ASSIGN_OR_RETURN(Change c, Begin(by, upn, std::string(kind->name) + ".update"));
  const MethodRecord* before = c.Find(id);
  if (before == nullptr || before->kind() != method.kind()) {
    return NoSuchMethod(c.user.user.upn, id);
  }
  if (kind->amend != nullptr) OTPD_RETURN_IF_ERROR(kind->amend(*before, method));
  method.created = before->created;
  OTPD_RETURN_IF_ERROR(directory_.PutMethod(c.batch, c.user.user.upn, method));
  c.audit.detail = Detail(*kind, method);
  OTPD_RETURN_IF_ERROR(Event(c, events::kMethodUpdated, method));
  OTPD_RETURN_IF_ERROR(Commit(c));
  return method;
}

base::StatusOr<Enrolment> MethodAdmin::EnrolSoftwareToken(const Principal& by, std::string_view upn,
                                                          std::string_view display_name) {
  if (display_name.size() > 128) {
    return base::InvalidArgumentError("displayName is longer than 128 characters");
  }
  OTPD_ASSIGN_OR_RETURN(Change c, Begin(by, upn, "software_oath.enrol"));
  const std::string& user = c.user.user.upn;
  Enrolment e;
  e.method.id = NewId();
  e.method.created = c.now;
  SoftwareOathPayload app;
  app.display_name = display_name.empty() ? "Authenticator app" : std::string(display_name);
  app.params = engine::OtpParams{};  // SHA-1, 6 digits, 30 s: what every app understands
  app.expires = c.now + options_.enrolment_ttl.count();
  base::SecretBytes secret(20);
  OTPD_RETURN_IF_ERROR(base::RandomBytes(std::span<uint8_t>(secret.data(), secret.size())));
  OTPD_ASSIGN_OR_RETURN(
      app.sealed_secret,
      keys_.SealSecret(Namespace::kMethods, MethodKey(user, e.method.id), secret.span()));
  e.method.payload = app;
  OTPD_RETURN_IF_ERROR(
      directory_.AddMethod(c.batch, c.user, e.method, options_.max_oath_methods_per_user));
  tokenio::OtpauthKey key{.issuer = options_.issuer, .account = user, .params = app.params};
  key.secret = secret.Clone();
  OTPD_ASSIGN_OR_RETURN(e.uri, tokenio::FormatOtpauthUri(key));
  std::string b32 = base::Base32Encode(secret.span(), /*pad=*/false);
  e.secret_base32 = base::SecretBytes::FromString(b32);
  base::Wipe(b32.data(), b32.size());
  c.audit.detail = "method " + e.method.id + " (pending)";
  OTPD_RETURN_IF_ERROR(Event(c, events::kMethodAdded, e.method, EventData().Bool("pending", true)));
  OTPD_RETURN_IF_ERROR(Commit(c));
  return e;
}

base::StatusOr<std::optional<engine::Verdict>> MethodAdmin::CheckPending(Change& c,
                                                                         std::string_view id,
                                                                         std::string_view code) {
  const std::string& user = c.user.user.upn;
  MethodRecord* m = c.Find(id);
  auto* app = m == nullptr ? nullptr : std::get_if<SoftwareOathPayload>(&m->payload);
  if (app == nullptr) return NoSuchMethod(user, id);
  if (app->confirmed) return base::FailedPreconditionError("this app is confirmed already");
  OTPD_ASSIGN_OR_RETURN(
      base::SecretBytes secret,
      keys_.OpenSecret(Namespace::kMethods, MethodKey(user, id), app->sealed_secret));
  OTPD_ASSIGN_OR_RETURN(engine::Credential credential,
                        engine::Credential::Create(app->params, secret.span()));
  engine::Verdict v = engine::Verify(credential, {}, code, c.now, options_.windows);
  if (!v.accepted()) {
    // Anyone who can name the user and the enrolment can repeat this: counted, not one record
    // each.
    (void)refusals_.Record(c.audit, WrongCode());
    return std::optional<engine::Verdict>();
  }
  return std::optional<engine::Verdict>(v);
}

base::StatusOr<bool> MethodAdmin::CheckSoftwareTokenCode(const Principal& by, std::string_view upn,
                                                         std::string_view id,
                                                         std::string_view code) {
  OTPD_ASSIGN_OR_RETURN(Change c, Begin(by, upn, "software_oath.confirm"));
  OTPD_ASSIGN_OR_RETURN(std::optional<engine::Verdict> v, CheckPending(c, id, code));
  return v.has_value();
}

base::Status MethodAdmin::ConfirmSoftwareToken(const Principal& by, std::string_view upn,
                                               std::string_view id, std::string_view code,
                                               std::optional<uint64_t> fence) {
  OTPD_ASSIGN_OR_RETURN(Change c, Begin(by, upn, "software_oath.confirm"));
  const std::string& user = c.user.user.upn;
  if (fence && c.user.version != *fence) {
    return base::AbortedError("user " + user + " changed since the code was checked; try again");
  }
  OTPD_ASSIGN_OR_RETURN(std::optional<engine::Verdict> v, CheckPending(c, id, code));
  if (!v) return WrongCode();
  MethodRecord* m = c.Find(id);
  auto* app = std::get_if<SoftwareOathPayload>(&m->payload);
  app->confirmed = true;
  app->expires = 0;
  OTPD_RETURN_IF_ERROR(directory_.PutMethod(c.batch, user, *m));
  // The app starts with the code it proved: that one is used.
  CredentialState state{.token = v->new_state, .last_used = c.now};
  c.batch.Put(Namespace::kState, MethodStateKey(user, id), EncodeCredentialState(state));
  c.audit.detail = "method " + std::string(id);
  // A confirmed app is a registered MFA method: a user who had to register again has.
  const bool registered = c.user.user.mfa_registration_required;
  c.user.user.mfa_registration_required = false;
  if (registered) c.audit.detail += ", registration completed";
  OTPD_RETURN_IF_ERROR(Event(c, events::kMethodConfirmed, *m,
                             EventData().Bool("registration_completed", registered)));
  return Commit(c);
}

base::Status MethodAdmin::DeleteMethod(const Principal& by, std::string_view upn,
                                       std::string_view id) {
  OTPD_ASSIGN_OR_RETURN(Change c, Begin(by, upn, "method.delete"));
  const std::string& user = c.user.user.upn;
  MethodRecord* m = c.Find(id);
  if (m == nullptr) return NoSuchMethod(user, id);
  const MethodKindSpec& kind = DescribeMethodKind(m->kind());
  if (kind.undeletable != nullptr) {
    if (std::string why = kind.undeletable(*m, c.methods); !why.empty()) {
      return base::FailedPreconditionError(why);
    }
  }
  if (by.self_service) OTPD_RETURN_IF_ERROR(KeepsASecondFactor(*m, c.methods));
  if (kind.state_key != nullptr) c.batch.Delete(Namespace::kState, kind.state_key(user, id));
  c.batch.Delete(Namespace::kMethods, MethodKey(user, id));
  c.audit.detail = std::string(MethodKindName(m->kind())) + " " + std::string(id);
  OTPD_RETURN_IF_ERROR(Event(c, events::kMethodDeleted, *m));
  return Commit(c);
}

}  // namespace otpd::service
