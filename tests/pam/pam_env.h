// Shared parts of the pam_otpd tests: PAM service files in /etc/pam.d, pamtester runs fed through
// stdin, a scripted stand-in for otpd on a Unix socket, and the real otpd with users set up
// through otpctl.

#ifndef OTPD_TESTS_PAM_PAM_ENV_H_
#define OTPD_TESTS_PAM_PAM_ENV_H_

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/daemon.h"
#include "tests/testing/subprocess.h"

namespace otpd::pam {

// The module under test, by its absolute build path.
std::string Module();

// A PAM service file /etc/pam.d/otpd-pam-test-<pid>-<n>, removed on destruction.
class PamService {
 public:
  explicit PamService(const std::string& stack);
  ~PamService();
  PamService(const PamService&) = delete;
  PamService& operator=(const PamService&) = delete;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::string path_;
};

struct PamResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::chrono::milliseconds took{0};
  std::string all() const { return out + err; }
};

// Runs `pamtester SERVICE USER OPERATION` with `input` on its stdin (the answers to the
// conversation's prompts), in the C locale. `wrapper` is put in front of the command line.
PamResult Pamtester(const std::string& service, const std::string& user, const std::string& input,
                    const std::string& operation = "authenticate",
                    const std::vector<std::string>& wrapper = {});

// One exchange of a conversation: once `prompt` has appeared (again) in pamtester's output, the
// line `answer(output so far)` is written to its stdin, so that an answer can depend on what the
// module showed (a QR code's link).
struct DialogStep {
  std::string prompt;
  std::function<std::string(const std::string& output)> answer;
};

// Runs `pamtester SERVICE USER authenticate` answering its prompts one at a time, in order, as
// `steps` say; stdin closes after the last (pamtester reads each answer with one read(), so
// answers written at once would arrive as one).
PamResult PamDialog(const std::string& service, const std::string& user,
                    const std::vector<DialogStep>& steps);

// Whether pamtester reported `code` as the result of the PAM call.
::testing::AssertionResult EndedWith(const PamResult& r, int code);

// One connection to a ScriptedPeer.
class PeerConnection {
 public:
  explicit PeerConnection(int fd) : fd_(fd) {}
  // The next line without its LF; "" on close or timeout.
  std::string ReadLine(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  bool Send(const std::string& bytes);
  // Waits until the client closes its side (or `timeout`); true when it did.
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  int fd() const { return fd_; }

 private:
  int fd_;
  std::string buffer_;
};

// A stand-in for otpd on a Unix socket: each connection is handed to the script, one at a time,
// on the peer's thread. Records every line the clients sent.
class ScriptedPeer {
 public:
  using Script = std::function<void(PeerConnection&, ScriptedPeer&)>;
  ScriptedPeer(const std::string& path, Script script);
  ~ScriptedPeer();
  ScriptedPeer(const ScriptedPeer&) = delete;
  ScriptedPeer& operator=(const ScriptedPeer&) = delete;

  const std::string& path() const { return path_; }
  int connections() const { return connections_.load(); }
  std::vector<std::string> lines();
  // Reads HELLO and the request from `c` (recording them); false if they did not come.
  bool ReadRequest(PeerConnection& c);

  // Scripts. Answers `hello` and `reply` (each a full line with LF, or "") after reading the
  // two request lines, then waits for the client to close.
  static Script Replies(std::string hello, std::string reply);
  // The usual HELLO answer.
  static std::string HelloOk() { return "OK\t1\tversion=1\tserver=peer/0\n"; }

 private:
  void Serve();

  std::string path_;
  Script script_;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::vector<std::string> lines_;
  std::thread thread_;
};

// The real otpd in a temp dir, its data set up through otpctl with the master key outside the
// data directory:
//   pam0@example.com .. pam3@example.com  one activated HOTP token each (seed-load)
//   nomethod@example.com                  a user whose only token was unassigned again
//   inactive@example.com                  a user with an assigned token never activated
class RealOtpd {
 public:
  // Prepares the data directory and starts otpd; check ok() (ASSERT) afterwards.
  RealOtpd();
  ~RealOtpd();
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

  std::string socket() const { return dir_.File("otpd.sock"); }
  static std::string User(int i) { return "pam" + std::to_string(i) + "@example.com"; }
  // User i's next valid code (HOTP: the next counter; each call moves on).
  std::string NextCode(int i);
  // A code that is wrong for user i: no code of its next 1000 counters.
  std::string WrongCode(int i);
  // One STATS counter of the running daemon.
  uint64_t Stat(const std::string& key);
  // A reply of the running daemon to `line`.
  std::string Ask(const std::string& line);
  // What otpctl prints for `args` (run against the running daemon); "" (and a test failure) when
  // it fails.
  std::string OtpctlOutput(const std::vector<std::string>& args);

  // Stops otpd with `sig` (SIGTERM: a clean stop that removes the socket; SIGKILL leaves it).
  void Stop(int sig) { daemon_.Stop(sig); }

 private:
  std::string Code(int i, uint64_t counter) const;
  bool Otpctl(const std::vector<std::string>& args);
  // otpctl with `args` and this daemon's data directory and key file.
  otpd::testing::RunResult RunOtpctl(const std::vector<std::string>& args) const;

  otpd::testing::TempDir dir_;
  otpd::testing::Daemon daemon_;
  std::vector<std::string> seeds_;  // hex
  std::vector<uint64_t> next_;
  bool ok_ = false;
  std::string error_;
};

}  // namespace otpd::pam

#endif  // OTPD_TESTS_PAM_PAM_ENV_H_
