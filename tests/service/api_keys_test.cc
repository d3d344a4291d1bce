// API keys (service/admin/api_keys.h) against a RocksDB data directory, with two ApiKeys over the
// same store standing for two nodes: what one of them revokes or rewrites, the other sees on the
// very next Authenticate, whatever it met before.

#include "service/admin/api_keys.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <boost/json.hpp>

#include "service/admin/user_admin.h"
#include "tests/service/actions_env.h"

namespace otpd::service::testing {
namespace {

namespace json = boost::json;

class ApiKeysTest : public ::testing::Test {
 protected:
  std::string Create(ApiKeys& keys, const std::string& name, std::vector<std::string> roles,
                     const std::string& user = "") {
    auto created = keys.Create(kOwner, name, roles, user);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? std::string(created->key.view()) : std::string();
  }

  // The id inside a key `otpd_<id>_<secret>`.
  static std::string IdOf(const std::string& key) { return key.substr(5, 16); }

  // Rewrites the stored record of `key` with `roles`, as another node (or version) would.
  void RewriteRoles(const std::string& key, const std::vector<std::string>& roles) {
    const std::string record_key = "apikey/" + IdOf(key);
    auto stored = env_.directory->GetSigned(storage::Namespace::kMeta, record_key);
    ASSERT_TRUE(stored.ok() && stored->has_value()) << stored.status();
    json::object o = json::parse((*stored)->record).as_object();
    json::array names;
    for (const std::string& r : roles) names.emplace_back(r);
    o["roles"] = std::move(names);
    storage::WriteBatch batch;
    batch.RequireVersion(storage::Namespace::kMeta, record_key, (*stored)->version);
    ASSERT_TRUE(
        env_.directory->PutSigned(batch, storage::Namespace::kMeta, record_key, json::serialize(o))
            .ok());
    ASSERT_TRUE(env_.store->Commit(std::move(batch), storage::Durability::kDurable).ok());
  }

  ActionsEnv env_;
  ApiKeys a_{*env_.directory, env_.clock};
  ApiKeys b_{*env_.directory, env_.clock};
};

TEST_F(ApiKeysTest, AKeyRevokedThroughOneInstanceIsRefusedAtOnceByAnother) {
  const std::string key = Create(a_, "helpdesk", {"authentication_administrator"});
  auto before = b_.Authenticate(key);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->actor, "apikey:helpdesk");
  EXPECT_TRUE(before->roles.Has(Role::kAuthenticationAdministrator));

  ASSERT_TRUE(a_.Revoke(kOwner, "helpdesk").ok());
  EXPECT_EQ(b_.Authenticate(key).status().code(), base::StatusCode::kUnauthenticated);
  EXPECT_EQ(a_.Authenticate(key).status().code(), base::StatusCode::kUnauthenticated);
}

TEST_F(ApiKeysTest, AKeyDeletedFromTheStoreIsRefusedAtOnce) {
  const std::string key = Create(a_, "reader", {"reader"});
  ASSERT_TRUE(a_.Authenticate(key).ok());
  storage::WriteBatch batch;
  batch.Delete(storage::Namespace::kMeta, "apikey/" + IdOf(key));
  ASSERT_TRUE(env_.store->Commit(std::move(batch), storage::Durability::kDurable).ok());
  EXPECT_EQ(a_.Authenticate(key).status().code(), base::StatusCode::kUnauthenticated);
}

TEST_F(ApiKeysTest, ARecordRewrittenElsewhereIsUsedAsStoredOnTheNextRequest) {
  const std::string key = Create(a_, "admin", {"privileged_authentication_administrator"});
  auto before = b_.Authenticate(key);
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_TRUE(before->roles.Has(Role::kPrivilegedAuthenticationAdministrator));

  RewriteRoles(key, {"reader"});
  for (ApiKeys* keys : {&a_, &b_}) {
    auto after = keys->Authenticate(key);
    ASSERT_TRUE(after.ok()) << after.status();
    EXPECT_EQ(after->roles, RoleSet({Role::kReader}));
  }
}

TEST_F(ApiKeysTest, WrongUnknownAndMalformedKeysAreRefusedAlike) {
  const std::string key = Create(a_, "reader", {"reader"}, "Carol@Example.com");
  auto ok = b_.Authenticate(key);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->user, "carol@example.com");

