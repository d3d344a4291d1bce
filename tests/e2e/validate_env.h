// What the validate API's end-to-end tests share: the TCP client they authenticate as, their
// tokens, form bodies, and codes that are certainly wrong.

#ifndef OTPD_TESTS_E2E_VALIDATE_ENV_H_
#define OTPD_TESTS_E2E_VALIDATE_ENV_H_

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/codec.h"
#include "tests/e2e/e2e_env.h"

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

}  // namespace otpd::e2e

#endif  // OTPD_TESTS_E2E_VALIDATE_ENV_H_
