#include "service/admin/inventory.h"

#include <gtest/gtest.h>

#include "tests/service/service_env.h"

namespace otpd::service {
namespace {

using testing::kAdmin;
using testing::ServiceEnv;

class InventoryTest : public ::testing::Test {
 protected:
  TokenInventory Inventory(InventoryOptions options = {}) {
    return TokenInventory(env_.store, *env_.keys, env_.clock, options);
  }
  TokenStatus StatusOf(const std::string& serial) {
    auto t = Inventory().Get(serial);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? t->status : TokenStatus::kAvailable;
  }
  size_t AuditCount() { return env_.Count(storage::Namespace::kAudit); }

  ServiceEnv env_;
};

TEST_F(InventoryTest, ImportIsIdempotentAndRefusesChangedSeeds) {
  const std::string s2_seed = ServiceEnv::SeedFor(2);
  ImportReport first = env_.Import(
      ServiceEnv::List(env_.Token("S1", ""), env_.Token("S2", "Alice@Example.com", s2_seed)));
  EXPECT_EQ(first.imported, 2u);
  EXPECT_EQ(first.failed, 0u);
  EXPECT_EQ(StatusOf("S1"), TokenStatus::kAvailable);
  EXPECT_EQ(StatusOf("S2"), TokenStatus::kAssigned);
  EXPECT_EQ(Inventory().Get("S2")->assigned_to, "alice@example.com");
  EXPECT_EQ(Inventory().Get("S2")->batch, first.batch_id);

  ImportReport again = env_.Import(
      ServiceEnv::List(env_.Token("S1", ""), env_.Token("S2", "alice@example.com", s2_seed)));
  EXPECT_EQ(again.imported, 0u);
  EXPECT_EQ(again.unchanged, 2u);

  ImportReport changed =
      env_.Import(ServiceEnv::List(env_.Token("S1", "", "another seed of twenty b")));
  EXPECT_EQ(changed.failed, 1u);
  ASSERT_EQ(changed.failures.size(), 1u);
  EXPECT_EQ(changed.failures[0].serial, "S1");
  EXPECT_NE(changed.failures[0].reason.find("--replace"), std::string::npos);

  ImportReport replaced = env_.Import(
      ServiceEnv::List(env_.Token("S1", "", "another seed of twenty b")), {.replace = true});
  EXPECT_EQ(replaced.updated, 1u);
  auto token = Inventory().Get("S1");
  auto seed = env_.keys->OpenSecret(storage::Namespace::kTokens, "S1", token->sealed_seed);
  ASSERT_TRUE(seed.ok());
  EXPECT_EQ(seed->view(), "another seed of twenty b");

  int batches = 0;
  ASSERT_TRUE(Inventory()
                  .ListBatches([&](const BatchRecord& b) {
                    EXPECT_TRUE(b.complete);
                    ++batches;
                    return true;
                  })
                  .ok());
  EXPECT_EQ(batches, 2);  // the re-import and the refused one stored nothing: no batch
}

TEST_F(InventoryTest, DryRunWritesNothing) {
  ImportReport report =
      env_.Import(ServiceEnv::List(env_.Token("S1", "bob@example.com")), {.dry_run = true});
  EXPECT_EQ(report.imported, 1u);
  EXPECT_TRUE(IsNotFound(Inventory().Get("S1").status()));
  auto user = env_.store.Get(storage::Namespace::kUsers, "bob@example.com");
  ASSERT_TRUE(user.ok());
  EXPECT_FALSE(user->has_value());
}

TEST_F(InventoryTest, SeedsAreNeverStoredInClear) {
  env_.Import(ServiceEnv::List(env_.Token("S1", "", "a very recognisable seed!")));
  auto record = env_.store.Get(storage::Namespace::kTokens, "S1");
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->value.find("recognisable"), std::string::npos);
  // A sealed seed copied onto another serial does not open.
  auto token = Inventory().Get("S1");
  EXPECT_FALSE(env_.keys->OpenSecret(storage::Namespace::kTokens, "S2", token->sealed_seed).ok());
}

TEST_F(InventoryTest, AtMostFiveOathMethodsPerUser) {
  std::vector<tokenio::TokenRecord> tokens;
  for (int i = 0; i < 6; ++i) {
    tokens.push_back(env_.Token("T" + std::to_string(i), "c@x.org", ServiceEnv::SeedFor(i)));
  }
  ImportReport report = env_.Import(std::move(tokens));
  EXPECT_EQ(report.imported, 5u);
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].serial, "T5");
  EXPECT_NE(report.failures[0].reason.find("limit is 5"), std::string::npos);
  env_.Import(ServiceEnv::List(env_.Token("T9", "", ServiceEnv::SeedFor(9))));
  base::Status s = Inventory().Assign("T9", "c@x.org", kAdmin);
  EXPECT_TRUE(IsResourceExhausted(s)) << s;
}

