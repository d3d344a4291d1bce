// Clang's thread-safety analysis (-Wthread-safety) annotations, as macros that vanish for other
// compilers. Guarded state is declared with OTPD_GUARDED_BY(mu_); functions that must be called
// with a lock held say OTPD_REQUIRES(mu_). The lock types that carry the annotations are in
// base/mutex.h.

#ifndef OTPD_BASE_THREAD_ANNOTATIONS_H_
#define OTPD_BASE_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define OTPD_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define OTPD_THREAD_ANNOTATION_(x)
#endif

#define OTPD_CAPABILITY(x) OTPD_THREAD_ANNOTATION_(capability(x))
#define OTPD_SCOPED_CAPABILITY OTPD_THREAD_ANNOTATION_(scoped_lockable)
#define OTPD_GUARDED_BY(x) OTPD_THREAD_ANNOTATION_(guarded_by(x))
#define OTPD_PT_GUARDED_BY(x) OTPD_THREAD_ANNOTATION_(pt_guarded_by(x))
#define OTPD_REQUIRES(...) OTPD_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))
#define OTPD_REQUIRES_SHARED(...) OTPD_THREAD_ANNOTATION_(requires_shared_capability(__VA_ARGS__))
#define OTPD_ACQUIRE(...) OTPD_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))
#define OTPD_ACQUIRE_SHARED(...) OTPD_THREAD_ANNOTATION_(acquire_shared_capability(__VA_ARGS__))
#define OTPD_RELEASE(...) OTPD_THREAD_ANNOTATION_(release_capability(__VA_ARGS__))
#define OTPD_RELEASE_SHARED(...) OTPD_THREAD_ANNOTATION_(release_shared_capability(__VA_ARGS__))
#define OTPD_RELEASE_GENERIC(...) OTPD_THREAD_ANNOTATION_(release_generic_capability(__VA_ARGS__))
#define OTPD_EXCLUDES(...) OTPD_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))
#define OTPD_NO_THREAD_SAFETY_ANALYSIS OTPD_THREAD_ANNOTATION_(no_thread_safety_analysis)

#endif  // OTPD_BASE_THREAD_ANNOTATIONS_H_
