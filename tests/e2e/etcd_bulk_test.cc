// Changes to many users at once on a 3-member etcd cluster running with etcd's default limits (128
// operations a transaction): each user's change is a transaction of its own, and records written
// many at a time (refusal counts) go in as many transactions as they need.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "service/admin/audit.h"
#include "service/admin/user_admin.h"
#include "service/credentials/app_passwords.h"
#include "tests/e2e/etcd_nodes_env.h"
#include "tests/testing/http_client.h"

namespace otpd::e2e {
namespace {

namespace json = boost::json;
using otpd::testing::HttpReply;

using EtcdBulkTest = EtcdAdminNodesTest;

std::string BulkUser(int i) { return "bulk" + std::to_string(i) + "@example.com"; }

// The app-password bulk delete for a thousand users, one of them holding the most app passwords
// a user may have: one transaction per user, a result per user.
TEST_F(EtcdBulkTest, AppPasswordsOfAThousandUsersAreDeletedInOneRequest) {
  constexpr int kUsers = 1000;
  constexpr int kMostPasswords = 40;
  {
    auto admin = OpenAdminStore();
    ASSERT_TRUE(admin.ok()) << admin.status();
    service::Directory directory(*admin->store, *admin->keys);
    const base::Clock& clock = *base::RealClock::Get();
    // Four writers at once, so that the set-up takes seconds, not minutes.
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        service::UserAdmin users(directory, clock, nullptr);
        service::AppPasswords passwords(directory, clock, nullptr);
        for (int i = w; i < kUsers; i += 4) {
          bool created = false;
          ASSERT_TRUE(users.Put(kAdmin, BulkUser(i), "", &created).ok()) << i;
          const int count = i == 0 ? kMostPasswords : 1;
          for (int p = 0; p < count; ++p) {
            ASSERT_TRUE(passwords.Create(kAdmin, BulkUser(i), "mail " + std::to_string(p)).ok())
                << i;
          }
        }
      });
    }
    for (std::thread& t : writers) t.join();
  }
  json::array users;
  for (int i = 0; i < kUsers; ++i) users.push_back(json::value(BulkUser(i)));
  HttpReply r = Owner(0).Post("/v1.0/admin/appPasswords/delete", json::object{{"users", users}});
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 2000);
  const json::value answer = r.Json();
  const json::array& results = answer.at("value").as_array();
  ASSERT_EQ(results.size(), static_cast<size_t>(kUsers));
  for (int i = 0; i < kUsers; ++i) {
    const json::object& one = results[i].as_object();
    EXPECT_EQ(one.at("userPrincipalName").as_string(), BulkUser(i));
    EXPECT_TRUE(one.at("error").is_null()) << json::serialize(one);
    EXPECT_EQ(one.at("deleted").to_number<int64_t>(), i == 0 ? kMostPasswords : 1) << i;
  }
  // Node B sees them gone.
  for (int i : {0, 1, kUsers - 1}) {
    HttpReply listed = Owner(1).Get("/v1.0/users/" + BulkUser(i) + "/authentication/appPasswords");
    ASSERT_EQ(listed.status, 200) << listed.body;
    EXPECT_TRUE(listed.Json().at("value").as_array().empty()) << i << listed.body;
  }
}

// Refusal counts of hundreds of keys come due at once (here at Flush, as when otpd stops): every
// one is written, though together they are more than one transaction holds.
TEST_F(EtcdBulkTest, RefusalCountsOfManyKeysComeDueTogetherAndAreAllWritten) {
  constexpr int kKeys = 300;
  auto admin = OpenAdminStore();
  ASSERT_TRUE(admin.ok()) << admin.status();
  const base::Clock& clock = *base::RealClock::Get();
  service::RefusalAudit refusals(*admin->store, clock);
  const base::Status why = base::InvalidArgumentError("wrong");
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kKeys; ++i) {
      service::AuditRecord a = service::MakeAudit(
          clock, service::Principal::SelfService(BulkUser(i)), "test.refused", BulkUser(i));
      static_cast<void>(refusals.Record(std::move(a), why));
    }
  }
  refusals.Flush();
  size_t first = 0, counts = 0;
  ASSERT_TRUE(service::ListAudit(*admin->store, {.action = "test.refused"}, "",
                                 [&](std::string_view, const service::AuditRecord& a) {
                                   ++(a.detail.empty() ? first : counts);
                                   return true;
                                 })
                  .ok());
  EXPECT_EQ(first, static_cast<size_t>(kKeys));
  EXPECT_EQ(counts, static_cast<size_t>(kKeys));
}

}  // namespace
}  // namespace otpd::e2e
