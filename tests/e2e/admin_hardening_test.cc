// The admin listeners of the real daemon against hostile clients: floods of connections that
// never authenticate (answered, or sending half a request) must leave the owner and API key
// holders served; a request hidden in another's body by ambiguous framing never runs; JSON bodies
// with a member given twice, and names with control characters, are refused and change nothing.

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "tests/e2e/e2e_env.h"
#include "tests/e2e/suite_daemon.h"
#include "tests/testing/http_client.h"
#include "tests/testing/raw_http.h"

namespace otpd::e2e {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using otpd::testing::HttpClient;
using otpd::testing::HttpReply;
using otpd::testing::RawAnswer;
using otpd::testing::RawHttp;

const std::string kDevices = "/v1.0/directory/authenticationMethodDevices/hardwareOathDevices";
constexpr int kMaxConnections = 64;  // the [admin] default

class AdminHardeningTest : public SuiteDaemon<AdminHardeningTest> {
 public:
  static bool PrepareSuite(std::vector<std::string>* args, std::string* error) {
    if (!PrepareDataDir(DataDir(), {}, error)) return false;
    *args = {"--admin-listen", "127.0.0.1:0"};
    return true;
  }

 protected:
  static HttpClient Remote(const std::string& key = "") {
    HttpClient c = HttpClient::Tcp(daemon_->admin_port());
    c.set_bearer(key);
    return c;
  }
  static RawHttp RawTcp() {
    std::optional<RawHttp> c = RawHttp::Tcp(daemon_->admin_port());
    EXPECT_TRUE(c.has_value());
    return std::move(*c);
  }
  static std::string MakeKey(const std::string& name, const std::string& role) {
    HttpReply r =
        Owner().Post("/v1.0/admin/apiKeys", json::object{{"name", name}, {"roles", {role}}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? std::string(r.Json().at("key").as_string()) : std::string();
  }
  static std::string ReaderKey() {
    static const std::string key = MakeKey("hardening-reader", "reader");
    return key;
  }
  static int UserStatus(const std::string& upn) { return Owner().Get("/v1.0/users/" + upn).status; }
};

// Several times the connection limit of clients without a key that keep their connections after
// being answered (401, and /healthz, which needs no key): each is closed after its answer, and
// the owner and a key holder are served afterwards.
TEST_F(AdminHardeningTest, UnauthenticatedClientsCannotHoldTheListener) {
  const std::string key = ReaderKey();
  ASSERT_FALSE(key.empty());
  std::vector<RawHttp> flood;
  int closed = 0;
  for (int i = 0; i < kMaxConnections * 3; ++i) {
    flood.push_back(RawTcp());
    const std::string target = i % 2 == 0 ? "/v1.0/users" : "/healthz";
    ASSERT_TRUE(flood.back().Send("GET " + target + " HTTP/1.1\r\nHost: otpd\r\n\r\n"));
    RawAnswer a = flood.back().Read();
    ASSERT_EQ(a.status, i % 2 == 0 ? 401 : 200) << i << " " << a.body;
    EXPECT_NE(a.headers.find("connection: close"), std::string::npos) << a.headers;
    closed += flood.back().WaitClosed(2s) ? 1 : 0;
  }
  EXPECT_EQ(closed, kMaxConnections * 3);
  EXPECT_EQ(Remote(key).Get("/v1.0/users").status, 200);
  EXPECT_EQ(Remote().Get("/healthz").status, 200);
  EXPECT_EQ(Owner().Get("/healthz").status, 200);
  // A key holder keeps its connection between requests.
  RawHttp kept = RawTcp();
  const std::string authorized =
      "GET /v1.0/users HTTP/1.1\r\nHost: otpd\r\nAuthorization: Bearer " + key + "\r\n\r\n";
  ASSERT_TRUE(kept.Send(authorized));
  EXPECT_EQ(kept.Read().status, 200);
  ASSERT_TRUE(kept.Send(authorized));
  EXPECT_EQ(kept.Read().status, 200);
}

// Half-sent requests on every place of the TCP listener and beyond (a slowloris): a key holder
// still gets in, and so does a health check.
TEST_F(AdminHardeningTest, HalfSentRequestsCannotStarveTheListener) {
  const std::string key = ReaderKey();
  ASSERT_FALSE(key.empty());
  std::vector<RawHttp> slow;
  for (int i = 0; i < kMaxConnections * 3; ++i) {
    slow.push_back(RawTcp());
    ASSERT_TRUE(slow.back().Send("GET /v1.0/users HTTP/1.1\r\nHost: otpd\r\nX-Slow: "));
  }
  EXPECT_EQ(Remote(key).Get("/v1.0/users").status, 200);
  EXPECT_EQ(Remote().Get("/healthz").status, 200);
  // What made room is counted where an operator looks.
  HttpReply metrics = Owner().Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  const size_t at = metrics.body.find("\notpd_admin_connections_evicted_total ");
  ASSERT_NE(at, std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.compare(at, 40, "\notpd_admin_connections_evicted_total 0\n"), 0);
}

// A request whose body could be read two ways is refused (400, or 501 for a coding otpd does not
// implement) and its connection closed; the user the hidden request would create never exists.
TEST_F(AdminHardeningTest, AmbiguousFramingNeverRunsAHiddenRequest) {
  // A key that may create users, so that the hidden request would have a visible effect.
  const std::string key = MakeKey("hardening-user-admin", "authentication_administrator");
  ASSERT_FALSE(key.empty());
  const std::vector<std::pair<std::string, int>> framings = {
      {"Transfer-Encoding: gzip\r\n", 400},
      {"Transfer-Encoding: identity\r\n", 400},
      {"Transfer-Encoding: chunked, gzip\r\n", 400},
      {"Transfer-Encoding: gzip, chunked\r\n", 501},
      {"Transfer-Encoding: chunked\r\nContent-Length: 0\r\n", 400},
  };
  int n = 0;
  for (const auto& [framing, status] : framings) {
    for (const bool unix_socket : {true, false}) {
      const std::string upn = "smuggled" + std::to_string(n++) + "@example.com";
      const std::string body = R"({"displayName":"Smuggled"})";
      const std::string hidden =
          "PUT /v1.0/users/" + upn + " HTTP/1.1\r\nHost: otpd\r\nAuthorization: Bearer " + key +
          "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\n\r\n" + body;
      std::optional<RawHttp> c = unix_socket ? RawHttp::Unix(DataDir() + "/admin.sock")
                                             : RawHttp::Tcp(daemon_->admin_port());
      ASSERT_TRUE(c.has_value());
      ASSERT_TRUE(c->Send("POST /v1.0/users HTTP/1.1\r\nHost: otpd\r\nAuthorization: Bearer " +
                          key + "\r\n" + framing + "\r\n" +
                          (framing.find("chunked\r\n") != std::string::npos ? "0\r\n\r\n" : "") +
                          hidden));
      RawAnswer a = c->Read();
      EXPECT_EQ(a.status, status) << framing << a.body;
      EXPECT_TRUE(c->WaitClosed(2s)) << framing;
      EXPECT_EQ(UserStatus(upn), 404) << framing << (unix_socket ? " (unix)" : " (tcp)");
    }
  }
}

// A member given twice is refused wherever it is, naming it; nothing is created.
TEST_F(AdminHardeningTest, DuplicateMembersAreRefusedAndNamed) {
  HttpClient owner = Owner();
  HttpReply user =
      owner.Request("PUT", "/v1.0/users/dup@example.com",
                    R"({"displayName":"Alice","displayName":"Mallory"})", "application/json");
  EXPECT_EQ(user.status, 400) << user.body;
  EXPECT_EQ(user.ErrorCode(), "invalidRequest");
  EXPECT_NE(user.body.find("displayName is given more than once"), std::string::npos) << user.body;
  EXPECT_EQ(UserStatus("dup@example.com"), 404);

  HttpReply key = owner.Request(
      "POST", "/v1.0/admin/apiKeys",
      R"({"name":"dup-key","roles":["reader"],"roles":["privileged_authentication_administrator"]})",
      "application/json");
  EXPECT_EQ(key.status, 400) << key.body;
  EXPECT_NE(key.body.find("roles is given more than once"), std::string::npos) << key.body;
  EXPECT_EQ(owner.Get("/v1.0/admin/apiKeys").body.find("dup-key"), std::string::npos);

  HttpReply devices = owner.Request(
      "POST", kDevices,
      R"([{"serialNumber":"DUP-1","secretKey":"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP","type":"hotp",)"
      R"("assignTo":{"id":"dup@example.com","id":"admin@example.com"}}])",
      "application/json");
  EXPECT_EQ(devices.status, 400) << devices.body;
  EXPECT_NE(devices.body.find("[0].assignTo.id is given more than once"), std::string::npos)
      << devices.body;
  EXPECT_EQ(owner.Get(kDevices + "/DUP-1").status, 404);
}

// Control characters (C0, DEL, C1) in a name people read back are refused, naming the field;
// other text, accents and scripts included, is kept as given.
TEST_F(AdminHardeningTest, ControlCharactersInNamesAreRefused) {
  HttpClient owner = Owner();
  for (const std::string& name :
       {std::string("Eve\\u001b[2J"), std::string("Eve\\nAdmin"), std::string("Eve\\u0000"),
        std::string("Eve\\u007f"), std::string("Eve\\u0085"), std::string("Eve\\u009b31m")}) {
    HttpReply r = owner.Request("PUT", "/v1.0/users/eve@example.com",
                                "{\"displayName\":\"" + name + "\"}", "application/json");
    EXPECT_EQ(r.status, 400) << name << " " << r.body;
    EXPECT_NE(r.body.find("displayName contains a control character"), std::string::npos) << r.body;
  }
  EXPECT_EQ(UserStatus("eve@example.com"), 404);
  HttpReply ok =
      owner.Put("/v1.0/users/zoe@example.com", json::object{{"displayName", "Zoë 東京"}});
  ASSERT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(ok.Json().at("displayName").as_string(), "Zoë 東京");
  HttpReply patch =
      owner.Patch("/v1.0/users/zoe@example.com", json::object{{"displayName", "Zoë\tTab"}});
  EXPECT_EQ(patch.status, 400) << patch.body;
  EXPECT_EQ(owner.Get("/v1.0/users/zoe@example.com").Json().at("displayName").as_string(),
            "Zoë 東京");

  HttpReply key = owner.Post("/v1.0/admin/apiKeys",
                             json::object{{"name", "ops\r\nforged"}, {"roles", {"reader"}}});
  EXPECT_EQ(key.status, 400) << key.body;
  EXPECT_NE(key.body.find("name contains a control character"), std::string::npos) << key.body;

  HttpReply device =
      owner.Post(kDevices, json::object{{"serialNumber", "CTRL-1"},
                                        {"secretKey", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"},
                                        {"type", "hotp"},
                                        {"model", "Model\x1b[0m"}});
  EXPECT_EQ(device.status, 400) << device.body;
  EXPECT_NE(device.body.find("model contains a control character"), std::string::npos)
      << device.body;
  HttpReply made =
      owner.Post(kDevices, json::object{{"serialNumber", "CTRL-2"},
                                        {"secretKey", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"},
                                        {"type", "hotp"}});
  ASSERT_EQ(made.status, 201) << made.body;
  HttpReply rename =
      owner.Patch(kDevices + "/CTRL-2", json::object{{"displayName", "token\xc2\x85two"}});
  EXPECT_EQ(rename.status, 400) << rename.body;
  EXPECT_NE(rename.body.find("displayName contains a control character (U+0085)"),
            std::string::npos)
      << rename.body;
}

}  // namespace
}  // namespace otpd::e2e
