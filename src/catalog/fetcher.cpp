#include "pgsplit/catalog/fetcher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

#include "pgsplit/routing/router.hpp"

namespace pgsplit::catalog {

namespace {

using namespace std::chrono_literals;

constexpr std::chrono::milliseconds kFirstBackoff = 1000ms;
constexpr std::chrono::milliseconds kMaxBackoff = 30000ms;

std::vector<std::string> keysOf(const std::vector<config::FunctionName>& names) {
  std::vector<std::string> keys;
  for (const auto& n : names)
    keys.push_back(sql::objectKey(n.schema, n.name));
  return keys;
}

}  // namespace

sql::CatalogBoard::Options boardOptions(const config::Config& config) {
  sql::CatalogBoard::Options o;
  o.lookups = config.routing.catalogLookups;
  return o;
}

std::shared_ptr<const sql::FunctionOverrides> overridesOf(const config::Config& config) {
  return std::make_shared<sql::FunctionOverrides>(keysOf(config.routing.writeFunctions),
                                                  keysOf(config.routing.readOnlyFunctions));
}

std::optional<Target> primaryTarget(const config::Config& config,
                                    const routing::NodeSnapshot& nodes, const std::string& database,
                                    const std::string& user) {
  // The primary of the cluster the database maps to ([[clusters]]).
  const int cluster = config.clusterFor(database, user);
  if (cluster < 0) return std::nullopt;
  const auto c = static_cast<std::size_t>(cluster);
  int primary = routing::Router::primaryOf(nodes, c);
  if (primary < 0) {
    for (std::size_t i = 0; i < config.nodes.size(); ++i) {
      if (config.nodes[i].role == config::NodeRole::Primary && config.nodes[i].cluster == c &&
          !config.nodes[i].retired)
        primary = static_cast<int>(i);
    }
  }
  const config::UserConfig* u = config.findUser(user);
  if (primary < 0 || static_cast<std::size_t>(primary) >= config.nodes.size() || u == nullptr) {
    return std::nullopt;
  }
  const auto& node = config.nodes[static_cast<std::size_t>(primary)];
  return Target{node.host, node.port, database, user, u->password};
}

Fetcher::Fetcher(std::shared_ptr<const config::Config> config, const routing::NodeStateBoard& nodes,
                 sql::CatalogBoard& board)
    : config_(std::move(config)), nodes_(nodes), board_(board) {}

Fetcher::~Fetcher() {
  stop();
}

void Fetcher::start() {
  if (!board_.lookupsEnabled() || thread_.joinable()) return;
  thread_ = std::thread([this] { loop(); });
}

void Fetcher::stop() {
  board_.stop();
  if (thread_.joinable()) thread_.join();
  clients_.clear();
}

void Fetcher::setConfig(std::shared_ptr<const config::Config> next) {
  {
    std::lock_guard lock(pendingMutex_);
    pending_ = std::move(next);
  }
  board_.refreshAll();  // also wakes the lookup thread
}

void Fetcher::adoptPendingConfig() {
  std::lock_guard lock(pendingMutex_);
  if (!pending_) return;
  config_ = std::move(pending_);
  pending_.reset();
  clients_.clear();  // connections made with the old users, passwords and timeouts
  backoff_.clear();
}

void Fetcher::loop() {
  auto interval = std::chrono::milliseconds(config_->routing.catalogRefreshIntervalMs);
  auto nextRefresh = sql::CatalogBoard::Clock::now() + interval;
  while (!board_.stopping()) {
    const auto until = interval.count() > 0 ? nextRefresh : sql::CatalogBoard::Clock::now() + 1h;
    const std::vector<sql::CatalogWork> work = board_.waitForWork(until);
    if (board_.stopping()) break;
    const auto before = config_;
    adoptPendingConfig();
    if (config_ != before) {
      interval = std::chrono::milliseconds(config_->routing.catalogRefreshIntervalMs);
      nextRefresh = sql::CatalogBoard::Clock::now() + interval;
    }
    if (interval.count() > 0 && sql::CatalogBoard::Clock::now() >= nextRefresh) {
      board_.refreshAll();
      nextRefresh = sql::CatalogBoard::Clock::now() + interval;
    }
    for (const sql::CatalogWork& w : work)
      process(w);
  }
}

void Fetcher::process(const sql::CatalogWork& work) {
  const auto nodes = nodes_.current();
  const std::optional<Target> target = primaryTarget(*config_, *nodes, work.database, work.user);
  auto& backoff = backoff_[work.scope];
  auto fail = [&](const std::string& why) {
    if (backoff.count() == 0) {
      spdlog::warn(
          "catalog lookups in database {} as {} failed: {} (user functions go to the primary, "
          "relations not looked up yet are read on replicas; retrying)",
          work.database, work.user, why);
    }
    backoff = std::clamp(backoff * 2, kFirstBackoff, kMaxBackoff);
    board_.failed(work, backoff);
  };
  if (!target) {
    fail(config_->findUser(work.user) == nullptr ? "the user is not in [[users]]"
                                                 : "no primary is known");
    return;
  }
  auto& client = clients_[work.scope];
  if (!client) {
    client = std::make_unique<CatalogClient>(
        std::chrono::milliseconds(config_->routing.catalogTimeoutMs));
  }
  std::optional<sql::CatalogFacts> facts;
  try {
    if (client->connect(*target)) facts = client->lookup(work.functions, work.relations);
  } catch (const std::exception& e) {
    spdlog::error("catalog lookup bug: {}", e.what());
  }
  if (!facts) {
    const std::string why = client->error();
    client->close();
    fail(why);
    return;
  }
  if (backoff.count() != 0) {
    spdlog::info("catalog lookups in database {} as {} work again", work.database, work.user);
  }
  backoff = 0ms;
  spdlog::debug("catalog: looked up {} functions and {} relations in database {} as {}{}",
                work.functions.size(), work.relations.size(), work.database, work.user,
                work.refresh ? " (refresh)" : "");
  board_.publish(work, std::move(*facts));
}

}  // namespace pgsplit::catalog
