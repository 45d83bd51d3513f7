// Issue #3, "every driver works": sequences in which pgsplit used to answer differently from
// PostgreSQL. Each scenario runs against the primary directly and through pgsplit, and records
// what the client saw step by step; the two transcripts must be the same.
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "pgsplit/protocol/writer.hpp"

#include "harness.hpp"

namespace pgsplit::test {
namespace {

// What a client saw: one line per step ("<step> -> <status> [sqlstate] value").
class Transcript {
 public:
  explicit Transcript(const std::string& conninfo) : conn_(conninfo) {
    if (!conn_.ok()) ADD_FAILURE() << conn_.error();
  }
  PGconn* get() { return conn_.get(); }
  const std::string& text() const { return text_; }

  // Simple protocol.
  void query(const std::string& sql) { record(sql, PQexec(conn_.get(), sql.c_str())); }
  // Extended protocol, unnamed statement (PQexecParams).
  void extended(const std::string& sql) {
    record("[extended] " + sql,
           PQexecParams(conn_.get(), sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0));
  }
  void prepare(const std::string& name, const std::string& sql) {
    record("[prepare " + name + "] " + sql,
           PQprepare(conn_.get(), name.c_str(), sql.c_str(), 0, nullptr));
  }
  void execute(const std::string& name) {
    record("[execute " + name + "]",
           PQexecPrepared(conn_.get(), name.c_str(), 0, nullptr, nullptr, nullptr, 0));
  }
  // The ParameterStatus value the client holds.
  void parameter(const char* name) {
    const char* v = PQparameterStatus(conn_.get(), name);
    text_ += std::string("[parameter ") + name + "] = " + (v ? v : "(none)") + "\n";
  }
  // Pipeline mode: `send` queues requests (PQsend*, PQpipelineSync); then every result up to
  // `syncs` PGRES_PIPELINE_SYNC is recorded.
  void pipeline(const std::string& label, const std::function<void(PGconn*)>& send, int syncs) {
    if (PQenterPipelineMode(conn_.get()) != 1) ADD_FAILURE() << "pipeline mode";
    send(conn_.get());
    text_ += "[pipeline " + label + "]\n";
    for (int seen = 0, nulls = 0; seen < syncs && nulls < 64;) {
      PGresult* r = PQgetResult(conn_.get());
      if (!r) {
        ++nulls;  // between the results of two requests
        continue;
      }
      if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) ++seen;
      record("  ", r);
    }
    if (PQexitPipelineMode(conn_.get()) != 1) ADD_FAILURE() << PQerrorMessage(conn_.get());
  }

 private:
  void record(const std::string& step, PGresult* r) {
    text_ += step + " -> " + PQresStatus(PQresultStatus(r));
    if (const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE))
      text_ += std::string(" ") + state;
    if (PQresultStatus(r) == PGRES_COMMAND_OK && *PQcmdStatus(r))
      text_ += std::string(" ") + PQcmdStatus(r);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0)
      text_ += std::string(" ") + PQgetvalue(r, 0, 0);
    text_ += "\n";
    PQclear(r);
  }

  Conn conn_;
  std::string text_;
};

// Runs the scenario on the primary directly, then through pgsplit in transaction and in session
// pooling; `conninfoExtra` is appended to every connection string.
void expectSameAsPostgres(const std::function<void(Transcript&)>& scenario,
                          const std::string& conninfoExtra = "") {
  const Cluster& cl = Cluster::get();
  std::string direct;
  {
    Transcript t(cl.appConninfo(cl.primaryPort) + " " + conninfoExtra);
    scenario(t);
    direct = t.text();
  }
  for (const char* mode : {"transaction", "session"}) {
    PgsplitOptions options;
    options.poolMode = mode;
    Pgsplit proxy(options);
    Transcript t(proxy.conninfo() + " " + conninfoExtra);
    scenario(t);
    EXPECT_EQ(t.text(), direct) << mode << " pooling\nPostgreSQL:\n"
                                << direct << "\npgsplit:\n"
                                << t.text();
  }
}

// --- (a) a DEALLOCATE / DISCARD ALL that fails forgets nothing ---

TEST(SessionFidelity, FailedDeallocateKeepsTheStatement) {
  expectSameAsPostgres([](Transcript& t) {
    t.prepare("s", "SELECT 11");
    t.query("BEGIN");
    t.query("SELECT 1/0");
    t.query("DEALLOCATE s");  // 25P02: the transaction is aborted
    t.query("ROLLBACK");
    t.execute("s");
  });
}

