// A vendor batch of thousands of tokens imported through one otpd node on a 3-member etcd cluster
// running with etcd's default limits (128 operations and 1.5 MiB a transaction): the import commits
// in chunks sized to one transaction each (storage::BatchLimits), every token arrives, and the
// other node assigns, activates and signs in with them.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "base/codec.h"
#include "tests/e2e/etcd_nodes_env.h"
#include "tests/testing/http_client.h"

namespace otpd::e2e {
namespace {

namespace json = boost::json;
using otpd::testing::HttpClient;
using otpd::testing::HttpReply;

constexpr int kTokens = 2000;
const std::string kDevices = "/v1.0/directory/authenticationMethodDevices/hardwareOathDevices";

// Token i of the batch: serial VB000001..., a seed of its own, every 100th assigned to a user.
TestToken BatchToken(int i) {
  char serial[16];
  std::snprintf(serial, sizeof(serial), "VB%06d", i);
  char seed[21];
  std::snprintf(seed, sizeof(seed), "vendor seed %08d", i);
  const std::string upn = i % 100 == 0 ? "vb" + std::to_string(i) + "@example.com" : "";
  return TestToken{serial, upn, seed, {}};
}

// The batch as Entra's CSV upload format (docs/formats.md).
std::string EntraCsv() {
  std::string csv = "upn,serial number,secret key,time interval,manufacturer,model\n";
  for (int i = 1; i <= kTokens; ++i) {
    const TestToken t = BatchToken(i);
    const std::string b32 = base::Base32Encode(
        {reinterpret_cast<const uint8_t*>(t.seed.data()), t.seed.size()}, /*pad=*/false);
    csv += t.upn + "," + t.serial + "," + b32 + ",30,Vendor,TOTP-6\n";
  }
  return csv;
}

class EtcdImportTest : public EtcdNodesTest {
 protected:
  std::vector<std::string> ExtraArgs(int i) override {
    sockets_[i] = dir_.File(i == 0 ? "admin-a.sock" : "admin-b.sock");
    return {"--admin-socket", sockets_[i]};
  }
  HttpClient Owner(int i) { return HttpClient::Unix(sockets_[i]); }

  std::string sockets_[2];
};

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

}  // namespace
}  // namespace otpd::e2e
