// API keys and roles across two otpd nodes on one etcd cluster: a key revoked through one node,
// or a role given to a user through one node, binds the other node from the revoking call's
// answer on, with no wait (docs/scale-out.md, "API keys and roles"). Each node has its admin
// socket (the owner) and a loopback admin listener (API keys).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <boost/json.hpp>

#include "tests/e2e/etcd_nodes_env.h"
#include "tests/testing/http_client.h"

namespace otpd::e2e {
namespace {

namespace json = boost::json;
using otpd::testing::HttpClient;
using otpd::testing::HttpReply;

class EtcdKeysTest : public EtcdAdminNodesTest {
 protected:
  EtcdKeysTest() { admin_tcp_ = true; }

  // Node i's admin API over TCP with the API key `key`.
  HttpClient WithKey(int i, const std::string& key) {
    HttpClient c = HttpClient::Tcp(nodes_[i].admin_port());
    c.set_bearer(key);
    return c;
  }

  // Creates a key with one role through node i as the owner; returns the key ("" on failure).
  std::string MakeKey(int i, const std::string& name, const std::string& role) {
    HttpReply r =
        Owner(i).Post("/v1.0/admin/apiKeys",
                      json::object{{"name", name}, {"roles", json::array{json::string(role)}}});
    EXPECT_EQ(r.status, 201) << r.body << r.error;
    json::value v = r.Json();
    return v.is_object() && v.as_object().contains("key") ? std::string(v.at("key").as_string())
                                                          : std::string();
  }

  static std::string UserPath(const std::string& upn) { return "/v1.0/users/" + upn; }
};

// A key used on B (so that B has met it) and then revoked through A is refused by B on the very
// next request: nothing it asks is done.
TEST_F(EtcdKeysTest, AKeyRevokedOnOneNodeIsRefusedAtOnceOnTheOther) {
  const std::string key = MakeKey(0, "helpdesk", "authentication_administrator");
  ASSERT_FALSE(key.empty());
  HttpClient b = WithKey(1, key);
  HttpReply before = b.Put(UserPath("kept@example.com"), json::object{{"displayName", "Kept"}});
  ASSERT_EQ(before.status, 201) << before.body << before.error;
  ASSERT_EQ(b.Get("/v1.0/me").status, 200);

  HttpReply revoked = Owner(0).Delete("/v1.0/admin/apiKeys/helpdesk");
  ASSERT_EQ(revoked.status, 204) << revoked.body << revoked.error;

  // No wait: the revoking call has answered, so every node must refuse the key now.
  HttpReply after = b.Put(UserPath("late@example.com"), json::object{{"displayName", "Late"}});
  EXPECT_EQ(after.status, 401) << after.body;
  EXPECT_EQ(b.Get("/v1.0/me").status, 401);
  EXPECT_EQ(b.Delete(UserPath("kept@example.com")).status, 401);
  EXPECT_EQ(WithKey(0, key).Get("/v1.0/me").status, 401);
  EXPECT_EQ(Owner(1).Get(UserPath("late@example.com")).status, 404) << "the revoked key acted";
  EXPECT_EQ(Owner(0).Get(UserPath("kept@example.com")).status, 200) << "the revoked key acted";
}

// The same for a key used on both nodes while it is revoked through the other one, repeatedly:
// each node refuses it from the first request after the revocation answered.
TEST_F(EtcdKeysTest, EveryKeyRevokedThroughEitherNodeIsRefusedAtOnceOnBoth) {
  for (int round = 0; round < 4; ++round) {
    const int revoker = round % 2;
    const std::string name = "reader-" + std::to_string(round);
    const std::string key = MakeKey(1 - revoker, name, "reader");
    ASSERT_FALSE(key.empty());
    HttpClient a = WithKey(0, key), b = WithKey(1, key);
    ASSERT_EQ(a.Get("/v1.0/users").status, 200) << round;
    ASSERT_EQ(b.Get("/v1.0/users").status, 200) << round;
    ASSERT_EQ(Owner(revoker).Delete("/v1.0/admin/apiKeys/" + name).status, 204) << round;
    EXPECT_EQ(a.Get("/v1.0/users").status, 401) << "node A, round " << round;
    EXPECT_EQ(b.Get("/v1.0/users").status, 401) << "node B, round " << round;
  }
}

// While the cluster has no majority, a node cannot read a key: it answers 503 with Retry-After,
// not 401 (the key is not known to be bad), and takes the key again once the cluster is back.
TEST_F(EtcdKeysTest, AKeyThatCannotBeReadIsAnswered503Not401) {
  const std::string key = MakeKey(0, "reader", "reader");
  ASSERT_FALSE(key.empty());
  HttpClient b = WithKey(1, key);
  ASSERT_EQ(b.Get("/v1.0/me").status, 200);
  cluster_.Pause(1);
  cluster_.Pause(2);
  HttpReply cut = b.Get("/v1.0/me");
  cluster_.Resume(1);
  cluster_.Resume(2);
  EXPECT_EQ(cut.status, 503) << cut.body << cut.error;
  EXPECT_EQ(cut.ErrorCode(), "serviceNotAvailable") << cut.body;
  EXPECT_EQ(cut.Header("retry-after"), "1");
  EXPECT_EQ(cut.body.find(key.substr(22)), std::string::npos) << "the secret in an answer";
  int status = 0;
  otpd::testing::Eventually(
      [&] {
        status = b.Get("/v1.0/me").status;
        return status == 200;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(200));
  EXPECT_EQ(status, 200) << "the key was not taken again once the cluster was back";
}

// A user given an administrative role through A is at once out of reach of an authentication
// administrator's key on B, which had just acted on that user; taking the role away through A
// brings the user back in reach at once.
TEST_F(EtcdKeysTest, AUsersRoleChangedOnOneNodeBindsTheOtherAtOnce) {
  const std::string key = MakeKey(0, "helpdesk", "authentication_administrator");
  ASSERT_FALSE(key.empty());
  const std::string bob = UserPath("bob@example.com");
  ASSERT_EQ(Owner(0).Put(bob, json::object{{"displayName", "Bob"}}).status, 201);
  HttpClient b = WithKey(1, key);
  HttpReply before = b.Patch(bob, json::object{{"displayName", "Bob One"}});
  ASSERT_EQ(before.status, 204) << before.body << before.error;

  HttpReply promoted =
      Owner(0).Patch(bob, json::object{{"roles", json::array{"authentication_administrator"}}});
  ASSERT_EQ(promoted.status, 204) << promoted.body << promoted.error;
  HttpReply refused = b.Patch(bob, json::object{{"displayName", "Bob Two"}});
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(b.Delete(bob).status, 403);

  HttpReply demoted = Owner(0).Patch(bob, json::object{{"roles", json::array{}}});
  ASSERT_EQ(demoted.status, 204) << demoted.body << demoted.error;
  HttpReply allowed = b.Patch(bob, json::object{{"displayName", "Bob Three"}});
  EXPECT_EQ(allowed.status, 204) << allowed.body;
}

}  // namespace
}  // namespace otpd::e2e