TEST_F(InventoryTest, Lifecycle) {
  env_.Import(ServiceEnv::List(env_.Token("S1", "")));
  env_.AddUser("dora@example.com");
  env_.AddUser("eve@example.com");
  TokenInventory inv = Inventory();
  const size_t audits = AuditCount();

  EXPECT_TRUE(IsFailedPrecondition(inv.Deactivate("S1", kAdmin)));
  auto not_assigned = inv.Activate("S1", "123456", kAdmin);
  EXPECT_TRUE(IsFailedPrecondition(not_assigned.status()));
  ASSERT_TRUE(inv.Assign("S1", "Dora@Example.com", kAdmin).ok());
  EXPECT_EQ(StatusOf("S1"), TokenStatus::kAssigned);
  EXPECT_TRUE(IsFailedPrecondition(inv.Assign("S1", "eve@example.com", kAdmin)));
  EXPECT_TRUE(IsFailedPrecondition(inv.Delete("S1", kAdmin)));

  // The token's clock is 3 hours fast: far outside sign-in, inside activation.
  engine::Credential cred = ServiceEnv::Cred();
  const int64_t now = env_.clock.NowUnixSeconds();
  std::string wrong = cred.TotpAt(now + 3 * 3600) == "000000" ? "000001" : "000000";
  auto bad = inv.Activate("S1", wrong, kAdmin);
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_EQ(bad->outcome, ActivationOutcome::kWrongCode);
  EXPECT_EQ(bad->failures, 1u);
  EXPECT_EQ(StatusOf("S1"), TokenStatus::kFailedActivation);

  auto good = inv.Activate("S1", cred.TotpAt(now + 3 * 3600), kAdmin);
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(good->outcome, ActivationOutcome::kActivated);
  EXPECT_EQ(good->drift, 3 * 120);
  EXPECT_EQ(StatusOf("S1"), TokenStatus::kActivated);
  auto state = env_.store.Get(storage::Namespace::kState, TokenStateKey("S1"));
  ASSERT_TRUE(state.ok() && state->has_value());
  auto decoded = DecodeCredentialState((*state)->value);
  EXPECT_EQ(decoded->token.drift, 360);
  EXPECT_EQ(decoded->token.watermark, engine::TimeStep(cred.params(), now) + 360 + 1);

  EXPECT_TRUE(IsFailedPrecondition(inv.Activate("S1", "123456", kAdmin).status()));
  ASSERT_TRUE(inv.Deactivate("S1", kAdmin).ok());
  EXPECT_EQ(StatusOf("S1"), TokenStatus::kAssigned);
  ASSERT_TRUE(inv.Unassign("S1", kAdmin).ok());
  EXPECT_EQ(StatusOf("S1"), TokenStatus::kAvailable);
  EXPECT_TRUE(Inventory().Get("S1")->assigned_to.empty());
  // The token keeps its watermark for its whole life, whoever holds it next.
  state = env_.store.Get(storage::Namespace::kState, TokenStateKey("S1"));
  ASSERT_TRUE(state->has_value());
  EXPECT_EQ(DecodeCredentialState((*state)->value)->token.watermark,
            engine::TimeStep(cred.params(), now) + 360 + 1);
  auto methods = CountOathMethods(Directory(env_.store, *env_.keys), "dora@example.com");
  EXPECT_EQ(*methods, 0u);
  ASSERT_TRUE(inv.Delete("S1", kAdmin).ok());
  EXPECT_TRUE(IsNotFound(inv.Get("S1").status()));
  state = env_.store.Get(storage::Namespace::kState, TokenStateKey("S1"));
  EXPECT_FALSE(state->has_value());
  // Every attempt, allowed or refused, left an audit record.
  EXPECT_EQ(AuditCount(), audits + 11);
}

