// The HTTP listeners against hostile clients, through the validate listener on loopback (the
// admin listener shares the same HttpServer; tests/e2e/admin_hardening_test.cc attacks it in the
// real daemon): connections that never authenticate, floods of them and of half-sent headers,
// request framing that could hide a second request (RFC 9112 section 6), and failed
// authentications from one host that must not lock out that host's other clients.

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/codec.h"
#include "server/validate/validate_server.h"
#include "tests/server/fake_sign_in_service.h"
#include "tests/testing/http_client.h"
#include "tests/testing/raw_http.h"

namespace otpd::server::validate {
namespace {

using namespace std::chrono_literals;
using otpd::server::testing::FakeSignInService;
using otpd::testing::HttpClient;
using otpd::testing::HttpReply;
using otpd::testing::RawAnswer;
using otpd::testing::RawHttp;

constexpr char kPortalKey[] = "http-hardening-portal-key-0123456789";
constexpr char kBillingKey[] = "http-hardening-billing-key-0123456789";
constexpr uint32_t kMaxConnections = 24;
constexpr uint32_t kMaxFailures = 10;

std::string Basic(const std::string& name, const std::string& key) {
  const std::string text = name + ":" + key;
  return "Basic " + base::Base64Encode(std::span<const uint8_t>(
                        reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

// A complete form POST to /validate/check, keep-alive.
std::string FormRequest(const std::string& form, const std::string& auth) {
  return "POST /validate/check HTTP/1.1\r\nHost: otpd\r\nAuthorization: " + auth +
         "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
         std::to_string(form.size()) + "\r\n\r\n" + form;
}

class HttpHardeningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClientTable clients;
    clients.emplace("portal", base::SecretBytes::FromString(kPortalKey));
    clients.emplace("billing", base::SecretBytes::FromString(kBillingKey));
    runner_ = std::make_shared<IoRunner>(2);
    ValidateServerOptions options;
    options.tcp_listen = "127.0.0.1:0";
    options.max_connections = kMaxConnections;
    options.max_failed_auths = kMaxFailures;
    server_ = std::make_unique<ValidateServer>(runner_, options, &service_, clients, clock_);
    ASSERT_TRUE(server_->Start().ok());
    runner_->Start();
  }
  void TearDown() override {
    server_->Stop();
    runner_->Stop();
  }

  RawHttp Connect() {
    std::optional<RawHttp> c = RawHttp::Tcp(server_->tcp_port());
    EXPECT_TRUE(c.has_value());
    return std::move(*c);
  }
  // A sign-in as `client` on a fresh connection; the HTTP status (503 when the listener is full).
  int Check(const std::string& client, const std::string& key, const std::string& user) {
    HttpReply r =
        HttpClient::Tcp(server_->tcp_port())
            .Request("POST", "/validate/check", "user=" + user + "&pass=123456",
                     "application/x-www-form-urlencoded", {{"Authorization", Basic(client, key)}});
    return r.status;
  }
  int Portal(const std::string& user = "pat%40example.com") {
    return Check("portal", kPortalKey, user);
  }

  base::FakeClock clock_{1'764'450'000};
  FakeSignInService service_;
  std::shared_ptr<IoRunner> runner_;
  std::unique_ptr<ValidateServer> server_;
};

// An answer to a request that did not authenticate ends its connection: an unauthenticated
// client cannot keep a place on the listener by being answered.
TEST_F(HttpHardeningTest, UnauthenticatedAnswersCloseTheConnection) {
  for (const std::string& request :
       {std::string("GET /nothing HTTP/1.1\r\nHost: otpd\r\n\r\n"),
        FormRequest("user=a&pass=1", "Basic bm9ib2R5Om5vcGU="),  // nobody:nope
        std::string("GET /validate/check?user=a&pass=1 HTTP/1.1\r\nHost: otpd\r\n\r\n")}) {
    RawHttp c = Connect();
    ASSERT_TRUE(c.Send(request));
    RawAnswer a = c.Read();
    EXPECT_GE(a.status, 400) << request;
    EXPECT_NE(a.headers.find("connection: close"), std::string::npos) << a.headers;
    EXPECT_TRUE(c.WaitClosed(2s)) << request;
  }
  // An authenticated client keeps its connection.
  RawHttp c = Connect();
  ASSERT_TRUE(c.Send(FormRequest("user=a&pass=1", Basic("portal", kPortalKey))));
  EXPECT_EQ(c.Read().status, 200);
  ASSERT_TRUE(c.Send(FormRequest("user=a&pass=1", Basic("portal", kPortalKey))));
  EXPECT_EQ(c.Read().status, 200);
}

// Many times the connection limit of unauthenticated clients that keep their connections open
// after being answered (404, 401, 429): an authenticated client is still served.
TEST_F(HttpHardeningTest, AFloodOfUnauthenticatedClientsLeavesAuthenticatedOnesServed) {
  std::vector<RawHttp> flood;
  for (uint32_t i = 0; i < kMaxConnections * 4; ++i) {
    flood.push_back(Connect());
    const std::string request = i % 2 == 0 ? "GET /nothing HTTP/1.1\r\nHost: otpd\r\n\r\n"
                                           : FormRequest("user=a&pass=1", Basic("nobody", "wrong"));
    ASSERT_TRUE(flood.back().Send(request));
    RawAnswer a = flood.back().Read();
    // 503 once the listener is full (today), else an unauthenticated answer.
    ASSERT_NE(a.status, 0) << i;
  }
  EXPECT_EQ(Portal(), 200);
}

// Half-sent headers (a slowloris) on every place of the listener and beyond: an authenticated
// client still gets in, the oldest connection that never authenticated making room.
TEST_F(HttpHardeningTest, HalfSentHeadersCannotStarveAuthenticatedClients) {
  std::vector<RawHttp> slow;
  for (uint32_t i = 0; i < kMaxConnections * 4; ++i) {
    slow.push_back(Connect());
    ASSERT_TRUE(slow.back().Send("POST /validate/check HTTP/1.1\r\nHost: otpd\r\nX-Slow: "));
  }
  EXPECT_EQ(Portal(), 200);
  // An authenticated client that keeps its connection is not the one that makes room.
  RawHttp kept = Connect();
  ASSERT_TRUE(kept.Send(FormRequest("user=a&pass=1", Basic("portal", kPortalKey))));
  ASSERT_EQ(kept.Read().status, 200);
  for (uint32_t i = 0; i < kMaxConnections * 2; ++i) {
    slow.push_back(Connect());
    ASSERT_TRUE(slow.back().Send("GET / HTTP/1.1\r\n"));
  }
  ASSERT_TRUE(kept.Send(FormRequest("user=b&pass=1", Basic("portal", kPortalKey))));
  EXPECT_EQ(kept.Read().status, 200);
}

// Requests answered without authentication count as failed authentications: past the limit the
// address's unauthenticated requests are refused (429) whatever they ask.
TEST_F(HttpHardeningTest, UnauthenticatedRequestsCountTowardTheThrottle) {
  for (uint32_t i = 0; i <= kMaxFailures; ++i) {
    RawHttp c = Connect();
    ASSERT_TRUE(c.Send("GET /nothing/" + std::to_string(i) + " HTTP/1.1\r\nHost: otpd\r\n\r\n"));
    EXPECT_NE(c.Read().status, 429) << i;
  }
  RawHttp c = Connect();
  ASSERT_TRUE(c.Send("GET /nothing HTTP/1.1\r\nHost: otpd\r\n\r\n"));
  EXPECT_EQ(c.Read().status, 429);
  EXPECT_EQ(Portal(), 200);
}

// A misconfigured client (a wrong key) on a host locks out itself, not the host's correctly
// configured clients.
TEST_F(HttpHardeningTest, FailedAuthenticationsAreThrottledPerClient) {
  for (uint32_t i = 0; i <= kMaxFailures; ++i) {
    EXPECT_EQ(Check("billing", "a-wrong-key", "pat%40example.com"), 401) << i;
  }
  EXPECT_EQ(Check("billing", "a-wrong-key", "pat%40example.com"), 429);
  EXPECT_EQ(Check("billing", kBillingKey, "pat%40example.com"), 429);  // locked, even right
  EXPECT_EQ(Portal(), 200);
  EXPECT_EQ(Portal(), 200);
  clock_.Advance(61s);
  EXPECT_EQ(Check("billing", kBillingKey, "pat%40example.com"), 200);
}

// Names that are no configured client share one count per address: inventing a new name for
// every guess earns no more guesses.
TEST_F(HttpHardeningTest, UnknownClientNamesShareOneThrottle) {
  for (uint32_t i = 0; i <= kMaxFailures; ++i) {
    EXPECT_EQ(Check("invented-" + std::to_string(i), "x", "pat%40example.com"), 401) << i;
  }
  EXPECT_EQ(Check("invented-again", "x", "pat%40example.com"), 429);
  EXPECT_EQ(Check("billing", "a-wrong-key", "pat%40example.com"), 401);
  EXPECT_EQ(Portal(), 200);
}

struct Framing {
  std::string name;
  std::string headers;  // framing headers of the first request
  std::string body;     // its body as sent (the smuggled request follows)
  int status;
};

// A body the server might not read as one: with Transfer-Encoding other than a final chunked, or
// with both Transfer-Encoding and Content-Length. Each is answered 400 (501 for a coding otpd
// does not implement before the final chunked) and the connection closed, so that the request
// hidden in the body is never run.
TEST_F(HttpHardeningTest, AmbiguousFramingIsRefusedAndNothingHiddenRuns) {
  const std::string auth = Basic("portal", kPortalKey);
  const std::string smuggled = FormRequest("user=smuggled%40example.com&pass=123456", auth);
  const std::vector<Framing> cases = {
      {"gzip", "Transfer-Encoding: gzip\r\n", "", 400},
      {"identity", "Transfer-Encoding: identity\r\n", "", 400},
      {"chunked, gzip", "Transfer-Encoding: chunked, gzip\r\n", "", 400},
      {"chunked then gzip", "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", "", 400},
      {"gzip, chunked", "Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n", 501},
      {"chunked twice", "Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n", 400},
      {"TE and CL", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n", 400},
      {"CL and TE", "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n", 400},
  };
  for (const Framing& f : cases) {
    RawHttp c = Connect();
    ASSERT_TRUE(
        c.Send("POST /validate/check?user=a&pass=1 HTTP/1.1\r\nHost: otpd\r\n"
               "Authorization: " +
               auth + "\r\nContent-Type: application/x-www-form-urlencoded\r\n" + f.headers +
               "\r\n" + f.body + smuggled));
    RawAnswer a = c.Read();
    EXPECT_EQ(a.status, f.status) << f.name << ": " << a.body;
    EXPECT_TRUE(c.WaitClosed(2s)) << f.name;
    EXPECT_NE(service_.last_user(), "smuggled@example.com") << f.name;
  }
  EXPECT_EQ(service_.calls(), 0u);
  // A chunked body alone is read as one.
  RawHttp c = Connect();
  const std::string form = "user=chunked%40example.com&pass=1";
  char size[16];
  std::snprintf(size, sizeof(size), "%zx", form.size());
  ASSERT_TRUE(c.Send("POST /validate/check HTTP/1.1\r\nHost: otpd\r\nAuthorization: " + auth +
                     "\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n" +
                     size + "\r\n" + form + "\r\n0\r\n\r\n"));
  EXPECT_EQ(c.Read().status, 200);
  EXPECT_EQ(service_.last_user(), "chunked@example.com");
}

// A connection whose close was still queued when the io runner stopped leaves its handlers in
// the runner's io_context; destroying the server and then the runner must free them. The
// handlers hold the server's state, so state that held the runner would keep the io_context,
// and the handlers in it, alive for ever (LeakSanitizer reports that when the test exits).
TEST(HttpServerShutdownTest, HandlersStillQueuedWhenTheRunnerStopsAreFreed) {
  auto runner = std::make_shared<IoRunner>(1);
  http::HttpServerOptions options;
  options.name = "shutdown";
  options.tcp_listen = "127.0.0.1:0";
  options.shutdown_grace = 2s;
  // The handler keeps the request unanswered: its connection is being served.
  std::optional<http::Reply> unanswered;
  std::promise<void> called;
  auto server = std::make_unique<http::HttpServer>(
      runner, options, [&](http::Request, const http::Peer&, http::Reply reply) {
        unanswered = std::move(reply);
        called.set_value();
      });
  ASSERT_TRUE(server->Start().ok());
  runner->Start();
  const uint16_t port = server->tcp_port();
  std::optional<RawHttp> client = RawHttp::Tcp(port);
  ASSERT_TRUE(client.has_value());
  ASSERT_TRUE(client->Send("GET / HTTP/1.1\r\nHost: otpd\r\n\r\n"));
  called.get_future().wait();

  // Stop waits out the grace for the unanswered request; once the listener is closed (a connect
  // is refused), the io thread is kept busy so that the close Stop then asks for stays queued.
  std::thread stopping([&] { server->Stop(); });
  while (RawHttp::Tcp(port).has_value()) std::this_thread::sleep_for(5ms);
  std::promise<void> release;
  std::promise<void> busy;
  boost::asio::post(runner->io(), [&busy, released = release.get_future().share()] {
    busy.set_value();
    released.wait();
  });
  busy.get_future().wait();
  stopping.join();
  runner->io().stop();
  release.set_value();
  runner->Stop();
  EXPECT_GE(server->stats().connections.load(), 1);  // still queued, as the test means
  unanswered.reset();
  server.reset();
  runner.reset();
}

}  // namespace
}  // namespace otpd::server::validate
