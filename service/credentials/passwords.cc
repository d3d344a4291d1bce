#include "service/credentials/passwords.h"

#include <future>
#include <set>
#include <string>

#include "base/seal.h"
#include "service/model/records.h"

namespace otpd::service {

PasswordHasher::PasswordHasher(PasswordOptions options)
    : options_(options),
      pool_(options.threads, std::max<size_t>(1, options.max_queue), "otpd-hash", options.nice) {}

base::StatusOr<base::PasswordHash> PasswordHasher::Hash(std::string_view password) {
  auto promise = std::make_shared<std::promise<base::StatusOr<base::PasswordHash>>>();
  auto future = promise->get_future();
  if (!HashAsync(
          base::SecretBytes::FromString(password),
          [promise](base::StatusOr<base::PasswordHash> h) { promise->set_value(std::move(h)); })) {
    return base::ResourceExhaustedError("too many passwords are being hashed; try again");
  }
  return future.get();
}

bool PasswordHasher::VerifyAsync(base::SecretBytes password, base::PasswordHash hash,
                                 std::function<void(base::StatusOr<bool>)> done) {
  auto task = [password = std::make_shared<base::SecretBytes>(std::move(password)),
               hash = std::move(hash),
               done = std::move(done)] { done(base::VerifyPassword(password->view(), hash)); };
  return pool_.TrySubmit(next_.fetch_add(1), std::move(task));
}

bool PasswordHasher::HashAsync(base::SecretBytes password,
                               std::function<void(base::StatusOr<base::PasswordHash>)> done) {
  auto task = [this, password = std::make_shared<base::SecretBytes>(std::move(password)),
               done = std::move(done)] {
    done(base::HashPassword(password->view(), options_.scrypt));
  };
  return pool_.TrySubmit(next_.fetch_add(1), std::move(task));
}

namespace {

std::string Lower(std::string_view s) { return NormaliseUpn(s); }

// Code points of UTF-8 text (continuation bytes are not counted).
size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<uint8_t>(c) & 0xc0) != 0x80) ++n;
  }
  return n;
}

}  // namespace

base::Status CheckPasswordPolicy(std::string_view password, std::string_view upn) {
  if (CodePoints(password) < 12) {
    return base::InvalidArgumentError("the password must have at least 12 characters");
  }
  if (password.size() > 256) {
    return base::InvalidArgumentError("the password must not be longer than 256 bytes");
  }
  for (char c : password) {
    const auto u = static_cast<uint8_t>(c);
    if (u < 0x20 || u == 0x7f) {
      return base::InvalidArgumentError("the password must not contain control characters");
    }
  }
  if (std::set<char>(password.begin(), password.end()).size() < 5) {
    return base::InvalidArgumentError("the password must have at least 5 different characters");
  }
  const std::string lowered = Lower(password);
  const std::string user = Lower(upn);
  const std::string local = user.substr(0, user.find('@'));
  if (lowered == user || lowered == local) {
    return base::InvalidArgumentError("the password must not be the user's name");
  }
  if (local.size() >= 4 && lowered.find(local) != std::string::npos) {
    return base::InvalidArgumentError("the password must not contain the user's name");
  }
  return base::OkStatus();
}

base::StatusOr<base::SecretBytes> GeneratePassword() {
  // No 0/O, 1/l/I: the password is read off a screen and typed once.
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  for (;;) {
    base::SecretBytes out(19);
    uint8_t random[64];
    OTPD_RETURN_IF_ERROR(base::RandomBytes(random));
    size_t r = 0, w = 0;
    for (int group = 0; group < 4; ++group) {
      if (group > 0) out.data()[w++] = '-';
      for (int i = 0; i < 4; ++i) {
        // Rejection sampling: no bias toward the alphabet's first letters.
        uint8_t b;
        do {
          if (r == sizeof(random)) {
            OTPD_RETURN_IF_ERROR(base::RandomBytes(random));
            r = 0;
          }
          b = random[r++];
        } while (b >= 256 - 256 % kAlphabet.size());
        out.data()[w++] = static_cast<uint8_t>(kAlphabet[b % kAlphabet.size()]);
      }
    }
    base::Wipe(random, sizeof(random));
    // Rarely fewer than 5 different characters; draw again then.
    if (CheckPasswordPolicy(out.view(), "x@x").ok()) return out;
  }
}

}  // namespace otpd::service
