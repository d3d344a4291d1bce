#include "service/records.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/codec.h"
#include "base/seal.h"

namespace otpd::service {
namespace json = boost::json;
namespace {

// Reading fields from a decoded JSON object. Missing optional fields keep their defaults; a
// field of the wrong type is an error naming it.
class Reader {
 public:
  explicit Reader(const json::object& o, std::string_view what) : o_(o), what_(what) {}

  base::Status String(std::string_view key, std::string* out, bool required = false) {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr) return required ? Missing(key) : base::OkStatus();
    if (!v->is_string()) return WrongType(key);
    *out = std::string(v->get_string());
    return base::OkStatus();
  }

  template <typename Int>
  base::Status Integer(std::string_view key, Int* out) {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr) return base::OkStatus();
    if (v->is_int64()) {
      *out = static_cast<Int>(v->get_int64());
    } else if (v->is_uint64()) {
      *out = static_cast<Int>(v->get_uint64());
    } else {
      return WrongType(key);
    }
    return base::OkStatus();
  }

  base::Status Bool(std::string_view key, bool* out) {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr) return base::OkStatus();
    if (!v->is_bool()) return WrongType(key);
    *out = v->get_bool();
    return base::OkStatus();
  }

  base::Status StringList(std::string_view key, std::vector<std::string>* out) {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr) return base::OkStatus();
    if (!v->is_array()) return WrongType(key);
    for (const json::value& e : v->get_array()) {
      if (!e.is_string()) return WrongType(key);
      out->emplace_back(e.get_string());
    }
    return base::OkStatus();
  }

  bool Has(std::string_view key) const { return o_.if_contains(key) != nullptr; }

 private:
  base::Status Missing(std::string_view key) {
    return base::DataLossError(std::string(what_) + " record has no '" + std::string(key) + "'");
  }
  base::Status WrongType(std::string_view key) {
    return base::DataLossError(std::string(what_) + " record field '" + std::string(key) +
                               "' has the wrong type");
  }

  const json::object& o_;
  std::string_view what_;
};

base::StatusOr<json::object> ParseObject(std::string_view data, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(data, ec);
  if (ec || !v.is_object()) {
    return base::DataLossError(std::string(what) + " record is not a JSON object");
  }
  return std::move(v.get_object());
}

void PutBe64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetBe64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

constexpr char kStateFormat = 1;
constexpr char kLockoutFormatV2 = 2;  // adds the time of the last failure

}  // namespace

std::string_view TokenStatusName(TokenStatus status) {
  switch (status) {
    case TokenStatus::kAvailable:
      return "available";
    case TokenStatus::kAssigned:
      return "assigned";
    case TokenStatus::kActivated:
      return "activated";
    case TokenStatus::kFailedActivation:
      return "failedActivation";
  }
  return "available";
}

base::StatusOr<TokenStatus> ParseTokenStatus(std::string_view name) {
  for (TokenStatus s : {TokenStatus::kAvailable, TokenStatus::kAssigned, TokenStatus::kActivated,
                        TokenStatus::kFailedActivation}) {
    if (name == TokenStatusName(s)) return s;
  }
  return base::InvalidArgumentError(
      "unknown token status (expected available, assigned, activated or failedActivation)");
}

std::string EncodeUser(const UserRecord& r) {
  json::object o;
  o["upn"] = r.upn;
  if (!r.display_name.empty()) o["display_name"] = r.display_name;
  if (!r.roles.empty()) {
    json::array roles;
    for (const std::string& role : r.roles) roles.emplace_back(role);
    o["roles"] = std::move(roles);
  }
  o["mfa_registration_required"] = r.mfa_registration_required;
  if (r.sessions_epoch != 0) o["sessions_epoch"] = r.sessions_epoch;
  o["created"] = r.created;
  o["updated"] = r.updated;
  return json::serialize(o);
}

base::StatusOr<UserRecord> DecodeUser(std::string_view data) {
  OTPD_ASSIGN_OR_RETURN(json::object o, ParseObject(data, "user"));
  Reader in(o, "user");
  UserRecord r;
  OTPD_RETURN_IF_ERROR(in.String("upn", &r.upn, true));
  OTPD_RETURN_IF_ERROR(in.String("display_name", &r.display_name));
  OTPD_RETURN_IF_ERROR(in.StringList("roles", &r.roles));
  OTPD_RETURN_IF_ERROR(in.Bool("mfa_registration_required", &r.mfa_registration_required));
  OTPD_RETURN_IF_ERROR(in.Integer("sessions_epoch", &r.sessions_epoch));
  OTPD_RETURN_IF_ERROR(in.Integer("created", &r.created));
  OTPD_RETURN_IF_ERROR(in.Integer("updated", &r.updated));
  return r;
}

