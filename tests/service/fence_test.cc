// The per-user fence: an administrator's change that disables a credential, once it has
// returned, is never followed by a sign-in accepted through that credential, however the two
// race; and the guarantees that rest on the same rule (the method limit, the cache's in-flight
// commits, the order of requests for one user).

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "service/admin/importer.h"
#include "service/admin/inventory.h"
#include "service/signin/sign_in_verifier.h"
#include "tests/service/service_env.h"

namespace otpd::service {
namespace {

using testing::kAdmin;
using testing::ServiceEnv;

const engine::OtpParams kHotp{.type = engine::OtpType::kHotp};
const std::string kSeed = "fence test seed 20 b";

class FenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    verifier_ = std::make_unique<SignInVerifier>(env_.store, *env_.keys, env_.clock, options_);
  }
  TokenInventory Inventory() {
    return TokenInventory(env_.store, *env_.keys, env_.clock, {}, verifier_.get());
  }
  // Activates `serial` with the first code at or after `counter`; returns the next counter.
  uint64_t Activate(const std::string& serial, uint64_t counter) {
    auto r = Inventory().Activate(serial, cred_.FormatCodeAt(counter), kAdmin);
    EXPECT_TRUE(r.ok() && r->outcome == ActivationOutcome::kActivated)
        << serial << " at counter " << counter << ": "
        << (r.ok() ? "outcome " + std::to_string(static_cast<int>(r->outcome))
                   : r.status().ToString());
    return counter + 1;
  }
  SignInResult Verify(std::string_view user, std::string_view otp) {
    std::promise<SignInResult> p;
    verifier_->Verify(VerifyRequest{.user = user, .otp = otp},
                      [&](SignInResult r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

  ServiceEnv env_;
  SignInOptions options_;
  std::unique_ptr<SignInVerifier> verifier_;
  engine::Credential cred_ = ServiceEnv::Cred(kSeed, kHotp);
};

// Thousands of rounds: sign-in threads send fresh HOTP codes while the administrator deactivates,
// unassigns or deletes the token. Once the change has returned, no code is accepted through the
// token: neither one sent afterwards nor one decided before whose commit would land after the
// change (its watermark would be above the one stored when the change returned).
TEST_F(FenceTest, NoSignInIsAcceptedThroughACredentialAfterTheChangeReturned) {
  const std::string upn = "race@example.com";
  ASSERT_EQ(env_.Import(ServiceEnv::List(env_.Token("R1", upn, kSeed, kHotp))).imported, 1u);
  std::atomic<uint64_t> next{Activate("R1", 0)};
  constexpr int kRounds = 1500;
  std::mt19937 random(7);
  auto stored_watermark = [&]() -> uint64_t {
    auto r = env_.store.Get(storage::Namespace::kState, TokenStateKey("R1"));
    EXPECT_TRUE(r.ok());
    return r.ok() && r->has_value() ? DecodeCredentialState((*r)->value)->token.watermark : 0;
  };
  int accepted_total = 0, violations = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::atomic<bool> changed{false};
    std::mutex mu;
    std::vector<std::pair<uint64_t, bool>> accepted;  // counter, sent after the change
    auto signer = [&] {
      for (;;) {
        const bool after = changed.load();
        const uint64_t counter = next.fetch_add(1);
        if (Verify(upn, cred_.FormatCodeAt(counter)).outcome == Outcome::kAccepted) {
          std::lock_guard lock(mu);
          accepted.emplace_back(counter, after);
        }
        if (after) return;  // one request sent after the change is enough
      }
    };
    std::thread a(signer), b(signer);
    // The change lands while the signers are at it: once one of their codes was accepted (so the
    // race is run whatever the machine's speed), after a varying delay.
    for (int wait = 0; wait < 20'000; ++wait) {
      {
        std::lock_guard lock(mu);
        if (!accepted.empty()) break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 600));
    const int kind = round % 3;
    TokenInventory inv = Inventory();
    uint64_t watermark_at_change;
    if (kind == 0) {
      ASSERT_TRUE(inv.Deactivate("R1", kAdmin).ok());
      watermark_at_change = stored_watermark();
    } else {
      ASSERT_TRUE(inv.Unassign("R1", kAdmin).ok());
      watermark_at_change = stored_watermark();
      if (kind == 2) {
        ASSERT_TRUE(inv.Delete("R1", kAdmin).ok());
      }
    }
    changed = true;
    a.join();
    b.join();
    for (auto [counter, after] : accepted) {
      if (after || counter >= watermark_at_change) ++violations;
    }
    accepted_total += static_cast<int>(accepted.size());
    // Back to an activated token for the next round.
    if (kind == 2) {
      // The same seed imported again starts from the deleted token's watermark: its codes stay
      // spent, so counting goes on from where it was.
      ASSERT_EQ(env_.Import(ServiceEnv::List(env_.Token("R1", "", kSeed, kHotp))).imported, 1u);
    }
    if (kind != 0) {
      ASSERT_TRUE(inv.Assign("R1", upn, kAdmin).ok());
    }
    // Activation searches forward from the stored watermark (which a re-imported token keeps);
    // the signers' counter may have run far beyond it with codes refused after the change.
    next = Activate("R1", stored_watermark() + 11);
  }
  EXPECT_EQ(violations, 0);
  // The test exercised the race: plenty of codes were accepted around the changes.
  EXPECT_GT(accepted_total, kRounds / 4);
}

// Two administrators assign tokens to a user one below the limit at the same moment: exactly one
// succeeds, the other is refused (a clean conflict or the limit), never both.
TEST_F(FenceTest, ConcurrentAssignsNeverExceedTheMethodLimit) {
  const std::string upn = "limit@example.com";
  std::vector<tokenio::TokenRecord> tokens;
  for (int i = 0; i < 4; ++i) {
    tokens.push_back(env_.Token("L" + std::to_string(i), upn, ServiceEnv::SeedFor(i)));
  }
  tokens.push_back(env_.Token("X", "", ServiceEnv::SeedFor(10)));
  tokens.push_back(env_.Token("Y", "", ServiceEnv::SeedFor(11)));
  ASSERT_EQ(env_.Import(std::move(tokens)).imported, 6u);
  for (int round = 0; round < 200; ++round) {
    std::promise<void> go;
    std::shared_future<void> start = go.get_future().share();
    auto assign = [&](const char* serial) {
      start.wait();
      return Inventory().Assign(serial, upn, kAdmin);
    };
    auto x = std::async(std::launch::async, assign, "X");
    auto y = std::async(std::launch::async, assign, "Y");
    go.set_value();
    base::Status sx = x.get(), sy = y.get();
    ASSERT_NE(sx.ok(), sy.ok()) << "round " << round << ": " << sx << " / " << sy;
    auto count = CountOathMethods(Directory(env_.store, *env_.keys), upn);
    ASSERT_TRUE(count.ok());
    ASSERT_EQ(*count, 5u) << "round " << round;
    ASSERT_TRUE(Inventory().Unassign(sx.ok() ? "X" : "Y", kAdmin).ok());
  }
}

// Blocks the commit pipeline until the returned gate opens.
std::shared_ptr<std::promise<void>> BlockCommitter(storage::Store& store) {
  auto release = std::make_shared<std::promise<void>>();
  auto entered = std::make_shared<std::promise<void>>();
  std::shared_future<void> released = release->get_future().share();
  EXPECT_TRUE(store
                  .Submit(storage::WriteBatch(), storage::Durability::kRelaxed,
                          [entered, released](base::Status) {
                            entered->set_value();
                            released.wait();
                          })
                  .ok());
  entered->get_future().wait();
  return release;
}

// A user dropped from the cache while an accepted code's commit is still queued must not be
// loaded from the Store before that commit is in: the load would read the old watermark and
// accept the same code again.
TEST_F(FenceTest, InvalidationWaitsForInFlightWatermarks) {
  const std::string upn = "flight@example.com";
  ASSERT_EQ(env_.Import(ServiceEnv::List(env_.Token("F1", upn, kSeed, kHotp))).imported, 1u);
  Activate("F1", 0);
  const std::string code = cred_.FormatCodeAt(1);
  EXPECT_EQ(Verify(upn, "12").outcome, Outcome::kBadRequest);  // now cached
  auto release = BlockCommitter(env_.store);
  std::promise<SignInResult> first, second;
  verifier_->Verify({.user = upn, .otp = code}, [&](SignInResult r) { first.set_value(r); });
  verifier_->InvalidateUser(upn);
  verifier_->Verify({.user = upn, .otp = code}, [&](SignInResult r) { second.set_value(r); });
  // Neither can be answered yet: the first waits for its commit, the second for the first's.
  auto second_result = second.get_future();
  EXPECT_EQ(second_result.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  release->set_value();
  EXPECT_EQ(first.get_future().get().outcome, Outcome::kAccepted);
  EXPECT_EQ(second_result.get().outcome, Outcome::kReplayed);
}

// The same with an eviction from a tiny cache: the user with a commit in flight stays.
TEST_F(FenceTest, EvictionNeverDropsAUserWithCommitsInFlight) {
  options_.cache_bytes = 1;  // every stripe over budget all the time
  options_.stripes = 1;
  SetUp();
  std::vector<tokenio::TokenRecord> tokens;
  for (int i = 0; i < 20; ++i) {
    tokens.push_back(env_.Token("E" + std::to_string(i), "e" + std::to_string(i) + "@x.org",
                                ServiceEnv::SeedFor(i), kHotp));
  }
  ASSERT_EQ(env_.Import(std::move(tokens)).imported, 20u);
  for (int i = 0; i < 20; ++i) {
    auto r = Inventory().Activate("E" + std::to_string(i),
                                  ServiceEnv::Cred(ServiceEnv::SeedFor(i), kHotp).FormatCodeAt(0),
                                  kAdmin);
    ASSERT_TRUE(r.ok());
  }
  for (int round = 1; round <= 3; ++round) {
    for (int i = 0; i < 20; ++i) {
      const std::string upn = "e" + std::to_string(i) + "@x.org";
      const std::string code = ServiceEnv::Cred(ServiceEnv::SeedFor(i), kHotp).FormatCodeAt(round);
      EXPECT_EQ(Verify(upn, code).outcome, Outcome::kAccepted) << upn << " round " << round;
      EXPECT_EQ(Verify(upn, code).outcome, Outcome::kReplayed) << upn << " round " << round;
    }
  }
  EXPECT_GT(verifier_->counters().cache_evictions.load(), 0u);
  EXPECT_GT(verifier_->stats().cache_misses, 20u);
}

// A cold user's requests are decided in arrival order, whether they name the user or one of the
// user's tokens by serial.
TEST_F(FenceTest, ColdUserOrderHoldsAcrossSerialAndUserRequests) {
  const std::string upn = "order@example.com";
  ASSERT_EQ(env_.Import(ServiceEnv::List(env_.Token("O1", upn, kSeed, kHotp))).imported, 1u);
  Activate("O1", 0);
  uint64_t counter = 1;
  for (int round = 0; round < 50; ++round) {
    // Fresh verifier: the user and the serial's owner are unknown to it.
    verifier_ = std::make_unique<SignInVerifier>(env_.store, *env_.keys, env_.clock, options_);
    std::vector<std::promise<SignInResult>> results(6);
    for (int i = 0; i < 6; ++i) {
      const std::string code = cred_.FormatCodeAt(counter + i);
      VerifyRequest request{.otp = code};
      if (i % 2 == 0) {
        request.serial = "O1";
      } else {
        request.user = upn;
      }
      verifier_->Verify(request, [&results, i](SignInResult r) { results[i].set_value(r); });
    }
    for (int i = 0; i < 6; ++i) {
      EXPECT_EQ(results[i].get_future().get().outcome, Outcome::kAccepted)
          << "round " << round << " request " << i;
    }
    counter += 6;
  }
}

// No answer is delivered while the verifier holds a lock: a callback that calls back into the
// verifier for the same user (here when the commit queue refuses the batch) must not deadlock.
TEST(FenceQueueTest, AnAnswerThatCallsBackInDoesNotDeadlock) {
  ServiceEnv env;
  storage::FaultInjectionStore small(nullptr, storage::PipelineOptions{.max_queue = 1});
  auto ring = storage::KeyRing::Open(
      small, base::SecretBytes(std::span<const uint8_t>(
                 reinterpret_cast<const uint8_t*>("0123456789abcdef0123456789abcdef"), 32)));
  ASSERT_TRUE(ring.ok());
  Importer importer(small, **ring, env.clock, {}, {});
  ASSERT_TRUE(importer.OnToken(env.Token("Q1", "q@example.com", kSeed, kHotp)).ok());
  ASSERT_TRUE(importer.Finish().ok());
  TokenInventory inv(small, **ring, env.clock, {});
  engine::Credential cred = ServiceEnv::Cred(kSeed, kHotp);
  ASSERT_TRUE(inv.Activate("Q1", cred.FormatCodeAt(0), kAdmin).ok());
  SignInVerifier verifier(small, **ring, env.clock, {});
  auto release = BlockCommitter(small);
  // The queue holds one batch: fill it, so that the next sign-in's batch is refused.
  ASSERT_TRUE(small.Submit(storage::WriteBatch(), storage::Durability::kRelaxed, [](auto) {}).ok());
  std::promise<Outcome> inner;
  auto done = std::async(std::launch::async, [&] {
    std::promise<Outcome> outer;
    verifier.Verify({.user = "q@example.com", .otp = cred.FormatCodeAt(1)}, [&](SignInResult r) {
      outer.set_value(r.outcome);
      // Re-entrant: the same user, from inside the answer.
      verifier.Verify({.user = "q@example.com", .otp = "12"},
                      [&](SignInResult r2) { inner.set_value(r2.outcome); });
    });
    return outer.get_future().get();
  });
  ASSERT_EQ(done.wait_for(std::chrono::seconds(10)), std::future_status::ready) << "deadlock";
  EXPECT_EQ(done.get(), Outcome::kUnavailable);
  EXPECT_EQ(inner.get_future().get(), Outcome::kBadRequest);
  release->set_value();
}

}  // namespace
}  // namespace otpd::service
