// How otpd's log lines look. They always go to standard error; when that is connected to
// systemd's journal ($JOURNAL_STREAM names the same file as descriptor 2, which systemd sets for
// a service whose StandardError= is the journal), each line starts with the sd-daemon priority
// prefix "<N>" (2 critical, 3 error, 4 warn, 6 info, 7 debug and trace) and has no time stamp:
// the journal stores its own time and takes the prefix as the line's priority
// (SyslogLevelPrefix=, on by default). Anywhere else a line is "TIME otpd LEVEL: message".

#ifndef OTPD_TOOLS_OTPD_DAEMON_LOG_H_
#define OTPD_TOOLS_OTPD_DAEMON_LOG_H_

#include <spdlog/common.h>

namespace otpd::tools {

// True when standard error is the stream $JOURNAL_STREAM ("DEVICE:INODE") names.
bool StderrIsJournal();

// The syslog priority (0..7) the journal gets for a line of `level`.
int JournalPriority(spdlog::level::level_enum level);

// Makes a standard-error logger named "otpd" the default one, at `level`, in the journal's form
// when StderrIsJournal(), otherwise with time stamps. Never fails.
void SetUpDaemonLog(spdlog::level::level_enum level);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPD_DAEMON_LOG_H_
