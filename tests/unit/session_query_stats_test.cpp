// SHOW QUERIES' per-worker table: bounded, keeps what runs often, never shows a constant.
#include <gtest/gtest.h>

#include "pgsplit/session/query_stats.hpp"
#include "pgsplit/sql/normalizer.hpp"

namespace pgsplit::session {
namespace {

TEST(QueryStats, RecordsCallsTimeAndRoutes) {
  QueryStatsTable t;
  const std::string text = "SELECT * FROM t WHERE id = 42";
  const auto ref = t.enter(sql::statementFingerprint(text), text);
  ASSERT_TRUE(ref.valid());
  t.record(ref, 1000, false);
  t.record(ref, 3000, true);
  // The same shape with another constant finds the same entry.
  const auto again = t.find(sql::statementFingerprint("select * from t where id = 7"));
  ASSERT_TRUE(again.valid());
  EXPECT_EQ(again.slot, ref.slot);
  t.record(again, 2000, true);
  const auto rows = t.rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].text, "SELECT * FROM t WHERE id = $1");
  EXPECT_EQ(rows[0].calls, 3u);
  EXPECT_EQ(rows[0].totalNanos, 6000u);
  EXPECT_EQ(rows[0].asPrimary, 1u);
  EXPECT_EQ(rows[0].asReplica, 2u);
  EXPECT_FALSE(t.enter(0, "x").valid()) << "0 is no statement";
  EXPECT_FALSE(t.find(12345).valid());
}

TEST(QueryStats, EntriesWithoutCallsAreNotShown) {
  QueryStatsTable t;
  t.enter(7, "SELECT 1");
  EXPECT_TRUE(t.rows().empty());
  EXPECT_EQ(t.size(), 1u);
}

TEST(QueryStats, BoundedAndKeepsTheStatementsThatRunOften) {
  QueryStatsTable t;
  // Ten statements that run often.
  std::vector<QueryStatsTable::Ref> hot;
  for (int i = 0; i < 10; ++i) {
    const std::string text = "SELECT hot_" + std::to_string(i) + " FROM t";
    hot.push_back(t.enter(sql::statementFingerprint(text), text));
  }
  // Many times the capacity of other statements, each run twice, while the hot ones keep running.
  std::size_t admitted = 0;
  for (int i = 0; i < 20 * static_cast<int>(QueryStatsTable::kCapacity); ++i) {
    const std::string text = "SELECT other_" + std::to_string(i) + " FROM t";
    for (int run = 0; run < 2; ++run) {
      const auto ref = t.enter(sql::statementFingerprint(text), text);
      if (ref.valid()) {
        ++admitted;
        t.record(ref, 10, false);
      }
    }
    for (const auto& h : hot)
      t.record(h, 10, false);
    ASSERT_LE(t.size(), QueryStatsTable::kCapacity);
  }
  EXPECT_EQ(t.size(), QueryStatsTable::kCapacity);
  EXPECT_GT(t.evictions(), 10u * QueryStatsTable::kCapacity);
  EXPECT_GT(admitted, 20u * QueryStatsTable::kCapacity);
  for (int i = 0; i < 10; ++i) {
    const std::string text = "SELECT hot_" + std::to_string(i) + " FROM t";
    const auto ref = t.find(sql::statementFingerprint(text));
    ASSERT_TRUE(ref.valid()) << "a statement that runs often was evicted: " << text;
    EXPECT_EQ(t.normalizedText(ref), text);
  }
  std::uint64_t hotCalls = 0;
  for (const auto& r : t.rows())
    if (r.text.find("hot_") != std::string::npos) hotCalls += r.calls;
  EXPECT_EQ(hotCalls, 10u * 20 * QueryStatsTable::kCapacity) << "no hot call was lost";
}

TEST(QueryStats, OneOffStatementsDoNotEnterAFullTable) {
  QueryStatsTable t;
  for (std::size_t i = 0; i < QueryStatsTable::kCapacity; ++i)
    t.record(t.enter(1000 + i, "SELECT " + std::to_string(i)), 1, false);
  for (std::uint64_t k = 0; k < 10000; ++k)
    EXPECT_FALSE(t.enter(100000 + k, "SELECT 'one-off'").valid());
  EXPECT_EQ(t.evictions(), 0u);
}

TEST(QueryStats, AStaleReferenceRecordsNothing) {
  QueryStatsTable t;
  for (std::size_t i = 0; i < QueryStatsTable::kCapacity; ++i)
    t.enter(1000 + i, "SELECT " + std::to_string(i));
  const auto old = t.find(1000);
  ASSERT_TRUE(old.valid());
  // Every entry has 0 calls: the first is the least-called one.
  EXPECT_FALSE(t.enter(5000, "SELECT 'new'").valid());  // seen once
  EXPECT_TRUE(t.enter(5000, "SELECT 'new'").valid());   // twice: in, in slot 0's place
  EXPECT_FALSE(t.find(1000).valid());
  t.record(old, 99, false);
  for (const auto& r : t.rows())
    EXPECT_NE(r.totalNanos, 99u);
  EXPECT_TRUE(t.normalizedText(old).empty());
}

TEST(QueryStats, LongTextIsCutAndStillNormalised) {
  QueryStatsTable t;
  std::string text = "SELECT ";
  while (text.size() < 3 * QueryStatsTable::kMaxTextBytes)
    text += "col_" + std::to_string(text.size()) + ", ";
  text += "'secret'";
  const auto ref = t.enter(99, text);
  t.record(ref, 1, false);
  const std::string shown(t.normalizedText(ref));
  EXPECT_TRUE(shown.ends_with("...")) << shown;
  EXPECT_EQ(shown.find("secret"), std::string::npos);
  EXPECT_LE(shown.size(), sql::kMaxNormalizedBytes + 4);
}

}  // namespace
}  // namespace pgsplit::session
