#include "tests/e2e/e2e_env.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string_view>
#include <thread>

#include "base/clock.h"
#include "service/admin/importer.h"
#include "service/admin/inventory.h"
#include "storage/keyring.h"
#include "tests/testing/etcd_cluster.h"
#include "tests/testing/subprocess.h"
#include "tools/data_dir.h"

namespace otpd::e2e {
namespace {

constexpr char kStoreEnvVar[] = "OTPD_E2E_STORE";

}  // namespace

engine::Credential TestToken::Credential() const {
  base::SecretBytes s = base::SecretBytes::FromString(seed);
  return std::move(engine::Credential::Create(params, s.span()).value());
}

std::string TestToken::Code(int64_t steps) const {
  engine::Credential c = Credential();
  if (params.type == engine::OtpType::kHotp) return c.FormatCodeAt(static_cast<uint64_t>(steps));
  return c.TotpAt(base::RealClock::Get()->NowUnixSeconds() + steps * int64_t{params.period});
}

std::string KeyFileFor(const std::string& data_dir) { return data_dir + ".key"; }

bool OnEtcd() {
  const char* store = std::getenv(kStoreEnvVar);
  return store != nullptr && std::string_view(store) == "etcd";
}

std::vector<std::string> StoreArgs(const std::string& data_dir) {
  std::vector<std::string> args = {"--data-dir", data_dir, "--key-file", KeyFileFor(data_dir)};
  if (OnEtcd()) {
    std::string error;
    otpd::testing::EtcdCluster* cluster = otpd::testing::SharedEtcdCluster(&error);
    // A cluster that cannot start leaves the endpoints empty: otpd then refuses to start and the
    // test fails, with the reason in the log.
    if (cluster == nullptr)
      std::fprintf(stderr, "no etcd cluster for %s: %s\n", data_dir.c_str(), error.c_str());
    args.insert(args.end(), {"--store", "etcd", "--etcd-endpoints",
                             cluster != nullptr ? cluster->endpoint_list() : "", "--etcd-prefix",
                             "/e2e" + data_dir + "/", "--etcd-timeout", "2000"});
  }
  return args;
}

base::StatusOr<tools::DaemonStore> OpenTestStore(const std::string& data_dir) {
  const std::string key_file = KeyFileFor(data_dir);
  if (OnEtcd() && access(key_file.c_str(), F_OK) != 0) {
    // With etcd otpd never makes the master key: every node is given the same one.
    OTPD_ASSIGN_OR_RETURN(base::SecretBytes key, storage::GenerateMasterKey());
    OTPD_RETURN_IF_ERROR(storage::WriteMasterKeyFile(key_file, key));
  }
  std::vector<std::string> args = {"otpd",     "--socket",    "none",
                                   "--listen", "127.0.0.1:0", "--allow-unauthenticated-tcp"};
  for (std::string& a : StoreArgs(data_dir)) args.push_back(std::move(a));
  OTPD_ASSIGN_OR_RETURN(server::ServerConfig config, server::LoadServerConfig(args));
  return tools::OpenDaemonStore(config);
}

bool PrepareDataDir(const std::string& data_dir, const std::vector<TestToken>& tokens,
                    std::string* error) {
  if (OnEtcd()) {
    auto store = OpenTestStore(data_dir);
    if (!store.ok()) {
      *error = store.status().ToString();
      return false;
    }
    return PrepareStore(*store->store, *store->keys, tokens, error);
  }
  auto dir = tools::OpenDataDir({.data_dir = data_dir,
                                 .key_file = KeyFileFor(data_dir),
                                 .access = tools::DataDirAccess::kCreate});
  if (!dir.ok()) {
    *error = dir.status().ToString();
    return false;
  }
  return PrepareStore(*dir->store, *dir->keys, tokens, error);
}

bool PrepareStore(storage::Store& store, const storage::KeyRing& keys,
                  const std::vector<TestToken>& tokens, std::string* error) {
  const base::Clock& clock = *base::RealClock::Get();
  // The RFC test vectors use one seed for several tokens (each algorithm, TOTP and HOTP).
  service::Importer importer(store, keys, clock, {},
                             {.allow_duplicate_seeds = true, .file_name = "e2e"});
  size_t position = 0;
  for (const TestToken& t : tokens) {
    tokenio::TokenRecord r;
    r.position = ++position;
    r.serial = t.serial;
    r.upn = t.upn;
    r.params = t.params;
    r.seed = base::SecretBytes::FromString(t.seed);
    if (base::Status s = importer.OnToken(std::move(r)); !s.ok()) {
      *error = s.ToString();
      return false;
    }
  }
  auto report = importer.Finish();
  if (!report.ok() || report->failed != 0) {
    *error = report.ok() ? report->failures.front().reason : report.status().ToString();
    return false;
  }
  service::TokenInventory inventory(store, keys, clock, {});
  for (const TestToken& t : tokens) {
    auto activated = inventory.Activate(t.serial, t.Code(0), kAdmin);
    if (!activated.ok() || activated->outcome != service::ActivationOutcome::kActivated) {
      *error = "activation of " + t.serial + " failed";
      return false;
    }
  }
  return true;
}

std::vector<std::string> DaemonArgs(const std::string& data_dir,
                                    const std::vector<std::string>& extra) {
  std::vector<std::string> args = StoreArgs(data_dir);
  // --init: a test may start the daemon on a data directory nothing prepared.
  args.insert(args.end(), {"--init", "--socket", data_dir + "/verify.sock", "--listen",
                           "127.0.0.1:0", "--allow-unauthenticated-tcp"});
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::string VerifyLine(const std::string& id, const std::string& user, const std::string& otp) {
  return "VERIFY\t" + id + "\tuser=" + user + "\totp=" + otp;
}

std::vector<std::string> HookCodes(const std::string& events_file, const std::string& upn,
                                   const std::vector<std::string>& types) {
  std::vector<std::string> codes;
  struct stat st {};
  if (stat(events_file.c_str(), &st) != 0) return codes;
  std::istringstream lines(otpd::testing::ReadFile(events_file));
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    const boost::json::object e = boost::json::parse(line).as_object();
    const std::string type(e.at("type").as_string());
    if (std::find(types.begin(), types.end(), type) == types.end()) continue;
    if (e.at("user").as_string() != upn) continue;
    codes.emplace_back(e.at("data").at("code").as_string());
  }
  return codes;
}

std::vector<std::string> WaitForHookCodes(const std::string& events_file, const std::string& upn,
                                          size_t count) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::vector<std::string> codes = HookCodes(events_file, upn);
  while (codes.size() < count && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    codes = HookCodes(events_file, upn);
  }
  return codes;
}

}  // namespace otpd::e2e
