#include "pgsplit/catalog/catalog_client.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <map>

namespace pgsplit::catalog {

namespace {

using Clock = std::chrono::steady_clock;

// Per name asked ($1 schemas, '' = unqualified; $2 names): every overload the name can mean
// (the search_path's visible ones when unqualified) and its volatility. An aggregate is marked
// IMMUTABLE in pg_proc whatever its support functions do: theirs count instead.
constexpr const char* kFunctionsSql = R"SQL(
SELECT u.i::int, n.nspname::text, p.proname::text,
       CASE WHEN p.prokind = 'a' THEN COALESCE((
         SELECT CASE WHEN bool_or(f.provolatile = 'v') THEN 'v'
                     WHEN bool_or(f.provolatile = 's') THEN 's' ELSE 'i' END
         FROM pg_aggregate a JOIN pg_proc f ON f.oid IN (a.aggtransfn, a.aggfinalfn,
             a.aggcombinefn, a.aggserialfn, a.aggdeserialfn, a.aggmtransfn, a.aggminvtransfn,
             a.aggmfinalfn)
         WHERE a.aggfnoid = p.oid), 'v')
       ELSE p.provolatile::text END
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(s, f, i)
JOIN pg_proc p ON p.proname = u.f
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE CASE WHEN u.s = '' THEN pg_function_is_visible(p.oid) ELSE n.nspname = u.s END
ORDER BY 1)SQL";

// Per name asked: the relation it resolves to ('found': relpersistence, relkind, then 'r' for
// row-level security and 's' for children), then what
// reading it also reads, through views and to partitions and inheritance children: relations
// that are not permanent, VOLATILE user functions views and row-level security policies call,
// and the views' and policies' own text (classified by pgsplit: built-in functions such as
// nextval() leave no trace in pg_depend).
constexpr const char* kRelationsSql = R"SQL(
WITH RECURSIVE input AS (
  SELECT u.i, to_regclass(CASE WHEN u.s = '' THEN quote_ident(u.n)
                               ELSE quote_ident(u.s) || '.' || quote_ident(u.n) END)::oid AS oid
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(s, n, i)
), reach(i, oid, depth) AS (
  SELECT i, oid, 0 FROM input WHERE oid IS NOT NULL
  UNION
  SELECT reach.i, e.dst, reach.depth + 1
  FROM reach, LATERAL (
    SELECT d.refobjid AS dst
    FROM pg_rewrite r
    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                    AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class
    WHERE r.ev_class = reach.oid
      AND (SELECT c.relkind FROM pg_class c WHERE c.oid = reach.oid) = 'v'
    UNION ALL
    SELECT h.inhrelid FROM pg_inherits h WHERE h.inhparent = reach.oid
  ) e
  WHERE reach.depth < 16
)
SELECT i.i::int, 'found'::text, n.nspname::text, c.relname::text,
       c.relpersistence::text || c.relkind::text ||
       CASE WHEN c.relrowsecurity THEN 'r' ELSE '' END ||
       CASE WHEN c.relhassubclass THEN 's' ELSE '' END
FROM input i JOIN pg_class c ON c.oid = i.oid JOIN pg_namespace n ON n.oid = c.relnamespace
UNION ALL
SELECT DISTINCT r.i::int, 'relation', n.nspname::text, c.relname::text, c.relpersistence::text
FROM reach r JOIN pg_class c ON c.oid = r.oid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE r.depth > 0 AND c.relpersistence <> 'p'
UNION ALL
SELECT DISTINCT r.i::int, 'function', n.nspname::text, p.proname::text, p.provolatile::text
FROM reach r
JOIN pg_class c ON c.oid = r.oid
JOIN pg_depend d ON d.refclassid = 'pg_proc'::regclass AND (
       (c.relkind = 'v' AND d.classid = 'pg_rewrite'::regclass
        AND d.objid IN (SELECT w.oid FROM pg_rewrite w WHERE w.ev_class = c.oid))
    OR (c.relrowsecurity AND d.classid = 'pg_policy'::regclass
        AND d.objid IN (SELECT pol.oid FROM pg_policy pol WHERE pol.polrelid = c.oid)))
JOIN pg_proc p ON p.oid = d.refobjid AND p.provolatile = 'v'
JOIN pg_namespace n ON n.oid = p.pronamespace
UNION ALL
SELECT DISTINCT r.i::int, 'view', n.nspname::text, c.relname::text, pg_get_viewdef(c.oid)
FROM reach r JOIN pg_class c ON c.oid = r.oid AND c.relkind = 'v'
JOIN pg_namespace n ON n.oid = c.relnamespace
UNION ALL
SELECT DISTINCT r.i::int, 'policy', n.nspname::text, c.relname::text,
       'SELECT ' || pg_get_expr(pol.polqual, pol.polrelid)
FROM reach r JOIN pg_class c ON c.oid = r.oid AND c.relrowsecurity
JOIN pg_policy pol ON pol.polrelid = c.oid AND pol.polqual IS NOT NULL
JOIN pg_namespace n ON n.oid = c.relnamespace
ORDER BY 1, 2)SQL";

