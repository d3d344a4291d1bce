// Shared set-up for end-to-end tests: a data directory prepared in-process (tokens imported and
// activated through the service layer, then closed), and the real otpd started on it.

#ifndef OTPD_TESTS_E2E_E2E_ENV_H_
#define OTPD_TESTS_E2E_E2E_ENV_H_

#include <string>
#include <vector>

#include "base/statusor.h"
#include "engine/credential.h"
#include "service/admin/roles.h"
#include "storage/keyring.h"
#include "storage/store.h"
#include "tests/testing/daemon.h"
#include "tests/testing/subprocess.h"
#include "tools/open_store.h"

namespace otpd::e2e {

// The owner, as the tests act.
inline const service::Principal kAdmin = service::Principal::Owner("e2e");

struct TestToken {
  std::string serial;
  std::string upn;
  std::string seed;  // ASCII
  engine::OtpParams params;

  engine::Credential Credential() const;
  // TOTP: the code `steps` steps from now. HOTP: the code at counter `steps`.
  std::string Code(int64_t steps = 0) const;
};

// The store the daemons of these tests run on. By default RocksDB in the data directory. With
// OTPD_E2E_STORE=etcd in the environment (ctest's e2e_etcd_test), every data directory stands for
// a key prefix of its own in one real 3-member etcd cluster that the test process starts on
// loopback (tests/testing/etcd_cluster.h), so that the same tests run against etcd; the directory
// then holds only the daemon's sockets, and the key file stays beside it.
bool OnEtcd();

// The daemon arguments that select the store of `data_dir` and its key file: the directory, or
// with etcd the cluster and the directory's prefix.
std::vector<std::string> StoreArgs(const std::string& data_dir);

// Opens the store of `data_dir` in the test process as otpd would, creating it when it is new
// (with RocksDB the daemon must not be running: it holds the directory's lock).
base::StatusOr<tools::DaemonStore> OpenTestStore(const std::string& data_dir);

// The master key file the tests use for `data_dir`: next to it, outside it (`<data_dir>.key`),
// as docs/operations.md asks.
std::string KeyFileFor(const std::string& data_dir);

// Creates `data_dir` and its key file (KeyFileFor), imports `tokens` and activates each with its
// current code (HOTP: counter 0). Returns false and fills `error` when something failed.
bool PrepareDataDir(const std::string& data_dir, const std::vector<TestToken>& tokens,
                    std::string* error);

// Imports `tokens` into an open store and activates each, as PrepareDataDir does.
bool PrepareStore(storage::Store& store, const storage::KeyRing& keys,
                  const std::vector<TestToken>& tokens, std::string* error);

// Standard daemon arguments: the store (StoreArgs) and its key file, --init (a data directory
// nothing prepared is created), a Unix socket in the data dir, TCP on 127.0.0.1:0 without
// authentication (tests only), plus `extra`.
std::vector<std::string> DaemonArgs(const std::string& data_dir,
                                    const std::vector<std::string>& extra = {});

std::string VerifyLine(const std::string& id, const std::string& user, const std::string& otp);

// The codes of the phone events of `types` for `upn` that an exec hook appending each event to
// `events_file` got so far, in order (none while the file does not exist).
std::vector<std::string> HookCodes(const std::string& events_file, const std::string& upn,
                                   const std::vector<std::string>& types = {"sms.send",
                                                                            "voice.call"});
// The same, waiting (up to 30 s) until there are at least `count`.
std::vector<std::string> WaitForHookCodes(const std::string& events_file, const std::string& upn,
                                          size_t count);

}  // namespace otpd::e2e

#endif  // OTPD_TESTS_E2E_E2E_ENV_H_
