#pragma once
// The classifier's specification as a table: may this text run on a replica? Shared by the
// unit test (tests/unit/sql_classifier_test.cpp) and the integration test that runs every
// read case on a real hot standby (tests/integration/standby_cases_test.cpp).
#include <ostream>
#include <string_view>
#include <vector>

#include "pgsplit/sql/classifier.hpp"

namespace pgsplit::sql::spec {

struct Case {
  std::string_view sql;
  bool readOnly = false;
  TxnStart txnStart = TxnStart::None;
  bool pins = false;
  bool setsSessionState = false;
  Hint hint = Hint::None;
  std::string_view reason;  // checked when not empty

  Case because(std::string_view why) const {
    Case c = *this;
    c.reason = why;
    return c;
  }
  Case pinned() const {
    Case c = *this;
    c.pins = true;
    return c;
  }
  Case session() const {
    Case c = *this;
    c.setsSessionState = true;
    return c;
  }
  Case txn(TxnStart t) const {
    Case c = *this;
    c.txnStart = t;
    return c;
  }
  Case hinted(Hint h) const {
    Case c = *this;
    c.hint = h;
    return c;
  }
};

inline void PrintTo(const Case& c, std::ostream* os) {
  *os << c.sql;
}

inline Case read(std::string_view sql) {
  Case c;
  c.sql = sql;
  c.readOnly = true;
  return c;
}
inline Case write(std::string_view sql) {
  Case c;
  c.sql = sql;
  return c;
}

constexpr auto RW = TxnStart::ReadWrite;
constexpr auto RO = TxnStart::ReadOnly;

inline const std::vector<Case> kCases = {
    // ---- Pure reads ----
    read("SELECT abalance FROM pgbench_accounts WHERE aid = 1234;").because("read: SELECT"),
    read("SELECT 1"),
    read("select 1;"),
    read("SeLeCt * FrOm t"),
    read("SELECT * FROM t WHERE a = $1 AND b = $2"),
    read("SELECT a, b FROM t ORDER BY a DESC NULLS LAST LIMIT 10 OFFSET 5"),
    read("SELECT DISTINCT ON (a) a, b FROM t ORDER BY a, b"),
    read("SELECT t.*, u.name FROM t JOIN u ON u.id = t.uid LEFT JOIN v ON v.id = t.id"),
    read("SELECT * FROM t1 JOIN t2 USING (id)"),
    read("SELECT * FROM a LEFT JOIN (b JOIN c ON true) ON true"),
    read("SELECT * FROM t1 NATURAL JOIN t2 CROSS JOIN t3"),
    read("SELECT a FROM t GROUP BY a HAVING count(*) > 1"),
    read("SELECT * FROM t WHERE a IN (SELECT b FROM u) AND EXISTS (SELECT 1 FROM v)"),
    read("SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4))"),
    read("SELECT * FROM t WHERE a = ANY($1) OR b = ALL (ARRAY[1, 2]) OR c = SOME ('{1}')"),
    read("SELECT CASE WHEN a > 0 THEN (1) ELSE (2) END FROM t"),
    read("SELECT ARRAY(SELECT 1), ROW(1, 2), ARRAY[1, 2]"),
    read("SELECT 1 UNION SELECT 2 INTERSECT SELECT 3 EXCEPT SELECT 4"),
    read("(SELECT 1) UNION (SELECT 2)").because("read: SELECT"),
    read("((SELECT 1))"),
    read("(VALUES (1), (2)) UNION ALL (SELECT 3)"),
    read("VALUES (1, 'a'), (2, 'b')").because("read: VALUES"),
    read("TABLE pgbench_branches").because("read: TABLE"),
    read("SHOW search_path").because("read: SHOW"),
    read("SHOW ALL"),
    read("show transaction_isolation"),
    read("FETCH 10 FROM c").because("read: FETCH"),
    read("FETCH ALL IN c"),
    read("MOVE NEXT FROM c").because("read: MOVE"),
    read("SELECT * FROM t FOR READ ONLY"),
    read("SELECT update_time, inserted_by, deleted FROM t"),
    read("SELECT * FROM t WHERE note = 'FOR UPDATE'"),
    read("SELECT share FROM t"),
    read("SELECT x FROM t WHERE w LIKE ('%' || v) AND w ILIKE ('a') AND v SIMILAR TO ('b')"),
    read("SELECT * FROM t WHERE x IS DISTINCT FROM (1)"),
    read("SELECT (date '2020-01-01', date '2020-02-01') OVERLAPS (date '2020-01-15', now())"),
    read("SELECT a FROM t ORDER BY (a + b), (c)"),
    read("SELECT a FROM t GROUP BY (a)"),
    read("SELECT a FROM t GROUP BY GROUPING SETS ((a), (b)), ROLLUP (a, b), CUBE (c)"),
    read("SELECT * FROM t FETCH FIRST (5) ROWS ONLY"),
    read("SELECT * FROM t ORDER BY a OFFSET (2) ROWS FETCH NEXT (3) ROWS WITH TIES"),
    read("SELECT now() AT TIME ZONE ('UTC')"),
    read("SELECT 1 WHERE NOT (true) AND (false OR (true))"),
    read("SELECT * FROM t WHERE x BETWEEN (1) AND (2)"),
    read("SELECT * FROM t TABLESAMPLE bernoulli(10) REPEATABLE (1)"),
    read("SELECT * FROM t TABLESAMPLE SYSTEM (5)"),
    read("SELECT x FROM t WINDOW w AS (PARTITION BY (y) ORDER BY z)"),
    read("SELECT a OPERATOR(pg_catalog.+) b FROM t"),
    read("SELECT $1::int, '1'::numeric(10, 2), x::character varying(4), y::bit varying(3)"),
    read("SELECT CAST(x AS varchar(3)), CAST('2020-01-01' AS timestamp(3) WITH TIME ZONE) FROM t"),
    read("SELECT CAST(g AS geometry(Point, 4326)) FROM t"),
    read("SELECT g::geometry(Point, 4326) FROM t"),
    read("SELECT interval '1 day', timestamp '2020-01-01', time(3) '10:00'"),
    read("SELECT current_user, session_user, current_timestamp, localtime, current_date"),
    read("SELECT current_timestamp(3), localtimestamp(2)"),
    read("SELECT 'a' || 'b', 1 + 2 * 3, 2 ^ 3, 10 % 3, 'x' ~ 'y', j->>'k', j #>> '{a}' FROM t"),
    read("SELECT E'\\x41', U&'\\0041', B'01', X'1F', N'abc', $$dollar$$, $t$tag$t$"),
    read("SELECT 1.5e10, .5, 0x1F, 1_000"),
    read("SELECT \"Column\", \"weird \"\" name\" FROM \"Table\""),
    read("SELECT * FROM t -- trailing comment"),
    read("SELECT /* inline */ 1 /* another /* nested */ one */"),
    read("  \n\t SELECT 1  \n"),
    read("SELECT 1;;"),

    // ---- Aliases with column lists, type modifiers: not function calls ----
    read("SELECT * FROM generate_series(1, 3) g(i)"),
    read("SELECT * FROM generate_series(1, 3) AS g(i)"),
    read("SELECT * FROM t x(a, b)"),
    read("SELECT * FROM public.t x(a, b)"),
    read("SELECT * FROM t AS x (a, b)"),
    read("SELECT * FROM \"T\" \"X\"(a)"),
    read("SELECT * FROM (VALUES (1, 2)) v(a, b)"),
    read("SELECT * FROM (SELECT 1, 2) s (a, b)"),
    read("SELECT * FROM unnest(ARRAY[1, 2]) WITH ORDINALITY AS u(v, n)"),
    read("SELECT * FROM ROWS FROM (generate_series(1, 2), unnest(ARRAY[1])) AS x(a, b)"),
    read("SELECT * FROM json_to_record('{}') AS r(a int, b numeric(10, 2), c varchar(3))"),
    read("SELECT * FROM json_to_recordset('[]') r(a int, g geometry(Point, 4326))"),
    read("SELECT * FROM t1, LATERAL (SELECT 1) l(x)"),
    read(
        "SELECT * FROM XMLTABLE('/r' PASSING xml '<r id=\"1\"/>' COLUMNS id int PATH '@id') AS xt"),
    read("SELECT * FROM JSON_TABLE(j, '$[*]' COLUMNS (a int PATH '$.a')) jt"),
    read("SELECT xmlelement(name foo, xmlattributes(1 AS bar)), xmlforest(a, b) FROM t"),
    read("SELECT count(*) FILTER (WHERE x > 1) OVER (PARTITION BY y) FROM t"),
    read("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM t"),

    // ---- Read-only built-in functions ----
    read("SELECT count(*), sum(a), avg(a), min(a), max(a) FROM t"),
    read("SELECT coalesce(a, 0), nullif(a, 0), greatest(a, b), least(a, b) FROM t"),
    read("SELECT now(), clock_timestamp(), statement_timestamp(), timeofday()"),
    read("SELECT lower(w), upper(w), length(w), substr(w, 1, 2), substring(w FROM 1 FOR 2) FROM t"),
    read("SELECT trim(both 'x' FROM w), btrim(w), ltrim(w), rtrim(w) FROM t"),
    read("SELECT concat(a, b), concat_ws(',', a, b), format('%s', a), replace(w, 'x', 'y') FROM t"),
    read("SELECT split_part(w, ',', 1), to_char(now(), 'YYYY'), to_date('2020', 'YYYY') FROM t"),
    read("SELECT to_timestamp(0), date_trunc('day', now()), date_part('year', now())"),
    read("SELECT extract(epoch FROM now()), abs(-1), round(1.5), floor(1.5), ceil(1.5)"),
    read("SELECT random(), gen_random_uuid()"),
    read("SELECT array_agg(a ORDER BY b), string_agg(w, ',') FROM t"),
    read(
        "SELECT json_build_object('a', 1), jsonb_build_array(1), json_agg(t), jsonb_agg(t) FROM t"),
    read("SELECT jsonb_set(j, '{a}', '1'), jsonb_path_query(j, '$.a'), j -> 'a' FROM t"),
    read("SELECT jsonb_extract_path_text(j, 'a'), jsonb_object_keys(j), to_json(1), to_jsonb(1) "
         "FROM t"),
    read("SELECT row_to_json(t), row_number() OVER (), rank() OVER w, dense_rank() OVER w "
         "FROM t WINDOW w AS (ORDER BY a)"),
    read("SELECT lag(a) OVER (ORDER BY b), lead(a, 2) OVER (ORDER BY b) FROM t"),
    read("SELECT * FROM generate_series(1, 10), unnest(ARRAY[1, 2])"),
    read("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn(), pg_last_xact_replay_timestamp()"),
    read("SELECT inet_server_port(), inet_server_addr(), version(), pg_backend_pid()"),
    read("SELECT current_setting('search_path'), pg_sleep(0.1), pg_sleep_for('1 second')"),
    read("SELECT pg_typeof(1), md5('x'), sha256('x'::bytea), encode('x', 'hex'), "
         "decode('78', 'hex')"),
    read("SELECT array_length(ARRAY[a], 1), cardinality(ARRAY[a]), position('a' IN w) FROM t"),
    read("SELECT left('abc', 1), right('abc', 1), lpad('a', 3), rpad('a', 3), repeat('a', 3)"),
    read("SELECT reverse('abc'), starts_with('abc', 'a'), regexp_replace('a', 'a', 'b'), "
         "regexp_matches('a', 'a')"),
    read("SELECT age(now()), make_date(2020, 1, 1), pg_relation_size('t'), "
         "pg_size_pretty(pg_total_relation_size('t'))"),
    read("SELECT has_table_privilege('t', 'SELECT'), pg_get_viewdef('v'), to_regclass('t')"),
    read("SELECT pg_catalog.lower('X'), pg_catalog.count(*) FROM t"),
    read("SELECT \"pg_catalog\".lower('X')"),
    read("SELECT \"lower\"('X')"),
    read("SELECT LOWER('X'), Upper('x'), NOW()"),
    read("SELECT lower /* comment */ ('X')"),
    read("SELECT int4range(1, 5), int8(5), char_length('x'), overlay('abc' PLACING 'x' FROM 2)"),

    // ---- Data-modifying statements ----
    write("INSERT INTO t VALUES (1)").because("write: INSERT"),
    write("UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = 5;")
        .because("write: UPDATE"),
    write("DELETE FROM t WHERE id = 1").because("write: DELETE"),
    write("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v")
        .because("write: MERGE"),
    write("insert into t select * from u"),
    write("Update t SET a = 1"),
    write("INSERT INTO t (a, b) VALUES (1, 2) ON CONFLICT (a) DO UPDATE SET b = excluded.b"),
    write("INSERT INTO t DEFAULT VALUES RETURNING id"),
    write("DELETE FROM t USING u WHERE t.id = u.id RETURNING *"),
    write("UPDATE t SET (a, b) = (SELECT 1, 2) WHERE id = 1"),
    write("INSERT INTO temp VALUES (1)").because("write: INSERT"),  // a table named temp
    write("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x").because("write: INSERT"),
    write("WITH x AS (SELECT 1) UPDATE t SET a = 1").because("write: UPDATE"),
    write("WITH x AS (SELECT 1) DELETE FROM t").because("write: DELETE"),

    // ---- Data-modifying CTEs at any depth ----
    write("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x")
        .because("write: data-modifying CTE"),
    write("WITH x AS (INSERT INTO t VALUES (1) RETURNING id) SELECT id FROM x"),
    write("WITH x AS (UPDATE t SET a = 1 RETURNING a) SELECT * FROM x"),
    write("WITH x AS (MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE) SELECT 1"),
    write("WITH a AS (SELECT 1), b AS (DELETE FROM t RETURNING 1) SELECT * FROM a, b"),
    write("WITH a AS (WITH b AS (INSERT INTO t VALUES (1) RETURNING id) SELECT * FROM b) "
          "SELECT * FROM a")
        .because("write: data-modifying CTE"),
    write("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r), "
          "d AS NOT MATERIALIZED (DELETE FROM t) SELECT * FROM r"),
    write("SELECT * FROM (WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d) s"),
    write("(WITH d AS (UPDATE t SET a = 1 RETURNING a) SELECT * FROM d)"),

    // ---- Reads with CTEs ----
    read("WITH x AS (SELECT 1) SELECT * FROM x").because("read: WITH"),
    read("WITH x(a, b) AS (SELECT 1, 2), y (c) AS MATERIALIZED (SELECT 3) SELECT * FROM x, y"),
    read("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) "
         "SELECT * FROM r"),
    read("WITH x AS NOT MATERIALIZED (SELECT 1) SELECT * FROM x"),
    read("WITH RECURSIVE t(id, p) AS (SELECT 1, 0 UNION ALL SELECT id + 1, id FROM t WHERE id < 3) "
         "SEARCH DEPTH FIRST BY id SET ord SELECT * FROM t"),
    read("SELECT * FROM (WITH q(a) AS (SELECT 1) SELECT a FROM q) s"),
    read("WITH \"Q\"(\"A\") AS (SELECT 1) SELECT * FROM \"Q\""),
    read("WITH a AS (SELECT * FROM t), b AS (SELECT * FROM a) SELECT * FROM b"),

    // ---- Row locks, anywhere ----
    write("SELECT * FROM t FOR UPDATE").because("write: FOR UPDATE"),
    write("SELECT * FROM t FOR NO KEY UPDATE").because("write: FOR NO KEY UPDATE"),
    write("SELECT * FROM t FOR SHARE").because("write: FOR SHARE"),
    write("SELECT * FROM t FOR KEY SHARE").because("write: FOR KEY SHARE"),
    write("SELECT * FROM t FOR UPDATE NOWAIT"),
    write("SELECT * FROM t FOR UPDATE SKIP LOCKED"),
    write("SELECT * FROM t FOR UPDATE OF t NOWAIT"),
    write("SELECT * FROM t FOR SHARE OF t SKIP LOCKED"),
    write("select * from t for update"),
    write("SELECT * FROM t WHERE a IN (SELECT b FROM u FOR NO KEY UPDATE SKIP LOCKED)")
        .because("write: FOR NO KEY UPDATE"),
    write("SELECT * FROM (SELECT * FROM t FOR SHARE) s"),
    write("WITH l AS (SELECT * FROM t FOR UPDATE) SELECT * FROM l"),
    write("SELECT * FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.id = t.id FOR KEY SHARE)"),
    write("(SELECT * FROM t FOR UPDATE) UNION ALL (SELECT * FROM u)"),
    write("SELECT * FROM t LIMIT 1 FOR UPDATE"),

    // ---- SELECT INTO ----
    write("SELECT * INTO t2 FROM t").because("write: SELECT INTO"),
    write("SELECT a, b INTO TABLE t2 FROM t"),
    write("SELECT 1 AS x INTO UNLOGGED t2"),
    write("SELECT * INTO TEMP t2 FROM t").pinned().because("pin: temporary table"),
    write("SELECT * INTO TEMPORARY TABLE t2 FROM t").pinned(),
    write("SELECT * INTO LOCAL TEMP t2 FROM t").pinned(),
    write("SELECT * INTO GLOBAL TEMPORARY t2 FROM t").pinned(),
    write("SELECT * INTO pg_temp.t2 FROM t").pinned(),
    write("SELECT * INTO TABLE \"pg_temp\".t2 FROM t").pinned(),
    read("SELECT 'INTO t2' FROM t"),

    // ---- Functions that write or need the primary ----
    write("SELECT nextval('s')").because("write: function nextval"),
    write("SELECT setval('s', 1)").because("write: function setval"),
    write("SELECT currval('s')").because("write: function currval"),
    write("SELECT lastval()").because("write: function lastval"),
    write("SELECT NEXTVAL('s')"),
    write("SELECT pg_catalog.nextval('s')"),
    write("SELECT \"nextval\"('s')"),
    write("INSERT INTO t VALUES (nextval('s'))"),
    write("SELECT id, nextval('s') AS n FROM t"),
    write("SELECT * FROM t WHERE id = currval('s')"),
    write("SELECT trim(leading nextval('s')::text FROM 'x')"),
    write("SELECT 1 FROM t ORDER BY nextval('s')"),
    write("SELECT CASE WHEN true THEN nextval('s') END"),
    write("SELECT (SELECT nextval('s'))"),
    write("VALUES (nextval('s'))"),
    write("SELECT * FROM nextval('s')"),
    write("SELECT * FROM t, nextval('s') n"),
    write("SELECT * FROM t CROSS JOIN LATERAL nextval('s') AS n(v)"),
    write("SELECT * FROM t WHERE x IN (nextval('s'))"),
    write("SELECT \"pg_catalog\".\"nextval\"('s')"),
    write("SELECT pg_catalog . nextval ('s')"),
    write("SELECT db.pg_catalog.nextval('s')"),
    write("SELECT jsonb_build_object('id', nextval('s'))"),
    write("SELECT * FROM t GROUP BY a HAVING max(b) > currval('s')"),
    write("SELECT x FROM t WINDOW w AS (PARTITION BY nextval('s'))"),
    write("SELECT * FROM ROWS FROM (nextval('s')) AS r(v)"),
    write("WITH x(a) AS (SELECT nextval('s')) SELECT * FROM x"),
    write("WITH x AS (SELECT 1), y(a) AS (SELECT setval('s', 1)) SELECT * FROM y"),
    write("SELECT pg_advisory_xact_lock(1)").because("write: advisory lock function"),
    write("SELECT pg_advisory_xact_lock_shared(1)"),
    write("SELECT pg_try_advisory_xact_lock(1)"),
    write("SELECT pg_try_advisory_xact_lock_shared(1, 2)"),
    write("SELECT pg_advisory_unlock(1)"),
    write("SELECT pg_advisory_unlock_shared(1)"),
    write("SELECT pg_advisory_unlock_all()"),
    write("SELECT txid_current()").because("write: function txid_*"),
    write("SELECT txid_current_if_assigned()"),
    write("SELECT txid_current_snapshot()"),
    write("SELECT pg_current_xact_id()").because("write: function pg_current_xact_id*"),
    write("SELECT pg_current_xact_id_if_assigned()"),
    write("SELECT pg_current_wal_lsn()").because("write: function pg_current_wal_*"),
    write("SELECT pg_current_wal_insert_lsn(), pg_current_wal_flush_lsn()"),
    write("SELECT pg_switch_wal()"),
    write("SELECT pg_create_restore_point('x')"),
    write("SELECT set_config('search_path', 'x', false)").pinned().because("pin: set_config"),
    write("SELECT pg_notify('ch', 'payload')").because("write: function pg_notify"),
    write("SELECT lo_import('/tmp/x')").because("write: large object function"),
    write("SELECT lo_export(1, '/tmp/x')"),
    write("SELECT lo_create(0)"),
    write("SELECT lo_unlink(1)"),
    write("SELECT lo_put(1, 0, 'x')"),
    write("SELECT lo_from_bytea(0, 'x')"),
    write("SELECT lo_open(1, 131072)"),
    write("SELECT lo_write(1, 'x')"),
    write("SELECT lo_truncate(1, 0)"),
    write("SELECT lowrite(1, 'x')"),
    write("SELECT pg_cancel_backend(1)"),
    write("SELECT pg_terminate_backend(1)"),
    write("SELECT pg_reload_conf()"),
    write("SELECT pg_rotate_logfile()"),
    write("SELECT pg_stat_reset()").because("write: function pg_stat_reset*"),
    write("SELECT pg_stat_reset_shared('bgwriter')"),
    write("SELECT dblink_exec('conn', 'DELETE FROM t')").because("write: function dblink*"),
    write("SELECT * FROM dblink('conn', 'SELECT 1') AS t(a int)"),
    write("SELECT * FROM t, dblink('x', 'y') AS (a int)"),
    write("SELECT * FROM unnest(ARRAY[1]) WITH ORDINALITY, dblink('x') AS (a int)"),
    write("SELECT pg_logical_emit_message(true, 'p', 'x')").because("write: function pg_logical_*"),
    write("SELECT * FROM pg_logical_slot_get_changes('s', NULL, NULL)"),
    write("SELECT pg_walfile_name(pg_current_wal_lsn())"),
    write("SELECT setseed(0.5)"),

    // ---- Functions not known read-only: writes until the catalog says otherwise ----
    write("SELECT myfunc(1)").because("write: function not known read-only"),
    write("SELECT * FROM my_table_function(1)").because("write: function not known read-only"),
    write("SELECT public.lower('x')").because("write: function not known read-only"),
    write("SELECT app.audit_log('x')"),
    write("SELECT \"LOWER\"('x')"),
    write("SELECT U&\"lower\"('x')"),
    write("SELECT a FROM t WHERE check_something(a)"),
    write("SELECT count(*) FROM t WHERE a = ANY(my_ids())"),
    write("SELECT query_to_xml('DELETE FROM t RETURNING 1', true, true, '')"),
    write("SELECT * FROM t ORDER BY my_rank(t)"),
    write("SELECT x FROM t WHERE y LIKE 'a' ESCAPE my_escape()"),

    // ---- EXPLAIN ----
    read("EXPLAIN SELECT * FROM t").because("read: EXPLAIN"),
    read("EXPLAIN VERBOSE SELECT * FROM t"),
    write("EXPLAIN DELETE FROM t").because("write: DELETE"),
    write("EXPLAIN INSERT INTO t VALUES (nextval('s'))"),
    read("EXPLAIN (ANALYZE false) SELECT * FROM t"),
    write("EXPLAIN (ANALYZE false) DELETE FROM t"),
    write("EXPLAIN (ANALYZE off, COSTS off) UPDATE t SET a = 1"),
    read("EXPLAIN (ANALYZE 0) SELECT 1"),
    read("EXPLAIN (FORMAT JSON) SELECT 1"),
    write("EXPLAIN (COSTS false, FORMAT yaml) WITH x AS (DELETE FROM t) SELECT 1"),
    // The planner folds immutable functions and prepares SELECT INTO's table: a standby
    // refuses these even without ANALYZE.
    write("EXPLAIN SELECT pg_walfile_name('0/0')"),
    write("EXPLAIN SELECT * INTO TEMP x FROM t").pinned(),
    write("EXPLAIN SELECT * FROM t FOR UPDATE"),
    read("EXPLAIN DECLARE c CURSOR FOR SELECT 1"),
    read("EXPLAIN ANALYZE SELECT * FROM t").because("read: EXPLAIN ANALYZE"),
    read("EXPLAIN ANALYSE VERBOSE SELECT * FROM t"),
    read("EXPLAIN (ANALYZE) SELECT 1"),
    read("EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM t"),
    read("EXPLAIN (ANALYZE true, TIMING off) SELECT 1"),
    write("EXPLAIN ANALYZE DELETE FROM t").because("write: DELETE"),
    write("EXPLAIN ANALYZE INSERT INTO t VALUES (1)"),
    write("EXPLAIN (FORMAT JSON, ANALYZE) UPDATE t SET a = 1").because("write: UPDATE"),
    write("EXPLAIN (ANALYZE on) SELECT nextval('s')").because("write: function nextval"),
    write("EXPLAIN (ANALYZE) SELECT * FROM t FOR UPDATE"),
    write("EXPLAIN ANALYZE WITH x AS (DELETE FROM t RETURNING 1) SELECT * FROM x"),
    write("EXPLAIN ANALYZE CREATE TABLE t2 AS SELECT 1"),
    write("EXPLAIN ANALYZE SELECT pg_advisory_lock(1)").pinned(),
    write("EXPLAIN (ANALYZE false, ANALYZE) DELETE FROM t"),
    write("EXPLAIN (\"analyze\") DELETE FROM t").because("write: DELETE"),
    write("EXPLAIN (costs off, \"analyze\" true) INSERT INTO t VALUES (1)"),
    write("EXPLAIN (ANALYZE \"off\") DELETE FROM t"),  // not worth decoding: conservative
    write("EXPLAIN EXECUTE p(1)").because("write: EXECUTE"),
    write("EXPLAIN VACUUM t"),
    write("EXPLAIN (ANALYZE"),

    // ---- COPY ----
    read("COPY (SELECT * FROM t) TO STDOUT").because("read: COPY TO STDOUT"),
    read("COPY (SELECT * FROM t WHERE a IN (SELECT 1)) TO STDOUT WITH (FORMAT csv, HEADER)"),
    read("COPY t TO STDOUT"),
    read("COPY public.t (a, b) TO STDOUT (FORMAT binary)"),
    read("copy \"T\" to stdout csv header"),
    read("COPY BINARY t TO STDOUT"),
    read("COPY (VALUES (1)) TO STDOUT"),
    write("COPY t FROM STDIN").because("write: COPY FROM"),
    write("COPY t (a, b) FROM STDIN WITH (FORMAT csv)"),
    write("COPY t FROM '/tmp/data.csv'"),
    write("COPY t TO '/tmp/out.csv'").because("write: COPY TO file"),
    write("COPY t TO PROGRAM 'gzip > /tmp/x.gz'"),
    write("COPY (SELECT * FROM t FOR UPDATE) TO STDOUT").because("write: FOR UPDATE"),
    write("COPY (SELECT nextval('s')) TO STDOUT"),
    write("COPY (DELETE FROM t RETURNING *) TO STDOUT").because("write: DELETE"),
    write("COPY (INSERT INTO t VALUES (1) RETURNING id) TO STDOUT"),
    write("COPY (SELECT 1) TO '/tmp/x'"),
    write("COPY"),

    // ---- Transactions ----
    write("BEGIN").txn(RW).because("transaction control: BEGIN"),
    write("BEGIN;").txn(RW),
    write("begin work").txn(RW),
    write("BEGIN TRANSACTION").txn(RW),
    write("BEGIN READ ONLY").txn(RO).because("transaction control: BEGIN READ ONLY"),
    write("BEGIN TRANSACTION READ ONLY").txn(RO),
    write("START TRANSACTION").txn(RW),
    write("START TRANSACTION READ ONLY").txn(RO),
    write("start transaction read only, deferrable").txn(RO),
    write("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").txn(RO),
    write("START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").txn(RO),
    write("BEGIN READ ONLY ISOLATION LEVEL READ COMMITTED").txn(RO),
    write("BEGIN ISOLATION LEVEL READ UNCOMMITTED, READ ONLY, NOT DEFERRABLE").txn(RO),
    write("BEGIN READ WRITE").txn(RW),
    write("BEGIN ISOLATION LEVEL SERIALIZABLE").txn(RW),
    write("BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY").txn(RW),
    write("BEGIN READ ONLY ISOLATION LEVEL SERIALIZABLE DEFERRABLE").txn(RW),
    write("BEGIN ISOLATION LEVEL REPEATABLE READ").txn(RW),
    write("BEGIN READ ONLY, READ WRITE").txn(RW),
    write("BEGIN READ ONLY GARBAGE").txn(RW),
    write("START").because("write: unknown statement"),
    write("COMMIT").because("transaction control"),
    write("COMMIT WORK"),
    write("COMMIT AND CHAIN"),
    write("END").because("transaction control"),
    write("END TRANSACTION"),
    write("ROLLBACK").because("transaction control"),
    write("ROLLBACK TO SAVEPOINT s1"),
    write("ROLLBACK TO s1"),
    write("ABORT").because("transaction control"),
    write("SAVEPOINT s1").because("transaction control"),
    write("RELEASE SAVEPOINT s1").because("transaction control"),
    write("RELEASE s1"),
    write("PREPARE TRANSACTION 'gid-1'").because("transaction control"),
    write("COMMIT PREPARED 'gid-1'").because("transaction control"),
    write("ROLLBACK PREPARED 'gid-1'"),
    write("BEGIN; SELECT 1; COMMIT;").txn(RW),
    write("BEGIN READ ONLY; SELECT 1; COMMIT").txn(RO),
    write("BEGIN READ ONLY; SELECT 1; COMMIT; BEGIN; UPDATE t SET a = 1; COMMIT").txn(RW),
    write("BEGIN READ ONLY; SET LOCAL statement_timeout = 0; SELECT 1; SAVEPOINT a; "
          "ROLLBACK TO SAVEPOINT a; RELEASE a; SHOW search_path; COMMIT")
        .txn(RO),
    write("BEGIN READ ONLY; SET search_path = x; RESET work_mem; SELECT 1; END").txn(RO).session(),
    // A standby refuses these inside a read-only transaction; the primary runs them.
    write("BEGIN READ ONLY; INSERT INTO t VALUES (1); COMMIT").txn(RW),
    write("BEGIN READ ONLY; SELECT nextval('s'); COMMIT").txn(RW),
    write("BEGIN READ ONLY; SELECT txid_current(); COMMIT").txn(RW),
    write("BEGIN READ ONLY; LISTEN x; COMMIT").txn(RW).pinned(),
    write("BEGIN READ ONLY; CREATE TEMP TABLE x (a int); COMMIT").txn(RW).pinned(),
    write("SELECT pg_advisory_lock(1); START TRANSACTION READ ONLY").txn(RW).pinned(),
    write("BEGIN READ ONLY; SET TRANSACTION READ WRITE").txn(RW),
    write("BEGIN READ ONLY; SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
        .txn(RW)
        .session(),
    write("BEGIN READ ONLY; COMMIT PREPARED 'x'").txn(RW),
    write("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        .because("transaction control: SET TRANSACTION"),
    write("SET TRANSACTION READ ONLY"),
    write("SET CONSTRAINTS ALL DEFERRED").because("transaction control: SET CONSTRAINTS"),

    // ---- Session state ----
    write("SET search_path = app, public").session().because("session state: SET"),
    write("SET search_path TO app").session(),
    write("set statement_timeout = '5s'").session(),
    write("SET SESSION work_mem = '64MB'").session(),
    write("SET TIME ZONE 'UTC'").session(),
    write("SET ROLE app_reader").session(),
    write("SET SESSION AUTHORIZATION app").session(),
    write("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY").session(),
    write("SET NAMES 'UTF8'").session(),
    write("SET application_name = 'x'; SELECT 1").session(),
    write("RESET search_path").session().because("session state: RESET"),
    write("RESET ALL").session(),
    write("reset role").session(),
    write("SET LOCAL search_path = x").because("write: SET LOCAL"),
    write("set local statement_timeout = 0"),
    write("DISCARD ALL").because("write: DISCARD"),
    write("DISCARD TEMP"),
    write("DEALLOCATE ALL").because("write: DEALLOCATE"),
    write("DEALLOCATE PREPARE p"),

    // ---- Pinning ----
    write("LISTEN channel").pinned().because("pin: LISTEN"),
    write("listen \"Channel\"").pinned(),
    write("UNLISTEN channel").because("write: UNLISTEN"),
    write("UNLISTEN *"),
    write("NOTIFY channel, 'payload'").because("write: NOTIFY"),
    write("CREATE TEMP TABLE x (a int)").pinned().because("pin: temporary table"),
    write("CREATE TEMPORARY TABLE x (a int)").pinned(),
    write("create temp table if not exists x as select 1").pinned(),
    write("CREATE GLOBAL TEMP TABLE x (a int)").pinned(),
    write("CREATE LOCAL TEMPORARY TABLE x (a int) ON COMMIT DROP").pinned(),
    write("CREATE TEMP VIEW v AS SELECT 1").pinned().because("pin: temporary view"),
    write("CREATE OR REPLACE TEMP VIEW v AS SELECT 1").pinned(),
    write("CREATE TEMP RECURSIVE VIEW v (n) AS SELECT 1").pinned(),
    write("CREATE TEMPORARY SEQUENCE s").pinned().because("pin: temporary sequence"),
    write("CREATE TABLE pg_temp.x (a int)").pinned().because("pin: temporary object"),
    write("CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql AS 'SELECT 1'").pinned(),
    write("CREATE VIEW v AS SELECT * FROM pg_temp.t").pinned(),
    write("CREATE TABLE \"pg_temp\".x (a int)").pinned(),
    write("CREATE SEQUENCE PG_TEMP_3.s").pinned(),
    write("CREATE TABLE \"PG_TEMP\".x (a int)").because("write: CREATE"),  // another schema
    read("SELECT * FROM pg_temp.t"),
    write("CREATE UNLOGGED TABLE x (a int)").because("write: CREATE"),
    write("CREATE TABLE temp_data (a int)").because("write: CREATE"),
    write("SELECT pg_advisory_lock(1)").pinned().because("pin: advisory lock"),
    write("SELECT pg_advisory_lock_shared(1)").pinned(),
    write("SELECT pg_try_advisory_lock(1, 2)").pinned(),
    write("SELECT pg_try_advisory_lock_shared(1)").pinned(),
    write("SELECT pg_catalog.pg_advisory_lock(hashtext('job'))").pinned(),
    write("SELECT nextval('s'), pg_advisory_lock(1)").pinned().because("pin: advisory lock"),
    write("INSERT INTO t VALUES (pg_try_advisory_lock(7))").pinned(),
    write("DECLARE c CURSOR WITH HOLD FOR SELECT * FROM t")
        .pinned()
        .because("pin: DECLARE WITH HOLD"),
    write("DECLARE c NO SCROLL CURSOR WITH HOLD FOR SELECT 1").pinned(),
    write("DECLARE c BINARY INSENSITIVE SCROLL CURSOR WITH HOLD FOR VALUES (1)").pinned(),
    read("DECLARE c CURSOR FOR SELECT * FROM t").because("read: DECLARE"),
    read("DECLARE c CURSOR WITHOUT HOLD FOR SELECT 1"),
    read("DECLARE hold CURSOR FOR SELECT 1"),
    write("DECLARE c CURSOR FOR SELECT * FROM t FOR UPDATE").because("write: FOR UPDATE"),
    write("DECLARE c CURSOR FOR SELECT nextval('s')"),
    write("DECLARE c CURSOR"),
    write("PREPARE p AS SELECT 1").pinned().because("pin: PREPARE"),
    write("PREPARE p (int, text) AS SELECT $1, $2").pinned(),
    write("PREPARE transaction AS SELECT 1").pinned(),
    write("LOAD 'auto_explain'").pinned().because("pin: LOAD"),

    // ---- Hints ----
    read("/* pgsplit:replica */ SELECT 1").hinted(Hint::Replica),
    read("/* pgsplit:primary */ SELECT 1").hinted(Hint::Primary).because("read: SELECT"),
    read("/*pgsplit:primary*/SELECT 1").hinted(Hint::Primary),
    read("  \n/*   PGSPLIT:Replica   */ SELECT 1").hinted(Hint::Replica),
    read("/* pgsplit : primary */ SELECT 1").hinted(Hint::Primary),
    read("/* other */ /* pgsplit:replica */ SELECT 1").hinted(Hint::Replica),
    write("/* pgsplit:replica */ INSERT INTO t VALUES (1)").hinted(Hint::Replica),
    write("/* pgsplit:replica */ SELECT nextval('s')").hinted(Hint::Replica),
    write("/* pgsplit:primary */ BEGIN READ ONLY").hinted(Hint::Primary).txn(RO),
    write("/* pgsplit:replica */").hinted(Hint::Replica).because("write: empty"),
    read("SELECT 1 /* pgsplit:replica */"),
    read("SELECT /* pgsplit:replica */ 1"),
    read("-- pgsplit:replica\nSELECT 1"),
    read("/* pgsplit:replicas */ SELECT 1"),
    read("/* pgsplit:standby */ SELECT 1"),
    read("/* pgsplit */ SELECT 1"),
    read("/* /* pgsplit:replica */ */ SELECT 1"),
    read("SELECT 1; /* pgsplit:replica */ SELECT 2"),

    // ---- Keywords hidden in literals, identifiers and comments ----
    read("SELECT 'INSERT'"),
    read("SELECT 'x; DELETE FROM t'"),
    read("SELECT 1 /* ; DELETE */"),
    read("SELECT 1 -- ; DELETE FROM t"),
    read("SELECT $$; DELETE FROM t$$"),
    read("SELECT $a$ $$; DELETE $$ $a$"),
    read("SELECT \"; DELETE FROM t\" FROM t"),
    read("SELECT \"insert\", \"update\" FROM t"),
    read("SELECT E'\\'; DELETE FROM t; --'"),
    read("SELECT 'nextval(1)', 'FOR UPDATE', 'INTO t'"),
    read("SELECT 'a'\n'; DELETE FROM t'"),
    read("SELECT E'x'\n'\\'; DELETE FROM t; --'"),
    read("SELECT * FROM \"nextval\""),
    read("SELECT nextval FROM t"),
    write("SELECT '\\'; DELETE FROM t; --'").because("write: DELETE"),
    write("SELECT 1; DELETE FROM t -- ;"),

    // ---- Multi-statement text ----
    read("SELECT 1; SELECT 2"),
    read("SELECT 1; SELECT 2; VALUES (3); TABLE t; SHOW search_path;"),
    write("SELECT 1; INSERT INTO t VALUES (1)").because("write: INSERT"),
    write("INSERT INTO t VALUES (1); SELECT 1").because("write: INSERT"),
    write("SELECT 1; SELECT nextval('s')"),
    write("SELECT 1; LISTEN x").pinned().because("pin: LISTEN"),
    write("UPDATE t SET a = 1; LISTEN x").pinned().because("pin: LISTEN"),
    write("SET x = 1; RESET y").session(),
    write("SELECT 1; SELECT 'unterminated").because("write: unterminated string"),
    write("SELECT 1;\nDELETE FROM t;\nSELECT 2;"),
    write("SELECT 1; COMMIT"),
    write("SELECT 1; BEGIN").txn(RW),
    write("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END; "
          "SELECT 3")
        .because("write: CREATE"),
    write("CREATE PROCEDURE p() BEGIN ATOMIC INSERT INTO t VALUES (1); END; LISTEN x").pinned(),

    // ---- Everything else is a write ----
    write("CREATE TABLE t (a int)").because("write: CREATE"),
    write("CREATE INDEX CONCURRENTLY i ON t (a)"),
    write("CREATE TABLE t2 AS SELECT * FROM t"),
    write("CREATE MATERIALIZED VIEW mv AS SELECT 1"),
    write("ALTER TABLE t ADD COLUMN b int").because("write: ALTER"),
    write("DROP TABLE t").because("write: DROP"),
    write("TRUNCATE t").because("write: TRUNCATE"),
    write("VACUUM ANALYZE t").because("write: VACUUM"),
    write("ANALYZE t").because("write: ANALYZE"),
    write("CLUSTER t USING i").because("write: CLUSTER"),
    write("REINDEX TABLE t").because("write: REINDEX"),
    write("REFRESH MATERIALIZED VIEW mv").because("write: REFRESH"),
    write("GRANT SELECT ON t TO app").because("write: GRANT"),
    write("REVOKE SELECT ON t FROM app").because("write: REVOKE"),
    write("LOCK TABLE t IN ACCESS SHARE MODE").because("write: LOCK"),
    write("CALL p(1)").because("write: CALL"),
    write("DO $$ BEGIN PERFORM 1; END $$").because("write: DO"),
    write("CHECKPOINT").because("write: CHECKPOINT"),
    write("EXECUTE p(1)").because("write: EXECUTE"),
    write("CLOSE c").because("write: CLOSE"),
    write("COMMENT ON TABLE t IS 'x'").because("write: COMMENT"),
    write("SECURITY LABEL ON TABLE t IS 'x'"),
    write("IMPORT FOREIGN SCHEMA s FROM SERVER x INTO y"),
    write("REASSIGN OWNED BY a TO b"),

    // ---- Empty, unknown and unlexable text ----
    write("").because("write: empty"),
    write("   \n\t  ").because("write: empty"),
    write("-- only a comment").because("write: empty"),
    write("/* only a comment */").because("write: empty"),
    write(";").because("write: empty"),
    write(" ; ;; "),
    write("FOO BAR").because("write: unknown statement"),
    write("SELEKT 1").because("write: unknown statement"),
    write("123"),
    write("'just a string'"),
    write(")"),
    write("$1"),
    write("\"select\" 1"),
    write("SELECT 'unterminated").because("write: unterminated string"),
    write("SELECT E'unterminated\\'").because("write: unterminated string"),
    write("SELECT B'0101"),
    write("SELECT U&'open"),
    write("SELECT \"unterminated").because("write: unterminated quoted identifier"),
    write("SELECT \"\" FROM t").because("write: zero-length quoted identifier"),
    write("SELECT 1 /* unterminated").because("write: unterminated comment"),
    write("SELECT 1 /* nested /* */ unterminated").because("write: unterminated comment"),
    write("SELECT $$unterminated").because("write: unterminated dollar quote"),
    write("SELECT $a$unterminated$b$"),
    write("SELECT 123abc").because("write: junk after number"),
    write("BEGIN READ ONLY; SELECT 'x").because("write: unterminated string"),
    write("LISTEN x; SELECT 'x"),
};

// What issue #4 lists as primary-only (and its read-only transactions), case by case.
inline const std::vector<Case> kPrimaryOnlyCases = {
    // ---- Row locks with NOWAIT / SKIP LOCKED, in subqueries, CTEs, LATERAL, set operations ----
    write("SELECT * FROM t FOR NO KEY UPDATE NOWAIT").because("write: FOR NO KEY UPDATE"),
    write("SELECT * FROM t FOR NO KEY UPDATE SKIP LOCKED").because("write: FOR NO KEY UPDATE"),
    write("SELECT * FROM t FOR KEY SHARE NOWAIT").because("write: FOR KEY SHARE"),
    write("SELECT * FROM t FOR KEY SHARE SKIP LOCKED").because("write: FOR KEY SHARE"),
    write("SELECT * FROM t FOR SHARE NOWAIT").because("write: FOR SHARE"),
    write("SELECT * FROM t FOR NO KEY UPDATE OF t SKIP LOCKED"),
    write("SELECT * FROM t JOIN u ON true FOR UPDATE OF t, u NOWAIT"),
    write("SELECT * FROM t JOIN u ON true FOR KEY SHARE OF t FOR UPDATE OF u"),
    write("SELECT * FROM t WHERE id IN (SELECT id FROM u FOR KEY SHARE NOWAIT)")
        .because("write: FOR KEY SHARE"),
    write("SELECT * FROM t WHERE EXISTS (SELECT 1 FROM u FOR NO KEY UPDATE NOWAIT)"),
    write("SELECT (SELECT a FROM u LIMIT 1 FOR KEY SHARE SKIP LOCKED) FROM t"),
    write("SELECT * FROM t, LATERAL (SELECT * FROM u WHERE u.id = t.id FOR NO KEY UPDATE) l"),
    write("WITH q AS (SELECT id FROM jobs WHERE state = 'new' LIMIT 10 FOR UPDATE SKIP LOCKED) "
          "SELECT * FROM q")
        .because("write: FOR UPDATE"),
    write("WITH a AS (WITH b AS (SELECT * FROM t FOR KEY SHARE) SELECT * FROM b) SELECT * FROM a"),
    write("SELECT 1 UNION ALL (SELECT 2 FROM t FOR NO KEY UPDATE NOWAIT)"),
    write("select * from t for\nno\tkey /* c */ update").because("write: FOR NO KEY UPDATE"),
    write("SELECT * FROM (SELECT * FROM (SELECT * FROM t FOR KEY SHARE SKIP LOCKED) a) b"),
    write("DECLARE c CURSOR FOR SELECT * FROM t FOR NO KEY UPDATE NOWAIT"),
    write("COPY (SELECT * FROM t FOR KEY SHARE SKIP LOCKED) TO STDOUT"),
    read("SELECT * FROM t WHERE note = 'FOR NO KEY UPDATE NOWAIT'"),
    read("SELECT \"for\", \"update\", \"share\" FROM t"),
    read("SELECT key, share FROM t"),

    // ---- Data-modifying CTEs at any depth ----
    write("WITH a AS (SELECT * FROM (WITH b AS (DELETE FROM t RETURNING *) SELECT * FROM b) s) "
          "SELECT * FROM a")
        .because("write: data-modifying CTE"),
    write("SELECT * FROM t WHERE EXISTS (WITH d AS (UPDATE u SET a = 1 RETURNING 1) "
          "SELECT * FROM d)"),
    write("SELECT (WITH i AS (INSERT INTO t VALUES (1) RETURNING id) SELECT id FROM i)"),
    write("WITH a AS (WITH b AS (WITH c AS (INSERT INTO t DEFAULT VALUES RETURNING 1) "
          "SELECT * FROM c) SELECT * FROM b) SELECT * FROM a"),
    write("WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT 1 FROM r), w AS (DELETE FROM t) TABLE r"),
    write("SELECT * FROM t, LATERAL (WITH m AS (MERGE INTO u USING t ON true WHEN MATCHED THEN "
          "DELETE RETURNING 1) SELECT * FROM m) x"),
    write("DECLARE c CURSOR FOR WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d")
        .because("write: data-modifying CTE"),
    write("EXPLAIN WITH d AS (DELETE FROM t RETURNING 1) SELECT 1"),
    write("COPY (WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d) TO STDOUT"),
    write("VALUES ((WITH d AS (DELETE FROM t RETURNING 1) SELECT 1))"),
    write("SELECT 1; WITH d AS (UPDATE t SET a = 1) SELECT 2"),

    // ---- EXPLAIN ANALYZE of a write ----
    write("EXPLAIN ANALYZE MERGE INTO t USING s ON true WHEN NOT MATCHED THEN INSERT VALUES (1)")
        .because("write: MERGE"),
    write("EXPLAIN (ANALYZE TRUE, VERBOSE) DELETE FROM t").because("write: DELETE"),
    write("EXPLAIN (analyze on, format json) INSERT INTO t SELECT * FROM u"),
    write("explain analyze update t set a = 1").because("write: UPDATE"),
    write("EXPLAIN ANALYZE SELECT * INTO t2 FROM t").because("write: SELECT INTO"),
    write("EXPLAIN ANALYZE WITH u AS (UPDATE t SET a = 1 RETURNING *) SELECT count(*) FROM u"),
    write("EXPLAIN ANALYZE EXECUTE p(1)").because("write: EXECUTE"),
    write("EXPLAIN ANALYZE SELECT * FROM t FOR NO KEY UPDATE SKIP LOCKED"),
    write("EXPLAIN ANALYZE SELECT nextval('s')").because("write: function nextval"),
    write("EXPLAIN ANALYZE VERBOSE CREATE TABLE t3 AS SELECT 1"),

    // ---- Large objects ----
    write("SELECT lo_import('/tmp/x', 1234)").because("write: large object function"),
    write("SELECT lo_put(16385, 0, '\\xaa')"),
    write("SELECT pg_catalog.lo_unlink(16385)").because("write: large object function"),
    write("SELECT LO_CREATE(-1)"),
    write("SELECT lo_get(16385)"),  // the whole family, reads included: conservative
    write("SELECT loread(lo_open(16385, 262144), 10)"),
    write("SELECT lowrite(lo_open(16385, 131072), 'x')"),
    write("SELECT lo_close(0)"),
    write("SELECT lo_lseek64(0, 0, 0)"),
    write("SELECT lo_from_bytea(0, decode('aa', 'hex')) FROM t"),

    // ---- pg_notify ----
    write("SELECT pg_catalog.pg_notify('jobs', id::text) FROM t")
        .because("write: function pg_notify"),
    write("SELECT PG_NOTIFY('c', '')"),
    write("SELECT count(*) FROM (SELECT pg_notify('c', 'x')) s"),
    write("WITH n AS (SELECT pg_notify('c', 'x')) SELECT 1 FROM n"),
    read("SELECT 'pg_notify(1)'"),

    // ---- txid / xact functions ----
    write("SELECT txid_status(1234)").because("write: function txid_*"),
    write("SELECT txid_snapshot_xmin(txid_current_snapshot())"),
    write("SELECT pg_current_xact_id()::text").because("write: function pg_current_xact_id*"),
    write("SELECT pg_current_snapshot()").because("write: function pg_current_snapshot"),
    write("SELECT pg_catalog.txid_current()"),
    write("SELECT * FROM t WHERE xmin::text = txid_current()::text"),
    write("SELECT pg_export_snapshot()").because("write: function pg_export_snapshot"),
    write("SELECT TXID_CURRENT()"),

    // ---- SERIALIZABLE: a standby refuses it, even READ ONLY ----
    write("START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE").txn(RW),
    write("begin transaction isolation level serializable read only").txn(RW),
    write("BEGIN; SET TRANSACTION ISOLATION LEVEL SERIALIZABLE; SELECT 1; COMMIT").txn(RW),
    write("BEGIN READ ONLY; SET TRANSACTION ISOLATION LEVEL SERIALIZABLE; SELECT 1").txn(RW),
    write("BEGIN; SET TRANSACTION READ ONLY, ISOLATION LEVEL SERIALIZABLE").txn(RW),
    write("BEGIN; SET TRANSACTION READ ONLY; SET TRANSACTION ISOLATION LEVEL SERIALIZABLE").txn(RW),
    write("BEGIN READ ONLY; SET LOCAL transaction_isolation = 'serializable'; SELECT 1").txn(RW),
    write("BEGIN READ ONLY; SET transaction_isolation TO serializable").txn(RW).session(),
    write("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        .session()
        .pinned()
        .because("pin: SERIALIZABLE by default"),
    write("SET default_transaction_isolation = 'serializable'")
        .session()
        .pinned()
        .because("pin: SERIALIZABLE by default"),
    write("set default_transaction_isolation to SERIALIZABLE").session().pinned(),
    write("SET SESSION default_transaction_isolation = \"serializable\"").session().pinned(),
    write("SET default_transaction_isolation = 'repeatable read'")
        .session()
        .because("session state: SET"),
    write("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ").session(),
    write("SELECT set_config('default_transaction_isolation', 'serializable', false)").pinned(),

    // ---- Read-only transactions declared with SET TRANSACTION ----
    write("BEGIN; SET TRANSACTION READ ONLY").txn(RO),
    write("BEGIN; SET TRANSACTION READ ONLY; SELECT * FROM t; COMMIT").txn(RO),
    write("START TRANSACTION; SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; SELECT 1")
        .txn(RO),
    write("BEGIN; SELECT 1; SET TRANSACTION READ ONLY; SELECT 2").txn(RO),
    write("BEGIN; SET TRANSACTION READ ONLY; INSERT INTO t VALUES (1)").txn(RW),
    write("BEGIN; SET TRANSACTION READ ONLY; SELECT nextval('s')").txn(RW),
    write("BEGIN READ WRITE; SET TRANSACTION READ ONLY").txn(RW),
    write("BEGIN ISOLATION LEVEL SERIALIZABLE; SET TRANSACTION READ ONLY").txn(RW),
    write("BEGIN; COMMIT; SET TRANSACTION READ ONLY").txn(RW),
    write("BEGIN; ROLLBACK TO SAVEPOINT a; SET TRANSACTION READ ONLY").txn(RO),
    write("BEGIN; SET TRANSACTION SNAPSHOT '00000003-0000001B-1'").txn(RW),
    write("SET TRANSACTION READ ONLY").because("transaction control: SET TRANSACTION"),
    write("SET TRANSACTION SNAPSHOT '00000003-0000001B-1'"),

    // ---- PREPARE of a write ----
    write("PREPARE ins (int) AS INSERT INTO t VALUES ($1)").pinned().because("pin: PREPARE"),
    write("PREPARE d AS DELETE FROM t WHERE id = $1").pinned(),
    write("PREPARE u AS WITH x AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM x").pinned(),
    write("PREPARE q AS SELECT nextval('s')").pinned(),
    write("PREPARE l AS SELECT * FROM t FOR UPDATE").pinned(),

    // ---- FETCH / MOVE ----
    read("FETCH FORWARD 5 FROM c").because("read: FETCH"),
    read("FETCH BACKWARD ALL IN c"),
    read("FETCH ABSOLUTE -1 FROM \"Cur\""),
    read("FETCH RELATIVE 3 c"),
    read("FETCH PRIOR FROM c"),
    read("fetch next c"),
    read("MOVE FORWARD ALL IN c").because("read: MOVE"),
    read("MOVE ABSOLUTE 10 FROM c"),
    read("FETCH 1 FROM c; FETCH 1 FROM c"),
    read("DECLARE c CURSOR FOR SELECT * FROM t; FETCH ALL FROM c"),
    write("FETCH 1 FROM c; CLOSE c").because("write: CLOSE"),
    write("BEGIN READ ONLY; DECLARE c CURSOR FOR SELECT 1; FETCH 1 FROM c; MOVE LAST IN c").txn(RO),

    // ---- standard_conforming_strings off (a session may set it): the worse reading wins ----
    write("SELECT '\\'' ; DELETE FROM t; --'").because("write: DELETE"),
    write("SELECT '\\''; LISTEN ch; --'").pinned().because("pin: LISTEN"),
    write("SELECT 'x\\'; SELECT nextval('s'); --'").because("write: function nextval"),
    read("SELECT '\\\\''; INSERT INTO t VALUES (1); --'"),  // '' continues it both ways
    read("SELECT * FROM t WHERE a LIKE 'x\\_%'"),
    read("SELECT E'\\\\', 'C:\\temp', '\\\\'"),
    read("SELECT '\\'', 'x'"),  // off: one string up to the last quote, still a read

    // ---- What PostgreSQL's scanner refuses runs nowhere: a write (checked against libpg_query
    // in tests/unit/oracle/) ----
    write("SELECT E'\\u0000'").because("write: unterminated string"),
    write("SELECT E'\\uD800'"),
    write("SELECT E'\\uDC00\\uD800'"),
    write("SELECT E'\\U00110000'"),
    write("SELECT E'\\u12'; DELETE FROM t"),
    write("SELECT E'\\xC3'"),
    write("SELECT E'\\0'"),
    write("SELECT E'\\777'"),
    read("SELECT E'\\xC3\\xA9', E'\\303\\251', E'\\u00e9\\U0001F600', E'\\uD83D\\uDE00'"),
    read("SELECT E'\\x', E'\\xZ', E'\\8', E'\\q'"),
};

// The whole table.
inline const std::vector<Case> kAllCases = [] {
  std::vector<Case> all = kCases;
  all.insert(all.end(), kPrimaryOnlyCases.begin(), kPrimaryOnlyCases.end());
  return all;
}();

}  // namespace pgsplit::sql::spec