std::string_view PhoneTypeName(PhoneType type) {
  switch (type) {
    case PhoneType::kMobile:
      return "mobile";
    case PhoneType::kAlternateMobile:
      return "alternateMobile";
    case PhoneType::kOffice:
      return "office";
  }
  return "mobile";
}

std::optional<PhoneType> ParsePhoneType(std::string_view name) {
  for (PhoneType t : {PhoneType::kMobile, PhoneType::kAlternateMobile, PhoneType::kOffice}) {
    if (name == PhoneTypeName(t)) return t;
  }
  return std::nullopt;
}

namespace {

std::string EncodeSealed(std::string_view sealed) {
  return base::Base64Encode(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(sealed.data()), sealed.size()));
}

void EncodeParams(const engine::OtpParams& p, json::object& o) {
  o["type"] = engine::OtpTypeName(p.type);
  o["algorithm"] = engine::HashAlgorithmName(p.algorithm);
  o["digits"] = p.digits;
  o["period"] = p.period;
  o["t0"] = p.t0;
}

base::Status DecodeParams(Reader& in, std::string_view what, engine::OtpParams* p) {
  std::string type, algorithm;
  OTPD_RETURN_IF_ERROR(in.String("type", &type, true));
  OTPD_RETURN_IF_ERROR(in.String("algorithm", &algorithm, true));
  OTPD_RETURN_IF_ERROR(in.Integer("digits", &p->digits));
  OTPD_RETURN_IF_ERROR(in.Integer("period", &p->period));
  OTPD_RETURN_IF_ERROR(in.Integer("t0", &p->t0));
  auto t = engine::ParseOtpType(type);
  auto a = engine::ParseHashAlgorithm(algorithm);
  if (!t.ok() || !a.ok()) {
    return base::DataLossError(std::string(what) + " record has an unknown OTP type or algorithm");
  }
  p->type = *t;
  p->algorithm = *a;
  return base::OkStatus();
}

base::StatusOr<std::string> DecodeSealed(Reader& in, std::string_view field,
                                         std::string_view what) {
  std::string text;
  OTPD_RETURN_IF_ERROR(in.String(field, &text, true));
  auto sealed = base::Base64Decode(text);
  if (!sealed.ok()) {
    return base::DataLossError(std::string(what) + " record field '" + std::string(field) +
                               "' is not base64");
  }
  return std::string(sealed->view());
}

}  // namespace

std::string EncodeMethod(const MethodRecord& r) {
  json::object o;
  o["id"] = r.id;
  o["kind"] = MethodKindName(r.kind());
  o["created"] = r.created;
  std::visit(
      [&o](const auto& p) {
        using P = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<P, HardwareOathPayload>) {
          o["serial"] = p.serial;
        } else if constexpr (std::is_same_v<P, SoftwareOathPayload>) {
          o["display_name"] = p.display_name;
          EncodeParams(p.params, o);
          o["secret"] = EncodeSealed(p.sealed_secret);
          o["confirmed"] = p.confirmed;
          o["expires"] = p.expires;
        } else if constexpr (std::is_same_v<P, PhonePayload>) {
          o["phone_type"] = PhoneTypeName(p.type);
          o["number"] = p.number;
          o["sms_sign_in"] = p.sms_sign_in;
        } else if constexpr (std::is_same_v<P, EmailPayload>) {
          o["address"] = p.address;
        } else if constexpr (std::is_same_v<P, PasswordPayload>) {
          o["algorithm"] = "scrypt";
          o["log2_n"] = p.hash.params.log2_n;
          o["r"] = p.hash.params.r;
          o["p"] = p.hash.params.p;
          o["salt"] = EncodeSealed(p.hash.salt);
          o["hash"] = EncodeSealed(p.hash.key);
          o["must_change"] = p.must_change;
          o["last_changed"] = p.last_changed;
        } else {
          static_assert(std::is_same_v<P, TemporaryAccessPassPayload>);
          o["fingerprint"] = p.fingerprint;
          o["start"] = p.start;
          o["lifetime_minutes"] = p.lifetime_minutes;
          o["usable_once"] = p.usable_once;
        }
      },
      r.payload);
  return json::serialize(o);
}

