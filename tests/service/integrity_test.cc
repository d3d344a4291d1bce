// Whoever can write the database but does not hold the master key (a backup operator, a storage
// administrator) must not be able to make a credential sign in for a user it was not assigned to
// by otpd. These tests write the Store directly, as such a person could, and check that the
// forged or edited records are refused, reported once, and cost only their own credential.

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "service/admin/inventory.h"
#include "service/model/directory.h"
#include "service/model/record_upgrade.h"
#include "service/signin/sign_in_verifier.h"
#include "tests/service/service_env.h"

namespace otpd::service {
namespace {

using storage::Namespace;
using testing::kAdmin;
using testing::ServiceEnv;

class IntegrityTest : public ::testing::Test {
 protected:
  IntegrityTest() {
    options_.on_integrity_error = [this](const base::Status& s) {
      ++integrity_errors_;
      last_error_ = std::string(s.message());
    };
  }
  void SetUp() override {
    verifier_ = std::make_unique<SignInVerifier>(env_.store, *env_.keys, env_.clock, options_);
  }

  void Activated(const std::string& serial, const std::string& upn, const std::string& seed) {
    ImportReport r = env_.Import(ServiceEnv::List(env_.Token(serial, upn, seed)));
    ASSERT_EQ(r.imported, 1u) << (r.failures.empty() ? "" : r.failures[0].reason);
    TokenInventory inv(env_.store, *env_.keys, env_.clock, {}, verifier_.get());
    auto activated =
        inv.Activate(serial, ServiceEnv::Cred(seed).TotpAt(env_.clock.NowUnixSeconds()), kAdmin);
    ASSERT_TRUE(activated.ok() && activated->outcome == ActivationOutcome::kActivated);
    env_.clock.Advance(std::chrono::seconds(30));
  }