// {"a","b"} as a PostgreSQL array literal (every element quoted, so any text is safe).
std::string arrayLiteral(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (const char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string qualified(std::string_view schema, std::string_view name) {
  return sql::displayName(sql::objectKey(schema, name));
}

const char* intern(const std::string& text, const char* fallback) {
  const char* s = sql::internText(text);
  return s != nullptr ? s : fallback;
}

// libpq's messages end in newlines and may span lines: one line for the log.
std::string trimmed(std::string s) {
  std::string out;
  for (const char c : s) {
    const bool space = c == '\n' || c == '\t' || c == '\r' || c == ' ';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

int rank(char volatility) {
  return volatility == 'v' ? 3 : volatility == 's' ? 2 : volatility == 'i' ? 1 : 0;
}

const char* persistenceWord(char p) {
  return p == 'u' ? "UNLOGGED" : p == 't' ? "TEMPORARY" : "not permanent";
}

}  // namespace

struct CatalogClient::Rows {
  std::vector<std::vector<std::string>> rows;
};

CatalogClient::CatalogClient(std::chrono::milliseconds timeout) : timeout_(timeout) {}

CatalogClient::~CatalogClient() {
  close();
}

void CatalogClient::close() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
}

bool CatalogClient::waitSocket(bool forRead, Clock::time_point deadline) {
  const int fd = PQsocket(conn_);
  if (fd < 0) {
    error_ = "no socket";
    return false;
  }
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      error_ = "timed out after " + std::to_string(timeout_.count()) + " ms";
      return false;
    }
    pollfd p{fd, static_cast<short>(forRead ? POLLIN : POLLOUT), 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) {
      error_ = "poll failed";
      return false;
    }
  }
}

bool CatalogClient::connect(const Target& target) {
  if (conn_ != nullptr && target == target_ && PQstatus(conn_) == CONNECTION_OK) return true;
  close();
  target_ = target;
  const Clock::time_point deadline = Clock::now() + timeout_;
  const std::string port = std::to_string(target.port);
  // The server gives up too, should pgsplit stop waiting first.
  const std::string options = "-c statement_timeout=" + std::to_string(timeout_.count());
  const std::string connectTimeout =
      std::to_string(std::max<long long>(2, (timeout_.count() + 999) / 1000));
  const char* keys[] = {"host",     "port",    "dbname",          "user",
                        "password", "options", "connect_timeout", "application_name",
                        nullptr};
  const char* values[] = {target.host.c_str(),
                          port.c_str(),
                          target.database.c_str(),
                          target.user.c_str(),
                          target.password.c_str(),
                          options.c_str(),
                          connectTimeout.c_str(),
                          "pgsplit-catalog",
                          nullptr};
  conn_ = PQconnectStartParams(keys, values, 0);
  if (conn_ == nullptr || PQstatus(conn_) == CONNECTION_BAD) {
    error_ = conn_ != nullptr ? trimmed(PQerrorMessage(conn_)) : "out of memory";
    close();
    return false;
  }
  PostgresPollingStatusType status = PGRES_POLLING_WRITING;
  while (status != PGRES_POLLING_OK) {
    if (status == PGRES_POLLING_FAILED) {
      error_ = trimmed(PQerrorMessage(conn_));
      close();
      return false;
    }
    if (!waitSocket(status == PGRES_POLLING_READING, deadline)) {
      close();
      return false;
    }
    status = PQconnectPoll(conn_);
  }
  if (PQsetnonblocking(conn_, 1) != 0) {
    error_ = trimmed(PQerrorMessage(conn_));
    close();
    return false;
  }
  return true;
}

std::optional<CatalogClient::Rows> CatalogClient::query(const char* sql,
                                                        const std::vector<std::string>& keys) {
  std::vector<std::string> schemas;
  std::vector<std::string> names;
  for (const std::string& key : keys) {
    schemas.emplace_back(sql::keySchema(key));
    names.emplace_back(sql::keyName(key));
  }
  const std::string schemaArray = arrayLiteral(schemas);
  const std::string nameArray = arrayLiteral(names);
  const char* params[] = {schemaArray.c_str(), nameArray.c_str()};
  return query(sql, 2, params);
}

std::optional<bool> CatalogClient::inRecovery() {
  if (conn_ == nullptr) {
    error_ = "not connected";
    return std::nullopt;
  }
  auto rows = query("SELECT pg_is_in_recovery()", 0, nullptr);
  if (!rows || rows->rows.size() != 1 || rows->rows[0].empty()) return std::nullopt;
  return rows->rows[0][0] == "t";
}

