#include "service/records.h"

#include <openssl/rand.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/codec.h"

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
  o["mfa_registration_required"] = r.mfa_registration_required;
  o["created"] = r.created;
  o["updated"] = r.updated;
  return json::serialize(o);
}

base::StatusOr<UserRecord> DecodeUser(std::string_view data) {
  OTPD_ASSIGN_OR_RETURN(json::object o, ParseObject(data, "user"));
  Reader in(o, "user");
  UserRecord r;
  OTPD_RETURN_IF_ERROR(in.String("upn", &r.upn, true));
  OTPD_RETURN_IF_ERROR(in.Bool("mfa_registration_required", &r.mfa_registration_required));
  OTPD_RETURN_IF_ERROR(in.Integer("created", &r.created));
  OTPD_RETURN_IF_ERROR(in.Integer("updated", &r.updated));
  return r;
}

std::string EncodeMethod(const MethodRecord& r) {
  json::object o;
  o["id"] = r.id;
  o["kind"] = MethodKindName(r.kind);
  if (!r.serial.empty()) o["serial"] = r.serial;
  o["created"] = r.created;
  return json::serialize(o);
}

base::StatusOr<MethodRecord> DecodeMethod(std::string_view data) {
  OTPD_ASSIGN_OR_RETURN(json::object o, ParseObject(data, "method"));
  Reader in(o, "method");
  MethodRecord r;
  std::string kind;
  OTPD_RETURN_IF_ERROR(in.String("id", &r.id, true));
  OTPD_RETURN_IF_ERROR(in.String("kind", &kind, true));
  OTPD_RETURN_IF_ERROR(in.String("serial", &r.serial));
  OTPD_RETURN_IF_ERROR(in.Integer("created", &r.created));
  bool known = false;
  for (MethodKind k : {MethodKind::kHardwareOath, MethodKind::kSoftwareOath, MethodKind::kPhone,
                       MethodKind::kEmail}) {
    if (kind == MethodKindName(k)) {
      r.kind = k;
      known = true;
    }
  }
  if (!known) return base::DataLossError("method record has an unknown kind");
  return r;
}

std::string EncodeToken(const TokenRecord& r) {
  json::object o;
  o["serial"] = r.serial;
  o["manufacturer"] = r.manufacturer;
  o["model"] = r.model;
  o["type"] = engine::OtpTypeName(r.params.type);
  o["algorithm"] = engine::HashAlgorithmName(r.params.algorithm);
  o["digits"] = r.params.digits;
  o["period"] = r.params.period;
  o["t0"] = r.params.t0;
  o["seed"] = base::Base64Encode(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(r.sealed_seed.data()), r.sealed_seed.size()));
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
  std::string type, algorithm, seed, status;
  OTPD_RETURN_IF_ERROR(in.String("serial", &r.serial, true));
  OTPD_RETURN_IF_ERROR(in.String("manufacturer", &r.manufacturer));
  OTPD_RETURN_IF_ERROR(in.String("model", &r.model));
  OTPD_RETURN_IF_ERROR(in.String("type", &type, true));
  OTPD_RETURN_IF_ERROR(in.String("algorithm", &algorithm, true));
  OTPD_RETURN_IF_ERROR(in.Integer("digits", &r.params.digits));
  OTPD_RETURN_IF_ERROR(in.Integer("period", &r.params.period));
  OTPD_RETURN_IF_ERROR(in.Integer("t0", &r.params.t0));
  OTPD_RETURN_IF_ERROR(in.String("seed", &seed, true));
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
  auto t = engine::ParseOtpType(type);
  auto a = engine::ParseHashAlgorithm(algorithm);
  auto s = ParseTokenStatus(status);
  auto sealed = base::Base64Decode(seed);
  if (!t.ok() || !a.ok() || !s.ok() || !sealed.ok()) {
    return base::DataLossError("token record " + r.serial + " has an unreadable field");
  }
  r.params.type = *t;
  r.params.algorithm = *a;
  r.status = *s;
  r.sealed_seed = std::string(sealed->view());
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

// Layout: format byte, failures (8), locked_until (8).
std::string EncodeLockout(const engine::LockoutState& s) {
  std::string out;
  out.reserve(17);
  out.push_back(kStateFormat);
  PutBe64(&out, s.failures);
  PutBe64(&out, static_cast<uint64_t>(s.locked_until));
  return out;
}

base::StatusOr<engine::LockoutState> DecodeLockout(std::string_view data) {
  if (data.size() != 17 || data[0] != kStateFormat) {
    return base::DataLossError("lockout record has an unknown layout");
  }
  engine::LockoutState s;
  s.failures = static_cast<uint32_t>(GetBe64(data.data() + 1));
  s.locked_until = static_cast<int64_t>(GetBe64(data.data() + 9));
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

std::string TokenStateKey(std::string_view serial) { return "t/" + std::string(serial); }
std::string LockoutKey(std::string_view upn) { return "u/" + std::string(upn); }
std::string BatchKey(std::string_view batch_id) {
  return std::string(kBatchPrefix) + std::string(batch_id);
}

// A failing system random generator leaves nothing safe to do; ids must never repeat.
void RandomBytes(uint8_t* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) {
    std::fprintf(stderr, "otpd: the system random generator failed\n");
    std::abort();
  }
}

std::string AuditKey(int64_t time_micros) {
  std::string k;
  PutBe64(&k, static_cast<uint64_t>(time_micros));
  uint8_t random[8];
  RandomBytes(random, sizeof(random));
  k.append(reinterpret_cast<const char*>(random), sizeof(random));
  return k;
}

std::string NewId() {
  uint8_t random[8];
  RandomBytes(random, sizeof(random));
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
