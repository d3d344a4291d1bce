// privacyIDEA's own clients against the real otpd, unchanged: the requests the privacyIDEA PAM
// module (libcurl) and the privacyIDEA FreeRADIUS plugin (rlm_perl, LWP) send, byte for byte as
// far as the request line, the headers, the form fields and their order go, with no
// Authorization header (neither client can send one). They are admitted as the [clients.NAME]
// whose `networks` hold their source address (validate_without_key); any other address without
// a key is refused as before. The test connects from 127.0.0.2 (the PAM host), 127.0.0.3 (the
// RADIUS host) and 127.0.0.1/127.0.0.4 (hosts in no client's networks): Linux answers all of
// 127.0.0.0/8 on loopback.
//
// Covered: accept, replay, wrong code, an SMS challenge started with sendEmptyPass's `pass=` and
// answered with `transaction_id` (PAM) or with `state` (the plugin), detail.type "sms" and a
// serial that is not Graph's fixed phone id, an unknown user (904, which the plugin maps to
// NOTFOUND), `state` and `transaction_id` that differ, /validate/polltransaction and
// /validate/offlinerefill, and the endpoints otpd does not serve answering privacyIDEA's shapes.

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/e2e/e2e_env.h"
#include "tests/e2e/suite_daemon.h"
#include "tests/e2e/validate_env.h"
#include "tests/testing/eventually.h"
#include "tests/testing/http_client.h"
#include "tests/testing/raw_http.h"

