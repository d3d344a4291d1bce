// `otpctl verify`: asks a running otpd whether a code is right, over its verify socket (protocol
// v1), and prints the reply (or, with --json, its fields as a JSON object). For trying a token by
// hand and for the demo. Exit code 0 when the code was accepted, 1 otherwise. The code is never
// printed.

#ifndef OTPD_TOOLS_OTPCTL_VERIFY_H_
#define OTPD_TOOLS_OTPCTL_VERIFY_H_

#include <CLI/CLI.hpp>

#include <string>

namespace otpd::tools {

struct VerifyCommandOptions {
  std::string socket = "data/verify.sock";
  std::string tcp;  // HOST:PORT; wins over socket
  std::string client;
  std::string client_key_file;
  std::string user;
  std::string serial;
  std::string otp;
  bool json = false;
};

CLI::App* AddVerifyCommand(CLI::App& app, VerifyCommandOptions& options);
int RunVerifyCommand(const VerifyCommandOptions& options);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_VERIFY_H_
