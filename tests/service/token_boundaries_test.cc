// Attacks on what an import or an inventory change may do to a token that has been used: a
// seed's watermark must survive every path that takes a token's state off its serial, the
// inventory role must stay inside the inventory, and a user principal name must be one, whatever
// bytes a file or a request puts in it.

#include <gtest/gtest.h>

#include "service/admin/audit.h"
#include "service/admin/importer.h"
#include "service/admin/inventory.h"
#include "tests/service/service_env.h"

namespace otpd::service {
namespace {

using testing::kAdmin;
using testing::ServiceEnv;

const engine::OtpParams kHotp{.type = engine::OtpType::kHotp};

class TokenBoundariesTest : public ::testing::Test {
 protected:
  TokenInventory Inventory() { return TokenInventory(env_.store, *env_.keys, env_.clock, {}); }

  // The watermark `serial` signs in from (its file's counter until it has state of its own).
  uint64_t Watermark(std::string_view serial) {
    auto token = Inventory().Get(serial);
    EXPECT_TRUE(token.ok()) << token.status();
    if (!token.ok()) return 0;
    auto state = LoadCredentialState(env_.store, *token);
    EXPECT_TRUE(state.ok()) << state.status();
    return state.ok() ? state->token.watermark : 0;
  }

  // Imports one HOTP token with seed `seed` (SeedFor) for `upn` ("" = unassigned).
  ImportReport ImportHotp(std::string serial, std::string upn, int seed,
                          ImportOptions options = {}) {
    return env_.Import(ServiceEnv::List(env_.Token(std::move(serial), std::move(upn),
                                                   ServiceEnv::SeedFor(seed), kHotp)),
                       std::move(options));
  }

  // Activates `serial` with the code the seed shows at `counter`.
  base::StatusOr<ActivationResult> ActivateAt(std::string_view serial, int seed, uint64_t counter) {
    engine::Credential cred = ServiceEnv::Cred(ServiceEnv::SeedFor(seed), kHotp);
    return Inventory().Activate(serial, cred.FormatCodeAt(counter), kAdmin);
  }

  size_t MethodCount(std::string_view upn) {
    auto methods = Directory(env_.store, *env_.keys).ReadMethods(upn);
    EXPECT_TRUE(methods.ok());
    return methods.ok() ? methods->size() : 0;
  }

  // The audit records of `target` by `actor`.
  std::vector<AuditRecord> AuditOf(std::string_view target, std::string_view actor) {
    std::vector<AuditRecord> out;
    EXPECT_TRUE(ListAudit(env_.store, {.target = std::string(target), .actor = std::string(actor)},
                          "",
                          [&](std::string_view, const AuditRecord& r) {
                            out.push_back(r);
                            return true;
                          })
                    .ok());
    return out;
  }

  ServiceEnv env_;
};

// A seed replaced by another and then imported again, under the same serial, resumes from the
// watermark it had: the codes it accepted before stay refused.
TEST_F(TokenBoundariesTest, ASeedReplacedAndImportedAgainKeepsItsWatermark) {
  ASSERT_EQ(ImportHotp("R1", "r@example.com", 1).imported, 1u);
  ASSERT_TRUE(ActivateAt("R1", 1, 40).ok());
  ASSERT_EQ(Watermark("R1"), 41u);

  ASSERT_EQ(ImportHotp("R1", "r@example.com", 2, {.replace = true}).updated, 1u);
  EXPECT_EQ(Watermark("R1"), 0u);  // the new seed has its own state
  ASSERT_EQ(ImportHotp("R1", "r@example.com", 1, {.replace = true}).updated, 1u);
  EXPECT_EQ(Watermark("R1"), 41u);

  auto again = ActivateAt("R1", 1, 40);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->outcome, ActivationOutcome::kWrongCode);
  EXPECT_TRUE(ActivateAt("R1", 1, 41).ok());
}

// The same, with the old seed moved to a new serial once the first was given another seed.
TEST_F(TokenBoundariesTest, ASeedMovedToAnotherSerialKeepsItsWatermark) {
  ASSERT_EQ(ImportHotp("M1", "m@example.com", 1).imported, 1u);
  ASSERT_TRUE(ActivateAt("M1", 1, 40).ok());
  ASSERT_TRUE(Inventory().Unassign("M1", kAdmin).ok());
  ASSERT_EQ(ImportHotp("M1", "", 2, {.replace = true}).updated, 1u);
  ASSERT_EQ(ImportHotp("M2", "m@example.com", 1).imported, 1u);
  EXPECT_EQ(Watermark("M2"), 41u);
  auto again = ActivateAt("M2", 1, 40);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->outcome, ActivationOutcome::kWrongCode);
}

