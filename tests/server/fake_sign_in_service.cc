#include "tests/server/fake_sign_in_service.h"

#include <algorithm>

namespace otpd::server::testing {

FakeSignInService::FakeSignInService() : worker_([this] { Run(); }) {}

FakeSignInService::~FakeSignInService() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void FakeSignInService::Script(const std::string& otp, Answer answer) {
  std::lock_guard<std::mutex> lock(mu_);
  script_[otp] = std::move(answer);
}

void FakeSignInService::Verify(const service::VerifyRequest& request,
                               service::SignInCallback done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_user_ = std::string(request.user);
    last_serial_ = std::string(request.serial);
    last_otp2_.clear();
  }
  Enqueue(std::string(request.otp), request.user.empty() ? request.serial : request.user,
          std::move(done));
}

void FakeSignInService::Resync(const service::ResyncRequest& request,
                               service::SignInCallback done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_user_ = std::string(request.user);
    last_serial_ = std::string(request.serial);
    last_otp2_ = std::string(request.otp2);
  }
  Enqueue(std::string(request.otp), request.user.empty() ? request.serial : request.user,
          std::move(done));
}

void FakeSignInService::Challenge(const service::ChallengeRequest& request,
                                  service::SignInCallback done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_user_ = std::string(request.user);
    last_challenge_ = std::string(request.user) + " " + std::string(request.method) + " " +
                      std::string(request.channel);
  }
  Answer sent;
  sent.result.outcome = service::Outcome::kAccepted;
  // The validate API shows the phone's serial, never its method id (Graph's, the same everywhere).
  sent.result.method_id = "method-" + std::string(request.user);
  sent.result.phone_serial = "phone-" + std::string(request.user);
  sent.result.method_kind = service::MethodKind::kPhone;
  sent.result.channel = "sms";
  sent.result.expires_in_seconds = 300;
  Enqueue(kChallengeScript, request.user, std::move(done), &sent);
}

void FakeSignInService::Enqueue(const std::string& otp, std::string_view who,
                                service::SignInCallback done, const Answer* unscripted) {
  std::lock_guard<std::mutex> lock(mu_);
  ++calls_;
  Answer answer;
  auto it = script_.find(otp);
  if (it != script_.end()) {
    answer = it->second;
  } else if (unscripted != nullptr) {
    answer = *unscripted;
  } else {
    answer.result.outcome = service::Outcome::kAccepted;
    answer.result.method_id = "m-" + std::string(who);
    answer.result.method_kind = service::MethodKind::kSoftwareOath;
    answer.result.step = 1;
  }
  Due due{std::chrono::steady_clock::now() + answer.delay, std::move(done), answer.result};
  if (answer.hold) {
    held_.push_back(std::move(due));
  } else {
    queue_.push_back(std::move(due));
    cv_.notify_all();
  }
}

void FakeSignInService::ReleaseHeld() {
  std::lock_guard<std::mutex> lock(mu_);
  for (Due& d : held_) {
    d.at = std::chrono::steady_clock::now();
    queue_.push_back(std::move(d));
  }
  held_.clear();
  cv_.notify_all();
}

size_t FakeSignInService::held() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_.size();
}

size_t FakeSignInService::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

std::string FakeSignInService::last_user() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_user_;
}

std::string FakeSignInService::last_serial() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_serial_;
}

std::string FakeSignInService::last_challenge() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_challenge_;
}

std::string FakeSignInService::last_otp2() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_otp2_;
}

void FakeSignInService::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (stop_ && queue_.empty()) return;
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto earliest = std::min_element(queue_.begin(), queue_.end(),
                                     [](const Due& a, const Due& b) { return a.at < b.at; });
    if (earliest->at > std::chrono::steady_clock::now() && !stop_) {
      // A copy: wait_until reads its deadline again after waking, and an Enqueue meanwhile may
      // have moved the queue's elements.
      const std::chrono::steady_clock::time_point at = earliest->at;
      cv_.wait_until(lock, at);
      continue;
    }
    Due due = std::move(*earliest);
    queue_.erase(earliest);
    lock.unlock();
    due.done(std::move(due.result));
    lock.lock();
  }
}

}  // namespace otpd::server::testing
