// Vendor batches of thousands of tokens imported through one otpd node on a 3-member etcd cluster
// running with etcd's default limits (128 operations and 1.5 MiB a transaction): the import commits
// in chunks sized to one transaction each (storage::BatchLimits), every token arrives, and the
// other node assigns, activates and signs in with them. A node killed midway through an import
// leaves nothing either node sees; the same file sent to the other node finishes it.

#include <gtest/gtest.h>

#include <signal.h>

#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "base/codec.h"
#include "tests/e2e/etcd_nodes_env.h"
#include "tests/testing/http_client.h"

namespace otpd::e2e {
namespace {

namespace json = boost::json;
using otpd::testing::HttpClient;
using otpd::testing::HttpReply;

constexpr int kTokens = 10000;
const std::string kDevices = "/v1.0/directory/authenticationMethodDevices/hardwareOathDevices";
const std::string kBatches = "/v1.0/admin/importBatches";

// Token i of the batch `prefix`: serial VB000001..., a seed of its own, every 100th assigned to a
// user.
TestToken BatchToken(int i, const char* prefix = "VB") {
  char serial[16];
  std::snprintf(serial, sizeof(serial), "%s%06d", prefix, i);
  char seed[21];
  std::snprintf(seed, sizeof(seed), "%s seed %011d", prefix, i);
  std::string user = prefix;
  for (char& c : user) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string upn = i % 100 == 0 ? user + std::to_string(i) + "@example.com" : "";
  return TestToken{serial, upn, seed, {}};
}

// The batch as Entra's CSV upload format (docs/formats.md).
std::string EntraCsv(int tokens = kTokens, const char* prefix = "VB") {
  std::string csv = "upn,serial number,secret key,time interval,manufacturer,model\n";
  for (int i = 1; i <= tokens; ++i) {
    const TestToken t = BatchToken(i, prefix);
    const std::string b32 = base::Base32Encode(
        {reinterpret_cast<const uint8_t*>(t.seed.data()), t.seed.size()}, /*pad=*/false);
    csv += t.upn + "," + t.serial + "," + b32 + ",30,Vendor,TOTP-6\n";
  }
  return csv;
}

using EtcdImportTest = EtcdAdminNodesTest;

TEST_F(EtcdImportTest, ABatchOfThousandsImportsWithEtcdsDefaultLimits) {
  HttpReply r = Owner(0).Request("POST", kDevices + "?format=entra-csv&fileName=vendor.csv",
                                 EntraCsv(), "text/csv");
  ASSERT_EQ(r.status, 200) << r.body << r.error;
  const json::value report = r.Json();
  EXPECT_EQ(report.at("imported").to_number<int64_t>(), kTokens) << r.body;
  EXPECT_EQ(report.at("failed").to_number<int64_t>(), 0) << r.body;
  EXPECT_EQ(report.at("usersCreated").to_number<int64_t>(), kTokens / 100) << r.body;

  // The other node sees every token: the first, the last, and an assigned one with its user.
  for (int i : {1, kTokens / 2 + 1, kTokens}) {
    EXPECT_EQ(Owner(1).Get(kDevices + "/" + BatchToken(i).serial).status, 200) << i;
  }
  const TestToken assigned = BatchToken(kTokens);
  HttpReply device = Owner(1).Get(kDevices + "/" + assigned.serial);
  EXPECT_EQ(device.Json().at("assignedTo").at("id").as_string(), assigned.upn) << device.body;

  // A token of the batch activated through node B signs in on both nodes, once per code.
  const TestToken t = BatchToken(kTokens - 1);
  const std::string upn = "vbnew@example.com";
  ASSERT_EQ(Owner(1).Put("/v1.0/users/" + upn, json::object{}).status, 201);
  r = Owner(1).Post(
      "/v1.0/users/" + upn + "/authentication/hardwareOathMethods/assignAndActivateBySerialNumber",
      json::object{{"serialNumber", t.serial}, {"verificationCode", t.Code(0)}});
  ASSERT_EQ(r.status, 204) << r.body;
  otpd::testing::LineClient a = Node(0);
  otpd::testing::LineClient b = Node(1);
  EXPECT_EQ(b.Call(VerifyLine("1", upn, t.Code(1))).rfind("OK", 0), 0u);
  EXPECT_EQ(otpd::testing::Field(a.Call(VerifyLine("2", upn, t.Code(1))), "reason"), "replayed");
  EXPECT_EQ(a.Call(VerifyLine("3", upn, t.Code(2))).rfind("OK", 0), 0u);
}

// The batches a node lists of the file `name` (the nodes' own test tokens came in a batch too).
json::array Batches(HttpClient owner, std::string_view name) {
  HttpReply r = owner.Get(kBatches);
  EXPECT_EQ(r.status, 200) << r.body;
  json::array of;
  if (r.status != 200) return of;
  json::value all = r.Json();
  for (json::value& b : all.at("value").as_array()) {
    if (b.at("fileName").as_string() == name) of.push_back(std::move(b));
  }
  return of;
}

TEST_F(EtcdImportTest, ANodeKilledMidImportLeavesNothingSeenAndAnotherNodeFinishesIt) {
  constexpr int kSecond = 2000;
  const std::string csv = EntraCsv(kSecond, "VK");
  const std::string target = kDevices + "?format=entra-csv&fileName=second.csv";
  // Node A imports; once some chunks are in, it is killed (SIGKILL) midway.
  std::thread upload([&] { Owner(0).Request("POST", target, csv, "text/csv"); });
  std::string stopped;
  int64_t stored = 0;
  otpd::testing::Eventually(
      [&] {
        for (const json::value& b : Batches(Owner(1), "second.csv")) {
          stored = b.at("imported").to_number<int64_t>();
          if (stored >= 100) stopped = std::string(b.at("id").as_string());
        }
        return !stopped.empty();
      },
      std::chrono::seconds(60), std::chrono::milliseconds(20));
  ASSERT_FALSE(stopped.empty()) << "the import never stored a chunk";
  nodes_[0].Stop(SIGKILL);
  upload.join();

  // Nothing of the batch is seen on node B: no token by serial or in the list, no user it names.
  json::array batches = Batches(Owner(1), "second.csv");
  ASSERT_EQ(batches.size(), 1u);
  ASSERT_EQ(batches[0].at("status").as_string(), "incomplete")
      << "the import completed before the node was killed: " << json::serialize(batches);
  stored = batches[0].at("imported").to_number<int64_t>();
  EXPECT_GT(stored, 0);
  EXPECT_LT(stored, kSecond);
  for (int i : {1, static_cast<int>(stored) / 2, kSecond}) {
    EXPECT_EQ(Owner(1).Get(kDevices + "/" + BatchToken(i, "VK").serial).status, 404) << i;
  }
  HttpReply listed = Owner(1).Get(kDevices + "?$filter=batch%20eq%20'" + stopped + "'");
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_TRUE(listed.Json().at("value").as_array().empty()) << listed.body;
  EXPECT_EQ(Owner(1).Get("/v1.0/users/vk100@example.com").status, 404);
  // Sign-ins go on meanwhile on node B.
  const TestToken& u = Token("T1");
  otpd::testing::LineClient b = Node(1);
  EXPECT_EQ(b.Call(VerifyLine("1", u.upn, u.Code(1))).rfind("OK", 0), 0u);

  // The same file through node B resumes the batch, and the whole batch appears.
  HttpReply r = Owner(1).Request("POST", target, csv, "text/csv");
  ASSERT_EQ(r.status, 200) << r.body << r.error;
  const json::value report = r.Json();
  EXPECT_TRUE(report.at("resumed").as_bool()) << r.body;
  EXPECT_EQ(report.at("batchId").as_string(), stopped) << r.body;
  EXPECT_EQ(report.at("imported").to_number<int64_t>(), kSecond) << r.body;
  EXPECT_EQ(report.at("failed").to_number<int64_t>(), 0) << r.body;
  batches = Batches(Owner(1), "second.csv");
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].at("status").as_string(), "complete");
  EXPECT_EQ(batches[0].at("imported").to_number<int64_t>(), kSecond);

