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

using internal::kOmitEmpty;
using internal::kRequired;

// The JSON records' fields, one list each for both directions (service/internal/record_json.h).
struct UserFields {
  template <typename Io, typename R>
  void operator()(Io& io, R& r) const {
    io.Str("upn", r.upn, kRequired).Str("display_name", r.display_name, kOmitEmpty);
    io.Strings("roles", r.roles, kOmitEmpty);
    io.Bool("mfa_registration_required", r.mfa_registration_required);
    io.Int("sessions_epoch", r.sessions_epoch, kOmitEmpty);
    io.Str("preferred_method", r.preferred_method, kOmitEmpty);
    io.Int("created", r.created).Int("updated", r.updated);
  }
};

struct AppPasswordFields {
  template <typename Io, typename R>
  void operator()(Io& io, R& r) const {
    io.Str("id", r.id, kRequired).Str("display_name", r.display_name);
    io.Str("sha256", r.sha256, kRequired).Int("created", r.created);
  }
};

struct SessionFields {
  template <typename Io, typename R>
  void operator()(Io& io, R& r) const {
    io.Str("id", r.id, kRequired).Str("secret_sha256", r.secret_sha256, kRequired);
    io.Int("epoch", r.epoch).Int("created", r.created).Int("expires", r.expires);
  }
};

struct AuditFields {
  template <typename Io, typename R>
  void operator()(Io& io, R& r) const {
    io.Int("time_micros", r.time_micros).Str("actor", r.actor);
    io.Str("action", r.action, kRequired).Str("target", r.target).Str("result", r.result);
    io.Str("detail", r.detail, kOmitEmpty).Str("request_id", r.request_id, kOmitEmpty);
  }
};

}  // namespace

std::string EncodeUser(const UserRecord& r) { return internal::EncodeFields(r, UserFields{}); }
base::StatusOr<UserRecord> DecodeUser(std::string_view data) {
  return internal::DecodeFields<UserRecord>(data, "user", UserFields{});
}

std::string EncodeAppPassword(const AppPasswordRecord& r) {
  return internal::EncodeFields(r, AppPasswordFields{});
}
base::StatusOr<AppPasswordRecord> DecodeAppPassword(std::string_view data) {
  return internal::DecodeFields<AppPasswordRecord>(data, "app password", AppPasswordFields{});
}

std::string EncodeSession(const SessionRecord& r) {
  return internal::EncodeFields(r, SessionFields{});
}
base::StatusOr<SessionRecord> DecodeSession(std::string_view data) {
  return internal::DecodeFields<SessionRecord>(data, "session", SessionFields{});
}

std::string EncodeAudit(const AuditRecord& r) { return internal::EncodeFields(r, AuditFields{}); }
base::StatusOr<AuditRecord> DecodeAudit(std::string_view data) {
  return internal::DecodeFields<AuditRecord>(data, "audit", AuditFields{});
}

std::string EncodeChallenge(const ChallengeState& s) {
  json::object o;
  if (!s.fingerprint.empty()) {
    o["fingerprint"] = s.fingerprint;
    o["method"] = s.method_id;
    o["expires"] = s.expires;
    o["used"] = s.used;
    if (!s.channel.empty()) o["channel"] = s.channel;
  }
  o["window_start"] = s.window_start;
  o["window_count"] = s.window_count;
  return json::serialize(o);
}

base::StatusOr<ChallengeState> DecodeChallenge(std::string_view data) {
  OTPD_ASSIGN_OR_RETURN(json::object o, ParseObject(data, "challenge"));
  Reader in(o, "challenge");
  ChallengeState s;
  in.Str("fingerprint", s.fingerprint).Str("method", s.method_id).Int("expires", s.expires);
  in.Bool("used", s.used).Int("window_start", s.window_start).Int("window_count", s.window_count);
  in.Str("channel", s.channel);
  OTPD_RETURN_IF_ERROR(in.status());
  return s;
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
