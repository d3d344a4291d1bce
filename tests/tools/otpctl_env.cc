#include "tests/tools/otpctl_env.h"

#include <sys/stat.h>

#include <filesystem>

namespace otpd::tools {

otpd::testing::RunResult OtpctlEnv::Raw(std::vector<std::string> args, std::vector<std::string> env,
                                        const std::string& input) {
  args.insert(args.begin(), OTPCTL_PATH);
  env.insert(env.begin(), {"OTPD_DATA_DIR", "OTPD_KEY_FILE", "OTPD_MASTER_KEY", "OTPD_API_KEY"});
  return otpd::testing::Run(args, env, input);
}

otpd::testing::RunResult OtpctlEnv::Otpctl(std::vector<std::string> args,
                                           const std::string& input) {
  args.insert(args.end(), {"--data-dir", DataDir(), "--key-file", KeyFile()});
  return Raw(std::move(args), {}, input);
}

void OtpctlEnv::InitDataDir() {
  otpd::testing::RunResult r = Raw({"init", "--data-dir", DataDir(), "--key-file", KeyFile()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
}

std::string PrivateCopy(const std::string& path) {
  static const otpd::testing::TempDir dir;  // removed when the test process exits
  const std::string copy = dir.File(std::filesystem::path(path).filename().string());
  otpd::testing::WriteFile(copy, otpd::testing::ReadFile(path));
  chmod(copy.c_str(), 0600);
  return copy;
}

std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    struct stat st;
    if (lstat(e.path().c_str(), &st) != 0) continue;
    std::string state = std::to_string(st.st_mode) + " " + std::to_string(st.st_size) + " " +
                        std::to_string(st.st_mtim.tv_sec) + "." +
                        std::to_string(st.st_mtim.tv_nsec);
    if (e.is_regular_file()) state += " " + otpd::testing::ReadFile(e.path().string());
    out[std::filesystem::relative(e.path(), dir).string()] = state;
  }
  return out;
}

}  // namespace otpd::tools
