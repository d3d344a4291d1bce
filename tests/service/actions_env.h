// The environment of the administrator's-actions tests: a RocksDB data directory in a temporary
// directory (behind a FaultInjectionStore, so writes can be made to fail), its key ring, a fake
// clock, a password hasher at a low cost, the sign-in verifier and the services under test. It
// can be closed and opened again on the same directory (a restart).

#ifndef OTPD_TESTS_SERVICE_ACTIONS_ENV_H_
#define OTPD_TESTS_SERVICE_ACTIONS_ENV_H_

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <string>

#include "base/clock.h"
#include "service/admin/importer.h"
#include "service/admin/inventory.h"
#include "service/admin/method_admin.h"
#include "service/admin/user_actions.h"
#include "service/admin/user_admin.h"
#include "service/credentials/app_passwords.h"
#include "service/credentials/passwords.h"
#include "service/credentials/temporary_access_pass.h"
#include "service/hooks/hooks.h"
#include "service/signin/self_service.h"
#include "service/signin/sign_in_verifier.h"
#include "storage/fault_injection_store.h"
#include "storage/keyring.h"
#include "storage/rocksdb/rocksdb_store.h"
#include "tests/testing/subprocess.h"

namespace otpd::service::testing {

inline constexpr int64_t kActionsStart = 1'800'000'000;
inline const Principal kOwner = Principal::Owner("test-owner");

// A principal with roles (an API key's).
inline Principal WithRoles(std::string actor, RoleSet roles, std::string user = "") {
  Principal p;
  p.actor = std::move(actor);
  p.roles = roles;
  p.user = std::move(user);
  return p;
}

template <typename R, typename Call>
R Await(Call call) {
  auto p = std::make_shared<std::promise<R>>();
  auto f = p->get_future();
  call([p](R r) { p->set_value(std::move(r)); });
  return f.get();
}

class ActionsEnv {
 public:
  ActionsEnv() : clock(kActionsStart) { Open(); }
  ~ActionsEnv() { Close(); }

  void Open() {
    storage::RocksDbOptions o;
    o.path = dir.File("db");
    o.block_cache_bytes = 8 << 20;
    o.write_buffer_bytes = 4 << 20;
    auto backend = storage::OpenRocksDbBackend(o);
    ASSERT_TRUE(backend.ok()) << backend.status();
    store = std::make_unique<storage::FaultInjectionStore>(std::move(*backend));
    auto ring = storage::KeyRing::Open(
        *store, base::SecretBytes(std::span<const uint8_t>(
                    reinterpret_cast<const uint8_t*>("0123456789abcdef0123456789abcdef"), 32)));
    ASSERT_TRUE(ring.ok()) << ring.status();
    keys = std::move(*ring);
    directory = std::make_unique<Directory>(*store, *keys);
    hasher = std::make_unique<PasswordHasher>(
        PasswordOptions{.scrypt = {.log2_n = 10, .r = 8, .p = 1}, .threads = 2, .nice = 0});
    SignInOptions options = sign_in;
    options.hasher = hasher.get();
    verifier = std::make_unique<SignInVerifier>(*store, *keys, clock, options);
    actions = std::make_unique<UserActions>(*directory, clock, *hasher, verifier.get());
    app_passwords = std::make_unique<AppPasswords>(*directory, clock, verifier.get());
    taps = std::make_unique<TemporaryAccessPasses>(*directory, clock, TapPolicy{}, verifier.get());
    methods =
        std::make_unique<MethodAdmin>(*store, *keys, clock, MethodAdminOptions{}, verifier.get());
    self_service = std::make_unique<SelfServiceActions>(*directory, clock, *verifier, *methods,
                                                        *hasher, verifier.get(), self_options);
  }

  // In the daemon's order: nothing new starts, queued work finishes, the store drains and closes.
  void Close() {
    if (!store) return;
    self_service->Stop();
    hasher->Stop();
    verifier->StopLoading();
    store->Close();
    self_service.reset();
    methods.reset();
    taps.reset();
    app_passwords.reset();
    actions.reset();
    verifier.reset();
    hasher.reset();
    directory.reset();
    keys.reset();
    store.reset();
  }

