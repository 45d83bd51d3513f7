// analyze(): what the text decides alone, and what it leaves to the primary's catalog (user
// functions, relations read); resolve(): the catalog's facts applied.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "pgsplit/sql/analysis.hpp"

namespace pgsplit::sql {
namespace {

using Keys = std::vector<std::string>;

std::string k(std::string_view schema, std::string_view name) {
  return objectKey(schema, name);
}

Keys functionsOf(std::string_view sql, const FunctionOverrides* o = nullptr) {
  return analyze(sql, o).functions;
}
Keys relationsOf(std::string_view sql) {
  return analyze(sql).relations;
}

TEST(SqlNames, KeysAndDisplay) {
  const std::string key = k("public", "audit_log");
  EXPECT_EQ(keySchema(key), "public");
  EXPECT_EQ(keyName(key), "audit_log");
  EXPECT_EQ(displayName(key), "public.audit_log");
  EXPECT_EQ(displayName(k("", "f")), "f");
  EXPECT_EQ(displayName(k("App", "My \"F\"")), "\"App\".\"My \"\"F\"\"\"");
  EXPECT_EQ(keySchema(k("", "f")), "");
}

TEST(SqlNames, ParseQualifiedName) {
  EXPECT_EQ(parseQualifiedName("audit_log"), k("", "audit_log"));
  EXPECT_EQ(parseQualifiedName("App.Audit_Log"), k("app", "audit_log"));
  EXPECT_EQ(parseQualifiedName("\"App\".\"x\"\"y\""), k("App", "x\"y"));
  EXPECT_EQ(parseQualifiedName(" public . f "), k("public", "f"));
  EXPECT_EQ(parseQualifiedName("select"), k("", "select"));
  for (const std::string_view bad : {"", "a.b.c", "a.", ".a", "a b", "1abc", "f()", "\"\"", "a;b",
                                     "U&\"x\"", "'f'", "a.'b'", "\"open"}) {
    EXPECT_FALSE(parseQualifiedName(bad).has_value()) << bad;
  }
  // PostgreSQL cuts identifiers at 63 bytes, on a character boundary.
  const std::string longName(70, 'x');
  EXPECT_EQ(parseQualifiedName(longName), k("", std::string(63, 'x')));
  const std::string utf8 = std::string(62, 'x') + "\xC3\xA9";  // 64 bytes, é straddles 63
  EXPECT_EQ(parseQualifiedName(utf8), k("", std::string(62, 'x')));
}

TEST(SqlAnalysis, UserFunctionsAreListedNotWrites) {
  const Analysis a = analyze("SELECT myfunc(1)");
  EXPECT_TRUE(a.classification.readOnly);
  EXPECT_STREQ(a.classification.reason, "read: SELECT");
  EXPECT_EQ(a.functions, Keys{k("", "myfunc")});
  EXPECT_TRUE(a.relations.empty());
  // The catalog-less classification still calls it a write.
  EXPECT_FALSE(classify("SELECT myfunc(1)").readOnly);

  EXPECT_EQ(functionsOf("SELECT app.audit_log('x')"), Keys{k("app", "audit_log")});
  EXPECT_EQ(functionsOf("SELECT MyFunc(), \"MyFunc\"()"), (Keys{k("", "myfunc"), k("", "MyFunc")}));
  EXPECT_EQ(functionsOf("SELECT public.lower('x')"), Keys{k("public", "lower")});
  EXPECT_EQ(functionsOf("SELECT pg_catalog.not_a_builtin()"),
            Keys{k("pg_catalog", "not_a_builtin")});
  EXPECT_EQ(functionsOf("SELECT f(1), f(2), g() FROM t WHERE h(a)"),
            (Keys{k("", "f"), k("", "g"), k("", "h")}));
  EXPECT_EQ(functionsOf("SELECT * FROM my_srf(1) AS s(a)"), Keys{k("", "my_srf")});
  EXPECT_EQ(functionsOf("SELECT lower(x), now(), count(*) FROM t"), Keys{});
  EXPECT_EQ(functionsOf("BEGIN READ ONLY; SELECT f()"), Keys{k("", "f")});
}

TEST(SqlAnalysis, WhatTheTextDecidesStaysDecided) {
  for (const std::string_view sql :
       {"SELECT nextval('s'), f()", "SELECT f(); INSERT INTO t VALUES (1)", "SELECT db.s.f()",
        "SELECT U&\"f\"()", "SELECT f() FROM t FOR UPDATE",
        "WITH d AS (DELETE FROM t RETURNING 1) SELECT f() FROM d"}) {
    const Analysis a = analyze(sql);
    EXPECT_FALSE(a.classification.readOnly) << sql;
    EXPECT_TRUE(a.functions.empty() && a.relations.empty()) << sql;
  }
  const Analysis pinned = analyze("SELECT pg_advisory_lock(1), f() FROM t");
  EXPECT_TRUE(pinned.classification.pins);
  EXPECT_FALSE(pinned.needsCatalog());
}

TEST(SqlAnalysis, RelationsReadAreListed) {
  EXPECT_EQ(relationsOf("SELECT * FROM t"), Keys{k("", "t")});
  EXPECT_EQ(relationsOf("SELECT a, b, c FROM t WHERE x = 1"), Keys{k("", "t")});
  EXPECT_EQ(relationsOf("SELECT * FROM s.t AS x JOIN u ON true, ONLY v, \"W\" w"),
            (Keys{k("s", "t"), k("", "u"), k("", "v"), k("", "W")}));
  EXPECT_EQ(relationsOf("SELECT * FROM a LEFT JOIN (b JOIN c USING (id)) ON true, d"),
            (Keys{k("", "a"), k("", "b"), k("", "c"), k("", "d")}));
  EXPECT_EQ(relationsOf("SELECT * FROM t WHERE id IN (SELECT id FROM u) AND EXISTS "
                        "(SELECT 1 FROM v)"),
            (Keys{k("", "t"), k("", "u"), k("", "v")}));
  EXPECT_EQ(relationsOf("SELECT (SELECT a FROM u), b FROM t"), (Keys{k("", "u"), k("", "t")}));
  EXPECT_EQ(relationsOf("SELECT * FROM (SELECT * FROM t) s, LATERAL (SELECT 1 FROM u) l"),
            (Keys{k("", "t"), k("", "u")}));
  EXPECT_EQ(relationsOf("WITH x AS (SELECT * FROM t) SELECT * FROM x"),
            (Keys{k("", "t"), k("", "x")}));
  EXPECT_EQ(relationsOf("SELECT 1 FROM t UNION SELECT 2 FROM u ORDER BY 1"),
            (Keys{k("", "t"), k("", "u")}));
  EXPECT_EQ(relationsOf("TABLE t"), Keys{k("", "t")});
  EXPECT_EQ(relationsOf("SELECT 1 UNION TABLE s.t"), Keys{k("s", "t")});
  EXPECT_EQ(relationsOf("COPY s.t TO STDOUT"), Keys{k("s", "t")});
  EXPECT_EQ(relationsOf("COPY t (a) TO STDOUT"), Keys{k("", "t")});
  EXPECT_EQ(relationsOf("COPY (SELECT * FROM t) TO STDOUT"), Keys{k("", "t")});
  EXPECT_EQ(relationsOf("EXPLAIN SELECT * FROM t"), Keys{k("", "t")});
  EXPECT_EQ(relationsOf("DECLARE c CURSOR FOR SELECT * FROM t"), Keys{k("", "t")});
  EXPECT_EQ(relationsOf("BEGIN READ ONLY; SELECT * FROM t; COMMIT"), Keys{k("", "t")});
  EXPECT_EQ(relationsOf("select * from T1 join \"T2\" on true"), (Keys{k("", "t1"), k("", "T2")}));
  // Not relations: functions in FROM, the system catalogs, FROM inside expressions.
  EXPECT_EQ(relationsOf("SELECT * FROM generate_series(1, 2) g, unnest('{1}'::int[])"), Keys{});
  EXPECT_EQ(relationsOf("SELECT * FROM pg_catalog.pg_class, information_schema.tables"), Keys{});
  EXPECT_EQ(relationsOf("SELECT extract(epoch FROM now()), trim(both 'x' FROM w), "
                        "substring(w FROM 1) FROM t WHERE a IS DISTINCT FROM b"),
            Keys{k("", "t")});
  EXPECT_EQ(relationsOf("SELECT * FROM ROWS FROM (generate_series(1, 2)) r"), Keys{});
  EXPECT_EQ(relationsOf("SELECT 1"), Keys{});
  EXPECT_EQ(relationsOf("VALUES (1)"), Keys{});
  // Writes need no catalog.
  EXPECT_EQ(relationsOf("INSERT INTO t SELECT * FROM u"), Keys{});
  EXPECT_EQ(relationsOf("SELECT * FROM t FOR UPDATE"), Keys{});
}

TEST(SqlAnalysis, CatalogChangesOfDdl) {
  const auto kinds = [](std::string_view sql) { return analyze(sql).catalogChanges.kinds; };
  constexpr std::uint8_t F = kFunctionsChange;
  constexpr std::uint8_t R = kRelationsChange;
  EXPECT_EQ(kinds("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'"), F);
  EXPECT_EQ(kinds("CREATE OR REPLACE FUNCTION f() RETURNS int VOLATILE AS 'x' LANGUAGE sql"), F);
  EXPECT_EQ(kinds("ALTER FUNCTION f() VOLATILE"), F);
  EXPECT_EQ(kinds("DROP FUNCTION IF EXISTS f"), F);
  EXPECT_EQ(kinds("DROP ROUTINE r"), F);
  EXPECT_EQ(kinds("CREATE AGGREGATE a (int) (sfunc = f, stype = int)"), F);
  EXPECT_EQ(kinds("CREATE TABLE t (a int)"), R);
  EXPECT_EQ(kinds("CREATE UNLOGGED TABLE t (a int)"), R);
  EXPECT_EQ(kinds("ALTER TABLE t SET UNLOGGED"), R);
  EXPECT_EQ(kinds("DROP VIEW v"), R);
  EXPECT_EQ(kinds("CREATE OR REPLACE VIEW v AS SELECT 1"), R);
  EXPECT_EQ(kinds("CREATE MATERIALIZED VIEW m AS SELECT 1"), R);
  EXPECT_EQ(kinds("CREATE POLICY p ON t USING (true)"), R);
  EXPECT_EQ(kinds("SELECT * INTO UNLOGGED t2 FROM t"), R);
  EXPECT_EQ(kinds("IMPORT FOREIGN SCHEMA s FROM SERVER x INTO y"), R);
  EXPECT_EQ(kinds("CREATE EXTENSION pgcrypto"), F | R);
  EXPECT_EQ(kinds("ALTER ROLE app SET search_path = app, public"), F | R);
  EXPECT_EQ(kinds("CREATE SCHEMA app"), F | R);
  EXPECT_EQ(kinds("BEGIN; CREATE FUNCTION f() RETURNS int AS 'x' LANGUAGE sql; COMMIT"), F);
  EXPECT_EQ(kinds("CREATE TABLE t (a int); DROP FUNCTION f"), F | R);
  // Temporary objects are invisible to other sessions; indexes, types, operators and casts
  // change no fact pgsplit keeps.
  EXPECT_EQ(kinds("CREATE TEMP TABLE t (a int)"), 0);
  EXPECT_EQ(kinds("CREATE TEMPORARY VIEW v AS SELECT 1"), 0);
  EXPECT_EQ(kinds("CREATE UNIQUE INDEX i ON t (a)"), 0);
  EXPECT_EQ(kinds("CREATE TYPE mood AS ENUM ('a')"), 0);
  EXPECT_EQ(kinds("CREATE OPERATOR +++ (function = f, leftarg = int)"), 0);
  EXPECT_EQ(kinds("SELECT * FROM t"), 0);
  EXPECT_EQ(kinds("INSERT INTO t VALUES (1)"), 0);
}

TEST(SqlAnalysis, DdlNamesWhatItChanges) {
  const auto changes = [](std::string_view sql) { return analyze(sql).catalogChanges; };
  constexpr std::uint8_t F = kFunctionsChange;
  constexpr std::uint8_t R = kRelationsChange;
  CatalogChanges c = changes(
      "CREATE OR REPLACE FUNCTION app.Audit(a int, b text) RETURNS int "
      "LANGUAGE sql AS 'SELECT 1'");
  EXPECT_EQ(c.whole, 0);
  EXPECT_EQ(c.functions, Keys{k("app", "audit")});
  EXPECT_TRUE(c.relations.empty());
  c = changes("DROP FUNCTION IF EXISTS f(int), \"G\"(), s.h CASCADE");
  EXPECT_EQ(c.functions, (Keys{k("", "f"), k("", "G"), k("s", "h")}));
  c = changes("DROP TABLE IF EXISTS a, s.b CASCADE");
  EXPECT_EQ(c.relations, (Keys{k("", "a"), k("s", "b")}));
  c = changes("CREATE TABLE IF NOT EXISTS t (a int)");
  EXPECT_EQ(c.relations, Keys{k("", "t")});
  c = changes("ALTER TABLE IF EXISTS ONLY t SET UNLOGGED");
  EXPECT_EQ(c.relations, Keys{k("", "t")});
  c = changes("CREATE UNLOGGED TABLE c PARTITION OF p FOR VALUES FROM (1) TO (2)");
  EXPECT_EQ(c.relations, (Keys{k("", "c"), k("", "p")}));
  c = changes("CREATE TABLE c (LIKE p) INHERITS (p, q)");
  EXPECT_EQ(c.relations, (Keys{k("", "c"), k("", "p"), k("", "q")}));
  c = changes("ALTER TABLE p ATTACH PARTITION s.c FOR VALUES IN (1)");
  EXPECT_EQ(c.relations, (Keys{k("", "p"), k("s", "c")}));
  c = changes("ALTER TABLE t RENAME TO u");
  EXPECT_EQ(c.relations, (Keys{k("", "t"), k("", "u")}));
  c = changes("CREATE OR REPLACE VIEW s.v AS SELECT nextval('x')");
  EXPECT_EQ(c.relations, Keys{k("s", "v")});
  c = changes("CREATE MATERIALIZED VIEW IF NOT EXISTS m AS SELECT 1");
  EXPECT_EQ(c.relations, Keys{k("", "m")});
  c = changes("CREATE POLICY p ON s.t FOR SELECT USING (f())");
  EXPECT_EQ(c.relations, Keys{k("s", "t")});
  c = changes("CREATE RULE r AS ON SELECT TO t DO INSTEAD SELECT 1");
  EXPECT_EQ(c.relations, Keys{k("", "t")});
  // What pgsplit cannot pin to names drops everything of the kind.
  EXPECT_EQ(changes("ALTER TABLE ALL IN TABLESPACE a SET TABLESPACE b").whole, R);
  EXPECT_EQ(changes("CREATE RULE r AS ON INSERT TO t DO NOTHING").whole, R);
  EXPECT_EQ(changes("CREATE SCHEMA s").whole, F | R);
  EXPECT_EQ(changes("SELECT * INTO UNLOGGED x FROM t").whole, R);
}

TEST(SqlAnalysis, ConfiguredOverrides) {
  const FunctionOverrides o({k("", "audit"), k("app", "log_it"), k("", "pg_sleep")},
                            {k("app", "get_user"), k("", "cheap"), k("", "nextval"),
                             k("", "pg_advisory_lock"), k("", "audit")});
  const Analysis w = analyze("SELECT audit(1)", &o);
  EXPECT_FALSE(w.classification.readOnly);
  EXPECT_STREQ(w.classification.reason, "write: function audit() is listed in write_functions");
  EXPECT_FALSE(analyze("SELECT other.audit(1)", &o).classification.readOnly);  // any schema
  EXPECT_FALSE(analyze("SELECT app.log_it()", &o).classification.readOnly);
  EXPECT_FALSE(analyze("SELECT log_it()", &o).classification.readOnly);  // unqualified call
  EXPECT_EQ(functionsOf("SELECT other.log_it()", &o), Keys{k("other", "log_it")});
  EXPECT_FALSE(analyze("SELECT pg_sleep(1)", &o).classification.readOnly);  // a built-in too

  const Analysis r = analyze("SELECT app.get_user(1), get_user(2), cheap(), nextval('s')", &o);
  EXPECT_TRUE(r.classification.readOnly) << r.classification.reason;
  EXPECT_TRUE(r.functions.empty());
  EXPECT_EQ(functionsOf("SELECT other.get_user(1)", &o), Keys{k("other", "get_user")});
  // A read-only entry never lifts a pin; write_functions wins over read_only_functions.
  EXPECT_TRUE(analyze("SELECT pg_advisory_lock(1)", &o).classification.pins);
  EXPECT_FALSE(analyze("SELECT audit()", &o).classification.readOnly);
}

CatalogSnapshot snapshotWith(std::vector<std::pair<std::string, FunctionFacts>> functions,
                             std::vector<std::pair<std::string, RelationFacts>> relations,
                             bool reachable = true) {
  CatalogSnapshot s;
  auto f = std::make_shared<CatalogSnapshot::FunctionMap>();
  for (auto& [key, facts] : functions)
    f->emplace(key, facts);
  auto r = std::make_shared<CatalogSnapshot::RelationMap>();
  for (auto& [key, facts] : relations)
    r->emplace(key, facts);
  s.functions = f;
  s.relations = r;
  s.reachable = reachable;
  return s;
}

TEST(SqlResolve, CatalogDecidesFunctions) {
  const CatalogSnapshot snap = snapshotWith(
      {{k("", "stable_f"), {'s', nullptr}},
       {k("", "immutable_f"), {'i', nullptr}},
       {k("public", "audit_log"), {'v', "write: function public.audit_log() is VOLATILE"}},
       {k("", "gone"), {0, "write: function gone() does not exist"}}},
      {});
  Misses misses;
  Classification c = resolve(analyze("SELECT stable_f(), immutable_f()"), &snap, &misses);
  EXPECT_TRUE(c.readOnly);
  EXPECT_FALSE(c.provisional);
  EXPECT_TRUE(misses.empty());

  c = resolve(analyze("SELECT stable_f(), public.audit_log('x')"), &snap, &misses);
  EXPECT_FALSE(c.readOnly);
  EXPECT_STREQ(c.reason, "write: function public.audit_log() is VOLATILE");
  EXPECT_FALSE(c.provisional);

  c = resolve(analyze("SELECT gone()"), &snap, &misses);
  EXPECT_FALSE(c.readOnly);
  EXPECT_STREQ(c.reason, "write: function gone() does not exist");

  c = resolve(analyze("SELECT stable_f(), new_f(), app.new_f()"), &snap, &misses);
  EXPECT_FALSE(c.readOnly);
  EXPECT_TRUE(c.provisional);
  EXPECT_STREQ(c.reason, "write: function not looked up in the catalog yet");
  EXPECT_EQ(misses.functions, (Keys{k("", "new_f"), k("app", "new_f")}));

  // Without a catalog, a user function is a write.
  c = resolve(analyze("SELECT stable_f()"), nullptr);
  EXPECT_FALSE(c.readOnly);
  EXPECT_STREQ(c.reason, "write: function not known read-only");

  // A read-only transaction that calls a volatile function needs the primary.
  c = resolve(analyze("BEGIN READ ONLY; SELECT public.audit_log('x')"), &snap);
  EXPECT_EQ(c.txnStart, TxnStart::ReadWrite);
  c = resolve(analyze("BEGIN READ ONLY; SELECT stable_f()"), &snap);
  EXPECT_EQ(c.txnStart, TxnStart::ReadOnly);
}

TEST(SqlResolve, CatalogDecidesRelations) {
  const CatalogSnapshot snap = snapshotWith(
      {}, {{k("", "perm"), {true, nullptr}},
           {k("", "sessions"), {false, "write: relation public.sessions is UNLOGGED"}}});
  Misses misses;
  Classification c = resolve(analyze("SELECT * FROM perm"), &snap, &misses);
  EXPECT_TRUE(c.readOnly);
  c = resolve(analyze("SELECT * FROM perm JOIN sessions USING (id)"), &snap, &misses);
  EXPECT_FALSE(c.readOnly);
  EXPECT_STREQ(c.reason, "write: relation public.sessions is UNLOGGED");
  EXPECT_TRUE(c.primaryRead) << "a read of an UNLOGGED table writes nothing";
  EXPECT_TRUE(misses.empty());

  c = resolve(analyze("SELECT * FROM fresh"), &snap, &misses);
  EXPECT_FALSE(c.readOnly);
  EXPECT_TRUE(c.provisional);
  EXPECT_TRUE(c.primaryRead);
  // A function not known read-only may write: not a mere primary read.
  c = resolve(analyze("SELECT new_f() FROM fresh"), &snap);
  EXPECT_FALSE(c.readOnly);
  EXPECT_FALSE(c.primaryRead);
  // A write is never a primary read.
  c = resolve(analyze("UPDATE sessions SET x = 1"), &snap);
  EXPECT_FALSE(c.primaryRead);
  EXPECT_EQ(misses.relations, Keys{k("", "fresh")});

  // When the primary cannot be asked, reads of relations not looked up yet keep working.
  const CatalogSnapshot unreachable = snapshotWith({}, {}, false);
  EXPECT_TRUE(resolve(analyze("SELECT * FROM fresh"), &unreachable).readOnly);
  EXPECT_FALSE(resolve(analyze("SELECT f() FROM fresh"), &unreachable).readOnly);
  // No catalog at all: relations are taken as readable.
  EXPECT_TRUE(resolve(analyze("SELECT * FROM fresh"), nullptr).readOnly);
}

}  // namespace
}  // namespace pgsplit::sql
