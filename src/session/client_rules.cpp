// ClientSession: routing rules and clusters (issue #9). The rules are compiled once per
// configuration generation (routing::RuleSet); here a session applies them: its client
// conditions once per generation, each statement text as it is classified, and the decision
// once per unit of work.
#include <chrono>

#include <spdlog/spdlog.h>

#include "pgsplit/protocol/messages.hpp"
#include "pgsplit/session/client_session.hpp"
#include "pgsplit/session/refusal.hpp"

namespace pgsplit::session {

using namespace protocol;

namespace {

std::string dollarTag(std::string_view base, std::string_view text) {
  std::string tag(base);
  for (int n = 1; text.find("$" + tag + "$") != std::string_view::npos; ++n)
    tag = std::string(base) + std::to_string(n);
  return "$" + tag + "$";
}

}  // namespace

std::string raiseStatement(std::string_view sqlstate, std::string_view message,
                           std::string_view detail) {
  const std::string both = std::string(message) + "\n" + std::string(detail);
  const std::string q = dollarTag("m", both);
  std::string body = "BEGIN RAISE EXCEPTION USING ERRCODE = '" + std::string(sqlstate) +
                     "', MESSAGE = " + q + std::string(message) + q;
  if (!detail.empty()) body += ", DETAIL = " + q + std::string(detail) + q;
  body += "; END";
  const std::string outer = dollarTag("pgsplit", body);
  return "DO " + outer + body + outer;
}

Task<bool> ClientSession::joinCluster() {
  error_code ec;
  const auto ep = socket_.remote_endpoint(ec);
  if (!ec) clientAddress_ = config::IpAddress::parse(ep.address().to_string());
  const RulesView& v = rulesNow();
  const int cluster = v.rules->clusterFor(database_, user_);
  if (cluster < 0) {
    spdlog::info("[c{}] database \"{}\" (user \"{}\") matches no [[clusters]] entry", id_,
                 database_, user_);
    co_await writeClientError({"FATAL", "3D000",
                               "pgsplit: database \"" + database_ +
                                   "\" is not served here (no [[clusters]] entry matches it)"},
                              true);
    co_return false;
  }
  rulesView_.cluster = static_cast<std::size_t>(cluster);
  homeClusterName_ = runtime_.config->clusters[static_cast<std::size_t>(cluster)].name;
  co_return true;
}

const ClientSession::RulesView& ClientSession::rulesNow() {
  const ConfigGeneration& gen = runtime_.config.current();
  if (&gen == rulesView_.generation) return rulesView_;
  rulesView_.generation = &gen;
  rulesView_.rules = gen.rules.get();
  rulesView_.client = gen.rules->sessionMask({user_, database_, applicationName_, clientAddress_});
  // The session keeps its cluster (by name) across reloads; if that cluster left the file, its
  // database is mapped again.
  int cluster = homeClusterName_.empty() ? -1 : gen.config->findCluster(homeClusterName_);
  if (cluster < 0) cluster = gen.rules->clusterFor(database_, user_);
  if (cluster >= 0) {
    rulesView_.cluster = static_cast<std::size_t>(cluster);
    homeClusterName_ = gen.config->clusters[rulesView_.cluster].name;
  }
  return rulesView_;
}

void ClientSession::noteRules(std::string_view text, const sql::Classification& c) {
  const RulesView& v = rulesNow();
  if (v.rules->empty()) return;
  if (batchRules_ != v.rules) {
    // The first text of the unit (or a reload published new rules in the middle of it: the
    // unit is then matched against the new rules from here on).
    batchRules_ = v.rules;
    batchRuleMask_ = v.rules->unitStart(v.client);
  }
  v.rules->matchText(v.client, c, worker_.classifier().lastAnalysis(), text, batchRuleMask_);
}

void ClientSession::noteUnnamedRules(std::string_view text, const sql::Classification& c) {
  const RulesView& v = rulesNow();
  unnamedRules_ = v.rules;
  unnamedRuleMask_ = {};
  if (v.rules->empty()) return;
  v.rules->matchText(v.client, c, worker_.classifier().lastAnalysis(), text, unnamedRuleMask_);
  useUnnamedRules();
}

void ClientSession::useUnnamedRules() {
  const RulesView& v = rulesNow();
  if (v.rules->empty() || unnamedRules_ != v.rules) return;  // (parsed under other rules)
  if (batchRules_ != v.rules) {
    batchRules_ = v.rules;
    batchRuleMask_ = v.rules->unitStart(v.client);
  }
  batchRuleMask_ |= unnamedRuleMask_;
}

ClientSession::UnitRule ClientSession::ruleForUnit(bool inTransaction) {
  const RulesView& v = rulesNow();
  UnitRule u;
  u.request.cluster = v.cluster;
  const routing::RuleSet* rules = batchRules_ != nullptr ? batchRules_ : v.rules;
  if (rules->empty()) return u;
  const routing::RuleMask unit =
      batchRules_ != nullptr ? batchRuleMask_ : rules->unitStart(v.client);
  const int i = rules->decide(unit, inTransaction);
  if (i < 0) return u;
  const routing::Rule& r = (*rules)[static_cast<std::size_t>(i)];
  u.rule = &r;
  u.request.force = r.force;
  u.request.maxLagMs = r.maxReplicaLagMs;
  if (r.cluster >= 0) {
    u.request.cluster = static_cast<std::size_t>(r.cluster);
    u.request.ruleCluster = true;
  }
  return u;
}

void ClientSession::noteRuleDecision(const routing::Rule& rule, bool writeGuarded,
                                     const sql::Classification* cls) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  worker_.stats().countRule(rule.slot, writeGuarded, now);
  if (!writeGuarded) return;
  // The write guard is absolute: a rule never sends a statement that may write to a replica.
  // A read only waiting for the catalog (or of a relation a standby cannot read) is no news.
  const bool write = cls == nullptr || (!cls->provisional && !cls->primaryRead);
  if (write && rule.slot < runtime_.ruleWriteWarned.size() &&
      !runtime_.ruleWriteWarned[rule.slot].exchange(true, std::memory_order_relaxed)) {
    spdlog::warn(
        "rule \"{}\" (line {}) asks for a replica, but it matched a statement that needs the "
        "primary: such statements stay on the primary (logged once; counted in SHOW RULES and "
        "pgsplit_rule_writes_kept_on_primary_total)",
        rule.name, rule.line);
  } else {
    spdlog::debug("[c{}] rule \"{}\" asks for a replica: kept on the primary ({})", id_, rule.name,
                  cls != nullptr ? cls->reason : "not a read");
  }
}

