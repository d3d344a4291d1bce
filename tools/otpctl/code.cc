#include "tools/otpctl/code.h"

#include <iostream>
#include <sstream>
#include <string>

#include "base/clock.h"
#include "base/codec.h"
#include "engine/credential.h"
#include "tools/data_dir.h"

namespace otpd::tools {

CLI::App* AddCodeCommand(CLI::App& app, CodeOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "code", "Print the current code (or a HOTP counter's code) for a seed kept in a file");
  cmd->add_option("--secret-file", options.secret_file, "File holding the seed")->required();
  cmd->add_option("--encoding", options.encoding, "Seed encoding in the file: base32 or hex")
      ->check(CLI::IsMember({"base32", "hex"}));
  cmd->add_option("--type", options.type, "totp or hotp")->check(CLI::IsMember({"totp", "hotp"}));
  cmd->add_option("--algorithm", options.algorithm, "SHA1, SHA256 or SHA512");
  cmd->add_option("--digits", options.digits, "6..9")->check(CLI::Range(6, 9));
  cmd->add_option("--period", options.period, "TOTP step in seconds")->check(CLI::PositiveNumber);
  cmd->add_option("--counter", options.counter, "HOTP counter");
  cmd->add_option("--time", options.time, "Unix time for TOTP (default: now)");
  return cmd;
}

int RunCodeCommand(const CodeOptions& options) {
  auto file = ReadSecretFile(options.secret_file);
  if (!file.ok()) {
    std::cerr << "otpctl code: " << file.status().message() << "\n";
    return 1;
  }
  auto seed =
      options.encoding == "hex" ? base::HexDecode(file->view()) : base::Base32Decode(file->view());
  if (!seed.ok()) {
    std::cerr << "otpctl code: " << options.secret_file << ": " << seed.status().message() << "\n";
    return 1;
  }
  engine::OtpParams params;
  params.type = options.type == "hotp" ? engine::OtpType::kHotp : engine::OtpType::kTotp;
  auto algorithm = engine::ParseHashAlgorithm(options.algorithm);
  if (!algorithm.ok()) {
    std::cerr << "otpctl code: " << algorithm.status().message() << "\n";
    return 2;
  }
  params.algorithm = *algorithm;
  params.digits = options.digits;
  params.period = options.period;
  auto credential = engine::Credential::Create(params, seed->span());
  if (!credential.ok()) {
    std::cerr << "otpctl code: " << credential.status().message() << "\n";
    return 1;
  }
  if (params.type == engine::OtpType::kHotp) {
    std::cout << credential->FormatCodeAt(options.counter) << "\n";
  } else {
    int64_t now = options.time ? *options.time : base::RealClock::Get()->NowUnixSeconds();
    std::cout << credential->TotpAt(now) << "\n";
  }
  return 0;
}

}  // namespace otpd::tools
