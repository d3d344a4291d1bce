// The admin API end to end: the real otpd with its admin Unix socket (the owner) and a TLS
// listener on loopback (API keys), spoken to over HTTP. Every route's happy path, the role
// boundaries (a refused call changes nothing), hostile bodies, and the admin plane and the verify
// socket agreeing on what a code may do.

#include <gtest/gtest.h>

#include <atomic>
#include <ctime>
#include <filesystem>
#include <set>
#include <thread>

#include "base/codec.h"
#include "tests/e2e/e2e_env.h"
#include "tests/e2e/suite_daemon.h"
#include "tests/testing/http_client.h"

namespace otpd::e2e {
namespace {

namespace json = boost::json;
using engine::OtpType;
using otpd::testing::Daemon;
using otpd::testing::HttpClient;
using otpd::testing::HttpReply;
using otpd::testing::LineClient;
using otpd::testing::TempDir;

const std::string kDevices = "/v1.0/directory/authenticationMethodDevices/hardwareOathDevices";

std::string Methods(const std::string& upn, const std::string& kind) {
  return "/v1.0/users/" + upn + "/authentication/" + kind;
}

// A 20-byte seed for `n`, and the Base32 the API takes.
std::string SeedFor(const std::string& n) {
  std::string seed = "admin-api-seed-" + n;
  seed.resize(20, '#');
  return seed;
}
std::string Base32Of(const std::string& seed) {
  return base::Base32Encode({reinterpret_cast<const uint8_t*>(seed.data()), seed.size()},
                            /*pad=*/false);
}

class AdminApiTest : public SuiteDaemon<AdminApiTest> {
 public:
  static bool PrepareSuite(std::vector<std::string>* args, std::string* error) {
    // One token that the verify socket already knows, so that the daemon starts with data.
    std::vector<TestToken> tokens = {
        {"BASE1", "base@example.com", SeedFor("base"), {.type = OtpType::kHotp}}};
    if (!PrepareDataDir(DataDir(), tokens, error) || !MakeAdminCertificate(error)) return false;
    *args = AdminTlsArgs();
    return true;
  }

 protected:
  // Creates an unassigned device as the owner.
  static void MakeDevice(const std::string& serial, const std::string& seed,
                         const std::string& type = "hotp") {
    HttpReply r = Owner().Post(kDevices, json::object{{"serialNumber", serial},
                                                      {"secretKey", Base32Of(seed)},
                                                      {"manufacturer", "Contoso"},
                                                      {"model", "Hardware Token 1000"},
                                                      {"type", type}});
    ASSERT_EQ(r.status, 201) << r.body;
  }
  static std::string Verify(const std::string& upn, const std::string& code) {
    LineClient c = LineClient::Unix(DataDir() + "/verify.sock");
    return c.Call(VerifyLine("v", upn, code));
  }
};

TEST_F(AdminApiTest, HealthReadinessAndMetrics) {
  HttpClient owner = Owner();
  EXPECT_EQ(owner.Get("/healthz").status, 200);
  EXPECT_EQ(owner.Get("/readyz").status, 200);
  HttpReply metrics = owner.Get("/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.body;
  EXPECT_NE(metrics.body.find("# TYPE otpd_"), std::string::npos);
  EXPECT_NE(metrics.body.find("otpd_admin_requests_total"), std::string::npos);
  // Health is public over TCP too; metrics are not.
  EXPECT_EQ(Remote().Get("/healthz").status, 200);
  EXPECT_EQ(Remote().Get("/metrics").status, 401);
}

TEST_F(AdminApiTest, TcpCallersNeedAValidKey) {
  HttpReply none = Remote().Get("/v1.0/users");
  EXPECT_EQ(none.status, 401);
  EXPECT_FALSE(none.ErrorCode().empty()) << none.body;
  EXPECT_FALSE(none.Header("request-id").empty());
  EXPECT_EQ(Remote("otpd_not-a-real-key").Get("/v1.0/users").status, 401);

  const std::string key = MakeKey("reader-for-tcp", {"reader"});
  ASSERT_FALSE(key.empty());
  EXPECT_EQ(Remote(key).Get("/v1.0/users").status, 200);
  // The key is shown once: listing keys never returns it.
  HttpReply list = Owner().Get("/v1.0/admin/apiKeys");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(key), std::string::npos);

  // Revoked: refused at once.
  std::string id;
  const json::value keys = list.Json();
  for (const auto& k : keys.at("value").as_array()) {
    if (k.at("name") == "reader-for-tcp") id = std::string(k.at("id").as_string());
  }
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(Owner().Delete("/v1.0/admin/apiKeys/" + id).status, 204);
  EXPECT_EQ(Remote(key).Get("/v1.0/users").status, 401);
}

TEST_F(AdminApiTest, PlainHttpOnTheTlsPortIsRefused) {
  HttpReply r = HttpClient::Tcp(daemon_->admin_port()).Get("/healthz");
  EXPECT_NE(r.status, 200);
}

TEST_F(AdminApiTest, RoleBoundariesRefuseAndChangeNothing) {
  const std::string reader = MakeKey("reader-roles", {"reader"});
  const std::string auth_admin = MakeKey("authadmin-roles", {"authentication_administrator"});
  ASSERT_FALSE(reader.empty());
  ASSERT_FALSE(auth_admin.empty());

  // A reader cannot create a device; the device does not exist afterwards.
  HttpReply r = Remote(reader).Post(
      kDevices, json::object{{"serialNumber", "ROLE1"}, {"secretKey", Base32Of(SeedFor("r1"))}});
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.ErrorCode(), "accessDenied") << r.body;
  EXPECT_EQ(Owner().Get(kDevices + "/ROLE1").status, 404);

