// A scripted SignInService for server tests: answers are chosen by the request's otp, may be
// delayed, and are always delivered on the fake's own worker thread (as the real service does
// after a durable commit), or held until the test releases them.

#ifndef OTPD_TESTS_SERVER_FAKE_SIGN_IN_SERVICE_H_
#define OTPD_TESTS_SERVER_FAKE_SIGN_IN_SERVICE_H_

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "service/signin/sign_in.h"

namespace otpd::server::testing {

class FakeSignInService : public service::SignInService {
 public:
  struct Answer {
    service::SignInResult result;
    std::chrono::milliseconds delay{0};
    bool hold = false;  // keep the callback until Release()
  };

  FakeSignInService();
  ~FakeSignInService() override;

  // The answer for requests whose otp is `otp`. Unscripted codes are accepted at once with
  // method "m-<user or serial>".
  void Script(const std::string& otp, Answer answer);

  void Verify(const service::VerifyRequest& request, service::SignInCallback done) override;
  void Resync(const service::ResyncRequest& request, service::SignInCallback done) override;
  // Answered from the script's kChallengeScript entry; unscripted: a code sent to phone
  // "phone-<user>" by SMS, valid 300 s. last_challenge() is "user method channel".
  void Challenge(const service::ChallengeRequest& request, service::SignInCallback done) override;
  static constexpr char kChallengeScript[] = "<challenge>";

  // Delivers every held callback now (on the worker thread).
  void ReleaseHeld();
  size_t held() const;
  size_t calls() const;
  // The last request's fields, copied.
  std::string last_user() const;
  std::string last_serial() const;
  std::string last_otp2() const;
  std::string last_challenge() const;

 private:
  struct Due {
    std::chrono::steady_clock::time_point at;
    service::SignInCallback done;
    service::SignInResult result;
  };
  // `unscripted` (if any) answers an otp the script does not name.
  void Enqueue(const std::string& otp, std::string_view who, service::SignInCallback done,
               const Answer* unscripted = nullptr);
  void Run();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Answer> script_;
  std::vector<Due> queue_;
  std::vector<Due> held_;
  size_t calls_ = 0;
  std::string last_user_, last_serial_, last_otp2_, last_challenge_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace otpd::server::testing

#endif  // OTPD_TESTS_SERVER_FAKE_SIGN_IN_SERVICE_H_
