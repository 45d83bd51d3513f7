// sessionEffects as a specification: which statements change the session state pgsplit carries
// between backends, under which parameter name (as PostgreSQL looks it up), and the text that
// replays each SET.
#include "pgsplit/sql/session_effects.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace pgsplit::sql {
namespace {

// One effect as a line, so that a failing case shows the whole list readably.
std::string describe(const SessionEffect& e) {
  switch (e.kind) {
    case EffectKind::Set:
      return "Set " + e.name + " |" + e.text + "|";
    case EffectKind::Reset:
      return "Reset " + e.name;
    case EffectKind::ResetAll:
      return "ResetAll";
    case EffectKind::DiscardAll:
      return "DiscardAll";
    case EffectKind::DeallocateAll:
      return "DeallocateAll";
    case EffectKind::Deallocate:
      return "Deallocate " + e.name;
    case EffectKind::Unsupported:
      return "Unsupported";
    case EffectKind::Savepoint:
      return "Savepoint " + e.name;
    case EffectKind::Release:
      return "Release " + e.name;
    case EffectKind::RollbackTo:
      return "RollbackTo " + e.name;
    case EffectKind::Commit:
      return "Commit";
    case EffectKind::Rollback:
      return "Rollback";
    case EffectKind::None:
      return std::string("None ") + e.tag;
  }
  return "?";
}

std::vector<std::string> effects(std::string_view sql) {
  std::vector<std::string> out;
  for (const auto& e : sessionEffects(sql))
    out.push_back(describe(e));
  return out;
}

std::string set(std::string_view name, std::string_view text) {
  return "Set " + std::string(name) + " |" + std::string(text) + "|";
}
std::string reset(std::string_view name) {
  return "Reset " + std::string(name);
}
std::string deallocate(std::string_view name) {
  return "Deallocate " + std::string(name);
}
const std::string kResetAll = "ResetAll";
const std::string kDiscardAll = "DiscardAll";
const std::string kDeallocateAll = "DeallocateAll";
const std::string kUnsupported = "Unsupported";
const std::string kCommit = "Commit";
const std::string kRollback = "Rollback";
// A statement with no effect recorded only for its CommandComplete tag.
std::string tagged(std::string_view tag) {
  return "None " + std::string(tag);
}

struct Case {
  std::string_view sql;
  std::vector<std::string> want;
};

// A lone SET of `name` whose replay text is the whole statement.
Case sets(std::string_view sql, std::string_view name) {
  return {sql, {set(name, sql)}};
}
Case none(std::string_view sql) {
  return {sql, {}};
}
// A statement recorded only for its tag.
Case onlyTag(std::string_view sql, std::string_view tag) {
  return {sql, {tagged(tag)}};
}

void check(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(effects(c.sql), c.want) << c.sql;
  }
}

TEST(SqlSessionEffects, Set) {
  check({
      sets("SET x = 1", "x"),
      sets("SET x TO 'a'", "x"),
      sets("set x to 'a'", "x"),
      sets("SET statement_timeout = 0", "statement_timeout"),
      sets("SET search_path = a, \"B\", public", "search_path"),
      sets("SET search_path TO \"$user\", public", "search_path"),
      sets("SET application_name = 'a;b'", "application_name"),
      sets("SET work_mem = '64MB'", "work_mem"),
      sets("SET default_transaction_isolation = 'serializable'", "default_transaction_isolation"),
      sets("SET session_replication_role = replica", "session_replication_role"),
      sets("SET timezone = 'UTC'", "timezone"),
      sets("SET x = -1.5e3", "x"),
      sets("SET x = E'it''s'", "x"),
  });
}

TEST(SqlSessionEffects, SetSession) {
  check({
      sets("SET SESSION x = 1", "x"),
      sets("set session x to 'a'", "x"),
      sets("SET SESSION TIME ZONE 'UTC'", "timezone"),
      sets("SET SESSION search_path TO public", "search_path"),
      sets("SET SESSION ROLE admin", "role"),
  });
}

