// otpd-man: writes the manual pages otpd.8, otpd.toml.5 and otpctl.1 into a directory, from the
// same descriptions the programs use (tools/man/man_pages.h). Run by the build; not installed.
// Usage: otpd-man OUTPUT_DIR. Exit codes: 0 written, 1 a page could not be written, 2 usage.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "tools/man/man_pages.h"
#include "tools/otpctl/app.h"

#ifndef OTPD_VERSION
#define OTPD_VERSION "0"
#endif

namespace {

bool Write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::cerr << "otpd-man: cannot write " << path << "\n";
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: otpd-man OUTPUT_DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  std::unique_ptr<otpd::tools::OtpctlApp> otpctl = otpd::tools::BuildOtpctlApp();
  const bool ok = Write(dir + "/otpd.8", otpd::tools::OtpdManPage(OTPD_VERSION)) &&
                  Write(dir + "/otpd.toml.5", otpd::tools::OtpdTomlManPage(OTPD_VERSION)) &&
                  Write(dir + "/otpctl.1", otpd::tools::OtpctlManPage(otpctl->app, OTPD_VERSION));
  return ok ? 0 : 1;
}