base::StatusOr<MethodRecord> DecodeMethod(std::string_view data) {
  OTPD_ASSIGN_OR_RETURN(json::object o, ParseObject(data, "method"));
  Reader in(o, "method");
  MethodRecord r;
  std::string kind_name;
  OTPD_RETURN_IF_ERROR(in.String("id", &r.id, true));
  OTPD_RETURN_IF_ERROR(in.String("kind", &kind_name, true));
  OTPD_RETURN_IF_ERROR(in.Integer("created", &r.created));
  std::optional<MethodKind> kind = ParseMethodKind(kind_name);
  if (!kind) return base::DataLossError("method record has an unknown kind");
  switch (*kind) {
    case MethodKind::kHardwareOath: {
      HardwareOathPayload p;
      OTPD_RETURN_IF_ERROR(in.String("serial", &p.serial, true));
      r.payload = std::move(p);
      break;
    }
    case MethodKind::kSoftwareOath: {
      SoftwareOathPayload p;
      OTPD_RETURN_IF_ERROR(in.String("display_name", &p.display_name));
      OTPD_RETURN_IF_ERROR(DecodeParams(in, "method", &p.params));
      OTPD_ASSIGN_OR_RETURN(p.sealed_secret, DecodeSealed(in, "secret", "method"));
      OTPD_RETURN_IF_ERROR(in.Bool("confirmed", &p.confirmed));
      OTPD_RETURN_IF_ERROR(in.Integer("expires", &p.expires));
      r.payload = std::move(p);
      break;
    }
    case MethodKind::kPhone: {
      PhonePayload p;
      std::string type;
      OTPD_RETURN_IF_ERROR(in.String("phone_type", &type, true));
      OTPD_RETURN_IF_ERROR(in.String("number", &p.number, true));
      OTPD_RETURN_IF_ERROR(in.Bool("sms_sign_in", &p.sms_sign_in));
      std::optional<PhoneType> t = ParsePhoneType(type);
      if (!t) return base::DataLossError("method record has an unknown phone type");
      p.type = *t;
      r.payload = std::move(p);
      break;
    }
    case MethodKind::kEmail: {
      EmailPayload p;
      OTPD_RETURN_IF_ERROR(in.String("address", &p.address, true));
      r.payload = std::move(p);
      break;
    }
    case MethodKind::kPassword: {
      PasswordPayload p;
      std::string algorithm;
      OTPD_RETURN_IF_ERROR(in.String("algorithm", &algorithm, true));
      if (algorithm != "scrypt") return base::DataLossError("password record has an unknown algorithm");
      OTPD_RETURN_IF_ERROR(in.Integer("log2_n", &p.hash.params.log2_n));
      OTPD_RETURN_IF_ERROR(in.Integer("r", &p.hash.params.r));
      OTPD_RETURN_IF_ERROR(in.Integer("p", &p.hash.params.p));
      OTPD_ASSIGN_OR_RETURN(p.hash.salt, DecodeSealed(in, "salt", "password"));
      OTPD_ASSIGN_OR_RETURN(p.hash.key, DecodeSealed(in, "hash", "password"));
      OTPD_RETURN_IF_ERROR(in.Bool("must_change", &p.must_change));
      OTPD_RETURN_IF_ERROR(in.Integer("last_changed", &p.last_changed));
      r.payload = std::move(p);
      break;
    }
    case MethodKind::kTemporaryAccessPass: {
      TemporaryAccessPassPayload p;
      OTPD_RETURN_IF_ERROR(in.String("fingerprint", &p.fingerprint, true));
      OTPD_RETURN_IF_ERROR(in.Integer("start", &p.start));
      OTPD_RETURN_IF_ERROR(in.Integer("lifetime_minutes", &p.lifetime_minutes));
      OTPD_RETURN_IF_ERROR(in.Bool("usable_once", &p.usable_once));
      r.payload = std::move(p);
      break;
    }
  }
  return r;
}

std::string EncodeAppPassword(const AppPasswordRecord& r) {
  json::object o;
  o["id"] = r.id;
  o["display_name"] = r.display_name;
  o["sha256"] = r.sha256;
  o["created"] = r.created;
  return json::serialize(o);
}

