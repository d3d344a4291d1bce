// Verify socket protocol v1 (docs/protocol.md): parsing request lines and formatting replies.
// Pure functions over bytes; no I/O, no Asio, no allocation on the parse path. What each verb
// takes, requires and answers is its VerbSpec (server/protocol_verbs.cc).
//
// A request line is `VERB<TAB>id[<TAB>key=value]...`; values may carry the escapes `\\`, `\t`
// and `\n`. A reply is `OK<TAB>id[<TAB>key=value]...` or `FAIL<TAB>id<TAB>reason=R[...]`.
//
// Thread-safety: everything here is a pure function or a value type.

#ifndef OTPD_SERVER_PROTOCOL_H_
#define OTPD_SERVER_PROTOCOL_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "service/signin/sign_in.h"

namespace otpd::server {

inline constexpr int kProtocolVersion = 1;
inline constexpr std::string_view kProtocolVersionText = "1";
// The id used in a reply when the request's own id is missing or invalid.
inline constexpr std::string_view kNoId = "-";
inline constexpr size_t kMaxIdLength = 64;
// Default and upper bound of a request line's length, LF (and a CR before it) excluded.
inline constexpr size_t kDefaultMaxLine = 4096;

enum class Verb : uint8_t {
  kHello,
  kVerify,
  kResync,
  kPing,
  kStats,
  // The other factors and the self-service verbs (docs/protocol.md).
  kPassword,
  kAppPassword,
  kRemember,
  kSession,
  kSubscribe,
  kTap,
  kChallenge,
  kSetPassword,
  kEnrol,
  kConfirm,
};

// One parsed request. The views point into the line given to ParseRequest (which unescapes
// values in place) and are valid as long as that buffer is unchanged. Unused fields are empty;
// a field that is set is never empty.
struct Request {
  Verb verb = Verb::kPing;
  std::string_view id;
  // HELLO
  std::string_view version;
  std::string_view client;
  std::string_view key;  // a secret: never log it, wipe the line after use
  // VERIFY and RESYNC: exactly one of user and serial.
  std::string_view user;
  std::string_view serial;
  std::string_view otp;
  std::string_view otp2;  // RESYNC only
  // PASSWORD and APP_PASSWORD (`password`), TAP (`pass`), SESSION (`session`), SET_PASSWORD
  // (`old`, `new`), ENROL (`tap`): secrets, like `key`.
  std::string_view password;
  std::string_view pass;
  std::string_view session;
  std::string_view old_password;
  std::string_view new_password;
  std::string_view tap;
  // REMEMBER: 1..365 days (checked by the parser), or empty for the configured default.
  std::string_view days;
  // ENROL: the new app's display name; CONFIRM and CHALLENGE: the method.
  std::string_view name;
  // ENROL: "1" when the front end offers registration at a sign-in (EnrolRequest::at_sign_in).
  std::string_view at_sign_in;
  std::string_view method;
  std::string_view channel;  // CHALLENGE: sms or voice
  std::string_view from;     // SUBSCRIBE: the first sequence number wanted (decimal)
};

// What a connection answers itself (HELLO, PING, STATS, SUBSCRIBE); the session implements it.
class ConnectionVerbs {
 public:
  virtual ~ConnectionVerbs() = default;
  virtual void OnHello(const Request& request) = 0;
  virtual void OnPing(const Request& request) = 0;
  virtual void OnStats(const Request& request) = 0;
  virtual void OnSubscribe(const Request& request) = 0;
};

// One key a verb takes, and the member of Request that ParseRequest sets to its value.
struct VerbField {
  std::string_view key;
  std::string_view Request::*slot = nullptr;
  // A password, a pass, a session token or a client key: the line is wiped once handled.
  bool secret = false;
};

// Everything about one verb, in one place (server/protocol_verbs.cc): its name, the keys it takes
// and which are secret, what it requires, who answers it and how the answer is shaped. Exactly
// one of `connection`, `sign_in` and `action` is set. A new verb is one VerbSpec in kVerbs and
// the service call (or ConnectionVerbs handler) it names.
struct VerbSpec {
  using SignInCall = void (*)(service::SignInService&, const Request&, service::SignInCallback);
  using SignInReply = std::string (*)(std::string_view id, const service::SignInResult&);
  using ActionCall = void (*)(service::SelfService&, const Request&, service::ActionCallback);

