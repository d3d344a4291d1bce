#include "server/protocol.h"

#include <array>
#include <charconv>

namespace otpd::server {
namespace {

struct VerbEntry {
  std::string_view name;
  Verb verb;
};

constexpr std::array<VerbEntry, 10> kVerbs = {{
    {"HELLO", Verb::kHello},
    {"VERIFY", Verb::kVerify},
    {"RESYNC", Verb::kResync},
    {"PING", Verb::kPing},
    {"STATS", Verb::kStats},
    {"PASSWORD", Verb::kPassword},
    {"APP_PASSWORD", Verb::kAppPassword},
    {"REMEMBER", Verb::kRemember},
    {"SESSION", Verb::kSession},
    {"SUBSCRIBE", Verb::kSubscribe},
}};

std::optional<Verb> LookupVerb(std::string_view name) {
  for (const VerbEntry& e : kVerbs) {
    if (e.name == name) return e.verb;
  }
  return std::nullopt;
}

bool IsReserved(Verb verb) {
  switch (verb) {
    case Verb::kPassword:
    case Verb::kAppPassword:
    case Verb::kRemember:
    case Verb::kSession:
    case Verb::kSubscribe:
      return true;
    default:
      return false;
  }
}

// The slot of `key` in `request` for `verb`, or nullptr when the verb does not take that key.
std::string_view* FieldSlot(Verb verb, std::string_view key, Request* request) {
  switch (verb) {
    case Verb::kHello:
      if (key == "version") return &request->version;
      if (key == "client") return &request->client;
      if (key == "key") return &request->key;
      return nullptr;
    case Verb::kResync:
      if (key == "otp2") return &request->otp2;
      [[fallthrough]];
    case Verb::kVerify:
      if (key == "user") return &request->user;
      if (key == "serial") return &request->serial;
      if (key == "otp") return &request->otp;
      return nullptr;
    default:
      return nullptr;
  }
}

bool IsOtp(std::string_view code) {
  if (code.size() < 6 || code.size() > 9) return false;
  for (char c : code) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool HasControlCharacter(std::string_view text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

// Checks the combination of keys a verb needs; returns an error description or "".
std::string_view CheckRequiredFields(const Request& r) {
  switch (r.verb) {
    case Verb::kHello:
      if (r.version.empty()) return "missing version";
      if (r.client.empty() != r.key.empty()) return "client and key go together";
      return "";
    case Verb::kVerify:
    case Verb::kResync:
      if (!r.user.empty() && !r.serial.empty()) return "both user and serial";
      if (r.user.empty() && r.serial.empty()) return "missing user or serial";
      if (!IsOtp(r.otp)) return "missing or malformed otp";
      if (r.verb == Verb::kResync && !IsOtp(r.otp2)) return "missing or malformed otp2";
      return "";
    default:
      return "";
  }
}

ParseResult Fail(ParseResult result, std::string_view error) {
  result.ok = false;
  result.error = error;
  return result;
}

// Parses the `key=value` fields that follow the id. `fields` starts after the id's TAB.
std::string_view ParseFields(std::span<char> fields, Request* request) {
  size_t pos = 0;
  const size_t n = fields.size();
  while (true) {
    size_t end = pos;
    while (end < n && fields[end] != '\t') ++end;
    std::string_view field(fields.data() + pos, end - pos);
    if (field.empty()) return "empty field";
    size_t eq = field.find('=');
    if (eq == std::string_view::npos) return "field without '='";
    if (eq == 0) return "empty key";
    if (eq + 1 == field.size()) return "empty value";
    std::string_view* slot = FieldSlot(request->verb, field.substr(0, eq), request);
    if (slot == nullptr) return "unknown key";
    if (!slot->empty()) return "duplicate key";
    std::span<char> value = fields.subspan(pos + eq + 1, field.size() - eq - 1);
    std::string_view raw(value.data(), value.size());
    if (HasControlCharacter(raw)) return "control character";
    if (raw.find('\\') != std::string_view::npos) {
      std::optional<size_t> len = UnescapeInPlace(value);
      if (!len) return "bad escape";
      raw = std::string_view(value.data(), *len);
    }
    *slot = raw;
    if (end == n) return "";
    pos = end + 1;
  }
}

}  // namespace

std::string_view VerbName(Verb verb) {
  for (const VerbEntry& e : kVerbs) {
    if (e.verb == verb) return e.name;
  }
  return "?";
}

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

ParseResult ParseRequest(std::span<char> line) {
  ParseResult result;
  size_t n = line.size();
  if (n > 0 && line[n - 1] == '\r') --n;
  std::string_view text(line.data(), n);

  size_t verb_end = text.find('\t');
  if (verb_end == std::string_view::npos) return Fail(result, "missing id");
  size_t id_end = text.find('\t', verb_end + 1);
  std::string_view id =
      text.substr(verb_end + 1, id_end == std::string_view::npos ? std::string_view::npos
                                                                 : id_end - verb_end - 1);
  if (!IsValidId(id)) return Fail(result, "bad id");
  result.id = id;

  std::optional<Verb> verb = LookupVerb(text.substr(0, verb_end));
  if (!verb) return Fail(result, "unknown verb");
  if (IsReserved(*verb)) return Fail(result, "reserved verb");
  result.request.verb = *verb;
  result.request.id = id;

  if (id_end != std::string_view::npos) {
    std::string_view error = ParseFields(line.subspan(id_end + 1, n - id_end - 1), &result.request);
    if (!error.empty()) return Fail(result, error);
  }
  std::string_view error = CheckRequiredFields(result.request);
  if (!error.empty()) return Fail(result, error);
  result.ok = true;
  return result;
}

void AppendEscaped(std::string* out, std::string_view value) {
  size_t start = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    const char* escape = c == '\\' ? "\\\\" : c == '\t' ? "\\t" : c == '\n' ? "\\n" : nullptr;
    if (escape == nullptr) continue;
    out->append(value.substr(start, i - start));
    out->append(escape);
    start = i + 1;
  }
  out->append(value.substr(start));
}

std::optional<size_t> UnescapeInPlace(std::span<char> value) {
  size_t out = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\\') {
      if (i + 1 == value.size()) return std::nullopt;
      char next = value[++i];
      if (next == '\\') {
        c = '\\';
      } else if (next == 't') {
        c = '\t';
      } else if (next == 'n') {
        c = '\n';
      } else {
        return std::nullopt;
      }
    }
    value[out++] = c;
  }
  return out;
}

