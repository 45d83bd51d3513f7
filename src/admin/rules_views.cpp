// SHOW RULES and SHOW CLUSTERS (issue #9): the routing rules in force with their counters, and
// the clusters with their nodes.
#include <chrono>

#include "pgsplit/admin/views.hpp"
#include "pgsplit/routing/router.hpp"
#include "pgsplit/routing/rules.hpp"

namespace pgsplit::admin {

namespace {

using protocol::kOidInt8;

std::string joined(const std::vector<std::string>& items, std::string_view empty) {
  if (items.empty()) return std::string(empty);
  std::string out;
  for (const std::string& s : items)
    out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

Table showRules(const Overview& o) {
  Table t;
  t.columns = {{"position", kOidInt8}, {"name"},
               {"conditions"},         {"action"},
               {"hits", kOidInt8},     {"writes_kept_on_primary", kOidInt8},
               {"last_hit"},           {"line", kOidInt8}};
  // Conditions and actions as the compiled rules word them (the same text --explain prints).
  const auto rules = o.rules ? o.rules : routing::RuleSet::compile(*o.config);
  for (std::size_t i = 0; i < rules->size(); ++i) {
    const routing::Rule& r = (*rules)[i];
    const RuleTotals totals = r.slot < o.ruleTotals.size() ? o.ruleTotals[r.slot] : RuleTotals{};
    std::optional<std::string> lastHit;
    if (totals.lastHitMs > 0)
      lastHit = isoTime(
          std::chrono::system_clock::time_point(std::chrono::milliseconds(totals.lastHitMs)));
    t.rows.push_back({std::to_string(i + 1), r.name, r.conditions, r.action,
                      std::to_string(totals.hits), std::to_string(totals.writesKept), lastHit,
                      std::to_string(r.line)});
  }
  return t;
}

Table showClusters(const Overview& o) {
  Table t;
  t.columns = {{"name"}, {"databases"}, {"users"}, {"nodes"}, {"primary"}, {"state"}};
  const auto& cfg = *o.config;
  const auto& snap = *o.nodes;
  for (std::size_t c = 0; c < cfg.clusters.size(); ++c) {
    const config::ClusterConfig& cluster = cfg.clusters[c];
    if (cluster.retired) continue;
    std::vector<std::string> nodes;
    for (std::size_t i = 0; i < cfg.nodes.size(); ++i)
      if (!cfg.nodes[i].retired && cfg.nodes[i].cluster == c) nodes.push_back(cfg.nodes[i].name);
    const int primary = routing::Router::primaryOf(snap, c);
    const int claims = routing::Router::primaryClaims(snap, c);
    std::optional<std::string> primaryName;
    if (primary >= 0 && static_cast<std::size_t>(primary) < cfg.nodes.size())
      primaryName = cfg.nodes[static_cast<std::size_t>(primary)].name;
    const char* state = claims >= 2 ? "split brain" : primary >= 0 ? "ok" : "no primary";
    t.rows.push_back({cluster.name, joined(cluster.databases, "(only through rules)"),
                      joined(cluster.users, "(any)"), joined(nodes, ""), primaryName,
                      std::string(state)});
  }
  return t;
}

}  // namespace pgsplit::admin
