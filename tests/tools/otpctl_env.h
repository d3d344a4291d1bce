// The fixture of the otpctl tests: a temp dir with a data directory and runs of the real otpctl
// binary against it.

#ifndef OTPD_TESTS_TOOLS_OTPCTL_ENV_H_
#define OTPD_TESTS_TOOLS_OTPCTL_ENV_H_

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/testing/subprocess.h"

namespace otpd::tools {

class OtpctlEnv : public ::testing::Test {
 protected:
  // Runs otpctl with `args` followed by --data-dir <temp>/data.
  otpd::testing::RunResult Otpctl(std::vector<std::string> args);

  std::string DataDir() const { return dir_.File("data"); }

  otpd::testing::TempDir dir_;
};

}  // namespace otpd::tools

#endif  // OTPD_TESTS_TOOLS_OTPCTL_ENV_H_