// They answer "SET" like a session SET, so they are recorded (as None) to keep the
// CommandCompletes of a text matched to its statements; SET CONSTRAINTS has a tag of its own.
TEST(SqlSessionEffects, TransactionScopedSetsHaveNone) {
  check({
      onlyTag("SET LOCAL x = 1", "SET"),
      onlyTag("set local x to 'a'", "SET"),
      onlyTag("Set Local search_path = public", "SET"),
      onlyTag("SET LOCAL TIME ZONE 'UTC'", "SET"),
      onlyTag("SET LOCAL ROLE admin", "SET"),
      onlyTag("SET LOCAL SESSION AUTHORIZATION alice", "SET"),
      onlyTag("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "SET"),
      onlyTag("SET TRANSACTION READ ONLY", "SET"),
      onlyTag("set transaction read write, isolation level read committed", "SET"),
      onlyTag("SET TRANSACTION SNAPSHOT '00000003-0000001B-1'", "SET"),
      onlyTag("SET transaction_isolation = 'serializable'", "SET"),
      onlyTag("SET SESSION transaction_read_only = on", "SET"),
      none("SET CONSTRAINTS ALL DEFERRED"),
      none("SET CONSTRAINTS c1, c2 IMMEDIATE"),
  });
}

TEST(SqlSessionEffects, SessionCharacteristicsIsUnsupported) {
  check({
      {"SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", {kUnsupported}},
      {"set session characteristics as transaction isolation level serializable", {kUnsupported}},
  });
  const auto e = sessionEffects("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].kind, EffectKind::Unsupported);
  EXPECT_FALSE(e[0].name.empty());  // something to log
}

TEST(SqlSessionEffects, SpecialSpellings) {
  check({
      sets("SET TIME ZONE 'UTC'", "timezone"),
      sets("SET TIME ZONE 'Europe/Paris'", "timezone"),
      sets("SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE", "timezone"),
      sets("SET TIME ZONE -7", "timezone"),
      sets("SET NAMES 'UTF8'", "client_encoding"),
      sets("SET NAMES LATIN1", "client_encoding"),
      sets("SET SCHEMA 'app'", "search_path"),
      sets("SET ROLE admin", "role"),
      sets("SET ROLE NONE", "role"),
      sets("SET ROLE 'admin'", "role"),
      sets("SET SESSION AUTHORIZATION alice", "session_authorization"),
      sets("SET SESSION SESSION AUTHORIZATION alice", "session_authorization"),
      sets("SET XML OPTION DOCUMENT", "xmloption"),
      sets("SET XML OPTION CONTENT", "xmloption"),
      sets("SET xmloption = content", "xmloption"),
  });
}

TEST(SqlSessionEffects, NamesFoldLikePostgres) {
  check({
      sets("SET Search_Path TO public", "search_path"),
      sets("SeT tImE zOnE 'UTC'", "timezone"),
      sets("sEt NaMeS 'UTF8'", "client_encoding"),
      sets("SET WORK_MEM = '1MB'", "work_mem"),
      sets("SET \"work_mem\" = '1MB'", "work_mem"),
      // Custom (dotted) parameters.
      sets("SET myapp.tenant = 42", "myapp.tenant"),
      sets("SET myapp.tenant_id TO 'abc'", "myapp.tenant_id"),
      sets("SET MyApp.Tenant = 1", "myapp.tenant"),
      sets("SET a.b.c = 1", "a.b.c"),
      sets("SET myapp . tenant = 1", "myapp.tenant"),
      sets("SET \"myapp\".\"tenant\" = 1", "myapp.tenant"),
      sets("SET \"myapp.tenant\" = 1", "myapp.tenant"),
      sets("SET SESSION myapp.tenant = 1", "myapp.tenant"),
  });
}

// PostgreSQL finds a parameter whatever the case of its name, quoted or not (guc.c compares
// names case-insensitively): SET "TimeZone" and SET timezone change the same parameter, and
// must land under one name, or the two versions are both replayed, in name order.
TEST(SqlSessionEffects, QuotedParameterNamesFoldToo) {
  check({
      sets("SET \"TimeZone\" = 'UTC'", "timezone"),
      sets("SET \"DateStyle\" TO 'ISO, MDY'", "datestyle"),
      sets("SET \"MyApp\".\"Tenant\" = 1", "myapp.tenant"),
      sets("SET \"MyApp.Tenant\" = 1", "myapp.tenant"),
      {"RESET \"TimeZone\"", {reset("timezone")}},
  });
}

// SET x TO DEFAULT is RESET x: the value the session started with, which for the client is its
// startup packet's, not what the pooled backend started with. Replaying the text on another
// backend gives that backend's default instead.
TEST(SqlSessionEffects, SetToDefaultIsAReset) {
  check({
      {"SET TimeZone TO DEFAULT", {reset("timezone")}},
      {"SET search_path = DEFAULT", {reset("search_path")}},
      {"SET SESSION application_name TO default", {reset("application_name")}},
      {"SET TIME ZONE DEFAULT", {reset("timezone")}},
      {"SET TIME ZONE LOCAL", {reset("timezone")}},
      {"SET SESSION AUTHORIZATION DEFAULT", {reset("session_authorization")}},
  });
}

// Not valid SQL: the server refuses them, so no CommandComplete comes for their record.
TEST(SqlSessionEffects, NotASet) {
  check({
      onlyTag("SET", "SET"),
      onlyTag("SET = 1", "SET"),
      onlyTag("SET 'x' = 1", "SET"),
      onlyTag("SET ;", "SET"),
  });
}

TEST(SqlSessionEffects, Reset) {
  check({
      {"RESET x", {reset("x")}},
      {"reset X", {reset("x")}},
      {"RESET search_path", {reset("search_path")}},
      {"RESET myapp.tenant", {reset("myapp.tenant")}},
      {"RESET MyApp.Tenant", {reset("myapp.tenant")}},
      {"RESET TIME ZONE", {reset("timezone")}},
      {"reset time zone", {reset("timezone")}},
      {"RESET SESSION AUTHORIZATION", {reset("session_authorization")}},
      {"RESET ROLE", {reset("role")}},
      {"RESET XML OPTION", {reset("xmloption")}},
      {"RESET timezone", {reset("timezone")}},
      {"RESET ALL", {kResetAll}},
      {"reset all", {kResetAll}},
      {"Reset All", {kResetAll}},
      onlyTag("RESET", "RESET"),
      onlyTag("RESET 1", "RESET"),
  });
}

TEST(SqlSessionEffects, Discard) {
  check({
      {"DISCARD ALL", {kDiscardAll}},
      {"discard all", {kDiscardAll}},
      {"  DISCARD   ALL  ", {kDiscardAll}},
      none("DISCARD PLANS"),
      none("DISCARD SEQUENCES"),
      none("DISCARD TEMP"),
      none("DISCARD TEMPORARY"),
      none("DISCARD"),
  });
}

TEST(SqlSessionEffects, Deallocate) {
  check({
      {"DEALLOCATE stmt1", {deallocate("stmt1")}},
      {"DEALLOCATE PREPARE stmt1", {deallocate("stmt1")}},
      {"deallocate prepare stmt1", {deallocate("stmt1")}},
      {"DEALLOCATE MyStmt", {deallocate("mystmt")}},
      {"DEALLOCATE \"MyStmt\"", {deallocate("MyStmt")}},
      {"DEALLOCATE PREPARE \"MyStmt\"", {deallocate("MyStmt")}},
      {"DEALLOCATE \"a\"\"b\"", {deallocate("a\"b")}},
      {"DEALLOCATE \"my stmt\"", {deallocate("my stmt")}},
      {"DEALLOCATE \"all\"", {deallocate("all")}},  // a statement named all
      {"DEALLOCATE ALL", {kDeallocateAll}},
      {"deallocate all", {kDeallocateAll}},
      {"DEALLOCATE PREPARE ALL", {kDeallocateAll}},
      none("DEALLOCATE"),
      none("DEALLOCATE 'x'"),
  });
}

// PREPARE is an unreserved keyword: DEALLOCATE prepare deallocates the statement named
// "prepare" (gram.y: DEALLOCATE name, name: ColId).
TEST(SqlSessionEffects, DeallocateAStatementNamedPrepare) {
  check({
      {"DEALLOCATE prepare", {deallocate("prepare")}},
      {"DEALLOCATE PREPARE", {deallocate("prepare")}},
      {"DEALLOCATE PREPARE prepare", {deallocate("prepare")}},
  });
}

// U&"..." (with its escapes) is not decoded: no name, the server answers the DEALLOCATE (the
// record keeps its tag in step with the other statements).
TEST(SqlSessionEffects, DeallocateUnicodeQuotedNameIsLeftToTheServer) {
  check({
      {"DEALLOCATE U&\"Stmt1\"", {deallocate("")}},
  });
}

TEST(SqlSessionEffects, SeveralStatementsInOrder) {
  check({
      {"SET a = 1; SET b = 2", {set("a", "SET a = 1"), set("b", "SET b = 2")}},
      {"  SET a = 1 ;  RESET b;DISCARD ALL;  ", {set("a", "SET a = 1"), reset("b"), kDiscardAll}},
      {"/* lead */ SET a = 1 /* tail */ ; -- c\n SET b TO 'x' -- end",
       {set("a", "SET a = 1"), set("b", "SET b TO 'x'")}},
      {"SET /* inside */ a = 1", {set("a", "SET /* inside */ a = 1")}},
      {"\n\tSET a = 1\n", {set("a", "SET a = 1")}},
      {";;; SET a = 1 ;;", {set("a", "SET a = 1")}},
      {"SELECT 1; SET a = 1; SELECT 2", {set("a", "SET a = 1")}},
      {"BEGIN; SET LOCAL a = 1; SET b = 2; COMMIT",
       {tagged("SET"), set("b", "SET b = 2"), kCommit}},
      {"RESET ALL; SET a = 1", {kResetAll, set("a", "SET a = 1")}},
      {"SET a = 1; RESET ALL", {set("a", "SET a = 1"), kResetAll}},
      {"DEALLOCATE s1; DEALLOCATE ALL; DISCARD ALL",
       {deallocate("s1"), kDeallocateAll, kDiscardAll}},
      {"SET a = 1; SET a = 2", {set("a", "SET a = 1"), set("a", "SET a = 2")}},
  });
}

TEST(SqlSessionEffects, SemicolonsThatDoNotSplit) {
  check({
      {"SET a = 'x;y'; SET b = 2", {set("a", "SET a = 'x;y'"), set("b", "SET b = 2")}},
      {"SET a = E'x\\';y'; SET b = 2", {set("a", "SET a = E'x\\';y'"), set("b", "SET b = 2")}},
      {"SET a = 'it''s;'", {set("a", "SET a = 'it''s;'")}},
      {"SET a = $$p;q$$; SET b = 2", {set("a", "SET a = $$p;q$$"), set("b", "SET b = 2")}},
      {"SET a = $tag$;$$;$tag$", {set("a", "SET a = $tag$;$$;$tag$")}},
      {"SET a = 1 /* ; */; SET b = 2 -- ;\n", {set("a", "SET a = 1"), set("b", "SET b = 2")}},
      {"SET a = 1 /* nested /* ; */ ; */", {set("a", "SET a = 1")}},
      {"SET search_path = \"a;b\", public",
       {set("search_path", "SET search_path = \"a;b\", public")}},
      {"SET a = 1 -- ; SET b = 2", {set("a", "SET a = 1")}},
  });
}

TEST(SqlSessionEffects, OtherStatementsHaveNone) {
  check({
      none(""),
      none("   "),
      none(";"),
      none("-- SET x = 1"),
      none("/* SET x = 1 */"),
      none("/* SET x = 1 */ SELECT 1"),
      none("SELECT 'set x=1'"),
      none("SELECT 'RESET ALL; DISCARD ALL'"),
      none("select $$; SET x = 1; $$"),
      none("UPDATE t SET a = 1"),
      none("update t set a = 1; update u set b = 2"),
      none("INSERT INTO t VALUES ('SET x = 1') ON CONFLICT (id) DO UPDATE SET a = 1"),
      none("ALTER ROLE r SET search_path = public"),
      none("ALTER DATABASE d SET timezone = 'UTC'"),
      none("ALTER SYSTEM SET work_mem = '1MB'"),
      none("ALTER TABLE t ALTER COLUMN c SET DEFAULT 1"),
      none("CREATE FUNCTION f() RETURNS int SET search_path = public AS $$ SELECT 1 $$ "
           "LANGUAGE sql"),
      none("SELECT set_config('x', '1', false)"),
      none("SHOW timezone"),
      none("PREPARE p AS SELECT 1"),
      none("EXECUTE p"),
      none("\"set\" x = 1"),
      none("settings"),
      none("reset_all"),
      none("DISCARDS ALL"),
  });
}

TEST(SqlSessionEffects, UnlexableTextDoesNotCrash) {
  for (std::string_view sql :
       {"SET a = 'unterminated", "SET a = 1; SET b = 'oops", "SET a = $$never", "SET /* open",
        "DEALLOCATE \"open", "SET \"\" = 1", "SET a = 1abc"}) {
    const auto e = sessionEffects(sql);
    EXPECT_LE(e.size(), 1u) << sql;
  }
}

TEST(SqlSessionEffects, ReplayTextIsOneTrimmedStatement) {
  // Random statements and separators: each Set's text is a piece of the input with no ';',
  // blank or comment around it.
  const std::vector<std::string> statements = {
      "SET a = 1", "set b to 'x;y'",  "SET c = $$;$$", "SET TIME ZONE 'UTC'", "RESET d",
      "SELECT 1",  "SET LOCAL e = 2", "DISCARD ALL",   "SET f.g = \"h;\"",    "SET SCHEMA 'k'",
  };
  const std::vector<std::string> separators = {";", " ; ", ";\n", "; -- c\n", " /* ; */ ;", ";;"};
  std::mt19937 rng(7);
  for (int iter = 0; iter < 500; ++iter) {
    std::string sql = rng() % 2 ? " " : "";
    std::vector<std::string> wantTexts;
    const int n = 1 + static_cast<int>(rng() % 5);
    for (int k = 0; k < n; ++k) {
      const std::string& s = statements[rng() % statements.size()];
      sql += s;
      if (s.rfind("SET", 0) == 0 && s.rfind("SET LOCAL", 0) != 0) wantTexts.push_back(s);
      if (s.rfind("set", 0) == 0) wantTexts.push_back(s);
      if (k + 1 < n || rng() % 2) sql += separators[rng() % separators.size()];
    }
    std::vector<std::string> texts;
    for (const auto& e : sessionEffects(sql)) {
      if (e.kind != EffectKind::Set) continue;
      EXPECT_NE(sql.find(e.text), std::string::npos) << sql;
      texts.push_back(e.text);
    }
    EXPECT_EQ(texts, wantTexts) << sql;
  }
}

TEST(SqlSessionEffects, TransactionControl) {
  check({
      {"SAVEPOINT a", {"Savepoint a"}},
      {"savepoint \"My Point\"", {"Savepoint My Point"}},
      {"SAVEPOINT A", {"Savepoint a"}},
      {"RELEASE a", {"Release a"}},
      {"RELEASE SAVEPOINT a", {"Release a"}},
      {"release savepoint", {"Release savepoint"}},  // a savepoint named savepoint
      {"RELEASE SAVEPOINT savepoint", {"Release savepoint"}},
      {"ROLLBACK TO a", {"RollbackTo a"}},
      {"ROLLBACK TO SAVEPOINT a", {"RollbackTo a"}},
      {"rollback work to savepoint \"A\"", {"RollbackTo A"}},
      {"ROLLBACK TRANSACTION TO a", {"RollbackTo a"}},
      {"ROLLBACK TO savepoint", {"RollbackTo savepoint"}},
      {"ROLLBACK", {kRollback}},
      {"ROLLBACK WORK", {kRollback}},
      {"ROLLBACK AND CHAIN", {kRollback}},
      {"ABORT", {kRollback}},
      {"abort transaction", {kRollback}},
      {"COMMIT", {kCommit}},
      {"commit work and no chain", {kCommit}},
      {"END", {kCommit}},
      {"END TRANSACTION", {kCommit}},
      none("COMMIT PREPARED 'x'"),
      none("ROLLBACK PREPARED 'x'"),
      none("PREPARE TRANSACTION 'x'"),
      none("BEGIN"),
      none("START TRANSACTION READ ONLY"),
      {"BEGIN; SET a = 1; SAVEPOINT s; RESET a; ROLLBACK TO s; RELEASE s; COMMIT",
       {set("a", "SET a = 1"), "Savepoint s", reset("a"), "RollbackTo s", "Release s", kCommit}},
  });
}

// Each record's tag is what the server answers when the statement runs.
TEST(SqlSessionEffects, TagsAreTheServersCommandCompleteTags) {
  const std::vector<std::pair<std::string_view, std::string_view>> cases = {
      {"SET a = 1", "SET"},
      {"SET a TO DEFAULT", "SET"},
      {"SET LOCAL a = 1", "SET"},
      {"SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", "SET"},
      {"RESET a", "RESET"},
      {"RESET ALL", "RESET"},
      {"DISCARD ALL", "DISCARD ALL"},
      {"DEALLOCATE s", "DEALLOCATE"},
      {"DEALLOCATE ALL", "DEALLOCATE ALL"},
      {"SAVEPOINT a", "SAVEPOINT"},
      {"RELEASE a", "RELEASE"},
      {"ROLLBACK TO a", "ROLLBACK"},
      {"ROLLBACK", "ROLLBACK"},
      {"ABORT", "ROLLBACK"},
      {"COMMIT", "COMMIT"},
      {"END", "COMMIT"},
  };
  for (const auto& [sql, tag] : cases) {
    const auto e = sessionEffects(sql);
    ASSERT_EQ(e.size(), 1u) << sql;
    EXPECT_EQ(std::string_view(e[0].tag), tag) << sql;
    EXPECT_TRUE(tagMatches(e[0], tag)) << sql;
    EXPECT_FALSE(tagMatches(e[0], "SELECT 1")) << sql;
  }
  // A COMMIT of a failed transaction answers ROLLBACK.
  EXPECT_TRUE(tagMatches(sessionEffects("COMMIT")[0], "ROLLBACK"));
  EXPECT_FALSE(tagMatches(sessionEffects("ROLLBACK")[0], "COMMIT"));
  EXPECT_FALSE(tagMatches(sessionEffects("RESET a")[0], "SET"));
}

TEST(SqlSessionEffects, MentionsSessionControl) {
  for (std::string_view yes : {"DISCARD ALL",
                               "discard all",
                               "DiScArD plans",
                               "DEALLOCATE s1",
                               "deallocate all",
                               "SELECT 1; Deallocate x",
                               "/* discard */ SELECT 1",
                               "SELECT 'deallocate'",
                               "discarded",
                               "x_discard_y",
                               "DISCARD",
                               "DEALLOCATE",
                               "SAVEPOINT a",
                               "release a",
                               "ROLLBACK TO a",
                               "Rollback",
                               "UPDATE t SET x = 1; RELEASE SAVEPOINT s",
                               "abc rollback",
                               "WHERE re = 1; rElEaSe s",
                               "ds dsavepoint",
                               "SELECT 1;DEALLOCATE",
                               "rrollback"}) {
    EXPECT_TRUE(mentionsSessionControl(yes)) << yes;
  }
  for (std::string_view no :
       {"", "d", "discar", "DEALLOC s1", "SELECT 1", "dis card", "RESET ALL", "SET x = 1",
        "PREPARE p AS SELECT 1", "COMMIT", "END", "BEGIN", "releas", "rollbac", "savepoin",
        "SELECT abalance FROM pgbench_accounts WHERE aid = 1", "dealer saves records"}) {
    EXPECT_FALSE(mentionsSessionControl(no)) << no;
  }
}

TEST(SqlSessionEffects, StartupSettingSql) {
  EXPECT_EQ(startupSettingSql("timezone", "UTC"),
            "SELECT pg_catalog.set_config('timezone', E'UTC', false)");
  EXPECT_EQ(startupSettingSql("search_path", "\"$user\", public"),
            "SELECT pg_catalog.set_config('search_path', E'\"$user\", public', false)");
  EXPECT_EQ(startupSettingSql("application_name", "O'Brien"),
            "SELECT pg_catalog.set_config('application_name', E'O''Brien', false)");
  EXPECT_EQ(startupSettingSql("application_name", "a\\b"),
            "SELECT pg_catalog.set_config('application_name', E'a\\\\b', false)");
  EXPECT_EQ(startupSettingSql("application_name", "\\'"),
            "SELECT pg_catalog.set_config('application_name', E'\\\\''', false)");
  EXPECT_EQ(startupSettingSql("application_name", "x'); DROP TABLE t; --"),
            "SELECT pg_catalog.set_config('application_name', E'x''); DROP TABLE t; --', false)");
  EXPECT_EQ(startupSettingSql("application_name", ""),
            "SELECT pg_catalog.set_config('application_name', E'', false)");
  EXPECT_EQ(startupSettingSql("myapp.tenant", "42"),
            "SELECT pg_catalog.set_config('myapp.tenant', E'42', false)");
}

TEST(SqlSessionEffects, StartupRestoreSqlIsOneStatement) {
  EXPECT_EQ(startupRestoreSql({{"timezone", "Asia/Tokyo"}}),
            "SELECT pg_catalog.set_config('timezone', E'Asia/Tokyo', false)");
  const std::string sql = startupRestoreSql({{"timezone", "UTC"}, {"application_name", "a;'b"}});
  EXPECT_EQ(sql,
            "SELECT pg_catalog.set_config('timezone', E'UTC', false), "
            "pg_catalog.set_config('application_name', E'a;''b', false)");
  EXPECT_TRUE(sessionEffects(sql).empty());  // one SELECT, lexed whole
}

TEST(SqlSessionEffects, StartupSettingSqlIsOneStatementWithTheValueIntact) {
  // Whatever the value, the text lexes as one statement; the string holds the value back.
  std::mt19937 rng(11);
  const std::string alphabet = "ab'\\\";$-/* \n";
  for (int iter = 0; iter < 1000; ++iter) {
    std::string value;
    for (std::size_t k = rng() % 12; k > 0; --k)
      value.push_back(alphabet[rng() % alphabet.size()]);
    const std::string sql = startupSettingSql("application_name", value);
    // Undo the escaping between E' and ', false).
    const std::string head = "SELECT pg_catalog.set_config('application_name', E'";
    const std::string tail = "', false)";
    ASSERT_EQ(sql.rfind(head, 0), 0u);
    ASSERT_GE(sql.size(), head.size() + tail.size());
    ASSERT_EQ(sql.substr(sql.size() - tail.size()), tail);
    const std::string inner = sql.substr(head.size(), sql.size() - head.size() - tail.size());
    std::string unescaped;
    for (std::size_t i = 0; i < inner.size(); ++i) {
      if (inner[i] == '\\' || inner[i] == '\'') {
        ASSERT_LT(i + 1, inner.size()) << sql;
        ASSERT_EQ(inner[i + 1], inner[i]) << sql;  // always doubled
        ++i;
      }
      unescaped.push_back(inner[i]);
    }
    EXPECT_EQ(unescaped, value);
    EXPECT_TRUE(sessionEffects(sql).empty()) << sql;  // a SELECT, lexed whole
  }
}

TEST(SqlSessionEffects, PlausibleParameterName) {
  for (std::string_view yes : {"timezone", "TimeZone", "search_path", "myapp.tenant", "a.b.c", "x",
                               "_x", "x1", "work_mem", "DateStyle"}) {
    EXPECT_TRUE(plausibleParameterName(yes)) << yes;
  }
  EXPECT_TRUE(plausibleParameterName(std::string(127, 'a')));
  EXPECT_FALSE(plausibleParameterName(std::string(128, 'a')));
  using namespace std::string_view_literals;
  for (std::string_view no : std::vector<std::string_view>{
           "", ".", ".x", "x.", "a b", "a'b", "a\"b", "a;b", "a-b", "a\\b", "a$b", "a(b", "a/b",
           "caf\xc3\xa9", "a\0b"sv, "x'); DROP TABLE t; --"}) {
    EXPECT_FALSE(plausibleParameterName(no)) << no;
  }
}

}  // namespace
}  // namespace pgsplit::sql