  // An authentication administrator cannot mint API keys or change roles.
  EXPECT_EQ(Remote(auth_admin)
                .Post("/v1.0/admin/apiKeys",
                      json::object{{"name", "escalate"}, {"roles", json::array{"reader"}}})
                .status,
            403);
  EXPECT_EQ(
      Owner().Put("/v1.0/users/victim@example.com", json::object{{"displayName", "Victim"}}).status,
      201);
  HttpReply escalate =
      Remote(auth_admin)
          .Patch("/v1.0/users/victim@example.com",
                 json::object{{"roles", json::array{"authentication_administrator"}}});
  EXPECT_EQ(escalate.status, 403) << escalate.body;
  HttpReply user = Owner().Get("/v1.0/users/victim@example.com");
  ASSERT_EQ(user.status, 200);
  EXPECT_EQ(user.body.find("authentication_administrator"), std::string::npos) << user.body;

  // The reader reads; the authentication administrator manages methods.
  EXPECT_EQ(Remote(reader).Get("/v1.0/users/victim@example.com").status, 200);
  HttpReply email = Remote(auth_admin)
                        .Post(Methods("victim@example.com", "emailMethods"),
                              json::object{{"emailAddress", "v@example.org"}});
  EXPECT_EQ(email.status, 201) << email.body;
  EXPECT_EQ(Remote(reader)
                .Post(Methods("victim@example.com", "emailMethods"),
                      json::object{{"emailAddress", "w@example.org"}})
                .status,
            403);
}

TEST_F(AdminApiTest, HardwareTokenLifecycleAgreesWithTheVerifySocket) {
  const std::string seed = SeedFor("life");
  const TestToken t{"LIFE1", "life@example.com", seed, {.type = OtpType::kHotp}};
  MakeDevice(t.serial, seed);
  HttpClient owner = Owner();

  HttpReply device = owner.Get(kDevices + "/LIFE1");
  ASSERT_EQ(device.status, 200) << device.body;
  json::value d = device.Json();
  EXPECT_TRUE(d.at("secretKey").is_null()) << "the seed never leaves the daemon";
  EXPECT_EQ(d.at("status"), "available");
  EXPECT_EQ(d.at("manufacturer"), "Contoso");
  EXPECT_EQ(device.body.find(Base32Of(seed)), std::string::npos);

  // Filtering and updating.
  HttpReply filtered = owner.Get(kDevices + "?$filter=serialNumber%20eq%20'LIFE1'");
  ASSERT_EQ(filtered.status, 200) << filtered.body;
  EXPECT_EQ(filtered.Json().at("value").as_array().size(), 1u);
  EXPECT_EQ(owner.Patch(kDevices + "/LIFE1", json::object{{"model", "Mark II"}}).status, 204);
  EXPECT_EQ(owner.Get(kDevices + "/LIFE1").Json().at("model"), "Mark II");

  // Assign, then activate: a wrong code is refused and counted, the right one activates.
  EXPECT_EQ(owner.Put("/v1.0/users/life@example.com", json::object{{"displayName", "Life"}}).status,
            201);
  HttpReply assigned = owner.Post(Methods(t.upn, "hardwareOathMethods"),
                                  json::object{{"device", json::object{{"id", "LIFE1"}}}});
  ASSERT_EQ(assigned.status, 201) << assigned.body;
  const std::string method_id(assigned.Json().at("id").as_string());
  EXPECT_FALSE(assigned.Header("location").empty());
  // Not active yet: the verify socket refuses a right code.
  EXPECT_NE(Verify(t.upn, t.Code(1)).rfind("OK", 0), 0u);

  const std::string activate =
      Methods(t.upn, "hardwareOathMethods") + "/" + method_id + "/activate";
  std::string wrong = t.Code(0) == "000000" ? "000001" : "000000";
  HttpReply bad = owner.Post(activate, json::object{{"verificationCode", wrong}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.body.find(wrong), std::string::npos) << "codes never echo";
  HttpReply good = owner.Post(
      activate, json::object{{"verificationCode", t.Code(0)}, {"displayName", "Life's token"}});
  EXPECT_EQ(good.status, 204) << good.body;
  EXPECT_EQ(owner.Get(kDevices + "/LIFE1").Json().at("status"), "activated");

  // The activation code is spent; the next one signs in once.
  EXPECT_EQ(Verify(t.upn, t.Code(0)), "FAIL\tv\treason=replayed");
  EXPECT_EQ(Verify(t.upn, t.Code(1)).rfind("OK", 0), 0u);
  EXPECT_EQ(Verify(t.upn, t.Code(1)), "FAIL\tv\treason=replayed");

  // Deactivated: refused at once by the verify socket (the fence), and listed as such.
  EXPECT_EQ(owner
                .Post(Methods(t.upn, "hardwareOathMethods") + "/" + method_id + "/deactivate",
                      json::object{})
                .status,
            204);
  EXPECT_NE(Verify(t.upn, t.Code(2)).rfind("OK", 0), 0u);
  // Unassigned, then deleted; a deleted device is gone.
  EXPECT_EQ(owner.Delete(Methods(t.upn, "hardwareOathMethods") + "/" + method_id).status, 204);
  EXPECT_EQ(owner.Delete(kDevices + "/LIFE1").status, 204);
  EXPECT_EQ(owner.Get(kDevices + "/LIFE1").status, 404);
}

TEST_F(AdminApiTest, DeletedAndReimportedTokenKeepsItsWatermark) {
  const std::string seed = SeedFor("reimport");
  const TestToken t{"REIMP1", "reimport@example.com", seed, {.type = OtpType::kHotp}};
  HttpClient owner = Owner();
  ASSERT_EQ(owner.Put("/v1.0/users/reimport@example.com", json::object{}).status, 201);
  MakeDevice(t.serial, seed);
  HttpReply r =
      owner.Post(Methods(t.upn, "hardwareOathMethods") + "/assignAndActivateBySerialNumber",
                 json::object{{"serialNumber", t.serial}, {"verificationCode", t.Code(0)}});
  ASSERT_EQ(r.status, 204) << r.body;
  ASSERT_EQ(Verify(t.upn, t.Code(1)).rfind("OK", 0), 0u);
  ASSERT_EQ(Verify(t.upn, t.Code(2)).rfind("OK", 0), 0u);

  // The attack: delete the token, import the same seed again, replay the codes seen before.
  HttpReply methods = owner.Get(Methods(t.upn, "hardwareOathMethods"));
  ASSERT_EQ(methods.status, 200);
  const json::value listed = methods.Json();
  const std::string id(listed.at("value").as_array().at(0).at("id").as_string());
  ASSERT_EQ(owner.Delete(Methods(t.upn, "hardwareOathMethods") + "/" + id).status, 204);
  ASSERT_EQ(owner.Delete(kDevices + "/" + t.serial).status, 204);
  MakeDevice(t.serial, seed);
  r = owner.Post(Methods(t.upn, "hardwareOathMethods") + "/assignAndActivateBySerialNumber",
                 json::object{{"serialNumber", t.serial}, {"verificationCode", t.Code(1)}});
  EXPECT_NE(r.status, 204) << "an old code activated a re-imported token: " << r.body;
  r = owner.Post(Methods(t.upn, "hardwareOathMethods") + "/assignAndActivateBySerialNumber",
                 json::object{{"serialNumber", t.serial}, {"verificationCode", t.Code(3)}});
  ASSERT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(Verify(t.upn, t.Code(2)), "FAIL\tv\treason=replayed");
  EXPECT_EQ(Verify(t.upn, t.Code(4)).rfind("OK", 0), 0u);
}

// An Entra CSV file of one TOTP token for `upn`.
std::string EntraCsv(const std::string& upn, const std::string& serial, const std::string& seed) {
  return "upn,serial number,secret key,time interval,manufacturer,model\n" + upn + "," + serial +
         "," + Base32Of(seed) + ",30,Contoso,Hardware Token 1000\n";
}

// The attack: a used token's seed replaced by another through an import with replace, then put
// back; the codes it accepted before must stay refused, and the inventory role alone may not
// replace a user's token at all.
TEST_F(AdminApiTest, ReplacingAUsersSeedNeverRevivesItsCodes) {
  const std::string upn = "reseed@example.com";
  const std::string old_seed = SeedFor("rs-a"), new_seed = SeedFor("rs-b");
  const TestToken t{"RESEED1", upn, old_seed, {}};
  HttpClient owner = Owner();
  ASSERT_EQ(owner.Put("/v1.0/users/" + upn, json::object{}).status, 201);
  MakeDevice(t.serial, old_seed, "totp");
  const int64_t t0 = std::time(nullptr);
  const std::string used = t.Credential().TotpAt(t0);
  HttpReply r = owner.Post(Methods(upn, "hardwareOathMethods") + "/assignAndActivateBySerialNumber",
                           json::object{{"serialNumber", t.serial}, {"verificationCode", used}});
  ASSERT_EQ(r.status, 204) << r.body;

  // The policy role manages the inventory, not users' tokens: its replace is refused.
  const std::string policy = MakeKey("policy-reseed", {"authentication_policy_administrator"});
  r = Remote(policy).Request("POST", kDevices + "?replace=true", EntraCsv(upn, t.serial, new_seed),
                             "text/csv");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("failed").to_number<int64_t>(), 1) << r.body;
  EXPECT_NE(r.body.find("authentication_administrator"), std::string::npos) << r.body;
  HttpReply device = owner.Get(kDevices + "/" + t.serial);
  ASSERT_EQ(device.status, 200);
  EXPECT_EQ(device.Json().at("status").as_string(), "activated") << device.body;
  HttpReply audit = owner.Get("/v1.0/audit?target=token/" + t.serial);
  EXPECT_NE(audit.body.find("apikey:policy-reseed"), std::string::npos) << audit.body;

  // The owner replaces it with another seed and then with the old one again.
  for (const std::string& seed : {new_seed, old_seed}) {
    r = owner.Request("POST", kDevices + "?replace=true", EntraCsv(upn, t.serial, seed),
                      "text/csv");
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(r.Json().at("updated").to_number<int64_t>(), 1) << r.body;
  }
  HttpReply methods = owner.Get(Methods(upn, "hardwareOathMethods"));
  ASSERT_EQ(methods.status, 200);
  const std::string id(methods.Json().at("value").as_array().at(0).at("id").as_string());
  r = owner.Post(Methods(upn, "hardwareOathMethods") + "/" + id + "/activate",
                 json::object{{"verificationCode", used}});
  EXPECT_NE(r.status, 204) << "a code used before activated the token again: " << r.body;
  r = owner.Post(Methods(upn, "hardwareOathMethods") + "/" + id + "/activate",
                 json::object{{"verificationCode", t.Credential().TotpAt(t0 + 30)}});
  EXPECT_EQ(r.status, 204) << r.body;
}

// A device's assignTo.id is a user principal name, checked as every door checks one: bytes that
// are not an address create nobody and cannot reach another user's records.
TEST_F(AdminApiTest, DeviceAssigneesMustBeAddresses) {
  HttpClient owner = Owner();
  const std::string admin = "admin1@example.com";
  ASSERT_EQ(owner.Put("/v1.0/users/" + admin, json::object{}).status, 201);
  ASSERT_EQ(owner
                .Post(Methods(admin, "emailMethods"),
                      json::object{{"emailAddress", "admin1@example.org"}})
                .status,
            201);
  const auto method_count = [&] {
    HttpReply m = owner.Get(Methods(admin, "methods"));
    EXPECT_EQ(m.status, 200) << m.body;
    return m.status == 200 ? m.Json().at("value").as_array().size() : 0;
  };
  const size_t before = method_count();
  const std::string auth_admin = MakeKey(
      "assignee-admin", {"authentication_administrator", "authentication_policy_administrator"});
  const std::vector<std::string> bad = {admin + std::string(1, '\0') + "x", "not an email",
                                        "tab\there@example.com", "line\nbreak@example.com",
                                        "bad@exa mple.com"};
  int n = 0;
  for (const std::string& upn : bad) {
    const std::string serial = "ASSIGNEE" + std::to_string(++n);
    HttpReply r = Remote(auth_admin)
                      .Post(kDevices, json::object{{"serialNumber", serial},
                                                   {"secretKey", Base32Of(SeedFor(serial))},
                                                   {"assignTo", json::object{{"id", upn}}}});
    EXPECT_EQ(r.status, 400) << "assignee " << n << ": " << r.body;
    EXPECT_NE(r.body.find("upn"), std::string::npos) << r.body;
    EXPECT_EQ(owner.Get(kDevices + "/" + serial).status, 404);
  }
  EXPECT_EQ(method_count(), before);
  HttpReply users = owner.Get("/v1.0/users?$filter=startswith(userPrincipalName,'not')");
  EXPECT_EQ(users.body.find("not an email"), std::string::npos) << users.body;
  // The owner can still add a method to the administrator whose name was aimed at.
  EXPECT_EQ(owner
                .Post(Methods(admin, "phoneMethods"),
                      json::object{{"phoneNumber", "+1 4255550101"}, {"phoneType", "mobile"}})
                .status,
            201);
}

// A method, a token or a pass for a user who does not exist answers 404, as Graph does, on every
// door, and leaves no user behind: a mistyped address never becomes an account. Creating a user
// is its own call.
TEST_F(AdminApiTest, UnknownUsersAre404OnEveryDoorAndNeverCreated) {
  HttpClient owner = Owner();
  const std::string typo = "typo6@example.com";
  ASSERT_EQ(owner
                .Post(kDevices, json::object{{"serialNumber", "TYPO1"},
                                             {"secretKey", Base32Of(SeedFor("typo1"))}})
                .status,
            201);
  const std::vector<std::pair<std::string, json::object>> doors = {
      {Methods(typo, "phoneMethods"),
       json::object{{"phoneNumber", "+1 4255550199"}, {"phoneType", "mobile"}}},
      {Methods(typo, "emailMethods"), json::object{{"emailAddress", "typo@example.org"}}},
      {Methods(typo, "softwareOathMethods"), json::object{}},
      {Methods(typo, "hardwareOathMethods"),
       json::object{{"device", json::object{{"id", "TYPO1"}}}}},
      {Methods(typo, "hardwareOathMethods/assignAndActivateBySerialNumber"),
       json::object{{"serialNumber", "TYPO1"}, {"verificationCode", "123456"}}},
      {Methods(typo, "temporaryAccessPassMethods"), json::object{}},
      {Methods(typo, "appPasswords"), json::object{{"displayName", "mail"}}},
      {kDevices, json::object{{"serialNumber", "TYPO2"},
                              {"secretKey", Base32Of(SeedFor("typo2"))},
                              {"assignTo", json::object{{"id", typo}}}}},
  };
  for (const auto& [path, body] : doors) {
    HttpReply r = owner.Post(path, body);
    EXPECT_EQ(r.status, 404) << path << ": " << r.body;
    EXPECT_NE(r.body.find(typo), std::string::npos) << path << ": " << r.body;
    EXPECT_EQ(owner.Get("/v1.0/users/" + typo).status, 404) << "created by " << path;
  }
  HttpReply device = owner.Get(kDevices + "/TYPO1");
  ASSERT_EQ(device.status, 200) << device.body;
  EXPECT_EQ(device.Json().at("status").as_string(), "available") << device.body;
  EXPECT_EQ(owner.Get(kDevices + "/TYPO2").status, 404);

  // Once the user is created explicitly, the same call succeeds.
  ASSERT_EQ(owner.Put("/v1.0/users/" + typo, json::object{}).status, 201);
  EXPECT_EQ(
      owner.Post(Methods(typo, "emailMethods"), json::object{{"emailAddress", "typo@example.org"}})
          .status,
      201);
}

TEST_F(AdminApiTest, ConcurrentActivationsActivateOnce) {
  const std::string seed = SeedFor("race");
  const TestToken t{"RACE1", "race@example.com", seed, {.type = OtpType::kHotp}};
  HttpClient owner = Owner();
  ASSERT_EQ(owner.Put("/v1.0/users/race@example.com", json::object{}).status, 201);
  MakeDevice(t.serial, seed);
  HttpReply assigned = owner.Post(Methods(t.upn, "hardwareOathMethods"),
                                  json::object{{"device", json::object{{"id", t.serial}}}});
  ASSERT_EQ(assigned.status, 201);
  const std::string activate = Methods(t.upn, "hardwareOathMethods") + "/" +
                               std::string(assigned.Json().at("id").as_string()) + "/activate";
  std::atomic<int> activated{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      HttpReply r = Owner().Post(activate, json::object{{"verificationCode", t.Code(0)}});
      if (r.status == 204) ++activated;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(activated.load(), 1);
  EXPECT_EQ(Verify(t.upn, t.Code(0)), "FAIL\tv\treason=replayed");
}

TEST_F(AdminApiTest, SoftwareTokenEnrolmentRoundTrip) {
  HttpClient owner = Owner();
  const std::string upn = "app@example.com";
  ASSERT_EQ(owner.Put("/v1.0/users/" + upn, json::object{{"displayName", "App User"}}).status, 201);
  HttpReply enrol =
      owner.Post(Methods(upn, "softwareOathMethods"), json::object{{"displayName", "Phone app"}});
  ASSERT_EQ(enrol.status, 201) << enrol.body;
  EXPECT_EQ(enrol.Header("cache-control"), "no-store");
  json::value e = enrol.Json();
  const std::string secret(e.at("secretKey").as_string());
  const std::string id(e.at("id").as_string());
  EXPECT_EQ(std::string(e.at("otpauthUri").as_string()).rfind("otpauth://totp/", 0), 0u);
  EXPECT_NE(std::string(e.at("qrCodeSvg").as_string()).find("<svg"), std::string::npos);

  auto seed = base::Base32Decode(secret);
  ASSERT_TRUE(seed.ok());
  const TestToken t{"app", upn, std::string(seed->view()), {}};

  // Not confirmed: no sign-in, and the secret is never shown again.
  EXPECT_NE(Verify(upn, t.Code(0)).rfind("OK", 0), 0u);
  HttpReply again = owner.Get(Methods(upn, "softwareOathMethods") + "/" + id);
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.body.find(secret), std::string::npos);

  HttpReply wrong = owner.Post(Methods(upn, "softwareOathMethods") + "/" + id + "/confirm",
                               json::object{{"verificationCode", "12345"}});
  EXPECT_EQ(wrong.status, 400) << wrong.body;
  HttpReply confirm = owner.Post(Methods(upn, "softwareOathMethods") + "/" + id + "/confirm",
                                 json::object{{"verificationCode", t.Code(0)}});
  ASSERT_EQ(confirm.status, 204) << confirm.body;
  EXPECT_EQ(Verify(upn, t.Code(0)), "FAIL\tv\treason=replayed");
  EXPECT_EQ(Verify(upn, t.Code(1)).rfind("OK", 0), 0u);

  // Listed among the user's methods; deleted, it signs in no more.
  HttpReply all = owner.Get(Methods(upn, "methods"));
  ASSERT_EQ(all.status, 200);
  EXPECT_NE(all.body.find("softwareOathAuthenticationMethod"), std::string::npos) << all.body;
  EXPECT_EQ(owner.Delete(Methods(upn, "softwareOathMethods") + "/" + id).status, 204);
  EXPECT_NE(Verify(upn, t.Code(2)).rfind("OK", 0), 0u);
  EXPECT_EQ(daemon_->log().find(secret), std::string::npos);
}

TEST_F(AdminApiTest, PhoneNumbersAreMaskedForLesserRoles) {
  HttpClient owner = Owner();
  const std::string upn = "phone@example.com";
  ASSERT_EQ(owner.Put("/v1.0/users/" + upn, json::object{}).status, 201);
  HttpReply added =
      owner.Post(Methods(upn, "phoneMethods"),
                 json::object{{"phoneNumber", "+1 2065550123"}, {"phoneType", "mobile"}});
  ASSERT_EQ(added.status, 201) << added.body;
  const std::string id(added.Json().at("id").as_string());
  EXPECT_EQ(owner.Get(Methods(upn, "phoneMethods") + "/" + id).Json().at("phoneNumber"),
            "+1 2065550123");
  const std::string reader = MakeKey("reader-phone", {"reader"});
  HttpReply masked = Remote(reader).Get(Methods(upn, "phoneMethods") + "/" + id);
  ASSERT_EQ(masked.status, 200);
  EXPECT_EQ(masked.body.find("2065550123"), std::string::npos) << masked.body;
  EXPECT_EQ(owner.Post(Methods(upn, "phoneMethods") + "/" + id + "/enableSmsSignIn", json::object{})
                .status,
            204);
  EXPECT_EQ(owner.Get(Methods(upn, "phoneMethods") + "/" + id).Json().at("smsSignInState"),
            "ready");
  EXPECT_EQ(owner
                .Patch(Methods(upn, "phoneMethods") + "/" + id,
                       json::object{{"phoneNumber", "+1 2065550199"}})
                .status,
            204);
  EXPECT_EQ(owner.Delete(Methods(upn, "phoneMethods") + "/" + id).status, 204);
  EXPECT_EQ(owner.Get(Methods(upn, "phoneMethods") + "/" + id).status, 404);
}

TEST_F(AdminApiTest, HostileRequestsGetClearErrors) {
  HttpClient owner = Owner();
  // Not JSON.
  HttpReply r = owner.Request("POST", "/v1.0/users/x@example.com/authentication/emailMethods",
                              "{not json", "application/json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorCode(), "invalidRequest") << r.body;
  // An unknown field is named.
  ASSERT_EQ(owner.Put("/v1.0/users/hostile@example.com", json::object{}).status, 201);
  r = owner.Post(Methods("hostile@example.com", "emailMethods"),
                 json::object{{"emailAddress", "a@example.org"}, {"isAdmin", true}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("isAdmin"), std::string::npos) << r.body;
  // A wrong type is named.
  r = owner.Post(Methods("hostile@example.com", "emailMethods"),
                 json::object{{"emailAddress", 42}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("emailAddress"), std::string::npos) << r.body;
  // A secret that is not Base32, in the second of two devices: nothing is stored.
  r = owner.Post(
      kDevices,
      json::array{json::object{{"serialNumber", "HOST1"}, {"secretKey", Base32Of(SeedFor("h1"))}},
                  json::object{{"serialNumber", "HOST2"}, {"secretKey", "not base32!"}}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("[1].secretKey"), std::string::npos) << r.body;
  EXPECT_EQ(owner.Get(kDevices + "/HOST1").status, 404);
  // Too large a body: refused before it is read.
  r = owner.Request("POST", Methods("hostile@example.com", "emailMethods"),
                    std::string(2 * 1024 * 1024, ' '), "application/json");
  EXPECT_EQ(r.status, 413);
  // Unknown users, ids, paths and verbs.
  EXPECT_EQ(owner.Get("/v1.0/users/nobody@example.com").status, 404);
  EXPECT_EQ(owner.Get(Methods("hostile@example.com", "phoneMethods") + "/nope").status, 404);
  EXPECT_EQ(owner.Get("/v1.0/nothing-here").status, 404);
  EXPECT_EQ(owner.Request("PUT", kDevices).status, 405);
  // Bad OData.
  r = owner.Get(kDevices + "?$filter=serialNumber%20gt%201");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("$filter"), std::string::npos) << r.body;
  r = owner.Get("/v1.0/users?$top=-1");
  EXPECT_EQ(r.status, 400);
  // The daemon is still serving.
  EXPECT_EQ(owner.Get("/healthz").status, 200);
}

TEST_F(AdminApiTest, UsersArePagedAndChangesAudited) {
  HttpClient owner = Owner();
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(owner
                  .Put("/v1.0/users/page" + std::to_string(i) + "@example.com",
                       json::object{{"displayName", "Page " + std::to_string(i)}})
                  .status,
              201);
  }
  std::set<std::string> seen;
  std::string next = "/v1.0/users?$top=2&$filter=startswith(userPrincipalName,'page')";
  int pages = 0;
  while (!next.empty() && pages < 10) {
    HttpReply r = owner.Get(next);
    ASSERT_EQ(r.status, 200) << r.body;
    json::value v = r.Json();
    EXPECT_LE(v.at("value").as_array().size(), 2u);
    for (const auto& u : v.at("value").as_array()) {
      EXPECT_TRUE(seen.insert(std::string(u.at("userPrincipalName").as_string())).second);
    }
    next.clear();
    if (const auto* link = v.as_object().if_contains("@odata.nextLink")) {
      next = std::string(link->as_string());
      // Links are absolute only when the origin is known; over the Unix socket, keep the path.
      if (auto slash = next.find("/v1.0/"); slash != std::string::npos) next = next.substr(slash);
    }
    ++pages;
  }
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(pages, 3);

  HttpReply changed =
      owner.Patch("/v1.0/users/page0@example.com", json::object{{"displayName", "Renamed"}});
  ASSERT_EQ(changed.status, 204) << changed.body;
  const std::string request_id = changed.Header("request-id");
  ASSERT_FALSE(request_id.empty());
  HttpReply audit = owner.Get("/v1.0/audit?target=user%2Fpage0%40example.com");
  ASSERT_EQ(audit.status, 200);
  EXPECT_NE(audit.body.find(request_id), std::string::npos)
      << "the change is audited with its id: " << audit.body;
}

TEST_F(AdminApiTest, AdminChangesDuringSignInsCauseNoSignInErrors) {
  HttpClient owner = Owner();
  std::vector<TestToken> tokens;
  for (int i = 0; i < 4; ++i) {
    const std::string n = std::to_string(i);
    TestToken t{
        "BUSY" + n, "busy" + n + "@example.com", SeedFor("busy" + n), {.type = OtpType::kHotp}};
    ASSERT_EQ(owner.Put("/v1.0/users/" + t.upn, json::object{}).status, 201);
    MakeDevice(t.serial, t.seed);
    HttpReply r =
        owner.Post(Methods(t.upn, "hardwareOathMethods") + "/assignAndActivateBySerialNumber",
                   json::object{{"serialNumber", t.serial}, {"verificationCode", t.Code(0)}});
    ASSERT_EQ(r.status, 204) << r.body;
    tokens.push_back(t);
  }
  std::atomic<bool> stop{false};
  std::atomic<int> admin_changes{0};
  std::vector<std::string> failures(tokens.size());
  std::vector<int> accepted(tokens.size(), 0);
  std::vector<std::thread> signers;
  for (size_t i = 0; i < tokens.size(); ++i) {
    signers.emplace_back([&, i] {
      LineClient c = LineClient::Unix(DataDir() + "/verify.sock");
      for (int64_t counter = 1; counter < 400 && !stop.load(); ++counter) {
        std::string reply = c.Call(VerifyLine("s", tokens[i].upn, tokens[i].Code(counter)));
        if (reply.rfind("OK", 0) != 0) {
          failures[i] = "code " + std::to_string(counter) + ": " + reply;
          return;
        }
        ++accepted[i];
      }
    });
  }
  // Meanwhile, changes to the same users' other methods, to their records, and to others.
  std::thread admin([&] {
    HttpClient c = Owner();
    for (int round = 0; round < 40 && !stop.load(); ++round) {
      const std::string upn = tokens[static_cast<size_t>(round) % tokens.size()].upn;
      HttpReply e =
          c.Post(Methods(upn, "emailMethods"),
                 json::object{{"emailAddress", "r" + std::to_string(round) + "@example.org"}});
      if (e.status == 201) {
        c.Delete(Methods(upn, "emailMethods") + "/" + std::string(e.Json().at("id").as_string()));
      }
      c.Patch("/v1.0/users/" + upn, json::object{{"displayName", "Busy " + std::to_string(round)}});
      c.Put("/v1.0/users/other" + std::to_string(round) + "@example.com", json::object{});
      c.Get("/v1.0/users?$top=5");
      admin_changes += 3;
    }
  });
  admin.join();
  stop = true;
  for (auto& t : signers) t.join();
  EXPECT_GE(admin_changes.load(), 30);
  for (size_t i = 0; i < tokens.size(); ++i) {
    EXPECT_TRUE(failures[i].empty()) << tokens[i].upn << " " << failures[i];
    EXPECT_GT(accepted[i], 0);
  }
}

TEST_F(AdminApiTest, OnlineBackupIsTheOwnersAndRestorable) {
  const std::string reader = MakeKey("reader-backup", {"reader"});
  const std::string path = dir_->File("backup-online");
  HttpReply refused = Remote(reader).Post("/v1.0/admin/backup", json::object{{"path", path}});
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_FALSE(std::filesystem::exists(path));

  HttpReply made = Owner().Post("/v1.0/admin/backup", json::object{{"path", path}});
  ASSERT_EQ(made.status, 200) << made.body;
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::exists(path + "/otpd-backup.json"));
  otpd::testing::RunResult restore =
      otpd::testing::Run({OTPCTL_PATH, "restore", path, "--data-dir", dir_->File("restored"),
                          "--key-file", KeyFileFor(DataDir())});
  if (!OnEtcd()) {
    // The backup opens with otpctl restore's checks.
    EXPECT_EQ(restore.exit_code, 0) << restore.err;
  } else {
    // The cluster's snapshot, which etcdctl checks, and the installation's keys: the token
    // imported at set-up among them.
    otpd::testing::RunResult status = otpd::testing::Run(
        {"/usr/bin/etcdctl", "snapshot", "status", path + "/etcd-snapshot.db", "-w", "json"});
    EXPECT_EQ(status.exit_code, 0) << status.err;
    EXPECT_NE(status.out.find("\"totalKey\""), std::string::npos) << status.out;
    EXPECT_NE(otpd::testing::ReadFile(path + "/etcd-keys.tsv").find("tokens\t"), std::string::npos);
    EXPECT_GE(made.Json().at("manifest").at("tokens").as_int64(), 1) << made.body;
    // otpctl restore puts back data directories only, and says what to do instead.
    EXPECT_NE(restore.exit_code, 0);
    EXPECT_NE(restore.err.find("etcdctl snapshot restore"), std::string::npos) << restore.err;
  }
  // A second backup to the same place is refused, and the first is left whole.
  HttpReply again = Owner().Post("/v1.0/admin/backup", json::object{{"path", path}});
  EXPECT_NE(again.status, 200);
}

// A daemon of its own with a small activation budget.
TEST(AdminApiLimitsTest, ActivationsAreRateLimited) {
  TempDir dir;
  const std::string data = dir.File("data");
  std::string error;
  ASSERT_TRUE(PrepareDataDir(data, {}, &error)) << error;
  otpd::testing::WriteFile(
      dir.File("otpd.toml"),
      "[admin]\nactivations_per_window = 3\nactivation_window_seconds = 600\n");
  Daemon daemon;
  ASSERT_TRUE(daemon.Start(OTPD_PATH, DaemonArgs(data, {"--config", dir.File("otpd.toml")})))
      << daemon.log();
  HttpClient owner = HttpClient::Unix(data + "/admin.sock");
  ASSERT_EQ(owner.Put("/v1.0/users/limit@example.com", json::object{}).status, 201);
  const std::string seed = SeedFor("limit");
  ASSERT_EQ(owner
                .Post(kDevices, json::object{{"serialNumber", "LIM1"},
                                             {"secretKey", Base32Of(seed)},
                                             {"type", "hotp"}})
                .status,
            201);
  const std::string by_serial =
      Methods("limit@example.com", "hardwareOathMethods") + "/assignAndActivateBySerialNumber";
  for (int i = 0; i < 3; ++i) {
    HttpReply r = owner.Post(
        by_serial, json::object{{"serialNumber", "LIM1"}, {"verificationCode", "000000"}});
    EXPECT_EQ(r.status, 400) << r.body;
  }
  HttpReply limited =
      owner.Post(by_serial, json::object{{"serialNumber", "LIM1"}, {"verificationCode", "000000"}});
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(limited.ErrorCode(), "activityLimitReached");
  EXPECT_EQ(limited.Header("retry-after"), "600");
  // Over the limit nothing changes: a second token is not assigned either.
  HttpReply made = owner.Post(kDevices, json::object{{"serialNumber", "LIM2"},
                                                     {"secretKey", Base32Of(SeedFor("lim2"))},
                                                     {"type", "hotp"}});
  ASSERT_EQ(made.status, 201) << made.body;
  HttpReply second =
      owner.Post(by_serial, json::object{{"serialNumber", "LIM2"}, {"verificationCode", "000000"}});
  EXPECT_EQ(second.status, 429) << second.body;
  HttpReply device = owner.Get(kDevices + "/LIM2");
  EXPECT_EQ(device.Json().at("assignedTo"), nullptr) << device.body;
  EXPECT_EQ(device.Json().at("status"), "available") << device.body;
  EXPECT_EQ(daemon.Stop(SIGTERM), 0) << daemon.log();
}

}  // namespace
}  // namespace otpd::e2e
