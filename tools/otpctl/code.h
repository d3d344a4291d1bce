// `otpctl code`: prints the code a token shows, computed from a seed file. For checking a token
// by hand and for the demo; the seed is read from a file, never from the command line.

#ifndef OTPD_TOOLS_OTPCTL_CODE_H_
#define OTPD_TOOLS_OTPCTL_CODE_H_

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace otpd::tools {

struct CodeOptions {
  std::string secret_file;
  std::string encoding = "base32";
  std::string type = "totp";
  std::string algorithm = "SHA1";
  int digits = 6;
  uint32_t period = 30;
  uint64_t counter = 0;
  std::optional<int64_t> time;
};

CLI::App* AddCodeCommand(CLI::App& app, CodeOptions& options);
int RunCodeCommand(const CodeOptions& options);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_CODE_H_
