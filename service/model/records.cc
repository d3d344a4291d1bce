#include "service/model/records.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/codec.h"
#include "base/seal.h"
#include "service/internal/record_json.h"

namespace otpd::service {
namespace json = boost::json;
using internal::ParseObject;
using internal::Reader;

namespace {

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

std::string ApiKeyRecordKey(std::string_view id) {
  return std::string(kApiKeyPrefix) + std::string(id);
}

std::string EncodeApiKey(const ApiKeyRecord& r) {
  json::object o;
  o["id"] = r.id;
  o["name"] = r.name;
  json::array roles;
  for (const std::string& role : r.roles) roles.emplace_back(role);
  o["roles"] = std::move(roles);
  if (!r.user.empty()) o["user"] = r.user;
  o["secret_sha256"] = r.secret_sha256;
  o["created"] = r.created;
  o["created_by"] = r.created_by;
  return json::serialize(o);
}

base::StatusOr<ApiKeyRecord> DecodeApiKey(std::string_view data) {
  boost::system::error_code ec;
  json::value v = json::parse(data, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  auto str = [&](std::string_view k) -> std::string {
    const json::value* f = o->if_contains(k);
    return f != nullptr && f->is_string() ? std::string(f->get_string()) : std::string();
  };
  if (o == nullptr) return base::DataLossError("API key record is not a JSON object");
  ApiKeyRecord r;
  r.id = str("id");
  r.name = str("name");
  r.user = str("user");
  r.secret_sha256 = str("secret_sha256");
  r.created_by = str("created_by");
  if (const json::value* c = o->if_contains("created"); c != nullptr && c->is_int64()) {
    r.created = c->get_int64();
  }
  if (const json::value* roles = o->if_contains("roles"); roles != nullptr && roles->is_array()) {
    for (const json::value& role : roles->get_array()) {
      if (role.is_string()) r.roles.emplace_back(role.get_string());
    }
  }
  if (r.id.size() != 16 || r.secret_sha256.size() != 64) {
    return base::DataLossError("API key record is incomplete");
  }
  return r;
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
