// The hooks of the configuration file: one [hooks.NAME] table per sink (docs/hooks.md).
//
//   [hooks.sms]                          exec: the program gets each event on stdin
//   type = "exec"
//   command = ["/usr/local/bin/send-sms", "--account", "main"]
//   timeout_ms = 10000
//
//   [hooks.directory]                    webhook: a signed POST
//   type = "webhook"
//   url = "https://hooks.example.com/otpd"
//   secret_file = "/etc/otpd/hooks/directory.secret"   # whsec_... lines; or secrets = [...]
//   timeout_ms = 10000
//   ca_file = "/etc/otpd/hooks/ca.pem"                 # optional
//
// and for both: event_secrets (default true: the sink gets the code of an sms.send),
// retry_initial_ms (5000), retry_max_ms (3600000), attempts (15).
//
// Names are 1..64 of [A-Za-z0-9._-]; a name is the sink's identity (its cursor and dead letters
// are kept under it), so renaming a hook starts a new one.
//
// Thread-safety: plain functions.

#ifndef OTPD_SERVER_HOOKS_HOOK_CONFIG_H_
#define OTPD_SERVER_HOOKS_HOOK_CONFIG_H_

#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/statusor.h"
#include "server/hooks/exec_sink.h"
#include "server/hooks/webhook_sink.h"
#include "service/hooks/hooks.h"

namespace otpd::server::hooks {

enum class HookType : uint8_t { kExec, kWebhook };

struct HookConfig {
  std::string name;
  HookType type = HookType::kExec;
  ExecSinkOptions exec;
  WebhookSinkOptions webhook;
  service::RetrySchedule retry;
};

// Reads the [hooks.*] tables of the TOML file at `path` ("" means no file: no hooks). Errors are
// InvalidArgument naming the file and the key at fault (never a secret).
base::StatusOr<std::vector<HookConfig>> LoadHookConfig(const std::string& path);

// Makes each hook's sink and adds it to `dispatcher` (before its Start).
base::Status AddHooks(service::HookDispatcher& dispatcher, std::vector<HookConfig> hooks,
                      const base::Clock& clock);

}  // namespace otpd::server::hooks

#endif  // OTPD_SERVER_HOOKS_HOOK_CONFIG_H_