base::StatusOr<AppPasswordRecord> DecodeAppPassword(std::string_view data) {
  OTPD_ASSIGN_OR_RETURN(json::object o, ParseObject(data, "app password"));
  Reader in(o, "app password");
  AppPasswordRecord r;
  OTPD_RETURN_IF_ERROR(in.String("id", &r.id, true));
  OTPD_RETURN_IF_ERROR(in.String("display_name", &r.display_name));
  OTPD_RETURN_IF_ERROR(in.String("sha256", &r.sha256, true));
  OTPD_RETURN_IF_ERROR(in.Integer("created", &r.created));
  return r;
}

std::string EncodeSession(const SessionRecord& r) {
  json::object o;
  o["id"] = r.id;
  o["secret_sha256"] = r.secret_sha256;
  o["epoch"] = r.epoch;
  o["created"] = r.created;
  o["expires"] = r.expires;
  return json::serialize(o);
}

base::StatusOr<SessionRecord> DecodeSession(std::string_view data) {
  OTPD_ASSIGN_OR_RETURN(json::object o, ParseObject(data, "session"));
  Reader in(o, "session");
  SessionRecord r;
  OTPD_RETURN_IF_ERROR(in.String("id", &r.id, true));
  OTPD_RETURN_IF_ERROR(in.String("secret_sha256", &r.secret_sha256, true));
  OTPD_RETURN_IF_ERROR(in.Integer("epoch", &r.epoch));
  OTPD_RETURN_IF_ERROR(in.Integer("created", &r.created));
  OTPD_RETURN_IF_ERROR(in.Integer("expires", &r.expires));
  return r;
}

std::string EncodeChallenge(const ChallengeState& s) {
  json::object o;
  if (!s.fingerprint.empty()) {
    o["fingerprint"] = s.fingerprint;
    o["method"] = s.method_id;
    o["expires"] = s.expires;
    o["used"] = s.used;
  }
  o["window_start"] = s.window_start;
  o["window_count"] = s.window_count;
  return json::serialize(o);
}

base::StatusOr<ChallengeState> DecodeChallenge(std::string_view data) {
  OTPD_ASSIGN_OR_RETURN(json::object o, ParseObject(data, "challenge"));
  Reader in(o, "challenge");
  ChallengeState s;
  OTPD_RETURN_IF_ERROR(in.String("fingerprint", &s.fingerprint));
  OTPD_RETURN_IF_ERROR(in.String("method", &s.method_id));
  OTPD_RETURN_IF_ERROR(in.Integer("expires", &s.expires));
  OTPD_RETURN_IF_ERROR(in.Bool("used", &s.used));
  OTPD_RETURN_IF_ERROR(in.Integer("window_start", &s.window_start));
  OTPD_RETURN_IF_ERROR(in.Integer("window_count", &s.window_count));
  return s;
}

std::string EncodeToken(const TokenRecord& r) {
  json::object o;
  o["serial"] = r.serial;
  o["manufacturer"] = r.manufacturer;
  o["model"] = r.model;
  if (!r.display_name.empty()) o["display_name"] = r.display_name;
  EncodeParams(r.params, o);
  o["seed"] = EncodeSealed(r.sealed_seed);
  o["status"] = TokenStatusName(r.status);
  if (!r.assigned_to.empty()) o["assigned_to"] = r.assigned_to;
  if (!r.method_id.empty()) o["method_id"] = r.method_id;
  if (!r.batch.empty()) o["batch"] = r.batch;
  o["initial_counter"] = r.initial_counter;
  o["initial_drift"] = r.initial_drift;
  if (r.not_after) o["not_after"] = *r.not_after;
  o["activation_failures"] = r.activation_failures;
  o["created"] = r.created;
  o["updated"] = r.updated;
  return json::serialize(o);
}

