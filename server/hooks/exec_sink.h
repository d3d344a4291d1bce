// The exec hook: each event is handed to a configured program, which reads the event's JSON
// (service/hooks/outbox.h EventJson) on its standard input. The program is started directly
// (execve, never through a shell: its arguments are passed as they are written in the
// configuration), in a process group of its own, with a small environment:
//   PATH=/usr/local/bin:/usr/bin:/bin, OTPD_EVENT_ID, OTPD_EVENT_SEQ, OTPD_EVENT_TYPE.
// Its standard output and standard error are discarded (it may print a code it was given; the
// daemon's log must not). Exit status 0 means delivered; any other status, a crash or a run past
// the timeout (the whole process group is then killed) means "try again later" under the hook's
// retry schedule (docs/hooks.md).
//
// Thread-safety: Deliver may be called from one thread at a time (HookDispatcher does).

#ifndef OTPD_SERVER_HOOKS_EXEC_SINK_H_
#define OTPD_SERVER_HOOKS_EXEC_SINK_H_

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "service/hooks/hooks.h"

namespace otpd::server::hooks {

struct ExecSinkOptions {
  // The program (an absolute path) and its arguments.
  std::vector<std::string> argv;
  // How long one run may take, from its start to its exit. Default 10 s.
  std::chrono::milliseconds timeout{10'000};
  // Whether the program gets events' secrets (the code of an sms.send). Default true.
  bool secrets = true;
};

// InvalidArgument, naming the field, unless argv[0] is an absolute path to an executable file.
base::Status CheckExecSinkOptions(const ExecSinkOptions& options, std::string_view where);

class ExecSink final : public service::EventSink {
 public:
  explicit ExecSink(ExecSinkOptions options);
  service::DeliveryResult Deliver(const service::OutboxEvent& event,
                                  std::string_view json) override;
  bool wants_secrets() const override { return options_.secrets; }

 private:
  const ExecSinkOptions options_;
};

}  // namespace otpd::server::hooks

#endif  // OTPD_SERVER_HOOKS_EXEC_SINK_H_
