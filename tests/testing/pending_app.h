// An authenticator app enrolled for a user and not yet confirmed, as a test holds it: the
// method's id and the credential the app computes its codes with, read back from the enrolment's
// otpauth link the way a phone would read the QR code.

#ifndef OTPD_TESTS_TESTING_PENDING_APP_H_
#define OTPD_TESTS_TESTING_PENDING_APP_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

#include "base/statusor.h"
#include "engine/credential.h"
#include "service/admin/method_admin.h"
#include "tokenio/otpauth.h"

namespace otpd::testing {

struct PendingApp {
  std::string method_id;
  engine::Credential credential;
};

inline base::StatusOr<PendingApp> EnrolPendingApp(service::MethodAdmin& methods,
                                                  const service::Principal& by,
                                                  std::string_view upn) {
  OTPD_ASSIGN_OR_RETURN(service::Enrolment enrolment, methods.EnrolSoftwareToken(by, upn, "phone"));
  OTPD_ASSIGN_OR_RETURN(tokenio::OtpauthKey key, tokenio::ParseOtpauthUri(enrolment.uri.view()));
  OTPD_ASSIGN_OR_RETURN(engine::Credential credential,
                        engine::Credential::Create(key.params, key.secret.span()));
  return PendingApp{enrolment.method.id, std::move(credential)};
}

// The first six-digit code from the `i`-th on that `app` would not accept at `now` (within three
// steps either way): what someone walking the code space tries.
inline std::string WrongAppCode(const engine::Credential& app, int64_t now, int i) {
  for (;; ++i) {
    char text[8];
    std::snprintf(text, sizeof(text), "%06d", i % 1'000'000);
    bool right = false;
    for (int64_t step = -3; step <= 3; ++step) right |= app.TotpAt(now + step * 30) == text;
    if (!right) return text;
  }
}

}  // namespace otpd::testing

#endif  // OTPD_TESTS_TESTING_PENDING_APP_H_