TEST(SessionFidelity, FailedDeallocateAllAndDiscardAllKeepEveryStatement) {
  expectSameAsPostgres([](Transcript& t) {
    t.prepare("s1", "SELECT 21");
    t.prepare("s2", "SELECT 22");
    t.execute("s1");
    t.query("BEGIN");
    t.query("SELECT 1/0");
    t.query("DEALLOCATE ALL");
    t.extended("DEALLOCATE ALL");
    t.query("ROLLBACK");
    t.execute("s1");
    t.execute("s2");
    t.query("BEGIN");
    t.query("DISCARD ALL");  // 25001: not inside a transaction block
    t.query("ROLLBACK");
    t.execute("s1");
    t.execute("s2");
    // A statement that fails before the DEALLOCATE ALL in one Query: it never runs.
    t.query("SELECT 1/0; DEALLOCATE ALL");
    t.execute("s1");
    // After it: it ran (DEALLOCATE is not transactional), although the Query failed.
    t.query("DEALLOCATE ALL; SELECT 1/0");
    t.execute("s1");
    t.prepare("s1", "SELECT 23");
    t.execute("s1");
  });
}

TEST(SessionFidelity, FailedDeallocateInAPipelineKeepsTheStatementForLaterUnits) {
  expectSameAsPostgres([](Transcript& t) {
    t.prepare("s", "SELECT 31");
    t.pipeline(
        "aborted DEALLOCATE then ROLLBACK then execute",
        [](PGconn* c) {
          PQsendQueryParams(c, "BEGIN", 0, nullptr, nullptr, nullptr, nullptr, 0);
          PQsendQueryParams(c, "SELECT 1/0", 0, nullptr, nullptr, nullptr, nullptr, 0);
          PQpipelineSync(c);
          PQsendQueryParams(c, "DEALLOCATE s", 0, nullptr, nullptr, nullptr, nullptr, 0);
          PQpipelineSync(c);
          PQsendQueryParams(c, "ROLLBACK", 0, nullptr, nullptr, nullptr, nullptr, 0);
          PQpipelineSync(c);
          PQsendQueryPrepared(c, "s", 0, nullptr, nullptr, nullptr, 0);
          PQpipelineSync(c);
        },
        4);
    t.execute("s");
  });
}

// --- (b) DEALLOCATE through the extended protocol ---

TEST(SessionFidelity, ExtendedProtocolDeallocateOfAPreparedStatement) {
  expectSameAsPostgres([](Transcript& t) {
    t.prepare("s", "SELECT 41");
    t.execute("s");
    t.extended("DEALLOCATE s");
    t.execute("s");  // 26000: gone
    t.prepare("s", "SELECT 42");
    t.execute("s");
    t.extended("DEALLOCATE PREPARE s");
    t.extended("DEALLOCATE s");          // 26000
    t.extended("DEALLOCATE pgsplit_1");  // 26000: not the client's
    // psycopg 3 evicts its prepared statements this way, inside pipelines.
    t.prepare("p1", "SELECT 43");
    t.prepare("p2", "SELECT 44");
    t.pipeline(
        "deallocate among other statements",
        [](PGconn* c) {
          PQsendQueryParams(c, "SELECT 45", 0, nullptr, nullptr, nullptr, nullptr, 0);
          PQsendQueryParams(c, "DEALLOCATE p1", 0, nullptr, nullptr, nullptr, nullptr, 0);
          PQsendQueryPrepared(c, "p2", 0, nullptr, nullptr, nullptr, 0);
          PQpipelineSync(c);
          PQsendQueryPrepared(c, "p1", 0, nullptr, nullptr, nullptr, 0);  // 26000
          PQpipelineSync(c);
          // An error first: the DEALLOCATE is skipped, p2 stays.
          PQsendQueryParams(c, "SELECT 1/0", 0, nullptr, nullptr, nullptr, nullptr, 0);
          PQsendQueryParams(c, "DEALLOCATE p2", 0, nullptr, nullptr, nullptr, nullptr, 0);
          PQpipelineSync(c);
          PQsendQueryPrepared(c, "p2", 0, nullptr, nullptr, nullptr, 0);
          PQpipelineSync(c);
        },
        4);
    t.query("BEGIN");
    t.query("SELECT 1/0");
    t.extended("DEALLOCATE p2");  // 25P02
    t.query("ROLLBACK");
    t.execute("p2");
  });
}

// --- (c) a Parse that fails does not create its name ---

