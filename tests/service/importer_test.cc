#include "service/admin/importer.h"

#include <gtest/gtest.h>

#include "service/admin/inventory.h"
#include "tests/service/service_env.h"

namespace otpd::service {
namespace {

using testing::kAdmin;
using testing::ServiceEnv;

class ImporterTest : public ::testing::Test {
 protected:
  TokenInventory Inventory() { return TokenInventory(env_.store, *env_.keys, env_.clock, {}); }
  std::vector<BatchRecord> Batches() {
    std::vector<BatchRecord> batches;
    EXPECT_TRUE(Inventory()
                    .ListBatches([&](const BatchRecord& b) {
                      batches.push_back(b);
                      return true;
                    })
                    .ok());
    return batches;
  }
  size_t TokenCount() {
    size_t n = 0;
    EXPECT_TRUE(Inventory()
                    .List({},
                          [&](const TokenRecord&) {
                            ++n;
                            return true;
                          })
                    .ok());
    return n;
  }

  // Tokens stored, whether anyone sees them or not.
  size_t StoredTokenCount() { return env_.Count(storage::Namespace::kTokens); }

  ServiceEnv env_;
};

// The same seed under two serials would make two tokens show the same codes: refused, whether
// the first is already stored or earlier in the same file, unless explicitly allowed.
TEST_F(ImporterTest, ASeedStoredUnderAnotherSerialIsRefused) {
  ImportReport first = env_.Import(ServiceEnv::List(env_.Token("S1", "", ServiceEnv::SeedFor(1)),
                                                    env_.Token("S2", "", ServiceEnv::SeedFor(1))));
  EXPECT_EQ(first.imported, 1u);
  ASSERT_EQ(first.failures.size(), 1u);
  EXPECT_EQ(first.failures[0].serial, "S2");
  EXPECT_NE(first.failures[0].reason.find("already stored under serial S1"), std::string::npos)
      << first.failures[0].reason;

  ImportReport later = env_.Import(ServiceEnv::List(env_.Token("S3", "", ServiceEnv::SeedFor(1))));
  EXPECT_EQ(later.imported, 0u);
  EXPECT_EQ(later.failed, 1u);

  ImportReport allowed = env_.Import(ServiceEnv::List(env_.Token("S3", "", ServiceEnv::SeedFor(1))),
                                     {.allow_duplicate_seeds = true});
  EXPECT_EQ(allowed.imported, 1u);
  ASSERT_EQ(allowed.warnings.size(), 1u);
  EXPECT_NE(allowed.warnings[0].reason.find("S1"), std::string::npos);

  // Deleting the token frees its seed.
  ASSERT_TRUE(Inventory().Delete("S1", kAdmin).ok());
  ASSERT_TRUE(Inventory().Delete("S3", kAdmin).ok());
  EXPECT_EQ(env_.Import(ServiceEnv::List(env_.Token("S4", "", ServiceEnv::SeedFor(1)))).imported,
            1u);
}

// An HOTP counter that cannot advance is refused at import (at the top of the range a code could
// otherwise stay acceptable for ever).
TEST_F(ImporterTest, HotpCountersThatCannotAdvanceAreRefused) {
  tokenio::TokenRecord top =
      env_.Token("H1", "", ServiceEnv::SeedFor(1), {.type = engine::OtpType::kHotp});
  top.counter = UINT64_MAX;
  tokenio::TokenRecord high =
      env_.Token("H2", "", ServiceEnv::SeedFor(2), {.type = engine::OtpType::kHotp});
  high.counter = uint64_t{1} << 63;
  tokenio::TokenRecord fine =
      env_.Token("H3", "", ServiceEnv::SeedFor(3), {.type = engine::OtpType::kHotp});
  fine.counter = (uint64_t{1} << 63) - 1;
  ImportReport report =
      env_.Import(ServiceEnv::List(std::move(top), std::move(high), std::move(fine)));
  EXPECT_EQ(report.imported, 1u);
  ASSERT_EQ(report.failures.size(), 2u);
  EXPECT_NE(report.failures[0].reason.find("cannot be trusted to advance"), std::string::npos);
}

// An import that stores nothing (every token already there, or every row refused) leaves no
// batch record: the batch list names only imports that changed something.
TEST_F(ImporterTest, AnImportThatStoresNothingRecordsNoBatch) {
  ImportReport first = env_.Import(ServiceEnv::List(env_.Token("S1", "", ServiceEnv::SeedFor(1))));
  EXPECT_EQ(first.imported, 1u);
  ASSERT_EQ(Batches().size(), 1u);
  ImportReport again = env_.Import(ServiceEnv::List(env_.Token("S1", "", ServiceEnv::SeedFor(1))));
  EXPECT_EQ(again.unchanged, 1u);
  ImportReport refused =
      env_.Import(ServiceEnv::List(env_.Token("S2", "", ServiceEnv::SeedFor(1))));
  EXPECT_EQ(refused.failed, 1u);
  ImportReport empty = env_.Import({});
  EXPECT_EQ(empty.imported + empty.updated + empty.unchanged + empty.failed, 0u);
  std::vector<BatchRecord> batches = Batches();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].id, first.batch_id);
}

