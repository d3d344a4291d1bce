// The encodings of the records of users' methods and of the token inventory
// (service/model/records.h): methods, tokens and import batches, and the names of the token
// statuses and phone types they hold.

#include <boost/json.hpp>

#include "base/codec.h"
#include "service/internal/record_json.h"
#include "service/model/records.h"

namespace otpd::service {
namespace json = boost::json;
using internal::ParseObject;
using internal::Reader;

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
      if (algorithm != "scrypt")
        return base::DataLossError("password record has an unknown algorithm");
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

}  // namespace otpd::service
