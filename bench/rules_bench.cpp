// ns per unit of work spent on routing rules ([[rules]], issue #9). Target: a statement that
// matches no rule costs <= 100 ns with 50 rules.
//
//   cmake --build build --target rules_bench && build/rules_bench
//
// The rule set is 50 rules of every kind (application_name, user, database, client_addr,
// tables, functions, statement kinds, query_regex), compiled once as a configuration
// generation is. The session's client conditions are applied once per session (sessionMask,
// measured on its own); per unit of work a session runs matchText for each statement text
// (its classification and analysis come from the classifier, cached) and decide.
#include <benchmark/benchmark.h>

#include <string>

#include "pgsplit/config/config.hpp"
#include "pgsplit/routing/rules.hpp"
#include "pgsplit/sql/analysis.hpp"

namespace {

using namespace pgsplit;

std::string fiftyRules() {
  std::string toml = R"(
[[nodes]]
name = "pg0"
host = "127.0.0.1"
[[users]]
name = "app"
password = "app"
)";
  auto rule = [&](int i, const std::string& body) {
    toml += "[[rules]]\nname = \"rule " + std::to_string(i) + "\"\n" + body + "\n";
  };
  int i = 0;
  for (int k = 0; k < 10; ++k)  // reporting tools' reads on replicas
    rule(i++, "application_name = \"tool" + std::to_string(k) +
                  "*\"\nstatement = \"read\"\nroute = \"replica\"");
  for (int k = 0; k < 8; ++k)  // migration users on the primary
    rule(i++, "user = \"migrator" + std::to_string(k) + "\"\nroute = \"primary\"");
  for (int k = 0; k < 4; ++k)  // databases with their own lag limit
    rule(i++, "database = \"analytics" + std::to_string(k) + "\"\nmax_replica_lag_ms = 5000");
  for (int k = 0; k < 4; ++k)  // networks that may not write
    rule(i++, "client_addr = \"192.168." + std::to_string(k) +
                  ".0/24\"\nstatement = \"write\"\nblock = \"read-only network\"");
  for (int k = 0; k < 10; ++k)  // hot tables stay on the primary
    rule(i++, "tables = [\"billing" + std::to_string(k) + ".*\", \"public.hot_table" +
                  std::to_string(k) + "\"]\nroute = \"primary\"");
  for (int k = 0; k < 6; ++k)  // functions
    rule(i++, "functions = [\"audit" + std::to_string(k) + "_*\"]\nroute = \"primary\"");
  for (int k = 0; k < 4; ++k)  // DDL and transactions of some users
    rule(i++, "user = \"ops" + std::to_string(k) + "\"\nstatement = \"ddl\"\nblock = \"no DDL\"");
  for (int k = 0; k < 4; ++k)  // text patterns, checked last
    rule(i++, "query_regex = \"pg_sleep\\\\s*\\\\(\\\\s*[0-9]{" + std::to_string(3 + k) +
                  ",}\"\nblock = \"long pg_sleep\"");
  return toml;
}

struct Fixture {
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<const routing::RuleSet> rules;
  routing::RuleMask client;
  std::string text;
  sql::Analysis analysis;
  sql::Classification cls;

  explicit Fixture(const std::string& toml, std::string sql) : text(std::move(sql)) {
    auto loaded = config::loadString(toml);
    if (!loaded.errors.empty()) {
      for (const auto& e : loaded.errors)
        fprintf(stderr, "%s\n", e.c_str());
      std::abort();
    }
    config = loaded.config;
    rules = routing::RuleSet::compile(*config);
    client = rules->sessionMask({"app", "app", "web", config::IpAddress::parse("10.1.2.3")});
    analysis = sql::analyze(text);
    cls = analysis.classification;
  }
};

void unit(benchmark::State& state, const Fixture& f) {
  for (auto _ : state) {
    routing::RuleMask unit = f.rules->unitStart(f.client);
    f.rules->matchText(f.client, f.cls, f.analysis, f.text, unit);
    int decided = f.rules->decide(unit, false);
    benchmark::DoNotOptimize(decided);
  }
}

void BM_NoRuleMatches_pgbench(benchmark::State& state) {
  static const Fixture f(fiftyRules(), "SELECT abalance FROM pgbench_accounts WHERE aid = $1");
  unit(state, f);
}
BENCHMARK(BM_NoRuleMatches_pgbench);

void BM_NoRuleMatches_update(benchmark::State& state) {
  static const Fixture f(fiftyRules(),
                         "UPDATE \"orders\" SET \"status\" = $1, \"updated_at\" = $2 WHERE "
                         "\"orders\".\"id\" = $3");
  unit(state, f);
}
BENCHMARK(BM_NoRuleMatches_update);

void BM_NoRuleMatches_join(benchmark::State& state) {
  static const Fixture f(fiftyRules(),
                         "select o1_0.id,o1_0.status,c1_0.id,c1_0.email from orders o1_0 join "
                         "customers c1_0 on c1_0.id=o1_0.customer_id where o1_0.id=$1");
  unit(state, f);
}
BENCHMARK(BM_NoRuleMatches_join);

void BM_TableRuleMatches(benchmark::State& state) {
  static const Fixture f(fiftyRules(), "SELECT * FROM billing7.invoices WHERE id = $1");
  unit(state, f);
}
BENCHMARK(BM_TableRuleMatches);

void BM_RegexRuleMatches(benchmark::State& state) {
  static const Fixture f(fiftyRules(), "SELECT pg_sleep(1000)");
  unit(state, f);
}
BENCHMARK(BM_RegexRuleMatches);

void BM_NoRulesAtAll(benchmark::State& state) {
  static const Fixture f(
      "[[nodes]]\nname = \"pg0\"\nhost = \"h\"\n[[users]]\nname = \"app\"\npassword = \"x\"\n",
      "SELECT abalance FROM pgbench_accounts WHERE aid = $1");
  unit(state, f);
}
BENCHMARK(BM_NoRulesAtAll);

// Once per session and configuration generation (user, database, application_name, address).
void BM_SessionMask(benchmark::State& state) {
  static const Fixture f(fiftyRules(), "SELECT 1");
  for (auto _ : state) {
    auto m = f.rules->sessionMask({"app", "app", "web", config::IpAddress::parse("10.1.2.3")});
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(BM_SessionMask);

}  // namespace

BENCHMARK_MAIN();
