#include "server/protocol.h"

#include <array>
#include <charconv>

namespace otpd::server {
namespace {

bool HasControlCharacter(std::string_view text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

// The slot of `key` in `request` when `spec`'s verb takes that key, otherwise nullptr.
std::string_view* FieldSlot(const VerbSpec& spec, std::string_view key, Request* request) {
  for (const VerbField& field : spec.fields) {
    if (!field.key.empty() && field.key == key) return &(request->*field.slot);
  }
  return nullptr;
}

ParseResult Fail(ParseResult result, std::string_view error) {
  result.ok = false;
  result.error = error;
  return result;
}

// Parses the `key=value` fields that follow the id. `fields` starts after the id's TAB.
std::string_view ParseFields(const VerbSpec& spec, std::span<char> fields, Request* request) {
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
    std::string_view* slot = FieldSlot(spec, field.substr(0, eq), request);
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

  const VerbSpec* spec = FindVerb(text.substr(0, verb_end));
  if (spec == nullptr) return Fail(result, "unknown verb");
  result.request.verb = spec->verb;
  result.request.id = id;

  if (id_end != std::string_view::npos) {
    std::string_view error =
        ParseFields(*spec, line.subspan(id_end + 1, n - id_end - 1), &result.request);
    if (!error.empty()) return Fail(result, error);
  }
  std::string_view error = spec->check(result.request);
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
  return DescribeVerb(verb).reply(id, result);
}

std::string FormatFactorReply(std::string_view id, const service::SignInResult& result,
                              void (*accepted)(const service::SignInResult&, ReplyBuilder&)) {
  using service::Outcome;
  if (result.outcome == Outcome::kAccepted) {
    ReplyBuilder b = ReplyBuilder::Ok(id);
    if (accepted != nullptr) accepted(result, b);
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