// A token's watermark lives as long as the token: after it is unassigned and assigned again (to
// anyone), a code it showed and had accepted is never accepted again, and activation with an old
// code cannot move it backwards.
TEST_F(InventoryTest, AReassignedTokenNeverAcceptsAnOldCode) {
  const engine::OtpParams hotp{.type = engine::OtpType::kHotp};
  env_.Import(ServiceEnv::List(env_.Token("W1", "amy@example.com", ServiceEnv::SeedFor(1), hotp)));
  engine::Credential cred = ServiceEnv::Cred(ServiceEnv::SeedFor(1), hotp);
  TokenInventory inv = Inventory();
  ASSERT_EQ(inv.Activate("W1", cred.FormatCodeAt(0), kAdmin)->outcome,
            ActivationOutcome::kActivated);
  // Codes 1..5 are used (signed in), as a verifier would record them.
  auto state = env_.store.Get(storage::Namespace::kState, TokenStateKey("W1"));
  CredentialState used = *DecodeCredentialState((*state)->value);
  used.token.watermark = 6;
  storage::WriteBatch b;
  b.Put(storage::Namespace::kState, TokenStateKey("W1"), EncodeCredentialState(used));
  ASSERT_TRUE(env_.store.Commit(std::move(b), storage::Durability::kDurable).ok());

  ASSERT_TRUE(inv.Unassign("W1", kAdmin).ok());
  env_.AddUser("ben@example.com");
  ASSERT_TRUE(inv.Assign("W1", "ben@example.com", kAdmin).ok());
  auto old = inv.Activate("W1", cred.FormatCodeAt(3), kAdmin);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->outcome, ActivationOutcome::kWrongCode);
  auto fresh = inv.Activate("W1", cred.FormatCodeAt(9), kAdmin);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->outcome, ActivationOutcome::kActivated);
  state = env_.store.Get(storage::Namespace::kState, TokenStateKey("W1"));
  EXPECT_EQ(DecodeCredentialState((*state)->value)->token.watermark, 10u);
}

// An administrator activating with a code the token already used (re-activating after a
// deactivation while the same code still shows) is told the code was used, not that it is wrong:
// the token is fine and its next code will do.
TEST_F(InventoryTest, ActivationWithAUsedCodeSaysTheCodeWasUsed) {
  env_.Import(ServiceEnv::List(env_.Token("U1", "amy@example.com")));
  engine::Credential cred = ServiceEnv::Cred();
  TokenInventory inv = Inventory();
  const std::string code = cred.TotpAt(env_.clock.NowUnixSeconds());
  ASSERT_EQ(inv.Activate("U1", code, kAdmin)->outcome, ActivationOutcome::kActivated);
  ASSERT_TRUE(inv.Deactivate("U1", kAdmin).ok());

  auto again = inv.Activate("U1", code, kAdmin);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->outcome, ActivationOutcome::kCodeUsed);
  const std::string said = ActivationRefusal("U1", *again);
  EXPECT_NE(said.find("already used"), std::string::npos) << said;
  EXPECT_EQ(said.find("not right"), std::string::npos) << said;

  const std::string wrong = code == "000000" ? "000001" : "000000";
  auto bad = inv.Activate("U1", wrong, kAdmin);
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->outcome, ActivationOutcome::kWrongCode);
  EXPECT_NE(ActivationRefusal("U1", *bad).find("not right"), std::string::npos);
}