  // Node A comes back and sees it all; an assigned token of the batch, activated on A, signs in
  // on both nodes once per code.
  ASSERT_TRUE(StartNode(0)) << nodes_[0].log();
  const TestToken t = BatchToken(kSecond, "VK");
  HttpReply device = Owner(0).Get(kDevices + "/" + t.serial);
  ASSERT_EQ(device.status, 200) << device.body;
  EXPECT_EQ(device.Json().at("assignedTo").at("id").as_string(), t.upn) << device.body;
  r = Owner(0).Post(
      "/v1.0/users/" + t.upn + "/authentication/hardwareOathMethods/" + t.serial + "/activate",
      json::object{{"verificationCode", t.Code(0)}});
  ASSERT_EQ(r.status, 204) << r.body;
  otpd::testing::LineClient a = Node(0);
  EXPECT_EQ(a.Call(VerifyLine("2", t.upn, t.Code(1))).rfind("OK", 0), 0u);
  EXPECT_EQ(otpd::testing::Field(b.Call(VerifyLine("3", t.upn, t.Code(1))), "reason"), "replayed");
  EXPECT_EQ(b.Call(VerifyLine("4", t.upn, t.Code(2))).rfind("OK", 0), 0u);
}

// A batch stopped midway can be thrown away through any node instead: its serials are free again.
TEST_F(EtcdImportTest, AStoppedImportIsDiscardedThroughTheOtherNode) {
  constexpr int kThird = 600;
  const std::string csv = EntraCsv(kThird, "VD");
  std::thread upload([&] {
    Owner(0).Request("POST", kDevices + "?format=entra-csv&fileName=third.csv", csv, "text/csv");
  });
  std::string stopped;
  otpd::testing::Eventually(
      [&] {
        for (const json::value& b : Batches(Owner(1), "third.csv")) {
          stopped = std::string(b.at("id").as_string());
        }
        return !stopped.empty();
      },
      std::chrono::seconds(60), std::chrono::milliseconds(20));
  ASSERT_FALSE(stopped.empty());
  nodes_[0].Stop(SIGKILL);
  upload.join();
  ASSERT_EQ(Batches(Owner(1), "third.csv").at(0).at("status").as_string(), "incomplete");

  HttpReply r = Owner(1).Request("DELETE", kBatches + "/" + stopped, "", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_GT(r.Json().at("tokensDeleted").to_number<int64_t>(), 0) << r.body;
  EXPECT_TRUE(Batches(Owner(1), "third.csv").empty());
  EXPECT_EQ(Owner(1).Request("DELETE", kBatches + "/" + stopped, "", "").status, 404);

  // The serials and seeds are free: the same file imports whole, as a new batch.
  r = Owner(1).Request("POST", kDevices + "?format=entra-csv&fileName=again.csv", csv, "text/csv");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("imported").to_number<int64_t>(), kThird) << r.body;
  EXPECT_FALSE(r.Json().at("resumed").as_bool());
}

}  // namespace
}  // namespace otpd::e2e
