// Whether this test binary (and, built in the same tree, the otpd it starts) runs under a
// sanitizer. There RSS measures shadow memory, redzones and the quarantine of freed blocks, so
// tests report memory bounds but do not assert them.

#ifndef OTPD_TESTS_TESTING_SANITIZED_H_
#define OTPD_TESTS_TESTING_SANITIZED_H_

namespace otpd::testing {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace otpd::testing

#endif  // OTPD_TESTS_TESTING_SANITIZED_H_