// Assigning a token to a user who does not exist is NotFound and creates nobody: a mistyped
// address must not become a user holding a token.
TEST_F(InventoryTest, AssigningToAnUnknownUserCreatesNobody) {
  env_.Import(ServiceEnv::List(env_.Token("T1", "")));
  TokenInventory inv = Inventory();
  EXPECT_TRUE(base::IsNotFound(inv.Assign("T1", "typo6@example.com", kAdmin)));
  EXPECT_EQ(StatusOf("T1"), TokenStatus::kAvailable);
  EXPECT_FALSE(Directory(env_.store, *env_.keys).GetUser("typo6@example.com")->has_value());
  env_.AddUser("typo6@example.com");
  EXPECT_TRUE(inv.Assign("T1", "typo6@example.com", kAdmin).ok());
}

TEST_F(InventoryTest, ActivationAttemptsAreLimited) {
  env_.Import(ServiceEnv::List(env_.Token("S1", "f@example.com")));
  TokenInventory inv = Inventory(InventoryOptions{.max_activation_failures = 2});
  engine::Credential cred = ServiceEnv::Cred();
  const std::string right = cred.TotpAt(env_.clock.NowUnixSeconds());
  const std::string wrong = right == "000000" ? "000001" : "000000";
  EXPECT_EQ(inv.Activate("S1", wrong, kAdmin)->outcome, ActivationOutcome::kWrongCode);
  EXPECT_EQ(inv.Activate("S1", wrong, kAdmin)->outcome, ActivationOutcome::kWrongCode);
  auto exhausted = inv.Activate("S1", right, kAdmin);
  EXPECT_TRUE(IsResourceExhausted(exhausted.status())) << exhausted.status();
  // Unassign and assign again clears the count.
  ASSERT_TRUE(inv.Unassign("S1", kAdmin).ok());
  ASSERT_TRUE(inv.Assign("S1", "f@example.com", kAdmin).ok());
  EXPECT_EQ(inv.Activate("S1", right, kAdmin)->outcome, ActivationOutcome::kActivated);
}

TEST_F(InventoryTest, ListFilters) {
  env_.Import(ServiceEnv::List(env_.Token("A1", "", ServiceEnv::SeedFor(1)),
                               env_.Token("A2", "g@example.com", ServiceEnv::SeedFor(2)),
                               env_.Token("A3", "", ServiceEnv::SeedFor(3))));
  auto collect = [&](TokenFilter f) {
    std::vector<std::string> serials;
    EXPECT_TRUE(Inventory()
                    .List(f,
                          [&](const TokenRecord& t) {
                            serials.push_back(t.serial);
                            return true;
                          })
                    .ok());
    return serials;
  };
  EXPECT_EQ(collect({}), (std::vector<std::string>{"A1", "A2", "A3"}));
  EXPECT_EQ(collect({.status = TokenStatus::kAvailable}), (std::vector<std::string>{"A1", "A3"}));
  EXPECT_EQ(collect({.user = "G@example.com"}), (std::vector<std::string>{"A2"}));
}

TEST_F(InventoryTest, StorageFailureChangesNothing) {
  env_.Import(ServiceEnv::List(env_.Token("S1", "")));
  env_.store.SetFailSync(true);
  EXPECT_FALSE(Inventory().Assign("S1", "h@example.com", kAdmin).ok());
  env_.store.ClearFaults();
  EXPECT_EQ(StatusOf("S1"), TokenStatus::kAvailable);
  auto user = env_.store.Get(storage::Namespace::kUsers, "h@example.com");
  EXPECT_FALSE(user->has_value());
}

}  // namespace
}  // namespace otpd::service
