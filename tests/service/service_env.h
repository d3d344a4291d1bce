// A service-layer test environment: a fault-injecting in-memory Store, a key ring, a fake clock,
// and helpers to put tokens in the inventory the way an import does.

#ifndef OTPD_TESTS_SERVICE_SERVICE_ENV_H_
#define OTPD_TESTS_SERVICE_SERVICE_ENV_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "base/clock.h"
#include "engine/credential.h"
#include "service/admin/importer.h"
#include "service/admin/inventory.h"
#include "service/admin/roles.h"
#include "service/admin/user_admin.h"
#include "storage/fault_injection_store.h"
#include "storage/keyring.h"

namespace otpd::service::testing {

inline constexpr int64_t kStart = 1'800'000'000;

// The owner, as the tests act.
inline const Principal kAdmin = Principal::Owner("admin");

inline base::SecretBytes Seed(std::string_view ascii) {
  return base::SecretBytes::FromString(ascii);
}

class ServiceEnv {
 public:
  ServiceEnv() : clock(kStart) {
    auto ring = storage::KeyRing::Open(
        store, base::SecretBytes(std::span<const uint8_t>(
                   reinterpret_cast<const uint8_t*>("0123456789abcdef0123456789abcdef"), 32)));
    EXPECT_TRUE(ring.ok()) << ring.status();
    keys = std::move(*ring);
  }

  tokenio::TokenRecord Token(std::string serial, std::string upn,
                             std::string_view seed = "12345678901234567890",
                             engine::OtpParams params = {}) {
    tokenio::TokenRecord t;
    t.position = ++position_;
    t.serial = std::move(serial);
    t.upn = std::move(upn);
    t.manufacturer = "Acme";
    t.model = "T1";
    t.params = params;
    t.seed = Seed(seed);
    return t;
  }

  // A 20-byte seed of its own for each `i`.
  static std::string SeedFor(int i) {
    std::string seed = "seed-of-token-" + std::to_string(i);
    seed.resize(20, '.');
    return seed;
  }

  template <typename... T>
  static std::vector<tokenio::TokenRecord> List(T... tokens) {
    std::vector<tokenio::TokenRecord> v;
    (v.push_back(std::move(tokens)), ...);
    return v;
  }

  // Imports `tokens` as one file; returns the report.
  ImportReport Import(std::vector<tokenio::TokenRecord> tokens, ImportOptions options = {}) {
    Importer importer(store, *keys, clock, InventoryOptions{}, std::move(options));
    for (auto& t : tokens) EXPECT_TRUE(importer.OnToken(std::move(t)).ok());
    auto report = importer.Finish();
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? std::move(*report) : ImportReport{};
  }

  // The records stored in `ns`, whether a reader sees them or not.
  size_t Count(storage::Namespace ns) {
    size_t n = 0;
    EXPECT_TRUE(store
                    .Scan(ns, "",
                          [&](std::string_view, const storage::Record&) {
                            ++n;
                            return true;
                          })
                    .ok());
    return n;
  }

  // Creates the user `upn` (no methods), as an administrator does before assigning to it.
  void AddUser(std::string_view upn) {
    Directory directory(store, *keys);
    bool created = false;
    auto user = UserAdmin(directory, clock, nullptr).Put(kAdmin, upn, "", &created);
    EXPECT_TRUE(user.ok()) << user.status();
  }

  // The credential a token with `seed` and `params` computes codes with.
  static engine::Credential Cred(std::string_view seed = "12345678901234567890",
                                 engine::OtpParams params = {}) {
    auto s = Seed(seed);
    return std::move(engine::Credential::Create(params, s.span()).value());
  }

  storage::FaultInjectionStore store;
  std::unique_ptr<storage::KeyRing> keys;
  base::FakeClock clock;

 private:
  size_t position_ = 0;
};

}  // namespace otpd::service::testing

#endif  // OTPD_TESTS_SERVICE_SERVICE_ENV_H_
