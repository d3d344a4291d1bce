#include "server/protocol.h"

#include <array>
#include <charconv>

namespace otpd::server {
namespace {

struct VerbEntry {
  std::string_view name;
  Verb verb;
};

constexpr std::array<VerbEntry, 15> kVerbs = {{
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
    {"TAP", Verb::kTap},
    {"CHALLENGE", Verb::kChallenge},
    {"SET_PASSWORD", Verb::kSetPassword},
    {"ENROL", Verb::kEnrol},
    {"CONFIRM", Verb::kConfirm},
}};

std::optional<Verb> LookupVerb(std::string_view name) {
  for (const VerbEntry& e : kVerbs) {
    if (e.name == name) return e.verb;
  }
  return std::nullopt;
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
    case Verb::kPassword:
    case Verb::kAppPassword:
      if (key == "user") return &request->user;
      if (key == "password") return &request->password;
      return nullptr;
    case Verb::kTap:
      if (key == "user") return &request->user;
      if (key == "pass") return &request->pass;
      return nullptr;
    case Verb::kSession:
      if (key == "user") return &request->user;
      if (key == "session") return &request->session;
      return nullptr;
    case Verb::kRemember:
      if (key == "user") return &request->user;
      if (key == "days") return &request->days;
      return nullptr;
    case Verb::kSetPassword:
      if (key == "user") return &request->user;
      if (key == "old") return &request->old_password;
      if (key == "new") return &request->new_password;
      return nullptr;
    case Verb::kEnrol:
      if (key == "user") return &request->user;
      if (key == "tap") return &request->tap;
      if (key == "name") return &request->name;
      return nullptr;
    case Verb::kConfirm:
      if (key == "user") return &request->user;
      if (key == "method") return &request->method;
      if (key == "otp") return &request->otp;
      return nullptr;
    case Verb::kChallenge:
      if (key == "user") return &request->user;
      if (key == "method") return &request->method;
      if (key == "channel") return &request->channel;
      return nullptr;
    case Verb::kSubscribe:
      if (key == "from") return &request->from;
      return nullptr;
    default:
      return nullptr;
  }
}

// Decimal digits only, without a sign or leading zeros, within [min, max].
bool IsNumberIn(std::string_view text, uint64_t min, uint64_t max) {
  if (text.empty() || text.size() > 19 || (text.size() > 1 && text[0] == '0')) return false;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  return ec == std::errc() && end == text.data() + text.size() && v >= min && v <= max;
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
    case Verb::kPassword:
    case Verb::kAppPassword:
      if (r.user.empty()) return "missing user";
      if (r.password.empty()) return "missing password";
      return "";
    case Verb::kTap:
      if (r.user.empty()) return "missing user";
      if (r.pass.empty()) return "missing pass";
      return "";
    case Verb::kSession:
      if (r.user.empty()) return "missing user";
      if (r.session.empty()) return "missing session";
      return "";
    case Verb::kRemember:
      if (r.user.empty()) return "missing user";
      if (!r.days.empty() && !IsNumberIn(r.days, 1, 365)) return "days must be 1..365";
      return "";
    case Verb::kSetPassword:
      if (r.user.empty()) return "missing user";
      if (r.old_password.empty() || r.new_password.empty()) return "missing old or new";
      return "";
    case Verb::kEnrol:
      if (r.user.empty()) return "missing user";
      if (r.name.size() > 256) return "name longer than 256";
      return "";
    case Verb::kConfirm:
      if (r.user.empty()) return "missing user";
      if (r.method.empty()) return "missing method";
      if (!IsOtp(r.otp)) return "missing or malformed otp";
      return "";
    case Verb::kChallenge:
      if (r.user.empty()) return "missing user";
      if (r.method != "mobile" && r.method != "alternateMobile" && r.method != "office") {
        return "method must be mobile, alternateMobile or office";
      }
      if (!r.channel.empty() && r.channel != "sms" && r.channel != "voice") {
        return "channel must be sms or voice";
      }
      return "";
    case Verb::kSubscribe:
      if (!r.from.empty() && !IsNumberIn(r.from, 1, UINT64_MAX >> 1)) return "malformed from";
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

bool CarriesSecret(Verb verb) {
  switch (verb) {
    case Verb::kHello:
    case Verb::kPassword:
    case Verb::kAppPassword:
    case Verb::kTap:
    case Verb::kSession:
    case Verb::kSetPassword:
    case Verb::kEnrol:
      return true;
    default:
      return false;
  }
}

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

std::string FormatFactorReply(std::string_view id, Verb verb, const service::SignInResult& result) {
  using service::Outcome;
  if (result.outcome == Outcome::kAccepted) {
    ReplyBuilder b = ReplyBuilder::Ok(id);
    switch (verb) {
      case Verb::kPassword:
        if (result.must_change) b.Add("must_change", "1");
        break;
      case Verb::kAppPassword:
      case Verb::kTap:
        if (!result.method_id.empty()) b.Add("method", result.method_id);
        if (result.usable_once) b.Add("usable_once", "1");
        break;
      case Verb::kChallenge:
        b.Add("channel", result.channel).Add("expires_in", result.expires_in_seconds);
        break;
      default:
        break;
    }
    return std::move(b).Finish();
  }
  ReplyBuilder b = ReplyBuilder::Fail(id, service::OutcomeReason(result.outcome));
  if (result.outcome == Outcome::kLocked || result.outcome == Outcome::kRateLimited) {
    b.Add("retry_after", result.retry_after_seconds);
  }
  return std::move(b).Finish();
}

std::string FormatActionReply(std::string_view id, const service::ActionResult& result) {
  if (result.outcome == service::Outcome::kAccepted) {
    ReplyBuilder b = ReplyBuilder::Ok(id);
    for (const auto& [key, value] : result.fields) b.Add(key, value);
    return std::move(b).Finish();
  }
  ReplyBuilder b = ReplyBuilder::Fail(id, service::OutcomeReason(result.outcome));
  if (result.retry_after_seconds > 0) b.Add("retry_after", result.retry_after_seconds);
  return std::move(b).Finish();
}

std::string FormatEventLine(const service::FeedEvent& event) {
  std::string out = "EVENT\t";
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), event.seq);
  (void)ec;
  out.append(buf, end);
  auto add = [&](std::string_view key, std::string_view value) {
    out.push_back('\t');
    out.append(key);
    out.push_back('=');
    AppendEscaped(&out, value);
  };
  add("id", event.id);
  add("type", event.type);
  if (!event.user.empty()) add("user", event.user);
  auto [tend, tec] = std::to_chars(buf, buf + sizeof(buf), event.time_micros);
  (void)tec;
  add("time", std::string_view(buf, tend - buf));
  add("data", event.data_json.empty() ? std::string_view("{}") : event.data_json);
  out.push_back('\n');
  return out;
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