// Each chunk's commit carries the batch record's counts, so that an import that stops part way
// (here a storage failure) leaves a batch record whose counts are exactly what is stored, though
// nobody sees those tokens.
TEST_F(ImporterTest, BatchCountsAlwaysEqualWhatIsStored) {
  Importer importer(env_.store, *env_.keys, env_.clock, {},
                    {.file_name = "f.csv", .chunk_size = 3});
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(
        importer.OnToken(env_.Token("C" + std::to_string(i), "", ServiceEnv::SeedFor(i))).ok());
  }
  env_.store.FailNextWrites(1);
  ASSERT_TRUE(importer.OnToken(env_.Token("C7", "", ServiceEnv::SeedFor(7))).ok());
  EXPECT_FALSE(importer.Finish().ok());  // the third chunk failed
  std::vector<BatchRecord> batches = Batches();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_FALSE(batches[0].complete);
  EXPECT_EQ(batches[0].imported, StoredTokenCount());
  EXPECT_EQ(batches[0].imported, 6u);
  EXPECT_EQ(TokenCount(), 0u);
}

// A file of many chunks that stops midway (a storage failure here; a node killed on etcd) leaves
// nothing that anyone sees: no token in the inventory or by serial, no user assigned one, no user
// created. Importing the same file again resumes the batch and makes it whole.
TEST_F(ImporterTest, AnImportStoppedMidwayIsSeenByNobodyAndTheSameFileResumesIt) {
  env_.AddUser("a@example.com");
  auto file = [&] {
    std::vector<tokenio::TokenRecord> rows;
    for (int i = 0; i < 8; ++i) {
      const std::string upn = i == 1 ? "a@example.com" : i == 5 ? "new@example.com" : "";
      rows.push_back(env_.Token("M" + std::to_string(i), upn, ServiceEnv::SeedFor(i)));
    }
    return rows;
  };
  const ImportOptions options{.file_name = "m.csv", .file_sha256 = "aa11", .chunk_size = 3};
  {
    Importer importer(env_.store, *env_.keys, env_.clock, {}, options);
    std::vector<tokenio::TokenRecord> rows = file();
    for (int i = 0; i < 7; ++i) ASSERT_TRUE(importer.OnToken(std::move(rows[i])).ok());
    env_.store.FailNextWrites(1);
    ASSERT_TRUE(importer.OnToken(std::move(rows[7])).ok());
    EXPECT_FALSE(importer.Finish().ok());
  }
  EXPECT_EQ(StoredTokenCount(), 6u);
  EXPECT_EQ(TokenCount(), 0u);
  EXPECT_TRUE(base::IsNotFound(Inventory().Get("M1").status()));
  auto user = Directory(env_.store, *env_.keys).GetUser("a@example.com");
  ASSERT_TRUE(user.ok() && user->has_value());
  auto methods = Directory(env_.store, *env_.keys).ReadMethods("a@example.com");
  ASSERT_TRUE(methods.ok());
  EXPECT_TRUE(methods->empty());
  auto created = Directory(env_.store, *env_.keys).GetUser("new@example.com");
  ASSERT_TRUE(created.ok());
  EXPECT_FALSE(created->has_value());
  // Nor can another file take a serial the stopped import holds.
  ImportReport other = env_.Import(ServiceEnv::List(env_.Token("M0", "", ServiceEnv::SeedFor(0))),
                                   {.file_sha256 = "bb22"});
  ASSERT_EQ(other.failures.size(), 1u);
  EXPECT_NE(other.failures[0].reason.find("has not completed"), std::string::npos);

  const std::string stopped = Batches()[0].id;
  ImportReport again = env_.Import(file(), options);
  EXPECT_TRUE(again.resumed);
  EXPECT_EQ(again.batch_id, stopped);
  EXPECT_EQ(again.imported, 8u);
  EXPECT_EQ(again.failed, 0u);
  EXPECT_EQ(again.users_created, 1u);
  EXPECT_EQ(TokenCount(), 8u);
  std::vector<BatchRecord> batches = Batches();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_TRUE(batches[0].complete);
  EXPECT_FALSE(batches[0].assigning);
  EXPECT_EQ(batches[0].imported, 8u);
  EXPECT_EQ(Inventory().Get("M1")->assigned_to, "a@example.com");
  EXPECT_EQ(Inventory().Get("M5")->assigned_to, "new@example.com");
  EXPECT_EQ(Inventory().Get("M0")->assigned_to, "");
}