base::StatusOr<TokenRecord> DecodeToken(std::string_view data) {
  OTPD_ASSIGN_OR_RETURN(json::object o, ParseObject(data, "token"));
  Reader in(o, "token");
  TokenRecord r;
  std::string status;
  OTPD_RETURN_IF_ERROR(in.String("serial", &r.serial, true));
  OTPD_RETURN_IF_ERROR(in.String("manufacturer", &r.manufacturer));
  OTPD_RETURN_IF_ERROR(in.String("model", &r.model));
  OTPD_RETURN_IF_ERROR(in.String("display_name", &r.display_name));
  OTPD_RETURN_IF_ERROR(DecodeParams(in, "token", &r.params));
  OTPD_ASSIGN_OR_RETURN(r.sealed_seed, DecodeSealed(in, "seed", "token"));
  OTPD_RETURN_IF_ERROR(in.String("status", &status, true));
  OTPD_RETURN_IF_ERROR(in.String("assigned_to", &r.assigned_to));
  OTPD_RETURN_IF_ERROR(in.String("method_id", &r.method_id));
  OTPD_RETURN_IF_ERROR(in.String("batch", &r.batch));
  OTPD_RETURN_IF_ERROR(in.Integer("initial_counter", &r.initial_counter));
  OTPD_RETURN_IF_ERROR(in.Integer("initial_drift", &r.initial_drift));
  if (in.Has("not_after")) {
    int64_t t = 0;
    OTPD_RETURN_IF_ERROR(in.Integer("not_after", &t));
    r.not_after = t;
  }
  OTPD_RETURN_IF_ERROR(in.Integer("activation_failures", &r.activation_failures));
  OTPD_RETURN_IF_ERROR(in.Integer("created", &r.created));
  OTPD_RETURN_IF_ERROR(in.Integer("updated", &r.updated));
  auto s = ParseTokenStatus(status);
  if (!s.ok()) return base::DataLossError("token record " + r.serial + " has an unknown status");
  r.status = *s;
  return r;
}

std::string EncodeBatch(const BatchRecord& r) {
  json::object o;
  o["id"] = r.id;
  o["file"] = r.file;
  o["sha256"] = r.sha256;
  o["format"] = r.format;
  o["time"] = r.time;
  o["imported"] = r.imported;
  o["updated"] = r.updated;
  o["unchanged"] = r.unchanged;
  o["failed"] = r.failed;
  o["complete"] = r.complete;
  return json::serialize(o);
}

base::StatusOr<BatchRecord> DecodeBatch(std::string_view data) {
  OTPD_ASSIGN_OR_RETURN(json::object o, ParseObject(data, "batch"));
  Reader in(o, "batch");
  BatchRecord r;
  OTPD_RETURN_IF_ERROR(in.String("id", &r.id, true));
  OTPD_RETURN_IF_ERROR(in.String("file", &r.file));
  OTPD_RETURN_IF_ERROR(in.String("sha256", &r.sha256));
  OTPD_RETURN_IF_ERROR(in.String("format", &r.format));
  OTPD_RETURN_IF_ERROR(in.Integer("time", &r.time));
  OTPD_RETURN_IF_ERROR(in.Integer("imported", &r.imported));
  OTPD_RETURN_IF_ERROR(in.Integer("updated", &r.updated));
  OTPD_RETURN_IF_ERROR(in.Integer("unchanged", &r.unchanged));
  OTPD_RETURN_IF_ERROR(in.Integer("failed", &r.failed));
  OTPD_RETURN_IF_ERROR(in.Bool("complete", &r.complete));
  return r;
}

std::string EncodeAudit(const AuditRecord& r) {
  json::object o;
  o["time_micros"] = r.time_micros;
  o["actor"] = r.actor;
  o["action"] = r.action;
  o["target"] = r.target;
  o["result"] = r.result;
  if (!r.detail.empty()) o["detail"] = r.detail;
  if (!r.request_id.empty()) o["request_id"] = r.request_id;
  return json::serialize(o);
}

base::StatusOr<AuditRecord> DecodeAudit(std::string_view data) {
  OTPD_ASSIGN_OR_RETURN(json::object o, ParseObject(data, "audit"));
  Reader in(o, "audit");
  AuditRecord r;
  OTPD_RETURN_IF_ERROR(in.Integer("time_micros", &r.time_micros));
  OTPD_RETURN_IF_ERROR(in.String("actor", &r.actor));
  OTPD_RETURN_IF_ERROR(in.String("action", &r.action, true));
  OTPD_RETURN_IF_ERROR(in.String("target", &r.target));
  OTPD_RETURN_IF_ERROR(in.String("result", &r.result));
  OTPD_RETURN_IF_ERROR(in.String("detail", &r.detail));
  OTPD_RETURN_IF_ERROR(in.String("request_id", &r.request_id));
  return r;
}

