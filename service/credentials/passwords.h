// Users' passwords: hashing with scrypt on a pool of its own, the policy a new password must meet,
// and generated passwords.
//
// scrypt is deliberately slow and memory-hard (about 32 MiB and tens of milliseconds per hash at
// the default cost), so every hash and every check runs on the PasswordHasher's threads: never on
// an io thread, never under a lock. The pool is small and bounded (its queue refuses beyond
// max_queue: ResourceExhausted, or `unavailable` on the socket), which bounds the memory and CPU
// that a flood of PASSWORD requests can take from sign-ins; its threads run at a lower priority.
//
// Thread-safe.

#ifndef OTPD_SERVICE_CREDENTIALS_PASSWORDS_H_
#define OTPD_SERVICE_CREDENTIALS_PASSWORDS_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <string_view>

#include "base/password_hash.h"
#include "base/secret_bytes.h"
#include "base/statusor.h"
#include "service/signin/worker_pool.h"

namespace otpd::service {

// Graph's fixed id of the password authentication method.
inline constexpr std::string_view kPasswordMethodId = "28c10230-6103-485e-b985-444c60001490";

struct PasswordOptions {
  // The cost of new hashes (existing hashes keep theirs). Default N = 2^15, r = 8, p = 1.
  base::ScryptParams scrypt;
  // Threads hashing passwords. Default 1: on a small machine a flood of password checks then
  // takes at most one core from sign-ins.
  size_t threads = 1;
  // Hashes that may wait per thread; beyond that requests are refused. Default 64.
  size_t max_queue = 64;
  // How much lower than the daemon's the hashing threads' priority is (nice). Default 19, the
  // lowest: hashing then runs on what sign-ins leave. At nice 5 a flood of PASSWORD requests
  // took a quarter of the sign-ins' throughput on a 2-core machine (docs/benchmarks.md).
  int nice = 19;
};

class PasswordHasher {
 public:
  explicit PasswordHasher(PasswordOptions options);

  const base::ScryptParams& params() const { return options_.scrypt; }

  // Hashes `password` on the pool and waits. ResourceExhausted when the pool's queue is full.
  // Blocks: never call it on an io thread.
  base::StatusOr<base::PasswordHash> Hash(std::string_view password);
  // Checks `password` against `hash` on the pool; `done` runs there. False (and `done` is not
  // called) when the queue is full.
  bool VerifyAsync(base::SecretBytes password, base::PasswordHash hash,
                   std::function<void(base::StatusOr<bool>)> done);
  // Hashes on the pool; `done` runs there. False when the queue is full.
  bool HashAsync(base::SecretBytes password,
                 std::function<void(base::StatusOr<base::PasswordHash>)> done);

  // Finishes queued work and stops the threads; later calls are refused.
  void Stop() { pool_.Stop(); }

 private:
  const PasswordOptions options_;
  std::atomic<size_t> next_{0};
  WorkerPool pool_;
};

// The minimum policy for a password a person chose (SET_PASSWORD, or an administrator's reset
// with a given password): at least 12 characters (Unicode code points) and at most 256 bytes; no
// control characters; at least 5 different characters; neither the UPN nor its local part
// (case-insensitively), nor containing the local part when it has 4 characters or more.
// InvalidArgument with the rule broken (never the password) otherwise.
base::Status CheckPasswordPolicy(std::string_view password, std::string_view upn);

// A generated password: 16 characters of letters and digits without look-alikes (about 93
// bits), in four groups joined by '-'. It meets the policy.
base::StatusOr<base::SecretBytes> GeneratePassword();

}  // namespace otpd::service

#endif  // OTPD_SERVICE_CREDENTIALS_PASSWORDS_H_
