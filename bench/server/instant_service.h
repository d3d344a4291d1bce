// A SignInService that accepts every request at once, on the calling thread: measures the
// verify server's own cost (parsing, scheduling, writing) without any verification work.

#ifndef OTPD_BENCH_SERVER_INSTANT_SERVICE_H_
#define OTPD_BENCH_SERVER_INSTANT_SERVICE_H_

#include <string>

#include "service/signin/sign_in.h"

namespace otpd::bench {

class InstantService : public service::SignInService {
 public:
  void Verify(const service::VerifyRequest& request, service::SignInCallback done) override {
    service::SignInResult r;
    r.outcome = service::Outcome::kAccepted;
    r.method_id = "instant";
    r.method_kind = service::MethodKind::kSoftwareOath;
    r.step = request.otp.size();
    done(std::move(r));
  }
  void Resync(const service::ResyncRequest&, service::SignInCallback done) override {
    service::SignInResult r;
    r.outcome = service::Outcome::kAccepted;
    r.method_id = "instant";
    done(std::move(r));
  }
};

}  // namespace otpd::bench

#endif  // OTPD_BENCH_SERVER_INSTANT_SERVICE_H_