TEST(SessionFidelity, FailedParseThenParseOfTheSameNameInOnePipeline) {
  expectSameAsPostgres([](Transcript& t) {
    t.pipeline(
        "parse fails, parse again after the Sync",
        [](PGconn* c) {
          PQsendPrepare(c, "s", "SELEC 1", 0, nullptr);  // 42601
          PQpipelineSync(c);
          PQsendPrepare(c, "s", "SELECT 51", 0, nullptr);
          PQpipelineSync(c);
          PQsendQueryPrepared(c, "s", 0, nullptr, nullptr, nullptr, 0);
          PQpipelineSync(c);
        },
        3);
    t.pipeline(
        "parse fails, parse again before the Sync (skipped)",
        [](PGconn* c) {
          PQsendPrepare(c, "u", "SELEC 1", 0, nullptr);
          PQsendPrepare(c, "u", "SELECT 52", 0, nullptr);
          PQpipelineSync(c);
          PQsendQueryPrepared(c, "u", 0, nullptr, nullptr, nullptr, 0);  // 26000
          PQpipelineSync(c);
        },
        2);
    t.execute("s");
  });
}

// The same at the message level (libpq 15 cannot send a Close): what each request got.
std::string rawReplies(RawClient& raw, int readyForQueries) {
  std::string out;
  for (int z = 0; z < readyForQueries;) {
    auto [type, body] = raw.read(std::chrono::seconds(10));
    if (type == 0) return out + "<timeout>";
    out.push_back(type);
    if (type == 'E') out += "(" + sqlstateOf(body) + ")";
    if (type == 'Z') ++z;
  }
  return out;
}

TEST(SessionFidelity, SkippedCloseAndFailedParseAtTheMessageLevel) {
  const Cluster& cl = Cluster::get();
  Pgsplit proxy;
  std::string seen[2];
  for (int direct = 1; direct >= 0; --direct) {
    RawClient raw(direct ? cl.primaryPort : proxy.port());
    ASSERT_EQ(raw.login("app", "app", "app"), "");
    using protocol::MessageWriter;
    auto parse = [](std::string& out, const char* name, const char* sql) {
      MessageWriter(out).begin('P').cstr(name).cstr(sql).i16(0).end();
    };
    auto bindExecute = [](std::string& out, const char* name) {
      MessageWriter(out).begin('B').cstr("").cstr(name).i16(0).i16(0).i16(0).end();
      MessageWriter(out).begin('E').cstr("").i32(0).end();
    };
    std::string out;
    parse(out, "s", "SELECT 1");
    protocol::writeSync(out);
    // An error first: the Close is skipped, so s still exists for the Parse after the Sync.
    parse(out, "", "SELECT 1/0");
    bindExecute(out, "");
    MessageWriter(out).begin('C').u8('S').cstr("s").end();
    protocol::writeSync(out);
    parse(out, "s", "SELECT 2");  // 42P05
    protocol::writeSync(out);
    bindExecute(out, "s");
    protocol::writeSync(out);
    // A Parse that fails, then the same name after the Sync.
    parse(out, "t", "SELEC 1");
    protocol::writeSync(out);
    parse(out, "t", "SELECT 3");
    bindExecute(out, "t");
    protocol::writeSync(out);
    raw.send(out);
    seen[direct] = rawReplies(raw, 6);
  }
  EXPECT_EQ(seen[0], seen[1]) << "PostgreSQL: " << seen[1] << "\npgsplit:    " << seen[0];
}

// --- (d) SET with SAVEPOINT / RELEASE / ROLLBACK TO ---

TEST(SessionFidelity, SettingsFollowSavepointsStatementByStatement) {
  expectSameAsPostgres([](Transcript& t) {
    t.query("BEGIN");
    t.query("SET work_mem = '7MB'");
    t.query("SAVEPOINT a");
    t.query("SET work_mem = '8MB'");
    t.query("ROLLBACK TO SAVEPOINT a");
    t.query("SHOW work_mem");
    t.query("COMMIT");
    for (int i = 0; i < 3; ++i)
      t.query("SHOW work_mem");  // 7MB, on whichever backend
    // An error rolled back to a savepoint: what follows commits.
    t.query("BEGIN");
    t.query("SAVEPOINT a");
    t.query("SELECT 1/0");
    t.query("ROLLBACK TO a");
    t.query("SET work_mem = '9MB'");
    t.query("COMMIT");
    for (int i = 0; i < 3; ++i)
      t.query("SHOW work_mem");
    // RELEASE keeps the settings made under the savepoint; nested savepoints, one name twice.
    t.query("BEGIN; SET search_path = a; SAVEPOINT x; SET search_path = b; SAVEPOINT y");
    t.query("SET search_path = c; SAVEPOINT x; SET work_mem = '10MB'");
    t.query("ROLLBACK TO x");  // the second x: only work_mem goes
    t.query("SHOW search_path");
    t.query("RELEASE y");      // y and the x above it
    t.query("ROLLBACK TO x");  // the first x: search_path b and c go
    t.query("SHOW search_path");
    t.query("SET search_path = d");
    t.query("RELEASE SAVEPOINT x");
    t.query("COMMIT");
    for (int i = 0; i < 3; ++i) {
      t.query("SHOW search_path");
      t.query("SHOW work_mem");
    }
    // The extended protocol, and a COMMIT that rolls back an aborted transaction.
    t.extended("BEGIN");
    t.extended("SET work_mem = '11MB'");
    t.extended("SAVEPOINT s");
    t.extended("RESET work_mem");
    t.extended("ROLLBACK TO s");
    t.extended("COMMIT");
    t.query("SHOW work_mem");
    t.query("BEGIN; SET work_mem = '12MB'; SELECT 1/0");
    t.query("COMMIT");
    t.query("SHOW work_mem");
  });
}