  TokenInventory Inventory() { return TokenInventory(*store, *keys, clock, {}, verifier.get()); }

  // Imports and activates a TOTP token for `upn`; returns its credential.
  engine::Credential HardwareToken(const std::string& serial, const std::string& upn,
                                   const std::string& seed) {
    Importer importer(*store, *keys, clock, InventoryOptions{}, ImportOptions{.file_name = "t"});
    tokenio::TokenRecord t;
    t.position = 1;
    t.serial = serial;
    t.upn = upn;
    t.seed = base::SecretBytes::FromString(seed);
    EXPECT_TRUE(importer.OnToken(std::move(t)).ok());
    auto report = importer.Finish();
    EXPECT_TRUE(report.ok() && report->imported == 1);
    auto s = base::SecretBytes::FromString(seed);
    engine::Credential cred = std::move(engine::Credential::Create({}, s.span()).value());
    auto activated = Inventory().Activate(serial, cred.TotpAt(clock.NowUnixSeconds()), kOwner);
    EXPECT_TRUE(activated.ok() && activated->outcome == ActivationOutcome::kActivated);
    return cred;
  }

  SignInResult Verify(std::string_view user, std::string_view otp) {
    return Await<SignInResult>([&](SignInCallback done) {
      verifier->Verify(VerifyRequest{.user = user, .otp = otp}, std::move(done));
    });
  }
  SignInResult Password(std::string_view user, std::string_view password) {
    return Await<SignInResult>([&](SignInCallback done) {
      verifier->Password(SecretRequest{.user = user, .secret = password}, std::move(done));
    });
  }
  SignInResult AppPassword(std::string_view user, std::string_view password) {
    return Await<SignInResult>([&](SignInCallback done) {
      verifier->AppPassword(SecretRequest{.user = user, .secret = password}, std::move(done));
    });
  }
  SignInResult Tap(std::string_view user, std::string_view pass) {
    return Await<SignInResult>([&](SignInCallback done) {
      verifier->Tap(SecretRequest{.user = user, .secret = pass}, std::move(done));
    });
  }
  SignInResult Session(std::string_view user, std::string_view token) {
    return Await<SignInResult>([&](SignInCallback done) {
      verifier->Session(SecretRequest{.user = user, .secret = token}, std::move(done));
    });
  }
  SignInResult Challenge(std::string_view user, std::string_view method,
                         std::string_view channel = {}) {
    return Await<SignInResult>([&](SignInCallback done) {
      verifier->Challenge(ChallengeRequest{.user = user, .method = method, .channel = channel},
                          std::move(done));
    });
  }

  // Every event in the outbox, in order.
  std::vector<OutboxEvent> Events(uint64_t after = 0) {
    std::vector<OutboxEvent> out;
    EXPECT_TRUE(ReadEvents(*store, after, 1'000'000, [&](OutboxEvent e) {
                  out.push_back(std::move(e));
                  return true;
                }).ok());
    return out;
  }

  ::otpd::testing::TempDir dir;
  base::FakeClock clock;
  SignInOptions sign_in;            // options for the next Open()
  SelfServiceOptions self_options;  // likewise
  std::unique_ptr<storage::FaultInjectionStore> store;
  std::unique_ptr<storage::KeyRing> keys;
  std::unique_ptr<Directory> directory;
  std::unique_ptr<PasswordHasher> hasher;
  std::unique_ptr<SignInVerifier> verifier;
  std::unique_ptr<UserActions> actions;
  std::unique_ptr<AppPasswords> app_passwords;
  std::unique_ptr<TemporaryAccessPasses> taps;
  std::unique_ptr<MethodAdmin> methods;
  std::unique_ptr<SelfServiceActions> self_service;
};

}  // namespace otpd::service::testing

#endif  // OTPD_TESTS_SERVICE_ACTIONS_ENV_H_
