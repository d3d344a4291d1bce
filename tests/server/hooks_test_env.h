// What the hook tests share (hook_sinks_test.cc, hooks_test.cc): the webhook secrets, a webhook
// sink's options for a receiver, and waiting for a condition.

#ifndef OTPD_TESTS_SERVER_HOOKS_TEST_ENV_H_
#define OTPD_TESTS_SERVER_HOOKS_TEST_ENV_H_

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "server/hooks/webhook_sink.h"
#include "tests/server/hook_receiver.h"
#include "tests/testing/eventually.h"

namespace otpd::server::hooks::testing {

using namespace std::chrono_literals;

inline const std::string kSecretA = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
inline const std::string kSecretB =
    "whsec_" + std::string("c2Vjb25kIHNpZ25pbmcga2V5IG9mIHRoZSByb3RhdGlvbg==");

inline std::string Key(const std::string& whsec) {
  return otpd::testing::ReceiverBase64Decode(whsec.substr(6));
}

inline WebhookSinkOptions Webhook(const std::string& url, std::chrono::milliseconds timeout = 5s) {
  WebhookSinkOptions o;
  o.url = url;
  o.secrets.push_back(ParseWebhookSecret(kSecretA).value());
  o.timeout = timeout;
  return o;
}

using ::otpd::testing::Eventually;

}  // namespace otpd::server::hooks::testing

#endif  // OTPD_TESTS_SERVER_HOOKS_TEST_ENV_H_