  SignInResult Verify(std::string_view user, std::string_view otp) {
    std::promise<SignInResult> p;
    verifier_->Verify(VerifyRequest{.user = user, .otp = otp},
                      [&](SignInResult r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

  std::string Raw(Namespace ns, const std::string& key) {
    auto r = env_.store.Get(ns, key);
    EXPECT_TRUE(r.ok() && r->has_value());
    return r.ok() && r->has_value() ? (*r)->value : std::string();
  }
  void WriteRaw(Namespace ns, const std::string& key, const std::string& value) {
    storage::WriteBatch b;
    b.Put(ns, key, value);
    ASSERT_TRUE(env_.store.Commit(std::move(b), storage::Durability::kDurable).ok());
  }
  static std::string Replace(std::string s, const std::string& from, const std::string& to) {
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
  }
  std::string MethodKeyOf(const std::string& upn) {
    std::string key;
    EXPECT_TRUE(env_.store
                    .Scan(Namespace::kMethods, MethodPrefix(upn),
                          [&](std::string_view k, const storage::Record&) {
                            key = std::string(k);
                            return false;
                          })
                    .ok());
    return key;
  }

  ServiceEnv env_;
  SignInOptions options_;
  std::atomic<int> integrity_errors_{0};
  std::string last_error_;
  std::unique_ptr<SignInVerifier> verifier_;
};

const std::string kAliceSeed = "alice's seed, 20 byt";
const std::string kBobSeed = "bob's seed is 20 byt";

// The attack found by review: alice's token record copied under another serial and edited to
// name bob, with a method record for bob pointing at it. Without the master key none of these
// records carries a valid signature, so bob cannot sign in with alice's codes.
TEST_F(IntegrityTest, ACopiedAndEditedTokenRecordDoesNotSignInAsAnotherUser) {
  Activated("TA", "alice@example.com", kAliceSeed);
  Activated("TB", "bob@example.com", kBobSeed);
  const std::string bob_method = MethodKeyOf("bob@example.com");
  const std::string bob_method_id = bob_method.substr(bob_method.find('\0') + 1);

  // Variant 1: edit the assignment of alice's token in place.
  std::string token = Raw(Namespace::kTokens, "TA");
  WriteRaw(Namespace::kTokens, "TA",
           Replace(token, "\"assigned_to\":\"alice@example.com\"",
                   "\"assigned_to\":\"bob@example.com\""));
  // Variant 2: the whole signed record copied verbatim under bob's token's serial.
  WriteRaw(Namespace::kTokens, "TB", token);
  // Variant 3: a fresh method record for bob naming alice's token.
  WriteRaw(Namespace::kMethods, MethodKey("bob@example.com", "forged"),
           Replace(Raw(Namespace::kMethods, bob_method), "\"serial\":\"TB\"", "\"serial\":\"TA\""));
  (void)bob_method_id;

  const std::string alice_code = ServiceEnv::Cred(kAliceSeed).TotpAt(env_.clock.NowUnixSeconds());
  SignInResult bob = Verify("bob@example.com", alice_code);
  EXPECT_NE(bob.outcome, Outcome::kAccepted);
  EXPECT_EQ(bob.outcome, Outcome::kNoMethod);
  EXPECT_GE(integrity_errors_.load(), 2);
  // Nothing here printed a code or a seed.
  EXPECT_EQ(last_error_.find(alice_code), std::string::npos);
  // And alice's own token is now unusable too (its record was edited), never bob's by mistake.
  EXPECT_NE(Verify("alice@example.com", alice_code).outcome, Outcome::kAccepted);
}

// A record that fails its check is reported once (not on every request) and only its credential
// is unusable: the user's other token still signs in.
TEST_F(IntegrityTest, OneBadTokenCostsOnlyItself) {
  Activated("T1", "carl@example.com", kAliceSeed);
  Activated("T2", "carl@example.com", kBobSeed);
  std::string record = Raw(Namespace::kTokens, "T2");
  record[record.find("Acme")] = 'a';  // one byte of the JSON
  WriteRaw(Namespace::kTokens, "T2", record);
  verifier_->InvalidateUser("carl@example.com");

  const int64_t now = env_.clock.NowUnixSeconds();
  EXPECT_EQ(Verify("carl@example.com", ServiceEnv::Cred(kAliceSeed).TotpAt(now)).outcome,
            Outcome::kAccepted);
  for (int i = 0; i < 5; ++i) {
    EXPECT_NE(Verify("carl@example.com", ServiceEnv::Cred(kBobSeed).TotpAt(now + 30)).outcome,
              Outcome::kAccepted);
  }
  EXPECT_EQ(integrity_errors_.load(), 1);
  EXPECT_NE(last_error_.find("integrity"), std::string::npos) << last_error_;
}

TEST_F(IntegrityTest, AnEditedUserRecordAnswersUnavailableAndIsReportedOnce) {
  Activated("T1", "dee@example.com", kAliceSeed);
  std::string user = Raw(Namespace::kUsers, "dee@example.com");
  WriteRaw(
      Namespace::kUsers, "dee@example.com",
      Replace(user, "\"mfa_registration_required\":false", "\"mfa_registration_required\":true"));
  verifier_->InvalidateUser("dee@example.com");
  const std::string code = ServiceEnv::Cred(kAliceSeed).TotpAt(env_.clock.NowUnixSeconds());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Verify("dee@example.com", code).outcome, Outcome::kUnavailable);
  }
  EXPECT_EQ(integrity_errors_.load(), 1);
}

// A data directory written before records were signed is signed once, at the upgrade; after
// that an unsigned record is refused.
TEST_F(IntegrityTest, UpgradeSignsEarlierRecordsOnceThenRefusesUnsignedOnes) {
  Activated("T1", "eli@example.com", kAliceSeed);
  // Strip the signatures, as an earlier otpd wrote the records.
  Directory directory(env_.store, *env_.keys);
  for (auto [ns, key] : {std::pair{Namespace::kUsers, std::string("eli@example.com")},
                         std::pair{Namespace::kTokens, std::string("T1")},
                         std::pair{Namespace::kMethods, MethodKeyOf("eli@example.com")}}) {
    const std::string stored = Raw(ns, key);
    auto payload = env_.keys->OpenRecord(ns, key, stored);
    ASSERT_TRUE(payload.ok());
    WriteRaw(ns, key, std::string(*payload));
  }
  storage::WriteBatch forget;
  forget.Delete(Namespace::kMeta, "records/layout");
  ASSERT_TRUE(env_.store.Commit(std::move(forget), storage::Durability::kDurable).ok());
  verifier_->InvalidateUser("eli@example.com");
  EXPECT_TRUE(IsDataLoss(directory.GetToken("T1").status()));

  UpgradeStats stats;
  ASSERT_TRUE(UpgradeRecords(env_.store, *env_.keys, &stats).ok());
  EXPECT_EQ(stats.signed_records, 3u);
  EXPECT_TRUE(directory.GetToken("T1").ok());
  const int64_t now = env_.clock.NowUnixSeconds();
  EXPECT_EQ(Verify("eli@example.com", ServiceEnv::Cred(kAliceSeed).TotpAt(now)).outcome,
            Outcome::kAccepted);

  // Done once: a record made unsigned afterwards stays refused.
  const std::string stored = Raw(Namespace::kTokens, "T1");
  auto payload = env_.keys->OpenRecord(Namespace::kTokens, "T1", stored);
  WriteRaw(Namespace::kTokens, "T1", std::string(*payload));
  UpgradeStats again;
  ASSERT_TRUE(UpgradeRecords(env_.store, *env_.keys, &again).ok());
  EXPECT_EQ(again.signed_records, 0u);
  EXPECT_TRUE(IsDataLoss(directory.GetToken("T1").status()));
}

}  // namespace
}  // namespace otpd::service