// --- (e) RESET of a parameter given at startup goes back to the startup value ---

TEST(SessionFidelity, ResetOfAStartupParameterIsTheStartupValue) {
  const std::string startup =
      "application_name=fidelity options='-c TimeZone=Asia/Tokyo -c work_mem=3MB'";
  expectSameAsPostgres(
      [](Transcript& t) {
        t.parameter("TimeZone");
        t.query("SET TimeZone = 'UTC'");
        t.parameter("TimeZone");
        t.query("RESET TimeZone");
        t.parameter("TimeZone");
        t.query("SHOW TimeZone");
        t.query("SET application_name = 'other'");
        t.extended("RESET application_name");
        t.parameter("application_name");
        t.query("SHOW application_name");
        // Inside a transaction: the statements after it see the startup value at once.
        t.query("SET work_mem = '5MB'");
        t.query("BEGIN");
        t.query("RESET work_mem");
        t.query("SHOW work_mem");
        t.query("SET TimeZone = 'UTC'");
        t.query("RESET ALL");
        t.query("SHOW TimeZone");
        t.query("SHOW work_mem");
        t.query("COMMIT");
        t.parameter("TimeZone");
        t.query("SHOW work_mem");
        t.query("SET TimeZone TO DEFAULT");
        t.parameter("TimeZone");
        t.query("SET TimeZone = 'UTC'");
        t.extended("SET TIME ZONE DEFAULT");
        t.parameter("TimeZone");
        t.query("SHOW TimeZone");
        // A RESET that does not run changes nothing.
        t.query("SET TimeZone = 'UTC'");
        t.query("SELECT 1/0; RESET TimeZone");
        t.parameter("TimeZone");
        t.query("SHOW TimeZone");
        t.query("DISCARD ALL");
        t.parameter("TimeZone");
        t.query("SHOW TimeZone");
        t.query("SHOW application_name");
      },
      startup);
}

// The startup value is restored right after the RESET, inside the client's batch, and the
// client's unnamed statement (which pgsplit's restore used) is still the client's afterwards.
TEST(SessionFidelity, ResetOfAStartupParameterInsideAnExtendedBatch) {
  const Cluster& cl = Cluster::get();
  Pgsplit proxy;
  std::string seen[2];
  for (int direct = 1; direct >= 0; --direct) {
    RawClient raw(direct ? cl.primaryPort : proxy.port());
    ASSERT_EQ(raw.login("app", "app", "app", {{"TimeZone", "Asia/Tokyo"}}), "");
    using protocol::MessageWriter;
    std::string out;
    protocol::writeQuery(out, "SET TimeZone = 'UTC'");
    auto parse = [&out](const char* sql) {
      MessageWriter(out).begin('P').cstr("").cstr(sql).i16(0).end();
    };
    auto bindExecute = [&out] {
      MessageWriter(out).begin('B').cstr("").cstr("").i16(0).i16(0).i16(0).end();
      MessageWriter(out).begin('E').cstr("").i32(0).end();
    };
    parse("RESET TimeZone");
    bindExecute();
    bindExecute();  // the same unnamed statement again
    parse("SELECT current_setting('TimeZone')");
    bindExecute();
    protocol::writeSync(out);
    raw.send(out);
    std::string got;
    for (int z = 0; z < 2;) {
      auto [type, body] = raw.read(std::chrono::seconds(10));
      if (type == 0) {
        got += "<timeout>";
        break;
      }
      got.push_back(type);
      if (type == 'C' || type == 'S') got += "(" + body.substr(0, body.size() - 1) + ")";
      if (type == 'D') got += "(" + body.substr(6) + ")";
      if (type == 'E') got += "(" + sqlstateOf(body) + ")";
      if (type == 'Z') ++z;
    }
    for (char& c : got)
      if (c == '\0') c = '=';
    seen[direct] = got;
    std::cerr << (direct ? "PostgreSQL: " : "pgsplit:    ") << got << "\n";
  }
  EXPECT_EQ(seen[0], seen[1]);
}

}  // namespace
}  // namespace pgsplit::test
