// What the validate API's end-to-end tests share: the TCP client they authenticate as, their
// tokens, form bodies, codes that are certainly wrong, checks of privacyIDEA's answer shapes, and
// a suite base with the calls they make.

#ifndef OTPD_TESTS_E2E_VALIDATE_ENV_H_
#define OTPD_TESTS_E2E_VALIDATE_ENV_H_

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "base/codec.h"
#include "tests/e2e/e2e_env.h"
#include "tests/e2e/suite_daemon.h"
#include "tests/testing/http_client.h"

namespace otpd::e2e {

inline constexpr char kClient[] = "radius";
inline constexpr char kClientKey[] = "validate-client-key-0123456789";

inline std::string BasicAuth(const std::string& name, const std::string& key) {
  const std::string text = name + ":" + key;
  return "Basic " +
         base::Base64Encode({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

inline TestToken Totp(const std::string& name) {
  std::string seed = "validate-seed-" + name;
  seed.resize(20, '#');
  return TestToken{"VT-" + name, name + "@example.com", seed, {.type = engine::OtpType::kTotp}};
}

inline std::string Form(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) out += (out.empty() ? "" : "&") + k + "=" + v;
  return out;
}

// A six-digit code that no step (or counter) near now produces for `t`.
inline std::string WrongCode(const TestToken& t) {
  std::set<std::string> near;
  for (int64_t s = -20; s <= 20; ++s) {
    near.insert(t.Code(t.params.type == engine::OtpType::kHotp ? s + 20 : s));
  }
  for (int n = 123456;; n += 111111 % 1000000) {
    std::string code = std::to_string(n % 1000000);
    code.insert(0, 6 - code.size(), '0');
    if (!near.contains(code)) return code;
  }
}

// The fields every privacyIDEA answer carries.
inline void ExpectEnvelope(const boost::json::value& v) {
  ASSERT_TRUE(v.is_object()) << boost::json::serialize(v);
  EXPECT_EQ(v.at("id").as_int64(), 1);
  EXPECT_EQ(v.at("jsonrpc").as_string(), "2.0");
  EXPECT_EQ(std::string(v.at("version").as_string()).rfind("otpd ", 0), 0u);
  EXPECT_GT(v.at("time").to_number<double>(), 1.6e9);
}

inline void ExpectDecision(const otpd::testing::HttpReply& r, bool accepted,
                           const std::string& message) {
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/json");
  boost::json::value v = r.Json();
  ExpectEnvelope(v);
  EXPECT_EQ(v.at("result").at("status").as_bool(), true) << r.body;
  EXPECT_EQ(v.at("result").at("value").as_bool(), accepted) << r.body;
  EXPECT_EQ(v.at("result").at("authentication").as_string(), accepted ? "ACCEPT" : "REJECT");
  EXPECT_EQ(v.at("detail").at("message").as_string(), message) << r.body;
}

inline void ExpectError(const otpd::testing::HttpReply& r, int status, int code) {
  ASSERT_EQ(r.status, status) << r.body;
  boost::json::value v = r.Json();
  ExpectEnvelope(v);
  EXPECT_EQ(v.at("result").at("status").as_bool(), false) << r.body;
  EXPECT_EQ(v.at("result").at("error").at("code").as_int64(), code) << r.body;
  EXPECT_EQ(std::string(v.at("result").at("error").at("message").as_string())
                .rfind("ERR" + std::to_string(code) + ": ", 0),
            0u)
      << r.body;
  EXPECT_TRUE(v.at("detail").is_null());
  EXPECT_FALSE(v.at("result").as_object().contains("value"));
}

// The base of suites that call their shared daemon's validate API as the configured client
// (kClient) and compare with its verify socket. The suite's daemon needs --validate-listen and a
// [clients.radius] with kClientKey.
template <typename Suite>
class ValidateSuite : public SuiteDaemon<Suite> {
 protected:
  using Base = SuiteDaemon<Suite>;

  static otpd::testing::HttpClient Client() {
    return otpd::testing::HttpClient::Tcp(Base::daemon_->validate_port());
  }
  // POSTs form fields to `path`, as the configured client unless `auth` says otherwise.
  static otpd::testing::HttpReply PostForm(
      const std::string& path, const std::vector<std::pair<std::string, std::string>>& fields,
      const std::string& auth = BasicAuth(kClient, kClientKey)) {
    return Client().Request("POST", path, Form(fields), "application/x-www-form-urlencoded",
                            {{"Authorization", auth}});
  }
  static otpd::testing::HttpReply PostJson(const std::string& path,
                                           const boost::json::value& body) {
    return Client().Request("POST", path, boost::json::serialize(body), "application/json",
                            {{"Authorization", BasicAuth(kClient, kClientKey)}});
  }
  static otpd::testing::HttpReply Check(const std::string& user, const std::string& pass) {
    return PostForm("/validate/check", {{"user", user}, {"pass", pass}});
  }
  static std::string VerifySocket(const std::string& upn, const std::string& code) {
    otpd::testing::LineClient c = otpd::testing::LineClient::Unix(Base::DataDir() + "/verify.sock");
    return c.Call(VerifyLine("v", upn, code));
  }
};

}  // namespace otpd::e2e

#endif  // OTPD_TESTS_E2E_VALIDATE_ENV_H_
