// [[clusters]] and [[rules]] in the configuration (issue #9): what they load into, the example
// file, and what a reload keeps. (Every validation error has a fixture in invalid/.)
#include <gtest/gtest.h>

#include <string>

#include "pgsplit/config/config.hpp"
#include "pgsplit/config/reload.hpp"
#include "pgsplit/routing/rules.hpp"

#include "config_test_support.hpp"

namespace pgsplit::config {
namespace {

using test_support::joined;
using test_support::kUser;
using test_support::load;

std::string node(const std::string& name, const std::string& cluster) {
  return "[[nodes]]\nname = \"" + name + "\"\nhost = \"" + name + ".internal\"\n" +
         (cluster.empty() ? "" : "cluster = \"" + cluster + "\"\n");
}

TEST(ConfigRules, RuleKeysLoad) {
  auto c = load(R"(
[[clusters]]
name = "main"
databases = ["*"]
[[clusters]]
name = "events"
databases = "events"
users = ["ev*", "app"]
)" + node("m0", "main") +
                node("e0", "events") + kUser + R"(
[[rules]]
name = "everything"
statement = "read"
tables = ["public.accounts", "billing.*"]
functions = "audit.*"
query_regex = "x+"
user = "app"
database = ["app", "app_*"]
application_name = "web*"
client_addr = ["10.0.0.0/8", "::1"]
in_transaction = false
route = "replica"
cluster = "events"
max_replica_lag_ms = 1500
[[rules]]
name = "blocker"
block = "no"
)");
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->clusters.size(), 2u);
  EXPECT_EQ(c->clusters[1].name, "events");
  EXPECT_EQ(c->clusters[1].databases, std::vector<std::string>{"events"});
  EXPECT_EQ(c->clusters[1].users, (std::vector<std::string>{"ev*", "app"}));
  EXPECT_FALSE(c->clusters[0].implicit);
  EXPECT_EQ(c->nodes[0].cluster, 0u);
  EXPECT_EQ(c->nodes[1].cluster, 1u);
  ASSERT_EQ(c->rules.size(), 2u);
  const RuleConfig& r = c->rules[0];
  EXPECT_EQ(r.name, "everything");
  EXPECT_EQ(r.line, 21u);
  EXPECT_TRUE(r.hasStatement);
  EXPECT_EQ(r.statement, RuleStatement::Read);
  EXPECT_EQ(r.tables, (std::vector<std::string>{"public.accounts", "billing.*"}));
  EXPECT_EQ(r.functions, std::vector<std::string>{"audit.*"});
  EXPECT_EQ(r.queryRegex, "x+");
  EXPECT_EQ(r.users, std::vector<std::string>{"app"});
  EXPECT_EQ(r.databases, (std::vector<std::string>{"app", "app_*"}));
  EXPECT_EQ(r.applicationNames, std::vector<std::string>{"web*"});
  EXPECT_EQ(r.clientAddrs, (std::vector<std::string>{"10.0.0.0/8", "::1"}));
  EXPECT_EQ(r.inTransaction, std::optional<bool>(false));
  EXPECT_EQ(r.route, RuleRoute::Replica);
  EXPECT_EQ(r.cluster, "events");
  EXPECT_EQ(r.clusterIndex, 1u);
  EXPECT_TRUE(r.hasMaxReplicaLag);
  EXPECT_EQ(r.maxReplicaLagMs, 1500u);
  EXPECT_FALSE(r.blocks);
  EXPECT_TRUE(c->rules[1].blocks);
  EXPECT_EQ(c->rules[1].blockMessage, "no");
  EXPECT_EQ(c->ruleSlots, (std::vector<std::string>{"everything", "blocker"}));
  EXPECT_EQ(c->rules[1].slot, 1u);
}

TEST(ConfigRules, ExampleFileIsValid) {
  const std::string path = PGSPLIT_FIXTURES_DIR "/../../config/rules.example.toml";
  const LoadResult r = loadFile(path);
  ASSERT_NE(r.config, nullptr) << joined(r.errors);
  const Config& c = *r.config;
  ASSERT_EQ(c.clusters.size(), 2u);
  EXPECT_EQ(c.clusters[0].name, "events");
  EXPECT_EQ(c.clusters[1].name, "main");
  EXPECT_EQ(c.rules.size(), 8u);
  EXPECT_EQ(c.clusterFor("events_2026", "app"), 0);
  EXPECT_EQ(c.clusterFor("app", "app"), 1);
  // Every key of [[rules]] and [[clusters]] appears in it.
  const auto rules = routing::RuleSet::compile(c);
  std::string all;
  for (std::size_t i = 0; i < rules->size(); ++i)
    all += (*rules)[i].conditions + " " + (*rules)[i].action + "\n";
  for (const char* key :
       {"statement", "tables", "functions", "query_regex", "user =", "database", "application_name",
        "client_addr", "in_transaction", "route", "cluster", "block", "max_replica_lag_ms"})
    EXPECT_NE(all.find(key), std::string::npos) << key;
  EXPECT_FALSE(c.clusters[0].users.empty());
}

