// Comparisons whose running time does not depend on the contents compared, for codes, MACs,
// client keys and password hashes. Product code compares secrets only through these (never
// memcmp, operator== or a bare CRYPTO_memcmp).

#ifndef OTPD_BASE_CONSTANT_TIME_H_
#define OTPD_BASE_CONSTANT_TIME_H_

#include <cstdint>
#include <span>
#include <string_view>

namespace otpd::base {

// True when both have the same length and the same bytes. Both are hashed (SHA-256) and the
// fixed-length digests compared, so a length mismatch is not answered any sooner than a content
// mismatch, and no byte position is revealed.
bool ConstantTimeEquals(std::span<const uint8_t> a, std::span<const uint8_t> b);
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// True when both have the same length and the same bytes, for values whose length is public
// (digests, MACs, derived keys of a fixed size): a length mismatch answers false at once, equal
// lengths are compared over every byte.
bool ConstantTimeEqualsPublicLength(std::span<const uint8_t> a, std::span<const uint8_t> b);
bool ConstantTimeEqualsPublicLength(std::string_view a, std::string_view b);

// Returns `v` unchanged, but hidden from the optimizer (an empty asm that claims to modify it), so
// the compiler cannot learn that a mask is all-ones or zero and turn a select into a branch
// (BoringSSL's value_barrier_w).
inline uint64_t ValueBarrier(uint64_t v) {
#if defined(__GNUC__) || defined(__clang__)
  __asm__("" : "+r"(v) : /* no inputs */);
#endif
  return v;
}

// All-ones when a == b, zero otherwise, without a branch on the values.
inline uint64_t ConstantTimeEqMask(uint64_t a, uint64_t b) {
  uint64_t x = a ^ b;
  // (x | -x) has its top bit set exactly when x != 0.
  return ((x | (0 - x)) >> 63) - 1;
}

// All-ones when a < b, zero otherwise (unsigned), without a branch on the values.
inline uint64_t ConstantTimeLtMask(uint64_t a, uint64_t b) {
  // Borrow of a - b computed bitwise (Hacker's Delight 2-12).
  uint64_t borrow = ((~a & b) | ((~a | b) & (a - b))) >> 63;
  return 0 - borrow;
}

// Returns `a` where mask is all-ones and `b` where it is zero.
inline uint64_t ConstantTimeSelect(uint64_t mask, uint64_t a, uint64_t b) {
  mask = ValueBarrier(mask);
  return (mask & a) | (~mask & b);
}

}  // namespace otpd::base

#endif  // OTPD_BASE_CONSTANT_TIME_H_