// Layout: format byte, watermark (8), drift (8), last_used (8); all big-endian.
std::string EncodeCredentialState(const CredentialState& s) {
  std::string out;
  out.reserve(25);
  out.push_back(kStateFormat);
  PutBe64(&out, s.token.watermark);
  PutBe64(&out, static_cast<uint64_t>(s.token.drift));
  PutBe64(&out, static_cast<uint64_t>(s.last_used));
  return out;
}

base::StatusOr<CredentialState> DecodeCredentialState(std::string_view data) {
  if (data.size() != 25 || data[0] != kStateFormat) {
    return base::DataLossError("credential state record has an unknown layout");
  }
  CredentialState s;
  s.token.watermark = GetBe64(data.data() + 1);
  s.token.drift = static_cast<int64_t>(GetBe64(data.data() + 9));
  s.last_used = static_cast<int64_t>(GetBe64(data.data() + 17));
  return s;
}

// Layout: format byte 2, failures (8), locked_until (8), last_failure (8). Format 1 (written
// before failures were forgotten) lacks last_failure.
std::string EncodeLockout(const engine::LockoutState& s) {
  std::string out;
  out.reserve(25);
  out.push_back(kLockoutFormatV2);
  PutBe64(&out, s.failures);
  PutBe64(&out, static_cast<uint64_t>(s.locked_until));
  PutBe64(&out, static_cast<uint64_t>(s.last_failure));
  return out;
}

base::StatusOr<engine::LockoutState> DecodeLockout(std::string_view data) {
  const bool v1 = data.size() == 17 && data[0] == kStateFormat;
  const bool v2 = data.size() == 25 && data[0] == kLockoutFormatV2;
  if (!v1 && !v2) return base::DataLossError("lockout record has an unknown layout");
  engine::LockoutState s;
  s.failures = static_cast<uint32_t>(GetBe64(data.data() + 1));
  s.locked_until = static_cast<int64_t>(GetBe64(data.data() + 9));
  if (v2) s.last_failure = static_cast<int64_t>(GetBe64(data.data() + 17));
  return s;
}

std::string MethodKey(std::string_view upn, std::string_view method_id) {
  std::string k(upn);
  k.push_back('\0');
  k.append(method_id);
  return k;
}

std::string MethodPrefix(std::string_view upn) {
  std::string k(upn);
  k.push_back('\0');
  return k;
}

std::string RetiredStateKey(std::string_view fingerprint) {
  return "r/" + std::string(fingerprint);
}

std::string TokenStateKey(std::string_view serial) { return "t/" + std::string(serial); }
std::string MethodStateKey(std::string_view upn, std::string_view method_id) {
  return "m/" + MethodKey(upn, method_id);
}
std::string SeedIndexKey(std::string_view fingerprint) {
  return std::string(kSeedIndexPrefix) + std::string(fingerprint);
}
std::string LockoutKey(std::string_view upn) { return "u/" + std::string(upn); }
std::string ChallengeKey(std::string_view upn) { return "c/" + std::string(upn); }
std::string TapUseKey(std::string_view upn) { return "a/" + std::string(upn); }
std::string AppPasswordKey(std::string_view upn, std::string_view id) { return MethodKey(upn, id); }
std::string SessionKey(std::string_view upn, std::string_view id) { return MethodKey(upn, id); }
std::string BatchKey(std::string_view batch_id) {
  return std::string(kBatchPrefix) + std::string(batch_id);
}

namespace {
// A failing system random generator leaves nothing safe to do; ids must never repeat.
void RandomOrDie(std::span<uint8_t> out) {
  if (!base::RandomBytes(out).ok()) {
    std::fprintf(stderr, "otpd: the system random generator failed\n");
    std::abort();
  }
}
}  // namespace

std::string AuditKey(int64_t time_micros) {
  std::string k;
  PutBe64(&k, static_cast<uint64_t>(time_micros));
  uint8_t random[8];
  RandomOrDie(random);
  k.append(reinterpret_cast<const char*>(random), sizeof(random));
  return k;
}

std::string NewId() {
  uint8_t random[8];
  RandomOrDie(random);
  return base::HexEncode(random);
}

namespace {
bool IsAsciiUpper(char c) { return c >= 'A' && c <= 'Z'; }
}  // namespace

std::string NormaliseUpn(std::string_view upn) {
  std::string out(upn);
  for (char& c : out) {
    if (IsAsciiUpper(c)) c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsNormalisedUpn(std::string_view upn) {
  return std::none_of(upn.begin(), upn.end(), IsAsciiUpper);
}

}  // namespace otpd::service
