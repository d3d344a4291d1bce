// The fixture of the otpctl tests: a temp dir holding a data directory and, outside it, the
// master key file, and runs of the real otpctl binary against them. The environment variables
// otpctl reads (OTPD_DATA_DIR, OTPD_KEY_FILE, OTPD_MASTER_KEY) are removed from what the child
// inherits, so a developer's own settings cannot change a result.

#ifndef OTPD_TESTS_TOOLS_OTPCTL_ENV_H_
#define OTPD_TESTS_TOOLS_OTPCTL_ENV_H_

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/testing/subprocess.h"

namespace otpd::tools {

class OtpctlEnv : public ::testing::Test {
 protected:
  // Runs otpctl with `args` followed by --data-dir <DataDir()> --key-file <KeyFile()>.
  otpd::testing::RunResult Otpctl(std::vector<std::string> args, const std::string& input = "");
  // Runs otpctl with exactly `args`, and `env` as for otpd::testing::Run.
  otpd::testing::RunResult Raw(std::vector<std::string> args, std::vector<std::string> env = {},
                               const std::string& input = "");
  // otpctl init on DataDir() with KeyFile(); fails the test if it fails.
  void InitDataDir();

  std::string DataDir() const { return dir_.File("data"); }
  std::string KeyFile() const { return dir_.File("master.key"); }

  otpd::testing::TempDir dir_;
};

// A copy of the fixture file `path` (a key or a password) with mode 0600, as otpctl wants every
// key file, in a directory of this test process; its path. Git keeps fixtures 0644.
std::string PrivateCopy(const std::string& path);

// Everything in a directory tree: relative path -> size, modification time and contents, to
// show that an operation left a directory exactly as it was.
std::map<std::string, std::string> Snapshot(const std::string& dir);

}  // namespace otpd::tools

#endif  // OTPD_TESTS_TOOLS_OTPCTL_ENV_H_