// A replaced seed whose file counter is ahead of its old watermark starts at the file's counter:
// the higher of the two always wins.
TEST_F(TokenBoundariesTest, AnImportedCounterAboveTheWatermarkIsKept) {
  ASSERT_EQ(ImportHotp("C1", "c@example.com", 1).imported, 1u);
  ASSERT_TRUE(ActivateAt("C1", 1, 10).ok());
  ASSERT_TRUE(Inventory().Unassign("C1", kAdmin).ok());
  ASSERT_TRUE(Inventory().Delete("C1", kAdmin).ok());
  tokenio::TokenRecord ahead = env_.Token("C2", "", ServiceEnv::SeedFor(1), kHotp);
  ahead.counter = 500;
  ASSERT_EQ(env_.Import(ServiceEnv::List(std::move(ahead))).imported, 1u);
  EXPECT_EQ(Watermark("C2"), 500u);
}

// Two tokens with one seed (allowed explicitly), deleted with the more used one first: the
// seed's retired watermark is the highest either reached, not the last written.
TEST_F(TokenBoundariesTest, DeletingDuplicateSeedsKeepsTheHighestWatermark) {
  ASSERT_EQ(ImportHotp("D1", "d1@example.com", 1).imported, 1u);
  ASSERT_EQ(ImportHotp("D2", "d2@example.com", 1, {.allow_duplicate_seeds = true}).imported, 1u);
  ASSERT_TRUE(ActivateAt("D1", 1, 40).ok());
  ASSERT_TRUE(ActivateAt("D2", 1, 5).ok());
  for (std::string_view serial : {"D1", "D2"}) {
    ASSERT_TRUE(Inventory().Unassign(serial, kAdmin).ok());
    ASSERT_TRUE(Inventory().Delete(serial, kAdmin).ok());
  }
  ASSERT_EQ(ImportHotp("D3", "d3@example.com", 1).imported, 1u);
  EXPECT_EQ(Watermark("D3"), 41u);
  auto again = ActivateAt("D3", 1, 40);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->outcome, ActivationOutcome::kWrongCode);
}

// A seed imported again while another serial still holds it (duplicates allowed) starts at that
// serial's watermark, not at the file's.
TEST_F(TokenBoundariesTest, ADuplicateSeedStartsAtTheLiveTokensWatermark) {
  ASSERT_EQ(ImportHotp("L1", "l@example.com", 1).imported, 1u);
  ASSERT_TRUE(ActivateAt("L1", 1, 40).ok());
  ASSERT_EQ(ImportHotp("L2", "", 1, {.allow_duplicate_seeds = true}).imported, 1u);
  EXPECT_EQ(Watermark("L2"), 41u);
}

// The inventory role manages tokens nobody holds. Replacing the seed of a user's token changes
// what that user signs in with: it takes the role that may act on that user, and the refusal (or
// the replacement) is in the audit log under the token.
TEST_F(TokenBoundariesTest, ThePolicyRoleCannotReplaceAUsersToken) {
  ASSERT_EQ(ImportHotp("P1", "boss@example.com", 1).imported, 1u);
  ASSERT_TRUE(ActivateAt("P1", 1, 3).ok());

  Principal policy;
  policy.actor = "apikey:policy";
  policy.roles = {Role::kAuthenticationPolicyAdministrator};
  ImportReport refused =
      ImportHotp("P1", "boss@example.com", 2, {.replace = true, .principal = policy});
  EXPECT_EQ(refused.updated, 0u);
  ASSERT_EQ(refused.failures.size(), 1u);
  EXPECT_NE(refused.failures[0].reason.find("authentication_administrator"), std::string::npos)
      << refused.failures[0].reason;
  auto token = Inventory().Get("P1");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->status, TokenStatus::kActivated);
  EXPECT_EQ(Watermark("P1"), 4u);
  std::vector<AuditRecord> audit = AuditOf("token/P1", "apikey:policy");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].action, "token.replace");
  EXPECT_NE(audit[0].result.find("authentication_administrator"), std::string::npos);

  Principal both = policy;
  both.actor = "apikey:both";
  both.roles.Add(Role::kPrivilegedAuthenticationAdministrator);
  ASSERT_EQ(ImportHotp("P1", "boss@example.com", 2, {.replace = true, .principal = both}).updated,
            1u);
  audit = AuditOf("token/P1", "apikey:both");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].action, "token.replace");
  EXPECT_EQ(audit[0].result, "ok");
  EXPECT_NE(audit[0].detail.find("user boss@example.com"), std::string::npos) << audit[0].detail;
}