std::string ClientSession::clusterName(std::size_t cluster) const {
  const auto& clusters = runtime_.config->clusters;
  return cluster < clusters.size() ? clusters[cluster].name : "#" + std::to_string(cluster);
}

Task<bool> ClientSession::refuseUnit(const char* sqlstate, std::string message, bool endsWithSync) {
  const bool inTransaction = active_ && active_->txnStatus() != 'I';
  if (inTransaction && endsWithSync) {
    // The backend raises the error, so the transaction is failed there too (what PostgreSQL
    // would do had it refused the statement itself).
    worker_.stats().countProxyError(sqlstate);
    abandonBatch();
    scratch_.clear();
    writeQuery(scratch_, raiseStatement(sqlstate, message, "refused by pgsplit"));
    addOp(client::Query, scratch_);
    sql::Classification cls;
    cls.reason = "pgsplit refusal";
    cls.statements = 1;
    co_return co_await writeUnit(active_, true, cls);
  }
  abandonBatch();
  if (!endsWithSync) skipUntilSync_ = true;
  if (!co_await answerLocally({"ERROR", sqlstate, message})) co_return false;
  if (!endsWithSync) co_return true;
  scratch_.clear();
  writeReadyForQuery(scratch_, active_ ? active_->txnStatus() : 'I');
  co_return co_await writeClient(scratch_);
}

}  // namespace pgsplit::session
