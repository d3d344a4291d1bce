#include "tests/tools/otpctl_env.h"

namespace otpd::tools {

otpd::testing::RunResult OtpctlEnv::Otpctl(std::vector<std::string> args) {
  args.insert(args.begin(), OTPCTL_PATH);
  args.push_back("--data-dir");
  args.push_back(DataDir());
  return otpd::testing::Run(args);
}

}  // namespace otpd::tools
