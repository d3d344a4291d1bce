// Runs a program and captures its exit code, stdout and stderr, for tests of the command-line
// tools and the daemon.

#ifndef OTPD_TESTS_TESTING_SUBPROCESS_H_
#define OTPD_TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace otpd::testing {

struct RunResult {
  int exit_code = -1;  // -1 when the program did not exit normally
  std::string out;
  std::string err;
};

// Runs `argv` (argv[0] is the program path) to completion. `env` entries NAME=VALUE replace NAME
// in the inherited environment (or add it); an entry NAME without '=' removes it. The child reads
// `input` on its standard input (then end of file); /dev/null when `input` is empty.
RunResult Run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
              const std::string& input = "");

// Starts `argv` (argv[0] is the program path) in the background: standard output and error
// appended to `log`, standard input /dev/null. The child is killed (SIGKILL) when the test
// process dies, even by a crash. Returns its pid, or -1 when fork fails; a program that cannot
// be run exits with 127.
pid_t StartChild(std::vector<std::string> argv, const std::string& log);

// `n` different loopback ports nothing listens on right now: all bound at once (so that the
// kernel cannot hand out one twice), read back, then released. Another process could take one
// before the server that is given it does; that server then fails to start and says so.
std::vector<uint16_t> FreeLoopbackPorts(size_t n);

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes `contents` to `path`, replacing it.
void WriteFile(const std::string& path, const std::string& contents);
// WriteFile, then mode 0600: a key or password file as otpd requires it (private to its owner).
void WritePrivateFile(const std::string& path, const std::string& contents);
std::string ReadFile(const std::string& path);

}  // namespace otpd::testing

#endif  // OTPD_TESTS_TESTING_SUBPROCESS_H_
