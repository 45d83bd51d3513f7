// ns per classification, cached and uncached, for statements as ORMs and pgbench send them.
// Targets (issue #4): cached <= 200 ns, uncached <= 10 us for a 1 KB statement.
//
//   cmake --build build --target classifier_bench && build/classifier_bench
//
// "cached": the per-worker CachingClassifier after the statement was seen twice, with the
// catalog holding every function and relation the statement names (the steady state).
// "uncached": the same classifier with its cache off (lex, classify, resolve against the
// catalog) — what a statement seen for the first time costs. "classify": the catalog-less
// sql::classify() alone. "literals": pgbench -S and other simple-protocol clients, the same
// statement with a new literal inline every time, so the text never repeats (catalog warm, as
// for "cached"); "literals/text_only" is what writing those texts costs.
#include <benchmark/benchmark.h>

#include <charconv>
#include <string>
#include <vector>

#include "pgsplit/sql/caching_classifier.hpp"
#include "pgsplit/sql/catalog_board.hpp"

namespace {

using namespace pgsplit::sql;

std::string oneKilobyteSelect() {
  // SQLAlchemy-style: every column spelled out, joins, filters, ordering.
  std::string sql =
      "SELECT orders.id AS orders_id, orders.customer_id AS orders_customer_id, "
      "orders.status AS orders_status, orders.created_at AS orders_created_at, "
      "orders.updated_at AS orders_updated_at, orders.total_cents AS orders_total_cents, "
      "orders.currency AS orders_currency, orders.shipping_address_id AS "
      "orders_shipping_address_id, customers_1.id AS customers_1_id, customers_1.email AS "
      "customers_1_email, customers_1.first_name AS customers_1_first_name, "
      "customers_1.last_name AS customers_1_last_name, customers_1.created_at AS "
      "customers_1_created_at, addresses_1.id AS addresses_1_id, addresses_1.street AS "
      "addresses_1_street, addresses_1.city AS addresses_1_city, addresses_1.postcode AS "
      "addresses_1_postcode, addresses_1.country AS addresses_1_country "
      "FROM orders LEFT OUTER JOIN customers AS customers_1 ON customers_1.id = "
      "orders.customer_id LEFT OUTER JOIN addresses AS addresses_1 ON addresses_1.id = "
      "orders.shipping_address_id WHERE orders.status IN ($1, $2, $3) AND orders.created_at >= "
      "$4 AND orders.created_at < $5 AND lower(customers_1.email) LIKE $6 AND "
      "coalesce(orders.total_cents, 0) > $7 ORDER BY orders.created_at DESC, orders.id DESC "
      "LIMIT $8 OFFSET $9";
  while (sql.size() < 1024)
    sql += " ";
  return sql;
}

const std::vector<std::pair<std::string, std::string>>& statements() {
  static const std::vector<std::pair<std::string, std::string>> list = {
      {"pgbench_select", "SELECT abalance FROM pgbench_accounts WHERE aid = $1"},
      {"django_get",
       "SELECT \"auth_user\".\"id\", \"auth_user\".\"password\", \"auth_user\".\"last_login\", "
       "\"auth_user\".\"is_superuser\", \"auth_user\".\"username\", \"auth_user\".\"email\" "
       "FROM \"auth_user\" WHERE \"auth_user\".\"id\" = $1 LIMIT 21"},
      {"rails_find", "SELECT \"users\".* FROM \"users\" WHERE \"users\".\"email\" = $1 LIMIT $2"},
      {"hibernate_join",
       "select o1_0.id,o1_0.status,c1_0.id,c1_0.email from orders o1_0 join customers c1_0 on "
       "c1_0.id=o1_0.customer_id where o1_0.id=$1"},
      {"user_function", "SELECT app_stats.order_total($1) AS total"},
      {"update",
       "UPDATE \"orders\" SET \"status\" = $1, \"updated_at\" = $2 WHERE \"orders\".\"id\" = $3"},
      {"insert_returning",
       "INSERT INTO \"orders\" (\"customer_id\", \"status\", \"total_cents\") VALUES ($1, $2, "
       "$3) RETURNING \"orders\".\"id\""},
      {"select_1kb", oneKilobyteSelect()},
  };
  return list;
}

// A board that knows every function and relation the statements name (as the lookup thread
// would have published it).
CatalogBoard& warmBoard() {
  static CatalogBoard board = [] {
    CatalogBoard::Options o;
    o.settle = std::chrono::milliseconds(0);
    return CatalogBoard(o);
  }();
  static bool warmed = false;
  if (!warmed) {
    warmed = true;
    const ScopeId scope = board.scope("app", "app");
    for (const auto& [name, sql] : statements()) {
      const Analysis a = analyze(sql);
      board.request(scope, Misses{a.functions, a.relations});
    }
    for (const CatalogWork& w : board.waitForWork(CatalogBoard::Clock::now())) {
      CatalogFacts facts;
      for (const std::string& key : w.functions)
        facts.functions.push_back({key, {'s', nullptr}});
      for (const std::string& key : w.relations)
        facts.relations.push_back({key, {true, nullptr}});
      board.publish(w, std::move(facts));
    }
  }
  return board;
}

void cached(benchmark::State& state, const std::string& sql) {
  CachingClassifier classifier(&warmBoard(), nullptr, CachingClassifier::kDefaultCapacity);
  for (int i = 0; i < 3; ++i)
    classifier.classify(sql, "app", "app");
  for (auto _ : state) {
    Classification c = classifier.classify(sql, "app", "app");
    benchmark::DoNotOptimize(c);
  }
  if (classifier.stats().hits.load() < static_cast<std::uint64_t>(state.iterations())) {
    state.SkipWithError("not cached");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * sql.size()));
}

