// Names the calling thread, so that `top -H`, `ps -L`, perf and gdb tell otpd's threads apart
// (io threads, the committer, the loaders) instead of showing every one as "otpd"; and lowers a
// background thread's priority.

#ifndef OTPD_BASE_THREAD_NAME_H_
#define OTPD_BASE_THREAD_NAME_H_

#include <string_view>

namespace otpd::base {

// Linux keeps at most 15 bytes of a thread's name; longer names are cut to that.
void SetCurrentThreadName(std::string_view name);

// Lowers the calling thread's scheduling priority by `nice` (on Linux a thread's nice value is
// its own). A failure leaves the priority as it was; nothing else depends on it.
void LowerCurrentThreadPriority(int nice);

}  // namespace otpd::base

#endif  // OTPD_BASE_THREAD_NAME_H_
