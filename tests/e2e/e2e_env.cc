#include "tests/e2e/e2e_env.h"

#include "base/clock.h"
#include "service/importer.h"
#include "service/inventory.h"
#include "tools/data_dir.h"

namespace otpd::e2e {

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

bool PrepareDataDir(const std::string& data_dir, const std::vector<TestToken>& tokens,
                    std::string* error) {
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
  std::vector<std::string> args = {
      "--data-dir",         data_dir,      "--key-file",
      KeyFileFor(data_dir), "--socket",    data_dir + "/verify.sock",
      "--listen",           "127.0.0.1:0", "--allow-unauthenticated-tcp"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::string VerifyLine(const std::string& id, const std::string& user, const std::string& otp) {
  return "VERIFY\t" + id + "\tuser=" + user + "\totp=" + otp;
}

}  // namespace otpd::e2e
