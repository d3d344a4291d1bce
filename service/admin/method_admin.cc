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

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool Lapsed(const MethodRecord& m, int64_t now) {
  const auto* app = std::get_if<SoftwareOathPayload>(&m.payload);
  return app != nullptr && !app->confirmed && app->expires <= now;
}

base::Status NoSuchMethod(std::string_view upn, std::string_view id) {
  return base::NotFoundError("user " + std::string(upn) + " has no method " +
                             std::string(id).substr(0, 64));
}

base::Status WrongCode() {
  return base::InvalidArgumentError("verificationCode is not the code the app shows now");
}

}  // namespace

std::string_view PhoneMethodId(PhoneType type) {
  switch (type) {
    case PhoneType::kMobile:
      return kMobilePhoneId;
    case PhoneType::kAlternateMobile:
      return kAlternateMobilePhoneId;
    case PhoneType::kOffice:
      return kOfficePhoneId;
  }
  return kMobilePhoneId;
}

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

namespace {

// The length of the E.164 country code `digits` starts with: 1 and 7 stand alone, the two-digit
// codes ITU-T E.164 assigns are listed, every other code has three digits.
size_t CountryCodeLength(std::string_view digits) {
  if (digits.empty()) return 0;
  if (digits[0] == '1' || digits[0] == '7') return 1;
  static constexpr std::string_view kTwoDigits[] = {
      "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
      "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
      "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98"};
  for (std::string_view two : kTwoDigits) {
    if (digits.starts_with(two)) return 2;
  }
  return 3;
}

// The accepted form of a number written another common way ("+14255551234", "+1 (425)
// 555-1234", "+44 20 7946 0000"), or "" when there is none to offer.
std::string SuggestedPhoneNumber(std::string_view number) {
  if (number.empty() || number[0] != '+' || number.size() > 60) return "";
  std::string digits, extension;
  std::string* into = &digits;
  for (char c : number.substr(1)) {
    if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
      into->push_back(c);
    } else if ((c == 'x' || c == 'X') && into == &digits) {
      into = &extension;
    } else if (c != ' ' && c != '-' && c != '(' && c != ')' && c != '.') {
      return "";
    }
  }
  const size_t cc = CountryCodeLength(digits);
  if (cc == 0 || digits.size() <= cc) return "";
  std::string out = "+" + digits.substr(0, cc) + " " + digits.substr(cc);
  if (!extension.empty()) out += "x" + extension;
  return out;
}

}  // namespace

base::Status CheckPhoneNumber(std::string_view number) {
  if (CheckPhoneNumberForm(number)) return base::OkStatus();
  std::string message =
      "phoneNumber must be written \"+{country code} {number}\", with an optional "
      "\"x{extension}\", e.g. \"+1 4255551234\" or \"+1 5555551234x123\"";
  // The suggestion is made of the caller's own digits: it tells them nothing they did not send.
  if (const std::string suggested = SuggestedPhoneNumber(number);
      !suggested.empty() && CheckPhoneNumberForm(suggested)) {
    message += "; did you mean \"" + suggested + "\"?";
  }
  return base::InvalidArgumentError(message);
}

bool CheckPhoneNumberForm(std::string_view number) {
  if (number.size() < 7 || number.size() > 40 || number[0] != '+') return false;
  const size_t space = number.find(' ');
  if (space == std::string_view::npos) return false;
  const std::string_view country = number.substr(1, space - 1);
  std::string_view rest = number.substr(space + 1);
  if (size_t x = rest.find('x'); x != std::string_view::npos) {
    const std::string_view extension = rest.substr(x + 1);
    rest = rest.substr(0, x);
    if (!AllDigits(extension) || extension.size() > 10) return false;
  }
  if (!AllDigits(country) || country.size() > 4 || country[0] == '0') return false;
  return AllDigits(rest) && rest.size() >= 4 && rest.size() <= 15;
}

base::StatusOr<std::string> CheckEmailAddress(std::string_view address) {
  auto normalised = tokenio::NormaliseUpn(address);
  if (!normalised.ok()) {
    return base::InvalidArgumentError("emailAddress is not an address like name@example.com");
  }
  return normalised;
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
  data.Str("id", method.id).Str("kind", MethodKindName(method.kind()));
  if (const auto* phone = std::get_if<PhonePayload>(&method.payload)) {
    data.Str("phone_type", PhoneTypeName(phone->type));
  }
  return AddEvent(c.batch, clock_, type, c.user.user.upn, data.Str("by", c.audit.actor));
}

base::StatusOr<std::vector<MethodRecord>> MethodAdmin::List(const Principal& by,
                                                            std::string_view upn_in) const {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kRead));
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

