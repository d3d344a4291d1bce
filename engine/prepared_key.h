// PreparedKey is an HMAC key made ready for many OTP computations: the hash states after the
// inner and outer pad blocks are computed once, so each HOTP value costs exactly two hash
// compressions (one for the inner hash of the 8-byte counter, one for the outer hash), with no
// allocation and no HMAC set-up per candidate.
//
// The chaining values are as sensitive as the seed itself; they are wiped on destruction.
// Thread-safety: a PreparedKey is immutable after Create(); concurrent Hotp() calls are safe.

#ifndef OTPD_ENGINE_PREPARED_KEY_H_
#define OTPD_ENGINE_PREPARED_KEY_H_

#include <cstdint>
#include <span>

#include "base/statusor.h"
#include "engine/otp_params.h"

namespace otpd::engine {

class PreparedKey {
 public:
  // Prepares `secret` (any length; longer than the hash block it is first hashed, as HMAC
  // specifies) for `algorithm`. Fails only on an empty secret.
  static base::StatusOr<PreparedKey> Create(HashAlgorithm algorithm,
                                            std::span<const uint8_t> secret);

  PreparedKey(PreparedKey&& other) noexcept;
  PreparedKey& operator=(PreparedKey&& other) noexcept;
  PreparedKey(const PreparedKey&) = delete;
  PreparedKey& operator=(const PreparedKey&) = delete;
  ~PreparedKey();

  HashAlgorithm algorithm() const { return algorithm_; }

  // Working memory for computing many MACs in a row: the two final blocks with their padding
  // already laid out, so each MAC only writes the counter and the inner digest into place. The
  // scratch holds key-derived intermediate values and is wiped once, on destruction, rather than
  // after every MAC. Not thread-safe: one per thread or per window scan.
  class Scratch {
   public:
    explicit Scratch(HashAlgorithm algorithm);
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    ~Scratch();

   private:
    friend class PreparedKey;
    alignas(16) uint8_t inner_block_[128];
    alignas(16) uint8_t outer_block_[128];
    alignas(16) uint8_t mac_[64];
  };

  // HMAC(secret, counter as 8 bytes big-endian) written to `mac`, which must hold
  // HashOutputSize(algorithm()) bytes.
  void Mac(uint64_t counter, uint8_t* mac) const;

  // RFC 4226 dynamic truncation of Mac(counter): the 31-bit value before reduction mod 10^digits.
  uint32_t Truncated(uint64_t counter) const;
  // The same, using `scratch` (made for this key's algorithm) to avoid per-call set-up.
  uint32_t Truncated(uint64_t counter, Scratch* scratch) const;

 private:
  PreparedKey() = default;

  // Chaining values after the ipad and opad blocks. SHA-1 uses 5 words, SHA-256 8 words (both
  // stored in the low 32 bits), SHA-512 8 64-bit words.
  HashAlgorithm algorithm_ = HashAlgorithm::kSha1;
  uint64_t inner_[8] = {};
  uint64_t outer_[8] = {};
};

}  // namespace otpd::engine

#endif  // OTPD_ENGINE_PREPARED_KEY_H_
