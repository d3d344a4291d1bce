// The kinds of authentication method a user can have. OATH credentials (hardware tokens and
// authenticator apps) sign in with a code over the verify socket (VERIFY); phones receive
// one-time codes (CHALLENGE, then VERIFY); the password and a temporary access pass have verbs of
// their own (PASSWORD, TAP); email serves password reset only and is never a factor.

#ifndef OTPD_SERVICE_MODEL_METHOD_KIND_H_
#define OTPD_SERVICE_MODEL_METHOD_KIND_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace otpd::service {

// The order matches MethodRecord's payload alternatives (service/model/records.h).
enum class MethodKind : uint8_t {
  kHardwareOath,
  kSoftwareOath,
  kPhone,
  kEmail,
  kPassword,
  kTemporaryAccessPass,
};

// "hardware_oath", "software_oath", "phone", "email", "password", "temporary_access_pass".
std::string_view MethodKindName(MethodKind kind);
// The kind named by MethodKindName, or nullopt.
std::optional<MethodKind> ParseMethodKind(std::string_view name);

// True for the kinds that count toward the per-user OATH method limit and sign in with a code.
inline bool IsOathKind(MethodKind kind) {
  return kind == MethodKind::kHardwareOath || kind == MethodKind::kSoftwareOath;
}

}  // namespace otpd::service

#endif  // OTPD_SERVICE_MODEL_METHOD_KIND_H_
