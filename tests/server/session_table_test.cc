// The Security info page's session table (server/selfservice/session_table.h): tokens that cannot
// be guessed, the idle and absolute timeouts, the limits per user and in all, and a user's
// other sessions ended together.

#include "server/selfservice/session_table.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace otpd::server::selfservice {
namespace {

constexpr int64_t kNow = 1'800'000'000;

std::string Begin(SessionTable& table, const std::string& upn, int64_t now = kNow) {
  auto token = table.Begin(upn, 7, now);
  EXPECT_TRUE(token.ok()) << token.status();
  return token.ok() ? std::string(token->view()) : "";
}

TEST(SessionTableTest, ATokenIsRandomAndOnlyItsOwnOpensTheSession) {
  SessionTable table(SessionLimits{});
  std::set<std::string> tokens;
  for (int i = 0; i < 50; ++i) tokens.insert(Begin(table, "u" + std::to_string(i) + "@e.com"));
  EXPECT_EQ(tokens.size(), 50u);
  const std::string token = *tokens.begin();
  EXPECT_EQ(token.size(), 64u);
  auto s = table.Use(token, kNow);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->csrf.size(), 64u);
  EXPECT_NE(s->csrf, token);
  EXPECT_EQ(s->sessions_epoch, 7u);
  EXPECT_EQ(s->fresh_until, kNow + SessionLimits{}.fresh.count());
  std::string other = token;
  other[0] = other[0] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(table.Use(other, kNow).has_value());
  EXPECT_FALSE(table.Use("", kNow).has_value());
}

TEST(SessionTableTest, IdleAndAbsoluteTimeoutsEndASession) {
  SessionLimits limits;
  limits.idle = std::chrono::seconds(100);
  limits.absolute = std::chrono::seconds(250);
  SessionTable table(limits);
  const std::string token = Begin(table, "a@e.com");
  EXPECT_TRUE(table.Use(token, kNow + 99).has_value());
  EXPECT_TRUE(table.Use(token, kNow + 198).has_value());   // each use moves the idle clock on
  EXPECT_FALSE(table.Use(token, kNow + 250).has_value());  // but never past the absolute end
  EXPECT_FALSE(table.Use(token, kNow + 251).has_value());  // and it stays ended
  const std::string idle = Begin(table, "b@e.com");
  EXPECT_FALSE(table.Use(idle, kNow + 100).has_value());
}

TEST(SessionTableTest, AUsersOldestSessionGoesPastTheLimitAndOthersEndTogether) {
  SessionLimits limits;
  limits.max_per_user = 2;
  limits.max_sessions = 4;
  SessionTable table(limits);
  const std::string first = Begin(table, "a@e.com", kNow);
  const std::string second = Begin(table, "a@e.com", kNow + 1);
  const std::string third = Begin(table, "a@e.com", kNow + 2);
  EXPECT_FALSE(table.Use(first, kNow + 3).has_value());
  EXPECT_TRUE(table.Use(second, kNow + 3).has_value());
  EXPECT_TRUE(table.Use(third, kNow + 3).has_value());
  // The table's limit: the least recently used goes.
  Begin(table, "b@e.com", kNow + 4);
  EXPECT_TRUE(table.Use(third, kNow + 5).has_value());
  Begin(table, "c@e.com", kNow + 6);
  EXPECT_EQ(table.size(), 4u);
  const std::string d = Begin(table, "d@e.com", kNow + 7);
  EXPECT_EQ(table.size(), 4u);
  EXPECT_FALSE(table.Use(second, kNow + 8).has_value());
  // Everyone of a@e.com but the one kept (b@e.com's, the least recently used, made room for it).
  const std::string kept = Begin(table, "a@e.com", kNow + 9);
  table.EndOthers("a@e.com", kept);
  EXPECT_FALSE(table.Use(third, kNow + 10).has_value());
  EXPECT_TRUE(table.Use(kept, kNow + 10).has_value());
  EXPECT_TRUE(table.Use(d, kNow + 10).has_value());
  table.End(kept);
  EXPECT_FALSE(table.Use(kept, kNow + 11).has_value());
}

}  // namespace
}  // namespace otpd::server::selfservice