ReplyBuilder::ReplyBuilder(std::string_view head, std::string_view id) {
  text_.reserve(96);
  text_.append(head);
  text_.push_back('\t');
  text_.append(id);
}

ReplyBuilder ReplyBuilder::Ok(std::string_view id) { return ReplyBuilder("OK", id); }

ReplyBuilder ReplyBuilder::Fail(std::string_view id, std::string_view reason) {
  ReplyBuilder b("FAIL", id);
  b.Add("reason", reason);
  return b;
}

ReplyBuilder& ReplyBuilder::Add(std::string_view key, std::string_view value) {
  text_.push_back('\t');
  text_.append(key);
  text_.push_back('=');
  AppendEscaped(&text_, value);
  return *this;
}

ReplyBuilder& ReplyBuilder::Add(std::string_view key, int64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  (void)ec;  // 24 bytes always hold an int64
  return Add(key, std::string_view(buf, end - buf));
}

ReplyBuilder& ReplyBuilder::AddUnsigned(std::string_view key, uint64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  (void)ec;
  return Add(key, std::string_view(buf, end - buf));
}

std::string ReplyBuilder::Finish() {
  text_.push_back('\n');
  return std::move(text_);
}

std::string FormatHelloOk(std::string_view id, std::string_view server_version) {
  std::string server = "otpd/";
  server.append(server_version);
  return ReplyBuilder::Ok(id).Add("version", kProtocolVersionText).Add("server", server).Finish();
}

std::string FormatSignInReply(std::string_view id, const service::SignInResult& result) {
  using service::Outcome;
  if (result.outcome == Outcome::kAccepted) {
    ReplyBuilder b = ReplyBuilder::Ok(id);
    b.Add("method", result.method_id).Add("type", service::MethodKindName(result.method_kind));
    if (!result.serial.empty()) b.Add("serial", result.serial);
    b.AddUnsigned("step", result.step).Add("drift", result.drift);
    return std::move(b).Finish();
  }
  ReplyBuilder b = ReplyBuilder::Fail(id, service::OutcomeReason(result.outcome));
  if (result.outcome == Outcome::kLocked) b.Add("retry_after", result.retry_after_seconds);
  if (result.outcome == Outcome::kDrift) b.Add("drift", result.drift);
  return std::move(b).Finish();
}

std::string_view ParsedReply::reason() const {
  if (ok) return "ok";
  auto it = fields.find("reason");
  return it == fields.end() ? std::string_view() : std::string_view(it->second);
}

std::optional<ParsedReply> ParseReply(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  ParsedReply reply;
  size_t tab = line.find('\t');
  std::string_view head = line.substr(0, tab);
  if (head == "OK") {
    reply.ok = true;
  } else if (head != "FAIL") {
    return std::nullopt;
  }
  if (tab == std::string_view::npos) return std::nullopt;
  std::string_view rest = line.substr(tab + 1);
  size_t id_end = rest.find('\t');
  reply.id = std::string(rest.substr(0, id_end));
  if (reply.id != kNoId && !IsValidId(reply.id)) return std::nullopt;
  while (id_end != std::string_view::npos) {
    rest = rest.substr(id_end + 1);
    id_end = rest.find('\t');
    std::string_view field = rest.substr(0, id_end);
    size_t eq = field.find('=');
    if (eq == std::string_view::npos || eq == 0) return std::nullopt;
    std::string value(field.substr(eq + 1));
    std::optional<size_t> len = UnescapeInPlace(value);
    if (!len) return std::nullopt;
    value.resize(*len);
    if (!reply.fields.emplace(std::string(field.substr(0, eq)), std::move(value)).second) {
      return std::nullopt;
    }
  }
  if (!reply.ok && reply.reason().empty()) return std::nullopt;
  return reply;
}

}  // namespace otpd::server
