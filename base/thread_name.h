// Names the calling thread, so that `top -H`, `ps -L`, perf and gdb tell otpd's threads apart
// (io threads, the committer, the loaders) instead of showing every one as "otpd".

#ifndef OTPD_BASE_THREAD_NAME_H_
#define OTPD_BASE_THREAD_NAME_H_

#include <string_view>

namespace otpd::base {

// Linux keeps at most 15 bytes of a thread's name; longer names are cut to that.
void SetCurrentThreadName(std::string_view name);

}  // namespace otpd::base

#endif  // OTPD_BASE_THREAD_NAME_H_
