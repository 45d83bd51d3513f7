// A refusal raised through the transaction's backend (block rules, a unit for another cluster):
// the statement pgsplit sends in place of the client's.
#include <gtest/gtest.h>

#include "pgsplit/session/refusal.hpp"
#include "pgsplit/sql/classifier.hpp"

namespace pgsplit::session {
namespace {

TEST(Refusal, RaisesTheSqlstateAndMessage) {
  EXPECT_EQ(raiseStatement("42501", "no long sleeps", "refused by pgsplit"),
            "DO $pgsplit$BEGIN RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = $m$no long "
            "sleeps$m$, DETAIL = $m$refused by pgsplit$m$; END$pgsplit$");
  EXPECT_EQ(raiseStatement("0A000", "x", ""),
            "DO $pgsplit$BEGIN RAISE EXCEPTION USING ERRCODE = '0A000', MESSAGE = $m$x$m$; "
            "END$pgsplit$");
}

TEST(Refusal, QuotesWhateverTheMessageSays) {
  // A message with quotes, dollar quotes and the tags themselves stays one literal.
  const std::string text = raiseStatement("42501", "it's $m$ and $pgsplit$ and $m1$", "");
  EXPECT_NE(text.find("MESSAGE = $m2$it's $m$ and $pgsplit$ and $m1$$m2$"), std::string::npos)
      << text;
  EXPECT_TRUE(text.starts_with("DO $pgsplit1$")) << text;
  EXPECT_TRUE(text.ends_with("END$pgsplit1$")) << text;
  // One statement, and the classifier's worst case: a write (it runs on the transaction's
  // backend, which may be a replica in a read-only transaction: DO is allowed there).
  EXPECT_EQ(sql::classify(text).statements, 1);
}

}  // namespace
}  // namespace pgsplit::session