base::StatusOr<MethodRecord> MethodAdmin::AddPhone(const Principal& by, std::string_view upn,
                                                   PhoneType type, std::string_view number) {
  OTPD_RETURN_IF_ERROR(CheckPhoneNumber(number));
  OTPD_ASSIGN_OR_RETURN(Change c, Begin(by, upn, "phone.add"));
  const std::string_view id = PhoneMethodId(type);
  if (c.Find(id) != nullptr) {
    return base::AlreadyExistsError("user " + c.user.user.upn + " already has a " +
                                    std::string(PhoneTypeName(type)) + " phone");
  }
  if (type == PhoneType::kAlternateMobile && c.Find(kMobilePhoneId) == nullptr) {
    return base::FailedPreconditionError("add a mobile phone before an alternateMobile one");
  }
  MethodRecord method{.id = std::string(id),
                      .created = c.now,
                      .payload = PhonePayload{.type = type, .number = std::string(number)}};
  OTPD_RETURN_IF_ERROR(directory_.PutMethod(c.batch, c.user.user.upn, method));
  c.audit.detail = "phone " + std::string(PhoneTypeName(type));
  OTPD_RETURN_IF_ERROR(Event(c, events::kMethodAdded, method));
  OTPD_RETURN_IF_ERROR(Commit(c));
  return method;
}

base::StatusOr<MethodRecord> MethodAdmin::UpdatePhone(const Principal& by, std::string_view upn,
                                                      std::string_view id,
                                                      std::optional<std::string> number,
                                                      std::optional<bool> sms_sign_in) {
  if (number) OTPD_RETURN_IF_ERROR(CheckPhoneNumber(*number));
  OTPD_ASSIGN_OR_RETURN(Change c, Begin(by, upn, "phone.update"));
  MethodRecord* m = c.Find(id);
  auto* phone = m == nullptr ? nullptr : std::get_if<PhonePayload>(&m->payload);
  if (phone == nullptr) return NoSuchMethod(c.user.user.upn, id);
  if (sms_sign_in && *sms_sign_in && phone->type != PhoneType::kMobile) {
    return base::FailedPreconditionError("only a mobile phone can receive SMS");
  }
  if (number) phone->number = *number;
  if (sms_sign_in) phone->sms_sign_in = *sms_sign_in;
  OTPD_RETURN_IF_ERROR(directory_.PutMethod(c.batch, c.user.user.upn, *m));
  c.audit.detail = "phone " + std::string(PhoneTypeName(phone->type));
  OTPD_RETURN_IF_ERROR(Event(c, events::kMethodUpdated, *m));
  OTPD_RETURN_IF_ERROR(Commit(c));
  return *m;
}

base::StatusOr<MethodRecord> MethodAdmin::AddEmail(const Principal& by, std::string_view upn,
                                                   std::string_view address) {
  OTPD_ASSIGN_OR_RETURN(std::string email, CheckEmailAddress(address));
  OTPD_ASSIGN_OR_RETURN(Change c, Begin(by, upn, "email.add"));
  if (c.Find(kEmailMethodId) != nullptr) {
    return base::AlreadyExistsError("user " + c.user.user.upn + " already has an email method");
  }
  MethodRecord method{.id = std::string(kEmailMethodId),
                      .created = c.now,
                      .payload = EmailPayload{.address = email}};
  OTPD_RETURN_IF_ERROR(directory_.PutMethod(c.batch, c.user.user.upn, method));
  OTPD_RETURN_IF_ERROR(Event(c, events::kMethodAdded, method));
  OTPD_RETURN_IF_ERROR(Commit(c));
  return method;
}

base::StatusOr<MethodRecord> MethodAdmin::UpdateEmail(const Principal& by, std::string_view upn,
                                                      std::string_view address) {
  OTPD_ASSIGN_OR_RETURN(std::string email, CheckEmailAddress(address));
  OTPD_ASSIGN_OR_RETURN(Change c, Begin(by, upn, "email.update"));
  const MethodRecord* found = c.Find(kEmailMethodId);
  if (found == nullptr) {
    return base::NotFoundError("user " + c.user.user.upn + " has no email method");
  }
  MethodRecord method = *found;
  method.payload = EmailPayload{.address = email};
  OTPD_RETURN_IF_ERROR(directory_.PutMethod(c.batch, c.user.user.upn, method));
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
  if (kind.undeletable != nullptr) return base::FailedPreconditionError(kind.undeletable(*m));
  if (id == kMobilePhoneId && c.Find(kAlternateMobilePhoneId) != nullptr) {
    return base::FailedPreconditionError("delete the alternateMobile phone before the mobile one");
  }
  if (kind.state_key != nullptr) c.batch.Delete(Namespace::kState, kind.state_key(user, id));
  c.batch.Delete(Namespace::kMethods, MethodKey(user, id));
  c.audit.detail = std::string(MethodKindName(m->kind())) + " " + std::string(id);
  OTPD_RETURN_IF_ERROR(Event(c, events::kMethodDeleted, *m));
  return Commit(c);
}

}  // namespace otpd::service
