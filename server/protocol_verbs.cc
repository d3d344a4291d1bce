// The verify socket's verbs (docs/protocol.md): one VerbSpec each, in Verb's order. A verb's
// keys, what it requires, who answers it and the shape of its reply are all here; ParseRequest
// and the session read nothing else about a verb.

#include <charconv>
#include <cstdint>
#include <utility>

#include "server/protocol.h"

namespace otpd::server {
namespace {

using service::SignInResult;

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

// A decimal the parser has checked (IsNumberIn), or 0 when absent.
template <typename Int>
Int Number(std::string_view text) {
  Int v = 0;
  if (!text.empty()) std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

// ---- what each verb requires

std::string_view CheckNothing(const Request&) { return ""; }

std::string_view CheckHello(const Request& r) {
  if (r.version.empty()) return "missing version";
  if (r.client.empty() != r.key.empty()) return "client and key go together";
  return "";
}

std::string_view CheckVerify(const Request& r) {
  if (!r.user.empty() && !r.serial.empty()) return "both user and serial";
  if (r.user.empty() && r.serial.empty()) return "missing user or serial";
  if (!IsOtp(r.otp)) return "missing or malformed otp";
  return "";
}

std::string_view CheckResync(const Request& r) {
  std::string_view error = CheckVerify(r);
  if (error.empty() && !IsOtp(r.otp2)) return "missing or malformed otp2";
  return error;
}

// The user and one more key the verb cannot do without.
template <std::string_view Request::*kSlot, const char* kMissing>
std::string_view CheckUserAnd(const Request& r) {
  if (r.user.empty()) return "missing user";
  if ((r.*kSlot).empty()) return kMissing;
  return "";
}
constexpr char kMissingPassword[] = "missing password";
constexpr char kMissingPass[] = "missing pass";
constexpr char kMissingSession[] = "missing session";

std::string_view CheckRemember(const Request& r) {
  if (r.user.empty()) return "missing user";
  if (!r.days.empty() && !IsNumberIn(r.days, 1, 365)) return "days must be 1..365";
  return "";
}

std::string_view CheckSetPassword(const Request& r) {
  if (r.user.empty()) return "missing user";
  if (r.old_password.empty() || r.new_password.empty()) return "missing old or new";
  return "";
}

std::string_view CheckEnrol(const Request& r) {
  if (r.user.empty()) return "missing user";
  if (r.name.size() > 256) return "name longer than 256";
  if (!r.at_sign_in.empty() && r.at_sign_in != "1") return "at_sign_in must be 1";
  return "";
}

std::string_view CheckConfirm(const Request& r) {
  if (r.user.empty()) return "missing user";
  if (r.method.empty()) return "missing method";
  if (!IsOtp(r.otp)) return "missing or malformed otp";
  return "";
}

std::string_view CheckChallenge(const Request& r) {
  if (r.user.empty()) return "missing user";
  // No method: the phone of the user's default sign-in method, else their mobile.
  if (!r.method.empty() && r.method != "mobile" && r.method != "alternateMobile" &&
      r.method != "office") {
    return "method must be mobile, alternateMobile or office";
  }
  if (!r.channel.empty() && r.channel != "sms" && r.channel != "voice") {
    return "channel must be sms or voice";
  }
  return "";
}

std::string_view CheckSubscribe(const Request& r) {
  if (!r.from.empty() && !IsNumberIn(r.from, 1, UINT64_MAX >> 1)) return "malformed from";
  return "";
}

// ---- the fields an accepted factor's reply carries

std::string PlainReply(std::string_view id, const SignInResult& result) {
  return FormatFactorReply(id, result, nullptr);
}

std::string PasswordReply(std::string_view id, const SignInResult& result) {
  return FormatFactorReply(id, result, [](const SignInResult& r, ReplyBuilder& b) {
    if (r.must_change) b.Add("must_change", "1");
  });
}

std::string MethodReply(std::string_view id, const SignInResult& result) {
  return FormatFactorReply(id, result, [](const SignInResult& r, ReplyBuilder& b) {
    if (!r.method_id.empty()) b.Add("method", r.method_id);
    if (r.usable_once) b.Add("usable_once", "1");
  });
}

std::string ChallengeReply(std::string_view id, const SignInResult& result) {
  return FormatFactorReply(id, result, [](const SignInResult& r, ReplyBuilder& b) {
    b.Add("channel", r.channel).Add("expires_in", r.expires_in_seconds);
  });
}

constexpr VerbField kUser{"user", &Request::user};
constexpr VerbField kOtp{"otp", &Request::otp};

// PASSWORD, APP_PASSWORD, SESSION and TAP: the user and one secret, handed to the SignInService.
template <std::string_view Request::*kSlot, const char* kMissing>
constexpr VerbSpec UserAndSecret(std::string_view name, Verb verb, std::string_view key,
                                 VerbSpec::SignInCall call, VerbSpec::SignInReply reply) {
  return {.name = name,
          .verb = verb,
          .fields = {{kUser, {key, kSlot, true}}},
          .check = CheckUserAnd<kSlot, kMissing>,
          .sign_in = call,
          .reply = reply};
}

// `spec` with proves_mfa set.
constexpr VerbSpec WithMfaProof(VerbSpec spec) {
  spec.proves_mfa = true;
  return spec;
}

using service::ActionCallback;
using service::SelfService;
using service::SignInCallback;
using service::SignInService;

constexpr std::array<VerbSpec, 15> kVerbs = {
    {
        {.name = "HELLO",
         .verb = Verb::kHello,
         .fields = {{{"version", &Request::version},
                     {"client", &Request::client},
                     {"key", &Request::key, true}}},
         .check = CheckHello,
         .connection = &ConnectionVerbs::OnHello},
        {.name = "VERIFY",
         .verb = Verb::kVerify,
         .fields = {{kUser, {"serial", &Request::serial}, kOtp}},
         .check = CheckVerify,
         .sign_in =
             [](SignInService& s, const Request& r, SignInCallback done) {
               s.Verify({r.user, r.serial, r.otp}, std::move(done));
             },
         .reply = FormatSignInReply,
         .proves_mfa = true},
        {.name = "RESYNC",
         .verb = Verb::kResync,
         .fields = {{kUser, {"serial", &Request::serial}, kOtp, {"otp2", &Request::otp2}}},
         .check = CheckResync,
         .sign_in =
             [](SignInService& s, const Request& r, SignInCallback done) {
               s.Resync({r.user, r.serial, r.otp, r.otp2}, std::move(done));
             },
         .reply = FormatSignInReply},
        {.name = "PING",
         .verb = Verb::kPing,
         .check = CheckNothing,
         .connection = &ConnectionVerbs::OnPing},
        {.name = "STATS",
         .verb = Verb::kStats,
         .check = CheckNothing,
         .connection = &ConnectionVerbs::OnStats},
        UserAndSecret<&Request::password, kMissingPassword>(
            "PASSWORD", Verb::kPassword, "password",
            [](SignInService& s, const Request& r, SignInCallback done) {
              s.Password({r.user, r.password}, std::move(done));
            },
            PasswordReply),
        UserAndSecret<&Request::password, kMissingPassword>(
            "APP_PASSWORD", Verb::kAppPassword, "password",
            [](SignInService& s, const Request& r, SignInCallback done) {
              s.AppPassword({r.user, r.password}, std::move(done));
            },
            MethodReply),
        {.name = "REMEMBER",
         .verb = Verb::kRemember,
         .fields = {{kUser, {"days", &Request::days}}},
         .check = CheckRemember,
         .action =
             [](SelfService& s, const Request& r, ActionCallback done) {
               s.Remember({r.user, Number<uint32_t>(r.days)}, std::move(done));
             },
         .needs_proven_mfa = true},
        UserAndSecret<&Request::session, kMissingSession>(
            "SESSION", Verb::kSession, "session",
            [](SignInService& s, const Request& r, SignInCallback done) {
              s.Session({r.user, r.session}, std::move(done));
            },
            PlainReply),
        {.name = "SUBSCRIBE",
         .verb = Verb::kSubscribe,
         .fields = {{{"from", &Request::from}}},
         .check = CheckSubscribe,
         .connection = &ConnectionVerbs::OnSubscribe},
        WithMfaProof(UserAndSecret<&Request::pass, kMissingPass>(
            "TAP", Verb::kTap, "pass",
            [](SignInService& s, const Request& r, SignInCallback done) {
              s.Tap({r.user, r.pass}, std::move(done));
            },
            MethodReply)),
        {.name = "CHALLENGE",
         .verb = Verb::kChallenge,
         .fields = {{kUser, {"method", &Request::method}, {"channel", &Request::channel}}},
         .check = CheckChallenge,
         .sign_in =
             [](SignInService& s, const Request& r, SignInCallback done) {
               s.Challenge({r.user, r.method, r.channel}, std::move(done));
             },
         .reply = ChallengeReply},
        {.name = "SET_PASSWORD",
         .verb = Verb::kSetPassword,
         .fields = {{kUser,
                     {"old", &Request::old_password, true},
                     {"new", &Request::new_password, true}}},
         .check = CheckSetPassword,
         .action =
             [](SelfService& s, const Request& r, ActionCallback done) {
               s.SetPassword({r.user, r.old_password, r.new_password}, std::move(done));
             }},
        {.name = "ENROL",
         .verb = Verb::kEnrol,
         .fields = {{kUser,
                     {"tap", &Request::tap, true},
                     {"name", &Request::name},
                     {"at_sign_in", &Request::at_sign_in}}},
         .check = CheckEnrol,
         .action =
             [](SelfService& s, const Request& r, ActionCallback done) {
               s.Enrol({r.user, r.tap, r.name, r.at_sign_in == "1"}, std::move(done));
             }},
        {.name = "CONFIRM",
         .verb = Verb::kConfirm,
         .fields = {{kUser, {"method", &Request::method}, kOtp}},
         .check = CheckConfirm,
         .action =
             [](SelfService& s, const Request& r, ActionCallback done) {
               s.Confirm({r.user, r.method, r.otp}, std::move(done));
             }},
    }};

// DescribeVerb indexes kVerbs by Verb, and every spec names exactly one way to answer.
constexpr bool WellFormed() {
  for (size_t i = 0; i < kVerbs.size(); ++i) {
    const VerbSpec& s = kVerbs[i];
    const int answers = (s.connection != nullptr) + (s.sign_in != nullptr) + (s.action != nullptr);
    if (static_cast<size_t>(s.verb) != i || answers != 1 || s.check == nullptr) return false;
    if ((s.sign_in != nullptr) != (s.reply != nullptr)) return false;
  }
  return true;
}
static_assert(WellFormed(), "kVerbs must list every Verb in order, each answered one way");
static_assert(kVerbs.size() == static_cast<size_t>(Verb::kConfirm) + 1);

}  // namespace

const VerbSpec& DescribeVerb(Verb verb) { return kVerbs[static_cast<size_t>(verb)]; }

const VerbSpec* FindVerb(std::string_view name) {
  for (const VerbSpec& spec : kVerbs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

bool CarriesSecret(Verb verb) {
  for (const VerbField& field : DescribeVerb(verb).fields) {
    if (field.secret) return true;
  }
  return false;
}

std::string_view VerbName(Verb verb) { return DescribeVerb(verb).name; }

}  // namespace otpd::server