  std::string wrong = key;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  std::string unknown = key;
  unknown[5] = unknown[5] == '0' ? '1' : '0';
  for (const std::string& bad :
       {wrong, unknown, key.substr(0, key.size() - 1), std::string("otpd_"), std::string(""),
        "otpd_ZZZZZZZZZZZZZZZZ_" + key.substr(22)}) {
    auto refused = b_.Authenticate(bad);
    EXPECT_EQ(refused.status().code(), base::StatusCode::kUnauthenticated);
    EXPECT_EQ(refused.status().message(), "unknown or revoked API key");
  }
}

TEST_F(ApiKeysTest, ARecordThatFailsItsCheckIsRefusedAsUnknown) {
  const std::string key = Create(a_, "reader", {"reader"});
  storage::WriteBatch batch;
  batch.Put(storage::Namespace::kMeta, "apikey/" + IdOf(key), "{\"forged\": true}");
  ASSERT_TRUE(env_.store->Commit(std::move(batch), storage::Durability::kDurable).ok());
  EXPECT_EQ(a_.Authenticate(key).status().code(), base::StatusCode::kUnauthenticated);
}

// A store that does not answer is not taken for a refused key: the caller can tell the client to
// try again instead of telling it its key is bad.
TEST_F(ApiKeysTest, AStoreThatDoesNotAnswerIsNotARefusal) {
  const std::string key = Create(a_, "reader", {"reader"});
  ASSERT_TRUE(b_.Authenticate(key).ok());
  env_.store->SetFailReads(true);
  EXPECT_EQ(b_.Authenticate(key).status().code(), base::StatusCode::kUnavailable);
  env_.store->SetFailReads(false);
  EXPECT_TRUE(b_.Authenticate(key).ok());
}

// The person behind an administrator's key is an administrator for the role checks, even when
// their user record holds no role (or does not exist yet): an authentication administrator can
// neither create them, nor reset their password, nor give them a pass to sign in with.
TEST_F(ApiKeysTest, AnAdministratorsKeyMakesItsHolderPrivileged) {
  const std::string boss = "boss@example.com";
  Create(a_, "boss-key", {"privileged_authentication_administrator"}, boss);
  UserAdmin users(*env_.directory, env_.clock, nullptr);
  const Principal helpdesk = WithRoles("apikey:helpdesk", {Role::kAuthenticationAdministrator});
  bool created = false;
  auto made = users.Put(helpdesk, boss, "Boss", &created);
  EXPECT_TRUE(base::IsPermissionDenied(made.status())) << made.status();
  EXPECT_FALSE(env_.directory->GetUser(boss).value().has_value());

  ASSERT_TRUE(users.Put(kOwner, boss, "Boss", &created).ok());
  auto reset = env_.actions->ResetPassword(helpdesk, boss, "correct horse battery staple 42");
  EXPECT_TRUE(base::IsPermissionDenied(reset.status())) << reset.status();
  auto tap = env_.taps->Create(helpdesk, boss, {});
  EXPECT_TRUE(base::IsPermissionDenied(tap.status())) << tap.status();

  // A privileged administrator may; and a reader's key makes nobody an administrator.
  const Principal privileged =
      WithRoles("apikey:privileged", {Role::kPrivilegedAuthenticationAdministrator});
  EXPECT_TRUE(env_.taps->Create(privileged, boss, {}).ok());
  Create(a_, "intern-key", {"reader"}, "intern@example.com");
  EXPECT_TRUE(users.Put(helpdesk, "intern@example.com", "Intern", &created).ok());
}

}  // namespace
}  // namespace otpd::service::testing