namespace otpd::e2e {
namespace {

namespace json = boost::json;
using otpd::testing::RawAnswer;
using otpd::testing::RawHttp;

// Source addresses (host order) of the test's clients.
constexpr uint32_t kPamHost = 0x7f000002;     // 127.0.0.2, in [clients.pam-hosts]
constexpr uint32_t kRadiusHost = 0x7f000003;  // 127.0.0.3, in [clients.radius-hosts]
constexpr uint32_t kOtherHost = 0x7f000004;   // 127.0.0.4, in no client's networks
constexpr uint32_t kLoopback = 0x7f000001;    // 127.0.0.1, in no client's networks either

// Graph's fixed id of every user's mobile phone method, the same in every installation.
constexpr char kGraphMobileId[] = "3179e48a-750b-4051-897c-87b9720928f7";

std::string Upn(const std::string& name) { return name + "@example.com"; }

// The PAM module's URL encoding: letters, digits and -_.~ as they are, every other byte %XX.
std::string PamEncode(const std::string& value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// The PAM module's body: its parameters are a std::map, so the fields go in name order.
std::string PamBody(const std::map<std::string, std::string>& fields) {
  std::string body;
  for (const auto& [name, value] : fields) {
    body += (body.empty() ? "" : "&") + name + "=" + PamEncode(value);
  }
  return body;
}

class PrivacyIdeaClientsTest : public ValidateSuite<PrivacyIdeaClientsTest> {
 public:
  static std::vector<TestToken> Tokens() {
    std::vector<TestToken> tokens;
    for (const char* name :
         {"alice", "bea", "carl", "dan", "eve", "pat", "rob", "sue", "tom", "uma"}) {
      tokens.push_back(Totp(name));
    }
    return tokens;
  }
  static TestToken Token(const std::string& name) {
    for (TestToken& t : Tokens()) {
      if (t.upn == Upn(name)) return t;
    }
    ADD_FAILURE() << "no token for " << name;
    return {};
  }

  static bool PrepareSuite(std::vector<std::string>* args, std::string* error) {
    if (!PrepareDataDir(DataDir(), Tokens(), error)) return false;
    const std::string script = dir_->File("exec-hook");
    otpd::testing::WriteFile(script, "#!/bin/sh\n{ cat; echo; } >> \"$1\"\n");
    chmod(script.c_str(), 0700);
    otpd::testing::WriteFile(dir_->File("otpd.toml"),
                             std::string("[clients.") + kClient + "]\nkey = \"" + kClientKey +
                                 "\"\n"
                                 "[clients.pam-hosts]\nvalidate_without_key = true\n"
                                 "networks = [\"127.0.0.2/32\", \"10.1.2.0/24\"]\n"
                                 "[clients.radius-hosts]\nvalidate_without_key = true\n"
                                 "networks = [\"127.0.0.3/32\", \"fd00:1::/64\"]\n"
                                 "[hooks.sms]\ntype = \"exec\"\ncommand = [\"" +
                                 script + "\", \"" + EventsFile() +
                                 "\"]\nretry_initial_ms = 50\nretry_max_ms = 200\n");
    *args = {"--config", dir_->File("otpd.toml"), "--validate-listen", "127.0.0.1:0"};
    return true;
  }

  // The phones, added through the admin API with Graph's create body once the daemon runs.
  static bool SuiteStarted(std::string* error) {
    int n = 10;
    for (const char* name : {"pat", "rob", "sue", "tom", "uma"}) {
      const otpd::testing::HttpReply r =
          Owner().Post("/v1.0/users/" + Upn(name) + "/authentication/phoneMethods",
                       json::object{{"phoneNumber", "+1 42555513" + std::to_string(n++)},
                                    {"phoneType", "mobile"}});
      if (r.status != 201) {
        *error = "cannot add a phone: " + r.body;
        return false;
      }
    }
    return true;
  }

 protected:
  static std::string EventsFile() { return dir_->File("exec-events"); }

  // The `count`th SMS code sent to `upn` (waiting for the hook), "" if it never comes.
  static std::string WaitForCode(const std::string& upn, size_t count) {
    std::string code;
    otpd::testing::Eventually([&] {
      struct stat st {};
      if (stat(EventsFile().c_str(), &st) != 0) return false;
      std::vector<std::string> codes;
      std::istringstream lines(otpd::testing::ReadFile(EventsFile()));
      std::string line;
      while (std::getline(lines, line)) {
        if (line.empty()) continue;
        json::object e = json::parse(line).as_object();
        if (e.at("type").as_string() != "sms.send" || e.at("user").as_string() != upn) continue;
        codes.emplace_back(e.at("data").at("code").as_string());
      }
      if (codes.size() >= count) code = codes[count - 1];
      return !code.empty();
    });
    if (!code.empty()) sent_codes_.push_back(code);
    return code;
  }

  static std::string Host() { return "127.0.0.1:" + std::to_string(daemon_->validate_port()); }

  // One request from `source`, on a connection of its own (both clients open one per request).
  static RawAnswer Send(uint32_t source, const std::string& bytes, uint16_t port = 0) {
    std::optional<RawHttp> c =
        RawHttp::TcpFrom(port != 0 ? port : daemon_->validate_port(), source);
    if (!c) {
      ADD_FAILURE() << "cannot connect from the test's source address";
      return {};
    }
    if (!c->Send(bytes)) ADD_FAILURE() << "cannot send";
    return c->Read();
  }

  // What libcurl sends for the PAM module's POST (CURLOPT_POSTFIELDS, its User-Agent header:
  // "PAM/1.0.0", or in later releases "privacyidea-pam/VERSION ComputerName/MACHINE-ID").
  static std::string CurlPost(const std::string& path, const std::string& body,
                              const std::string& agent = "PAM/1.0.0") {
    return "POST " + path + " HTTP/1.1\r\nHost: " + Host() +
           "\r\nAccept: */*\r\nUser-Agent: " + agent +
           "\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n" + body;
  }
  static std::string CurlGet(const std::string& target) {
    return "GET " + target + " HTTP/1.1\r\nHost: " + Host() +
           "\r\nAccept: */*\r\nUser-Agent: PAM/1.0.0\r\n\r\n";
  }
  // The PAM module's validateCheck: user, pass and, answering a challenge, transaction_id.
  static RawAnswer Pam(const std::string& user, const std::string& pass,
                       const std::string& transaction_id = "", uint32_t source = kPamHost) {
    std::map<std::string, std::string> fields{{"user", user}, {"pass", pass}};
    if (!transaction_id.empty()) fields.emplace("transaction_id", transaction_id);
    return Send(source, CurlPost("/validate/check", PamBody(fields)));
  }

  // What LWP::UserAgent sends for the plugin's $ua->post($URL, \%params) with agent "FreeRADIUS".
  // The fields come in Perl's hash order, which is not fixed: the test gives one.
  static std::string LwpPost(const std::string& path,
                             const std::vector<std::pair<std::string, std::string>>& fields) {
    const std::string body = Form(fields);
    return "POST " + path +
           " HTTP/1.1\r\nTE: deflate,gzip;q=0.3\r\nConnection: TE, close\r\nHost: " + Host() +
           "\r\nUser-Agent: FreeRADIUS\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n" + body;
  }
  // The plugin's request for a RADIUS Access-Request from NAS 10.1.2.3: Stripped-User-Name and
  // the realm FreeRADIUS split off, the User-Password, resConf, and `state` when the
  // Access-Request carries a State.
  static RawAnswer Radius(const std::string& name, const std::string& pass,
                          const std::string& state = "") {
    std::vector<std::pair<std::string, std::string>> fields;
    if (!state.empty()) fields.emplace_back("state", state);
    fields.emplace_back("user", name);
    fields.emplace_back("client", "10.1.2.3");
    fields.emplace_back("pass", pass);
    fields.emplace_back("realm", "example.com");
    fields.emplace_back("resConf", "ldapresolver");
    return Send(kRadiusHost, LwpPost("/validate/check", fields));
  }

  static inline std::vector<std::string> sent_codes_;
};

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string ReplaceOnce(std::string text, const std::string& from, const std::string& to) {
  if (const size_t at = text.find(from); at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

json::value Json(const RawAnswer& a) {
  boost::system::error_code ec;
  json::value v = json::parse(a.body, ec);
  if (ec) ADD_FAILURE() << "not JSON: " << a.status << " " << a.body;
  return v;
}

bool HasHeader(const RawAnswer& a, const std::string& lower_line) {
  return a.headers.find("\r\n" + lower_line + "\r\n") != std::string::npos;
}

// What the PAM module reads of an answer: result.value, and detail.message.
void ExpectPamDecision(const RawAnswer& a, bool value, const std::string& message) {
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_TRUE(HasHeader(a, "content-type: application/json")) << a.headers;
  json::value v = Json(a);
  ExpectEnvelope(v);
  EXPECT_EQ(v.at("result").at("status").as_bool(), true) << a.body;
  EXPECT_EQ(v.at("result").at("value").as_bool(), value) << a.body;
  EXPECT_EQ(v.at("detail").at("message").as_string(), message) << a.body;
  EXPECT_FALSE(v.at("detail").as_object().contains("transaction_id")) << a.body;
}

// A challenge as the PAM module reads it: no error, detail.message (its next prompt),
// detail.transaction_id, multi_challenge entries that are not push (so it prompts). Returns the
// transaction id and the serial.
std::pair<std::string, std::string> ExpectSmsChallenge(const RawAnswer& a) {
  EXPECT_EQ(a.status, 200) << a.body;
  json::value v = Json(a);
  if (!v.is_object()) return {};
  EXPECT_EQ(v.at("result").at("status").as_bool(), true) << a.body;
  EXPECT_EQ(v.at("result").at("value").as_bool(), false) << a.body;
  EXPECT_FALSE(v.at("result").as_object().contains("error"));
  const json::object& d = v.at("detail").as_object();
  EXPECT_EQ(d.at("message").as_string(), "Enter the code sent to your phone");
  const json::array& multi = d.at("multi_challenge").as_array();
  EXPECT_EQ(multi.size(), 1u);
  if (multi.empty()) return {};
  EXPECT_EQ(multi[0].at("type").as_string(), "sms");
  EXPECT_EQ(multi[0].at("client_mode").as_string(), "interactive");
  EXPECT_EQ(multi[0].at("serial"), d.at("serial"));
  return {std::string(d.at("transaction_id").as_string()), std::string(d.at("serial").as_string())};
}

// A phone's serial must be nothing another installation shows for its users: not Graph's fixed
// method id, not shaped like a GUID.
void ExpectInstallationSerial(const std::string& serial) {
  EXPECT_NE(serial, kGraphMobileId);
  EXPECT_EQ(serial.find('-'), std::string::npos) << serial;
  EXPECT_GE(serial.size(), 12u) << serial;
}

TEST_F(PrivacyIdeaClientsTest, PamModuleAcceptsRefusesAReplayAndAWrongCode) {
  const TestToken t = Token("alice");
  const std::string code = t.Code(1);
  ExpectPamDecision(Pam(t.upn, code), true, "matching 1 tokens");
  ExpectPamDecision(Pam(t.upn, code), false, "wrong otp value. previous otp used again");
  ExpectPamDecision(Pam(t.upn, WrongCode(t)), false, "wrong otp value");
}

// Later releases send realm= from the module's options (pass, realm, user in name order) and
// name the machine in their User-Agent; otpd appends the realm to a user name without "@".
TEST_F(PrivacyIdeaClientsTest, PamModuleWithARealmOption) {
  const TestToken t = Token("eve");
  const std::string code = t.Code(1);
  const std::string agent = "privacyidea-pam/1.1.0 ComputerName/0123456789abcdef0123456789abcdef";
  const std::string body = PamBody({{"user", "eve"}, {"pass", code}, {"realm", "example.com"}});
  ASSERT_EQ(body, "pass=" + code + "&realm=example.com&user=eve");
  ExpectPamDecision(Send(kPamHost, CurlPost("/validate/check", body, agent)), true,
                    "matching 1 tokens");
  ExpectPamDecision(Send(kPamHost, CurlPost("/validate/check", body, agent)), false,
                    "wrong otp value. previous otp used again");
}

TEST_F(PrivacyIdeaClientsTest, PamSendEmptyPassThenTheSmsCodeWithTheTransactionId) {
  const std::string upn = Upn("pat");
  // sendEmptyPass: `pass=` first; the answer's message is the module's next prompt.
  const auto [tid, serial] = ExpectSmsChallenge(Pam(upn, ""));
  ASSERT_EQ(tid.size(), 64u);
  ExpectInstallationSerial(serial);
  const std::string code = WaitForCode(upn, 1);
  ASSERT_EQ(code.size(), 6u) << daemon_->log();
  // The body goes as pass=..&transaction_id=..&user=.. (the module's std::map order).
  RawAnswer ok = Pam(upn, code, tid);
  ExpectPamDecision(ok, true, "matching 1 tokens");
  json::value v = Json(ok);
  EXPECT_EQ(v.at("detail").at("type").as_string(), "sms") << ok.body;
  EXPECT_EQ(v.at("detail").at("serial").as_string(), serial) << ok.body;
  EXPECT_FALSE(v.at("detail").as_object().contains("otplen")) << ok.body;
  ExpectPamDecision(Pam(upn, code, tid), false, "wrong otp value. previous otp used again");
}

TEST_F(PrivacyIdeaClientsTest, PhoneSerialsDifferPerUserAndStayPerUser) {
  const auto [rob_tid, rob_serial] = ExpectSmsChallenge(Pam(Upn("rob"), ""));
  const auto [sue_tid, sue_serial] = ExpectSmsChallenge(Pam(Upn("sue"), ""));
  ExpectInstallationSerial(rob_serial);
  ExpectInstallationSerial(sue_serial);
  EXPECT_NE(rob_serial, sue_serial);
  // The same user's phone keeps its serial from one challenge to the next.
  const auto [again_tid, again_serial] = ExpectSmsChallenge(Pam(Upn("rob"), ""));
  EXPECT_EQ(again_serial, rob_serial);
  EXPECT_NE(again_tid, rob_tid);
}

TEST_F(PrivacyIdeaClientsTest, RadiusPluginAcceptsAndAnswersAChallengeWithState) {
  // The plugin sends the stripped user name and the realm: otpd appends it.
  const TestToken t = Token("bea");
  const std::string bea_code = t.Code(1);
  RawAnswer ok = Radius("bea", bea_code);
  ASSERT_EQ(ok.status, 200) << ok.body;
  json::value v = Json(ok);
  EXPECT_EQ(v.at("result").at("value").as_bool(), true) << ok.body;
  RawAnswer replay = Radius("bea", bea_code);
  EXPECT_EQ(Json(replay).at("result").at("value").as_bool(), false) << replay.body;
  EXPECT_EQ(Json(replay).at("result").at("status").as_bool(), true) << replay.body;
  EXPECT_FALSE(Json(replay).at("detail").as_object().contains("transaction_id"));

  // An empty User-Password: the plugin answers Access-Challenge with State = transaction_id and
  // Reply-Message = detail.message, then sends the next Access-Request's State as `state`.
  const std::string upn = Upn("tom");
  const auto [tid, serial] = ExpectSmsChallenge(Radius("tom", ""));
  ASSERT_EQ(tid.size(), 64u);
  const std::string code = WaitForCode(upn, 1);
  ASSERT_EQ(code.size(), 6u);
  const std::string wrong = code == "000000" ? "000001" : "000000";
  RawAnswer refused = Radius("tom", wrong, tid);
  EXPECT_EQ(Json(refused).at("result").at("value").as_bool(), false) << refused.body;
  RawAnswer answered = Radius("tom", code, tid);
  json::value a = Json(answered);
  EXPECT_EQ(a.at("result").at("value").as_bool(), true) << answered.body;
  EXPECT_EQ(a.at("detail").at("type").as_string(), "sms") << answered.body;
  EXPECT_EQ(a.at("detail").at("serial").as_string(), serial) << answered.body;
  EXPECT_EQ(Json(Radius("tom", code, tid)).at("result").at("value").as_bool(), false);
}

TEST_F(PrivacyIdeaClientsTest, AStateOfAnotherUserOrForgedIsRefusedAsATransactionId) {
  const std::string upn = Upn("uma");
  const auto [tid, serial] = ExpectSmsChallenge(Radius("uma", ""));
  const std::string code = WaitForCode(upn, 1);
  ASSERT_EQ(code.size(), 6u);
  const std::string tampered = tid.substr(0, 63) + (tid[63] == '0' ? "1" : "0");
  RawAnswer forged = Radius("uma", code, tampered);
  json::value v = Json(forged);
  EXPECT_EQ(v.at("result").at("value").as_bool(), false) << forged.body;
  EXPECT_EQ(v.at("detail").at("message").as_string(),
            "No such challenge for this user (unknown transaction_id)");
  // Another user's state is refused too, and nothing was spent: the right one still works.
  EXPECT_EQ(Json(Radius("carl", code, tid)).at("result").at("value").as_bool(), false);
  EXPECT_EQ(Json(Radius("uma", code, tid)).at("result").at("value").as_bool(), true);
}

TEST_F(PrivacyIdeaClientsTest, StateAndTransactionIdThatDifferAreRefused) {
  const TestToken t = Token("carl");
  const std::string code = t.Code(1);  // Code(0) activated the token (e2e_env.cc)
  const std::string a(64, 'a');
  const std::string b(64, 'b');
  RawAnswer r = Send(
      kRadiusHost, LwpPost("/validate/check",
                           {{"state", a}, {"user", t.upn}, {"transaction_id", b}, {"pass", code}}));
  ASSERT_EQ(r.status, 400) << r.body;
  json::value v = Json(r);
  ExpectEnvelope(v);
  EXPECT_EQ(v.at("result").at("status").as_bool(), false);
  EXPECT_EQ(v.at("result").at("error").at("code").as_int64(), 905);
  const std::string message(v.at("result").at("error").at("message").as_string());
  EXPECT_NE(message.find("'state'"), std::string::npos) << message;
  EXPECT_NE(message.find("'transaction_id'"), std::string::npos) << message;
  EXPECT_EQ(message.find(a), std::string::npos) << message;
  // On the RADIUS door too (a bare 400), and nothing reached the sign-in: the code still works.
  RawAnswer radius = Send(
      kRadiusHost, LwpPost("/validate/radiuscheck",
                           {{"state", a}, {"user", t.upn}, {"transaction_id", b}, {"pass", code}}));
  EXPECT_EQ(radius.status, 400);
  ExpectPamDecision(Pam(t.upn, code), true, "matching 1 tokens");
}

TEST_F(PrivacyIdeaClientsTest, RadiusPluginUnknownUserIs904) {
  // The plugin maps error 904 to RLM_MODULE_NOTFOUND: result.status false, result.error.code.
  RawAnswer r = Radius("nobody", "123456");
  ASSERT_EQ(r.status, 400) << r.body;
  json::value v = Json(r);
  EXPECT_EQ(v.at("result").at("status").as_bool(), false);
  EXPECT_EQ(v.at("result").at("error").at("code").as_int64(), 904);
  // The PAM module logs result.error.message and fails: the same answer.
  RawAnswer pam = Pam("nobody@example.com", "123456");
  EXPECT_EQ(Json(pam).at("result").at("error").at("code").as_int64(), 904) << pam.body;
}

TEST_F(PrivacyIdeaClientsTest, WithoutAKeyOnlyTheConfiguredNetworksAreAdmitted) {
  const TestToken t = Token("dan");
  const std::string code = t.Code(1);
  for (uint32_t host : {kLoopback, kOtherHost}) {
    SCOPED_TRACE(host);
    RawAnswer r = Pam(t.upn, code, "", host);
    ASSERT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(Json(r).at("result").at("error").at("code").as_int64(), 4033);
    EXPECT_TRUE(HasHeader(r, "www-authenticate: basic realm=\"otpd\"")) << r.headers;
    EXPECT_TRUE(HasHeader(r, "connection: close")) << r.headers;
  }
  // A key given is checked, even from an admitted network: a wrong one is not waved through.
  const std::string body = PamBody({{"user", t.upn}, {"pass", code}});
  RawAnswer wrong =
      Send(kPamHost, "POST /validate/check HTTP/1.1\r\nHost: " + Host() +
                         "\r\nAuthorization: " + BasicAuth("pam-hosts", "not-the-key-0123456789") +
                         "\r\nContent-Length: " + std::to_string(body.size()) +
                         "\r\nContent-Type: application/x-www-form-urlencoded"
                         "\r\n\r\n" +
                         body);
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  // The key stays the way from anywhere else; the refused attempts spent nothing.
  ExpectDecision(Check(t.upn, code), true, "matching 1 tokens");
}

TEST_F(PrivacyIdeaClientsTest, PollTransactionAndOfflineRefillAnswerPrivacyIdeaShapes) {
  // The PAM module polls (GET) after a push challenge; otpd sends none, so nothing is answered.
  RawAnswer poll =
      Send(kPamHost, CurlGet("/validate/polltransaction?transaction_id=" + std::string(64, 'c')));
  ASSERT_EQ(poll.status, 200) << poll.body;
  EXPECT_TRUE(HasHeader(poll, "content-type: application/json")) << poll.headers;
  json::value p = Json(poll);
  ExpectEnvelope(p);
  EXPECT_EQ(p.at("result").at("status").as_bool(), true);
  EXPECT_EQ(p.at("result").at("value").as_bool(), false);
  EXPECT_EQ(p.at("detail").at("challenge_status").as_string(), "pending");
  RawAnswer by_path = Send(kPamHost, CurlGet("/validate/polltransaction/" + std::string(64, 'c')));
  EXPECT_EQ(Json(by_path).at("result").at("value").as_bool(), false) << by_path.body;
  RawAnswer no_id = Send(kPamHost, CurlGet("/validate/polltransaction"));
  EXPECT_EQ(no_id.status, 400) << no_id.body;
  EXPECT_EQ(Json(no_id).at("result").at("error").at("code").as_int64(), 905);

  // An offline refill of a token otpd never handed out for offline use: privacyIDEA's refusal.
  RawAnswer refill = Send(
      kPamHost, CurlPost("/validate/offlinerefill",
                         PamBody({{"pass", "123456"}, {"refilltoken", "ab12"}, {"serial", "X"}})));
  ASSERT_EQ(refill.status, 400) << refill.body;
  json::value r = Json(refill);
  ExpectEnvelope(r);
  EXPECT_EQ(r.at("result").at("status").as_bool(), false);
  EXPECT_EQ(r.at("result").at("error").at("code").as_int64(), 905);
  EXPECT_TRUE(r.at("detail").is_null());

  // Endpoints other privacyIDEA clients call answer in privacyIDEA's error shape too.
  for (const std::string& path :
       {std::string("/validate/triggerchallenge"), std::string("/auth")}) {
    SCOPED_TRACE(path);
    RawAnswer a = Send(kPamHost, CurlPost(path, PamBody({{"user", "x"}, {"pass", "y"}})));
    EXPECT_GE(a.status, 400) << a.body;
    EXPECT_TRUE(HasHeader(a, "content-type: application/json")) << a.headers;
    json::value e = Json(a);
    EXPECT_EQ(e.at("result").at("status").as_bool(), false) << a.body;
    EXPECT_TRUE(e.at("result").at("error").at("code").is_int64()) << a.body;
  }
}

// The client admitted is known as with a key: /metrics counts admissions per client and how.
TEST_F(PrivacyIdeaClientsTest, AdmissionsAreCountedPerClientAndHow) {
  auto value = [](const std::string& text, const std::string& series) -> double {
    const size_t at = text.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + series.size() + 2));
  };
  const std::string pam = "otpd_validate_admitted_total{client=\"pam-hosts\",by=\"network\"}";
  const std::string keyed = "otpd_validate_admitted_total{client=\"radius\",by=\"key\"}";
  const otpd::testing::HttpReply before = Owner().Get("/metrics");
  ASSERT_EQ(before.status, 200) << before.body;
  const TestToken t = Token("alice");
  ExpectPamDecision(Pam(t.upn, WrongCode(t)), false, "wrong otp value");
  ExpectPamDecision(Pam(t.upn, WrongCode(t), "", kRadiusHost), false, "wrong otp value");
  ExpectDecision(Check(t.upn, WrongCode(t)), false, "wrong otp value");
  Pam(t.upn, WrongCode(t), "", kOtherHost);  // refused: no client, nothing admitted
  const otpd::testing::HttpReply after = Owner().Get("/metrics");
  EXPECT_EQ(value(after.body, pam), std::max(value(before.body, pam), 0.0) + 1) << after.body;
  EXPECT_EQ(value(after.body, keyed), std::max(value(before.body, keyed), 0.0) + 1);
  const std::string radius_hosts =
      "otpd_validate_admitted_total{client=\"radius-hosts\",by=\"network\"}";
  EXPECT_GE(value(after.body, radius_hosts), 1) << after.body;
  EXPECT_EQ(after.body.find("client=\"\""), std::string::npos);
}

// Another installation with the same user and the same phone shows another serial: the serial is
// keyed by the installation's own data key, so no two installations share one.
TEST_F(PrivacyIdeaClientsTest, AnotherInstallationShowsAnotherSerialForTheSamePhone) {
  const auto [tid, here] = ExpectSmsChallenge(Pam(Upn("pat"), ""));
  ASSERT_FALSE(here.empty());
  otpd::testing::TempDir other;
  const std::string data = other.File("data");
  std::string error;
  ASSERT_TRUE(PrepareDataDir(data, {Token("pat")}, &error)) << error;
  otpd::testing::WriteFile(other.File("otpd.toml"),
                           "[clients.pam-hosts]\nvalidate_without_key = true\n"
                           "networks = [\"127.0.0.2/32\"]\n");
  otpd::testing::Daemon daemon;
  ASSERT_TRUE(daemon.Start(OTPD_PATH, DaemonArgs(data, {"--config", other.File("otpd.toml"),
                                                        "--validate-listen", "127.0.0.1:0"})))
      << daemon.log();
  // The same phone number as pat's here (the first one SuiteStarted added).
  const otpd::testing::HttpReply phone =
      otpd::testing::HttpClient::Unix(data + "/admin.sock")
          .Post("/v1.0/users/" + Upn("pat") + "/authentication/phoneMethods",
                json::object{{"phoneNumber", "+1 4255551310"}, {"phoneType", "mobile"}});
  ASSERT_EQ(phone.status, 201) << phone.body;
  const std::string body = PamBody({{"user", Upn("pat")}, {"pass", ""}});
  const auto [other_tid, there] =
      ExpectSmsChallenge(Send(kPamHost, CurlPost("/validate/check", body), daemon.validate_port()));
  ExpectInstallationSerial(there);
  EXPECT_NE(there, here);
  EXPECT_EQ(daemon.Stop(SIGTERM), 0) << daemon.log();
}

// A SIGHUP applies changed networks: a host taken out is refused, put back it is admitted.
TEST_F(PrivacyIdeaClientsTest, ReloadAppliesChangedNetworks) {
  const std::string config = dir_->File("otpd.toml");
  const std::string original = otpd::testing::ReadFile(config);
  auto reload = [&](const std::string& text) {
    const size_t reloads = Count(daemon_->log(), "configuration reloaded");
    otpd::testing::WriteFile(config, text);
    ASSERT_EQ(kill(daemon_->pid(), SIGHUP), 0);
    otpd::testing::Eventually(
        [&] { return Count(daemon_->log(), "configuration reloaded") > reloads; });
  };
  const std::string without = ReplaceOnce(original, "\"127.0.0.2/32\", ", "");
  ASSERT_NE(without, original);
  reload(without);
  const TestToken t = Token("alice");
  EXPECT_EQ(Pam(t.upn, WrongCode(t)).status, 401);
  reload(original);
  ExpectPamDecision(Pam(t.upn, WrongCode(t)), false, "wrong otp value");
}

// Runs last: nothing the clients sent reaches the log.
TEST_F(PrivacyIdeaClientsTest, ZzNoCodeInTheLog) {
  const std::string& log = daemon_->log();
  for (const std::string& code : sent_codes_) {
    EXPECT_EQ(log.find("pass=" + code), std::string::npos);
  }
  for (const TestToken& t : Tokens()) {
    for (int64_t s = 0; s <= 3; ++s) EXPECT_EQ(log.find("pass=" + t.Code(s)), std::string::npos);
  }
}

}  // namespace
}  // namespace otpd::e2e
