// Telling systemd how the daemon is doing, for a service of Type=notify: the sd_notify datagram
// protocol, written here against systemd's documented behaviour so that otpd needs no library for
// it. $NOTIFY_SOCKET names an AF_UNIX datagram socket (a path, or "@name" for one in the abstract
// namespace); each notification is one datagram of NAME=VALUE lines.
//
// Every function returns OkStatus when the datagram was sent, and also when $NOTIFY_SOCKET is not
// set or empty (otpd was not started by systemd, or not as Type=notify): then nothing is sent. An
// error (a malformed $NOTIFY_SOCKET, nobody listening) names the socket; the daemon logs it and
// carries on, since a lost notification costs only systemd's view of the daemon's state.
//
// Thread-safety: safe to call from any thread, as long as nothing changes the environment.

#ifndef OTPD_TOOLS_OTPD_SYSTEMD_NOTIFY_H_
#define OTPD_TOOLS_OTPD_SYSTEMD_NOTIFY_H_

#include <string_view>

#include "base/status.h"

namespace otpd::tools {

// Sends `state`, one or more "NAME=VALUE" lines separated by '\n', as one datagram.
base::Status NotifySystemd(std::string_view state);

// "READY=1": the daemon has started (its data are open and its sockets listen), or has finished
// reloading its configuration.
base::Status NotifyReady();
// "RELOADING=1" with the monotonic time (MONOTONIC_USEC): a reload (SIGHUP) has begun; send
// NotifyReady() when it is over, whether it succeeded or not.
base::Status NotifyReloading();
// "STOPPING=1": the daemon is shutting down.
base::Status NotifyStopping();

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPD_SYSTEMD_NOTIFY_H_
