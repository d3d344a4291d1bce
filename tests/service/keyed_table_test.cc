#include "service/model/keyed_table.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>

namespace otpd::service {
namespace {

uint64_t Hash(std::string_view key) { return std::hash<std::string_view>{}(key); }

TEST(KeyedTableTest, FindInsertErase) {
  KeyedTable<int> table;
  EXPECT_EQ(table.Find("a", Hash("a")), nullptr);
  EXPECT_FALSE(table.Erase("a", Hash("a")));
  EXPECT_EQ(table.Insert("a", Hash("a"), 1), 1);
  EXPECT_EQ(table.Insert("a", Hash("a"), 2), 1);  // present: kept
  ASSERT_NE(table.Find("a", Hash("a")), nullptr);
  EXPECT_EQ(*table.Find("a", Hash("a")), 1);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_TRUE(table.Erase("a", Hash("a")));
  EXPECT_EQ(table.Find("a", Hash("a")), nullptr);
  EXPECT_EQ(table.size(), 0u);
}

TEST(KeyedTableTest, EqualHashesAreNotEqualKeys) {
  KeyedTable<std::string> table;
  table.Insert("alice@example.com", 42, "alice");
  table.Insert("bob@example.com", 42, "bob");
  EXPECT_EQ(*table.Find("alice@example.com", 42), "alice");
  EXPECT_EQ(*table.Find("bob@example.com", 42), "bob");
  EXPECT_EQ(table.Find("carol@example.com", 42), nullptr);
  EXPECT_TRUE(table.Erase("alice@example.com", 42));
  EXPECT_EQ(*table.Find("bob@example.com", 42), "bob");
}

TEST(KeyedTableTest, ValuesStayPutWhileTheTableGrows) {
  KeyedTable<int> table;
  int& first = table.Insert("k0", Hash("k0"), 0);
  for (int i = 1; i < 5000; ++i) {
    const std::string key = "k" + std::to_string(i);
    table.Insert(key, Hash(key), i);
  }
  EXPECT_EQ(&first, table.Find("k0", Hash("k0")));
  EXPECT_EQ(table.size(), 5000u);
}

// Random inserts and erases, checked against a map. Hashes are drawn from a few values so that
// probe runs are long, collide, and wrap around the end of the slot array.
TEST(KeyedTableTest, AgreesWithAMapUnderRandomInsertsAndErases) {
  std::mt19937_64 rng(20261128);
  KeyedTable<uint64_t> table;
  std::unordered_map<std::string, uint64_t> model;
  auto hash_of = [](const std::string& key) { return Hash(key) % 7 * 0x1234567890abcdefULL; };
  for (int step = 0; step < 40000; ++step) {
    const std::string key = "user" + std::to_string(rng() % 600) + "@example.com";
    const uint64_t h = hash_of(key);
    if (rng() % 3 == 0) {
      EXPECT_EQ(table.Erase(key, h), model.erase(key) == 1) << "step " << step;
    } else {
      const uint64_t v = rng();
      const uint64_t stored = table.Insert(key, h, v);
      auto [it, inserted] = model.emplace(key, v);
      EXPECT_EQ(stored, it->second) << "step " << step;
    }
    ASSERT_EQ(table.size(), model.size()) << "step " << step;
    if (step % 997 == 0) {
      for (int id = 0; id < 600; ++id) {
        const std::string probe = "user" + std::to_string(id) + "@example.com";
        auto it = model.find(probe);
        const uint64_t* found = table.Find(probe, hash_of(probe));
        ASSERT_EQ(found != nullptr, it != model.end()) << "step " << step << " " << probe;
        if (found != nullptr) {
          EXPECT_EQ(*found, it->second);
        }
      }
    }
  }
}

}  // namespace
}  // namespace otpd::service