std::optional<CatalogClient::Rows> CatalogClient::query(const char* sql, int nParams,
                                                        const char* const* params) {
  const Clock::time_point deadline = Clock::now() + timeout_;
  if (PQsendQueryParams(conn_, sql, nParams, nullptr, params, nullptr, nullptr, 0) == 0) {
    error_ = trimmed(PQerrorMessage(conn_));
    return std::nullopt;
  }
  while (true) {
    const int flushed = PQflush(conn_);
    if (flushed == 0) break;
    if (flushed < 0 || !waitSocket(false, deadline)) {
      if (flushed < 0) error_ = trimmed(PQerrorMessage(conn_));
      return std::nullopt;
    }
  }
  Rows out;
  std::string failure;
  while (true) {
    while (PQisBusy(conn_) != 0) {
      if (!waitSocket(true, deadline)) return std::nullopt;
      if (PQconsumeInput(conn_) == 0) {
        error_ = trimmed(PQerrorMessage(conn_));
        return std::nullopt;
      }
    }
    PGresult* res = PQgetResult(conn_);
    if (res == nullptr) break;
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
      const int columns = PQnfields(res);
      for (int r = 0; r < PQntuples(res); ++r) {
        std::vector<std::string> row;
        for (int c = 0; c < columns; ++c)
          row.emplace_back(PQgetvalue(res, r, c));
        out.rows.push_back(std::move(row));
      }
    } else {
      failure = trimmed(PQresultErrorMessage(res));
    }
    PQclear(res);
  }
  if (!failure.empty()) {
    error_ = failure;
    return std::nullopt;
  }
  return out;
}

std::optional<sql::CatalogFacts> CatalogClient::lookup(const std::vector<std::string>& functions,
                                                       const std::vector<std::string>& relations) {
  if (conn_ == nullptr) {
    error_ = "not connected";
    return std::nullopt;
  }
  sql::CatalogFacts facts;
  if (!functions.empty()) {
    auto rows = query(kFunctionsSql, functions);
    if (!rows) return std::nullopt;
    // Worst volatility per name, and the schema it was found in.
    std::vector<std::pair<char, std::string>> worst(functions.size(), {0, std::string()});
    for (const auto& row : rows->rows) {
      const std::size_t i = static_cast<std::size_t>(std::stoul(row[0])) - 1;
      if (i >= functions.size() || row[3].empty()) continue;
      if (rank(row[3][0]) > rank(worst[i].first)) worst[i] = {row[3][0], row[1]};
    }
    for (std::size_t i = 0; i < functions.size(); ++i) {
      const std::string& key = functions[i];
      sql::FunctionFacts f;
      f.volatility = worst[i].first;
      if (f.volatility == 'v') {
        f.reason = intern(
            "write: function " + qualified(worst[i].second, sql::keyName(key)) + "() is VOLATILE",
            "write: function is VOLATILE");
      } else if (f.volatility == 0) {
        f.reason =
            intern("write: function " + sql::displayName(key) + "() not found in the catalog",
                   "write: function not found in the catalog");
      }
      facts.functions.emplace_back(key, f);
    }
  }
  if (!relations.empty()) {
    auto rows = query(kRelationsSql, relations);
    if (!rows) return std::nullopt;
    std::vector<sql::RelationFacts> out(relations.size());
    std::vector<std::string> names(relations.size());  // as resolved: schema.name
    for (const auto& row : rows->rows) {
      const std::size_t i = static_cast<std::size_t>(std::stoul(row[0])) - 1;
      if (i >= relations.size() || !out[i].replicaSafe) continue;  // the first problem stays
      const std::string& kind = row[1];
      const std::string object = qualified(row[2], row[3]);
      const std::string& code = row[4];
      std::string problem;
      if (kind == "found") {
        names[i] = object;
        out[i].dependent = code.size() >= 2 && (code[1] == 'v' || code[1] == 'p' ||
                                                code.find_first_of("rs", 2) != std::string::npos);
        if (code[0] != 'p') problem = "relation " + object + " is " + persistenceWord(code[0]);
      } else if (kind == "relation") {
        problem =
            "relation " + names[i] + " reads " + persistenceWord(code[0]) + " relation " + object;
      } else if (kind == "function") {
        problem = "relation " + names[i] + " calls VOLATILE function " + object + "()";
      } else {
        // A view's query or a policy's expression, judged like a client's statement (its
        // user functions were judged through pg_depend above).
        const sql::Analysis a = sql::analyze(code);
        if (!a.classification.readOnly) {
          std::string why = a.classification.reason;
          if (why.starts_with("write: ")) why.erase(0, 7);
          problem = "relation " + names[i] + " (" + kind + " " + object + ": " + why + ")";
        }
      }
      if (!problem.empty()) {
        out[i].replicaSafe = false;
        out[i].reason = intern("write: " + problem, "write: relation a standby cannot read");
      }
    }
    for (std::size_t i = 0; i < relations.size(); ++i)
      facts.relations.emplace_back(relations[i], out[i]);
  }
  return facts;
}

}  // namespace pgsplit::catalog