void uncached(benchmark::State& state, const std::string& sql) {
  CachingClassifier classifier(&warmBoard(), nullptr, 0);
  for (auto _ : state) {
    Classification c = classifier.classify(sql, "app", "app");
    benchmark::DoNotOptimize(c);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * sql.size()));
}

void classifyOnly(benchmark::State& state, const std::string& sql) {
  for (auto _ : state) {
    Classification c = classify(sql);
    benchmark::DoNotOptimize(c);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * sql.size()));
}

// Writes prefix + n + ";" into sql (no allocation once sql has grown).
void withLiteral(std::string& sql, std::string_view prefix, std::uint64_t n) {
  sql.assign(prefix);
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  sql.append(digits, end);
  sql += ';';
}

void changingLiterals(benchmark::State& state, const std::string& prefix) {
  CachingClassifier classifier(&warmBoard(), nullptr, CachingClassifier::kDefaultCapacity);
  std::string sql;
  std::uint64_t n = 1;
  for (auto _ : state) {
    withLiteral(sql, prefix, n++);
    Classification c = classifier.classify(sql, "app", "app");
    benchmark::DoNotOptimize(c);
  }
  // All but the first two (the second sighting caches the shape) come from the shape cache.
  if (classifier.stats().shapeHits.load() + 2 < static_cast<std::uint64_t>(state.iterations())) {
    state.SkipWithError("not from the shape cache");
  }
}

// What changingLiterals spends on writing its texts.
void literalsOnly(benchmark::State& state, const std::string& prefix) {
  std::string sql;
  std::uint64_t n = 1;
  for (auto _ : state) {
    withLiteral(sql, prefix, n++);
    benchmark::DoNotOptimize(sql.data());
    benchmark::ClobberMemory();
  }
}

void hashOnly(benchmark::State& state, const std::string& sql) {
  for (auto _ : state)
    benchmark::DoNotOptimize(hashText(sql));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * sql.size()));
}

int registerAll() {
  for (const auto& [name, sql] : statements()) {
    benchmark::RegisterBenchmark(("cached/" + name).c_str(), cached, sql);
    benchmark::RegisterBenchmark(("uncached/" + name).c_str(), uncached, sql);
    benchmark::RegisterBenchmark(("classify/" + name).c_str(), classifyOnly, sql);
  }
  const std::pair<std::string, std::string> literalStatements[] = {
      {"pgbench_select", "SELECT abalance FROM pgbench_accounts WHERE aid = "},
      {"pgbench_update", "UPDATE pgbench_accounts SET abalance = abalance + 5 WHERE aid = "},
  };
  for (const auto& [name, prefix] : literalStatements)
    benchmark::RegisterBenchmark(("literals/" + name).c_str(), changingLiterals, prefix);
  benchmark::RegisterBenchmark("literals/text_only", literalsOnly, literalStatements[0].second);
  benchmark::RegisterBenchmark("hash/select_1kb", hashOnly, statements().back().second);
  return 0;
}
const int registered = registerAll();

}  // namespace

BENCHMARK_MAIN();