// An import that stopped can be thrown away instead: its tokens go, their serials and seeds are
// free for another file, and a complete batch cannot be discarded.
TEST_F(ImporterTest, AStoppedImportCanBeDiscarded) {
  {
    Importer importer(env_.store, *env_.keys, env_.clock, {},
                      {.file_name = "d.csv", .file_sha256 = "cc33", .chunk_size = 2});
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(
          importer.OnToken(env_.Token("D" + std::to_string(i), "", ServiceEnv::SeedFor(i))).ok());
    }
    env_.store.FailNextWrites(1);
    EXPECT_FALSE(importer.Finish().ok());
  }
  ASSERT_EQ(StoredTokenCount(), 4u);
  const std::string id = Batches()[0].id;
  Principal reader{.actor = "apikey:reader"};
  ASSERT_TRUE(RoleSet::Parse({"reader"}).ok());
  reader.roles = *RoleSet::Parse({"reader"});
  EXPECT_TRUE(base::IsPermissionDenied(Inventory().DiscardBatch(id, reader).status()));
  auto discarded = Inventory().DiscardBatch(id, kAdmin);
  ASSERT_TRUE(discarded.ok()) << discarded.status();
  EXPECT_EQ(*discarded, 4u);
  EXPECT_EQ(StoredTokenCount(), 0u);
  EXPECT_TRUE(Batches().empty());
  EXPECT_TRUE(base::IsNotFound(Inventory().DiscardBatch(id, kAdmin).status()));

  ImportReport other = env_.Import(ServiceEnv::List(env_.Token("D0", "", ServiceEnv::SeedFor(0)),
                                                    env_.Token("X1", "", ServiceEnv::SeedFor(1))));
  EXPECT_EQ(other.imported, 2u);
  EXPECT_FALSE(other.resumed);
  EXPECT_TRUE(
      base::IsFailedPrecondition(Inventory().DiscardBatch(other.batch_id, kAdmin).status()));
}

// A row that assigns a token is checked while the tokens are stored, so a refused assignment
// stores nothing for that row, and the users' limits count every row of the file.
TEST_F(ImporterTest, AssignmentsAreCheckedBeforeAnyTokenIsStored) {
  ImportReport report =
      env_.Import(ServiceEnv::List(env_.Token("U1", "nobody@example.com", ServiceEnv::SeedFor(1)),
                                   env_.Token("U2", "", ServiceEnv::SeedFor(2))),
                  {.create_users = false});
  EXPECT_EQ(report.imported, 1u);
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].serial, "U1");
  EXPECT_NE(report.failures[0].reason.find("no user nobody@example.com"), std::string::npos);
  EXPECT_EQ(StoredTokenCount(), 1u);
}

// Replacing a token with a new seed starts a new credential; replacing it with the same seed
// (other parameters or owner) keeps its watermark.
TEST_F(ImporterTest, ReplaceKeepsTheWatermarkOfTheSameSeed) {
  const engine::OtpParams hotp{.type = engine::OtpType::kHotp};
  env_.Import(ServiceEnv::List(env_.Token("R1", "r@example.com", ServiceEnv::SeedFor(1), hotp)));
  engine::Credential cred = ServiceEnv::Cred(ServiceEnv::SeedFor(1), hotp);
  ASSERT_TRUE(Inventory().Activate("R1", cred.FormatCodeAt(40), kAdmin).ok());
  auto watermark = [&] {
    auto r = env_.store.Get(storage::Namespace::kState, TokenStateKey("R1"));
    return r.ok() && r->has_value() ? DecodeCredentialState((*r)->value)->token.watermark : 0;
  };
  EXPECT_EQ(watermark(), 41u);
  tokenio::TokenRecord same = env_.Token("R1", "r@example.com", ServiceEnv::SeedFor(1), hotp);
  same.manufacturer = "Other";
  same.params.digits = 8;
  ASSERT_EQ(env_.Import(ServiceEnv::List(std::move(same)), {.replace = true}).updated, 1u);
  EXPECT_EQ(watermark(), 41u);
  ASSERT_EQ(
      env_.Import(ServiceEnv::List(env_.Token("R1", "r@example.com", ServiceEnv::SeedFor(2), hotp)),
                  {.replace = true})
          .updated,
      1u);
  EXPECT_EQ(watermark(), 0u);  // a new seed: a new credential
}

}  // namespace
}  // namespace otpd::service
