// pgsplit's own session parameters (pgsplit.min_lsn, pgsplit.write_lsn), answered by pgsplit.
#include "pgsplit/sql/pgsplit_commands.hpp"

#include <gtest/gtest.h>

#include "pgsplit/sql/lexer.hpp"

namespace pgsplit::sql {
namespace {

using K = PgsplitCommandKind;

TEST(PgsplitCommands, SetForms) {
  for (const char* text :
       {"SET pgsplit.min_lsn = '16/B374D848'", "set PGSPLIT.MIN_LSN to '16/B374D848';",
        "SET SESSION pgsplit.min_lsn TO '16/B374D848'",
        "/* c */ SET pgsplit . min_lsn='16/B374D848'",
        "  SET pgsplit.min_lsn = '16/B374D848' ; -- done"}) {
    auto c = parsePgsplitCommand(text);
    ASSERT_TRUE(c) << text;
    EXPECT_EQ(c->kind, K::SetMinLsn) << text;
    EXPECT_EQ(c->value, "16/B374D848") << text;
  }
  auto junk = parsePgsplitCommand("SET pgsplit.min_lsn = 42");
  ASSERT_TRUE(junk);
  EXPECT_EQ(junk->value, "42");  // the caller refuses it (22023)
}

TEST(PgsplitCommands, ResetAndShow) {
  EXPECT_EQ(parsePgsplitCommand("RESET pgsplit.min_lsn")->kind, K::ResetMinLsn);
  EXPECT_EQ(parsePgsplitCommand("SET pgsplit.min_lsn TO DEFAULT")->kind, K::ResetMinLsn);
  EXPECT_EQ(parsePgsplitCommand("show pgsplit.min_lsn;")->kind, K::ShowMinLsn);
  EXPECT_EQ(parsePgsplitCommand("SHOW pgsplit.write_lsn")->kind, K::ShowWriteLsn);
}

TEST(PgsplitCommands, AnythingElseIsNotOurs) {
  for (const char* text :
       {"SET LOCAL pgsplit.min_lsn = '0/1'", "SET pgsplit.min_lsn = '0/1'; SELECT 1",
        "SELECT 'SET pgsplit.min_lsn = 0/1'", "SET pgsplit.other = '0/1'", "SHOW pgsplit.nothing",
        "SET search_path = pgsplit", "SET pgsplit.min_lsn = '0/1", "RESET ALL", "SHOW ALL", ""}) {
    EXPECT_FALSE(parsePgsplitCommand(text)) << text;
  }
}

TEST(PgsplitCommands, MentionIsACheapPrefilter) {
  EXPECT_TRUE(mentionsPgsplitParameter("set PGSPLIT.min_lsn = '0/1'"));
  EXPECT_FALSE(mentionsPgsplitParameter("SELECT 1"));
  EXPECT_FALSE(mentionsPgsplitParameter("pgsplit"));
  // Anchored on the dot: every dot is tried, at the start and at the end of the text too.
  EXPECT_TRUE(mentionsPgsplitParameter("pgsplit.x"));
  EXPECT_TRUE(mentionsPgsplitParameter("SELECT 1.5, a.b; SHOW PgSplit.write_lsn"));
  EXPECT_TRUE(mentionsPgsplitParameter("SELECT 'pgsplit.'"));
  EXPECT_FALSE(mentionsPgsplitParameter("SELECT 1.5, a.b, pgsplit_x.y, pg.split"));
  EXPECT_FALSE(mentionsPgsplitParameter(".pgsplit"));
  EXPECT_FALSE(mentionsPgsplitParameter("."));
  EXPECT_FALSE(mentionsPgsplitParameter(""));
}

}  // namespace
}  // namespace pgsplit::sql

namespace pgsplit::sql {
namespace {

TEST(ContainsIgnoreAsciiCase, FindsWordsInAnyCaseOnly) {
  EXPECT_TRUE(containsIgnoreAsciiCase("DEALLOCATE x", "deallocate"));
  EXPECT_TRUE(containsIgnoreAsciiCase("x; DisCard ALL", "discard"));
  EXPECT_TRUE(containsIgnoreAsciiCase("ddiscard", "discard"));
  EXPECT_FALSE(containsIgnoreAsciiCase("discar", "discard"));
  EXPECT_FALSE(containsIgnoreAsciiCase("SELECT 1", "copy"));
  EXPECT_TRUE(containsIgnoreAsciiCase("\\COPY t", "copy"));
  EXPECT_FALSE(containsIgnoreAsciiCase("C@PY", "copy"));  // '@' is not 'o'
  EXPECT_TRUE(containsIgnoreAsciiCase("", ""));
  EXPECT_FALSE(containsIgnoreAsciiCase("", "x"));
}

}  // namespace
}  // namespace pgsplit::sql
