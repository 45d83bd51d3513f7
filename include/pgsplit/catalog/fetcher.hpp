#pragma once
// The catalog lookup thread: takes the names workers missed from the CatalogBoard, looks them
// up on the current primary (one libpq connection per database and user, non-blocking with a
// deadline), and publishes the facts. It never runs on a worker thread, and a primary that is
// down or silent only delays lookups (reads of relations keep going to replicas meanwhile;
// user functions stay on the primary).
#include <chrono>
#include <map>
#include <mutex>
#include <memory>
#include <optional>
#include <thread>

#include "pgsplit/catalog/catalog_client.hpp"
#include "pgsplit/config/config.hpp"
#include "pgsplit/routing/node_snapshot.hpp"
#include "pgsplit/sql/catalog_board.hpp"

namespace pgsplit::catalog {

// Board options from [routing].
sql::CatalogBoard::Options boardOptions(const config::Config& config);
// [routing] write_functions / read_only_functions as the classifier reads them.
std::shared_ptr<const sql::FunctionOverrides> overridesOf(const config::Config& config);
// The primary to ask for (database, user): the up primary of the snapshot, or a node
// configured as primary; nullopt when there is none or the user is not configured.
std::optional<Target> primaryTarget(const config::Config& config,
                                    const routing::NodeSnapshot& nodes, const std::string& database,
                                    const std::string& user);

class Fetcher {
 public:
  Fetcher(std::shared_ptr<const config::Config> config, const routing::NodeStateBoard& nodes,
          sql::CatalogBoard& board);
  ~Fetcher();
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  void start();
  void stop();
  // A reloaded configuration (any thread): taken by the lookup thread before its next lookup,
  // with every known name looked up again under it (users, passwords, nodes, timeouts).
  void setConfig(std::shared_ptr<const config::Config> next);

 private:
  void loop();
  void adoptPendingConfig();
  void process(const sql::CatalogWork& work);

  std::shared_ptr<const config::Config> config_;  // the lookup thread's
  std::mutex pendingMutex_;
  std::shared_ptr<const config::Config> pending_;  // from setConfig, not taken yet
  const routing::NodeStateBoard& nodes_;
  sql::CatalogBoard& board_;
  std::map<sql::ScopeId, std::unique_ptr<CatalogClient>> clients_;
  std::map<sql::ScopeId, std::chrono::milliseconds> backoff_;
  std::thread thread_;
};

}  // namespace pgsplit::catalog
