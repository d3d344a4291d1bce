// The manual pages otpd(8), otpd.toml(5) and otpctl(1), generated from the descriptions the
// programs themselves use: otpd's options and the configuration file's keys from
// server::DescribeOptions() and server::DescribeCommandLineFlags(), otpctl's commands and
// options by walking its CLI11 tree (tools/otpctl/app.h). A page cannot list an option the
// program does not take, nor leave one out. The build writes them with otpd-man
// (tools/man/otpd_man.cc); tests/tools/man_pages_test.cc checks them against the programs' --help.

#ifndef OTPD_TOOLS_MAN_MAN_PAGES_H_
#define OTPD_TOOLS_MAN_MAN_PAGES_H_

#include <CLI/CLI.hpp>

#include <string>
#include <string_view>

namespace otpd::tools {

// Each returns the whole page, in roff. `version` goes into the page's header.
std::string OtpdManPage(std::string_view version);
std::string OtpdTomlManPage(std::string_view version);
std::string OtpctlManPage(const CLI::App& app, std::string_view version);

// "otpctl token assign" for that command of `app`'s tree: the heading of its section in
// otpctl(1).
std::string CommandPath(const CLI::App& command);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_MAN_MAN_PAGES_H_