  std::string_view name;
  Verb verb = Verb::kPing;
  std::array<VerbField, 4> fields{};  // unused entries have an empty key
  // The combination of keys the verb needs: "" when the request is complete, otherwise a short
  // static description of what is missing or malformed (ParseResult::error).
  std::string_view (*check)(const Request&) = nullptr;
  // Answered by the connection itself.
  void (ConnectionVerbs::*connection)(const Request&) = nullptr;
  // Handed to the SignInService; `reply` formats its answer.
  SignInCall sign_in = nullptr;
  SignInReply reply = nullptr;
  // Handed to the SelfService; FormatActionReply formats its answer.
  ActionCall action = nullptr;
  // An accepted answer for a named user proves a second factor on this connection (for REMEMBER).
  bool proves_mfa = false;
  // Refused unless the same user proved a second factor on this connection just before (once).
  bool needs_proven_mfa = false;
};

// The spec of every Verb (indexed by it), and of the verb named `name` (nullptr when unknown).
const VerbSpec& DescribeVerb(Verb verb);
const VerbSpec* FindVerb(std::string_view name);

// Whether a request of `verb` carries a secret (a password, a pass, a session token, a client
// key): its line is wiped once handled.
bool CarriesSecret(Verb verb);

std::string_view VerbName(Verb verb);

struct ParseResult {
  bool ok = false;
  // The request's id when it is valid (also on failure, so the error can be correlated),
  // otherwise kNoId.
  std::string_view id = kNoId;
  Request request;
  // On failure, a short static description of what was wrong ("unknown verb", ...), for tests
  // and debug logs. It never contains bytes of the request.
  std::string_view error;
};

// Parses one request line: `line` holds the bytes before the LF; one trailing CR is ignored.
// Values containing escapes are unescaped in place, so `line` is modified. Every malformed shape
// (unknown verb, bad id, a field without `=`, an empty key or value, an unknown or
// duplicate key for the verb, both user and serial, a missing required key, a bad escape, a raw
// control character, an otp that is not 6..9 digits) yields ok == false.
ParseResult ParseRequest(std::span<char> line);

// 1..64 characters of [A-Za-z0-9._-].
bool IsValidId(std::string_view id);

// Appends `value` with `\`, TAB and LF escaped.
void AppendEscaped(std::string* out, std::string_view value);

// Unescapes `value` in place; returns the new length, or nullopt on a backslash not followed by
// one of `\`, `t`, `n`.
std::optional<size_t> UnescapeInPlace(std::span<char> value);

// Builds one reply line. Keys are written as given (they are protocol constants); values are
// escaped.
class ReplyBuilder {
 public:
  static ReplyBuilder Ok(std::string_view id);
  static ReplyBuilder Fail(std::string_view id, std::string_view reason);

  ReplyBuilder& Add(std::string_view key, std::string_view value);
  ReplyBuilder& Add(std::string_view key, int64_t value);
  ReplyBuilder& AddUnsigned(std::string_view key, uint64_t value);

  // The reply, LF-terminated; the builder is left empty.
  std::string Finish();

 private:
  explicit ReplyBuilder(std::string_view head, std::string_view id);
  std::string text_;
};

// The reply to PASSWORD, APP_PASSWORD, TAP, SESSION or CHALLENGE (docs/protocol.md): the verb's
// VerbSpec::reply.
std::string FormatFactorReply(std::string_view id, Verb verb, const service::SignInResult& result);

// The shape the factor verbs' replies share: `OK id` with the fields `accepted` adds (it may be
// null), or `FAIL id reason=..` with retry_after when locked or rate limited.
std::string FormatFactorReply(std::string_view id, const service::SignInResult& result,
                              void (*accepted)(const service::SignInResult&, ReplyBuilder&));

// The reply to a self-service verb: `OK id` with the result's fields, or `FAIL id reason=..`.
std::string FormatActionReply(std::string_view id, const service::ActionResult& result);

// One line of a SUBSCRIBE stream: `EVENT<TAB>seq<TAB>id=..<TAB>type=..<TAB>user=..<TAB>time=..
// <TAB>data=<JSON>` (time in Unix microseconds; user absent for events without one).
std::string FormatEventLine(const service::FeedEvent& event);

// `OK id version=1 server=otpd/VERSION`.
std::string FormatHelloOk(std::string_view id, std::string_view server_version);

// The reply to a VERIFY or RESYNC: `OK id method=.. type=.. [serial=..] step=.. drift=..` when
// accepted, otherwise `FAIL id reason=..` with retry_after (locked) or drift (drift).
std::string FormatSignInReply(std::string_view id, const service::SignInResult& result);

// Client side (load generator, tests, tools): one reply line (without LF) split into its parts,
// values unescaped. nullopt when the line is not a well-formed reply.
struct ParsedReply {
  bool ok = false;
  std::string id;
  std::map<std::string, std::string, std::less<>> fields;

  // The `reason=` of a FAIL, "ok" for an OK.
  std::string_view reason() const;
};
std::optional<ParsedReply> ParseReply(std::string_view line);

}  // namespace otpd::server

#endif  // OTPD_SERVER_PROTOCOL_H_