// A user principal name from a file or a request is checked the same way at every door: what is
// not an address fails its row and creates nobody; a NUL cannot reach into another user's keys.
TEST_F(TokenBoundariesTest, ImportedUserNamesMustBeAddresses) {
  ASSERT_EQ(ImportHotp("A1", "admin1@example.com", 1).imported, 1u);
  ASSERT_EQ(MethodCount("admin1@example.com"), 1u);
  const std::string nul = std::string("admin1@example.com") + '\0' + "x";
  const std::vector<std::string> bad = {"not an email", "a\tb@example.com",
                                        "line\nbreak@example.com", nul,
                                        "admin1@example.com\n"
                                        "x@example.com"};
  int seed = 10;
  for (const std::string& upn : bad) {
    ImportReport r = ImportHotp("B" + std::to_string(seed), upn, seed);
    EXPECT_EQ(r.imported, 0u) << "row " << seed;
    ASSERT_EQ(r.failures.size(), 1u) << "row " << seed;
    EXPECT_NE(r.failures[0].reason.find("upn"), std::string::npos) << r.failures[0].reason;
    ++seed;
  }
  EXPECT_EQ(MethodCount("admin1@example.com"), 1u);
  EXPECT_EQ(MethodCount(nul), 0u);
  EXPECT_EQ(env_.Count(storage::Namespace::kUsers), 1u);

  // Surrounding blanks are trimmed and case folded, as in a CSV file.
  ASSERT_EQ(ImportHotp("T1", "  Admin1@Example.com ", 30).imported, 1u);
  EXPECT_EQ(MethodCount("admin1@example.com"), 2u);
}

// A token file's manufacturer and model are shown back to people (console, otpctl, audit): a
// control character in them fails the row, as it would through the admin API.
TEST_F(TokenBoundariesTest, ControlCharactersInATokenFileFailTheirRow) {
  tokenio::TokenRecord escape = env_.Token("E1", "", ServiceEnv::SeedFor(40), kHotp);
  escape.manufacturer = "Acme\x1b[2J";
  tokenio::TokenRecord newline = env_.Token("E2", "", ServiceEnv::SeedFor(41), kHotp);
  newline.model = "T1\nforged line";
  ImportReport r = env_.Import(ServiceEnv::List(std::move(escape), std::move(newline)));
  EXPECT_EQ(r.imported, 0u);
  ASSERT_EQ(r.failures.size(), 2u);
  EXPECT_NE(r.failures[0].reason.find("manufacturer"), std::string::npos) << r.failures[0].reason;
  EXPECT_NE(r.failures[1].reason.find("model"), std::string::npos) << r.failures[1].reason;
}

// Whatever a caller passes, the directory never writes a user or a method under a name that is
// not a normalised address.
TEST_F(TokenBoundariesTest, TheDirectoryRefusesToStoreUnderAMalformedName) {
  Directory directory(env_.store, *env_.keys);
  const std::string nul = std::string("admin1@example.com") + '\0' + "x";
  for (const std::string& upn : {nul, std::string("Upper@example.com"), std::string(" a@b.co")}) {
    auto change = directory.BeginUserChange(upn, testing::kStart, true);
    EXPECT_TRUE(base::IsInvalidArgument(change.status())) << change.status();
    storage::WriteBatch batch;
    EXPECT_FALSE(directory.PutUser(batch, UserRecord{.upn = upn}).ok());
    EXPECT_FALSE(directory.PutMethod(batch, upn, MethodRecord{.id = "m"}).ok());
  }
}

}  // namespace
}  // namespace otpd::service