TEST(ConfigRules, ReloadKeepsClusterAndRuleSlotsByName) {
  const std::string first = R"(
[[clusters]]
name = "main"
databases = ["*"]
[[clusters]]
name = "events"
databases = ["events"]
)" + node("m0", "main") + node("e0", "events") +
                            kUser + R"(
[[rules]]
name = "a"
tables = "x"
route = "primary"
[[rules]]
name = "b"
tables = "y"
cluster = "events"
)";
  // The clusters swap places, one is added, rule "a" goes, "c" comes, "b" moves up.
  const std::string second = R"(
[[clusters]]
name = "archive"
databases = ["archive"]
[[clusters]]
name = "events"
databases = ["events"]
[[clusters]]
name = "main"
databases = ["*"]
)" + node("m0", "main") + node("e0", "events") +
                             node("a0", "archive") + kUser + R"(
[[rules]]
name = "b"
tables = "y"
cluster = "events"
[[rules]]
name = "c"
tables = "z"
route = "primary"
)";
  auto current = load(first);
  auto fresh = load(second);
  ASSERT_TRUE(current && fresh);
  const ReloadPlan plan = planReload(*current, *fresh);
  ASSERT_TRUE(plan.error.empty()) << plan.error;
  const Config& next = *plan.config;
  // Cluster slots: main 0, events 1 as before; archive new at 2.
  ASSERT_EQ(next.clusters.size(), 3u);
  EXPECT_EQ(next.clusters[0].name, "main");
  EXPECT_EQ(next.clusters[1].name, "events");
  EXPECT_EQ(next.clusters[2].name, "archive");
  EXPECT_EQ(next.findCluster("archive"), 2);
  ASSERT_EQ(next.nodes.size(), 3u);
  EXPECT_EQ(next.nodes[0].cluster, 0u);       // m0
  EXPECT_EQ(next.nodes[1].cluster, 1u);       // e0
  EXPECT_EQ(next.nodes[2].cluster, 2u);       // a0
  EXPECT_EQ(next.rules[0].clusterIndex, 1u);  // b -> events, still slot 1
  // The file order of clusters still decides the database mapping.
  EXPECT_EQ(next.clusterFor("archive", "app"), 2);
  EXPECT_EQ(next.clusterFor("app", "app"), 0);
  // Rule slots: a keeps 0 (gone), b keeps 1, c gets 2.
  EXPECT_EQ(next.ruleSlots, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(next.rules[0].slot, 1u);
  EXPECT_EQ(next.rules[1].slot, 2u);
  EXPECT_NE(joined(plan.changes).find("cluster archive added"), std::string::npos)
      << joined(plan.changes);

  // A cluster that leaves the file keeps its slot, retired (it serves no database).
  const std::string third = R"(
[[clusters]]
name = "main"
databases = ["*"]
)" + node("m0", "main") + kUser;
  auto again = load(third);
  const ReloadPlan plan2 = planReload(next, *again);
  ASSERT_TRUE(plan2.error.empty()) << plan2.error;
  const Config& after = *plan2.config;
  ASSERT_EQ(after.clusters.size(), 3u);
  EXPECT_TRUE(after.clusters[1].retired);
  EXPECT_TRUE(after.clusters[2].retired);
  EXPECT_EQ(after.findCluster("events"), -1);
  EXPECT_EQ(after.clusterFor("events", "app"), 0);  // "*" of main
  EXPECT_TRUE(after.nodes[1].retired);
  EXPECT_NE(joined(plan2.changes).find("cluster events removed"), std::string::npos);
}

TEST(ConfigRules, ReloadFromNoClustersToClusters) {
  auto current = load(node("pg0", "") + kUser);
  auto fresh =
      load("[[clusters]]\nname = \"main\"\ndatabases = [\"*\"]\n" + node("pg0", "main") + kUser);
  const ReloadPlan plan = planReload(*current, *fresh);
  ASSERT_TRUE(plan.error.empty());
  const Config& next = *plan.config;
  ASSERT_EQ(next.clusters.size(), 2u);
  EXPECT_TRUE(next.clusters[0].retired);  // the implicit one
  EXPECT_EQ(next.nodes[0].cluster, 1u);
  EXPECT_EQ(next.clusterFor("app", "app"), 1);
}

}  // namespace
}  // namespace pgsplit::config
