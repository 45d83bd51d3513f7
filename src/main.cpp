// pgsplit: parse flags, load the config, start the workers, the health monitor and the HTTP
// endpoint, then run the control loop (signals, reloads, the drain) until it is time to exit.
#include <CLI/CLI.hpp>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <iostream>
#include <thread>

#include <spdlog/spdlog.h>

#include "pgsplit/catalog/explain.hpp"
#include "pgsplit/catalog/fetcher.hpp"
#include "pgsplit/admin/http_server.hpp"
#include "pgsplit/admin/log_format.hpp"
#include "pgsplit/config/config.hpp"
#include "pgsplit/health/monitor.hpp"
#include "pgsplit/net/controller.hpp"
#include "pgsplit/net/server.hpp"
#include "pgsplit/session/runtime.hpp"

using namespace pgsplit;

namespace {

// Every client and every server connection is a file descriptor: take all the process may have
// (the soft limit is often 1024, far below max_client_connections), and say when that is short.
void raiseDescriptorLimit(const config::Config& cfg) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) ::getrlimit(RLIMIT_NOFILE, &lim);
  }
  const rlim_t wanted = static_cast<rlim_t>(cfg.server.maxClientConnections) + 256;
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < wanted)
    spdlog::warn(
        "open file limit is {}: fewer than max_client_connections ({}) plus server "
        "connections; raise it (ulimit -n, LimitNOFILE=) to accept that many clients",
        static_cast<unsigned long long>(lim.rlim_cur), cfg.server.maxClientConnections);
}

int checkConfig(const std::string& path) {
  auto result = config::loadFile(path);
  for (const auto& e : result.errors)
    std::cerr << e << "\n";
  if (!result.errors.empty()) return 1;
  const auto& c = *result.config;
  std::cout << path << ": ok (" << c.nodes.size() << " nodes, " << c.users.size() << " users";
  if (!c.clusters.empty() && !c.clusters.front().implicit)
    std::cout << ", " << c.clusters.size() << " clusters";
  if (!c.rules.empty()) std::cout << ", " << c.rules.size() << " rules";
  std::cout << ")\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "pgsplit: a PostgreSQL proxy that sends writes to the primary and reads to replicas"};
  std::string configPath;
  std::string checkPath;
  std::string explainSql;
  catalog::ExplainOptions explainOptions;
  bool version = false;
  app.add_option("-c,--config", configPath, "Configuration file (TOML)");
  app.add_option("--check-config", checkPath, "Validate a configuration file and exit");
  app.add_option("--explain", explainSql,
                 "Print where SQL would be routed and why (with --config), and exit");
  app.add_option("--database", explainOptions.database,
                 "With --explain: the client's database (default: the user's name)");
  app.add_option("--user", explainOptions.user,
                 "With --explain: the client's user (default: the first [[users]] entry)");
  app.add_option("--application-name", explainOptions.applicationName,
                 "With --explain: the client's application_name (for [[rules]])");
  app.add_option("--client-addr", explainOptions.clientAddr,
                 "With --explain: the client's IP address (for [[rules]] client_addr)");
  app.add_flag("-V,--version", version, "Print the version and exit");
  CLI11_PARSE(app, argc, argv);

  if (version) {
    std::cout << "pgsplit " << PGSPLIT_VERSION << "\n";
    return 0;
  }
  if (!checkPath.empty()) return checkConfig(checkPath);
  if (configPath.empty()) {
    std::cerr << "pgsplit: --config FILE is required (see --help)\n";
    return 2;
  }

  auto loaded = config::loadFile(configPath);
  if (!loaded.errors.empty()) {
    for (const auto& e : loaded.errors)
      std::cerr << e << "\n";
    return 1;
  }
  auto cfg = loaded.config;
  if (app.count("--explain") > 0)
    return catalog::explain(*cfg, explainSql, explainOptions, std::cout);
  admin::setupLogging(cfg->log);
  ::signal(SIGPIPE, SIG_IGN);
  raiseDescriptorLimit(*cfg);

  unsigned workers = cfg->server.workers != 0 ? cfg->server.workers
                                              : std::max(1u, std::thread::hardware_concurrency());

  session::Runtime runtime(cfg, health::initialSnapshot(*cfg));
  auto monitor = std::make_unique<health::Monitor>(cfg, runtime.nodes);
  monitor->probeAll();

  net::Server server(runtime, workers);
  auto catalogFetcher = std::make_unique<catalog::Fetcher>(cfg, runtime.nodes, runtime.catalog);
  // A reload rebuilds the health monitor around the new node list (and the user it logs in as);
  // the catalog lookups take the new configuration and look everything up again, and the
  // classifiers get the new function lists.
  net::Controller::Hooks hooks;
  hooks.beforeNodesChange = [&monitor] { monitor.reset(); };
  hooks.afterNodesChange = [&monitor, &catalogFetcher,
                            &runtime](std::shared_ptr<const config::Config> next) {
    runtime.catalog.setOverrides(catalog::overridesOf(*next));
    catalogFetcher->setConfig(next);
    monitor = std::make_unique<health::Monitor>(std::move(next), runtime.nodes);
    monitor->start();
  };
  net::Controller controller(runtime, server, configPath, std::move(hooks));
  std::unique_ptr<admin::HttpServer> http;
  if (cfg->server.httpEnabled()) {
    http = std::make_unique<admin::HttpServer>(controller.io(), runtime);
    if (!http->listen(cfg->server.httpListenHost, cfg->server.httpListenPort)) return 1;
  }
  // The client port last: once it accepts, everything else is in place.
  if (!server.listen()) return 1;

  auto snap = runtime.nodes.current();
  for (const auto& n : snap->nodes)
    spdlog::info("node {}: {} {}", n.name, n.up ? "up" : "down", routing::toString(n.role));
  spdlog::info("pgsplit {} listening on {}:{} ({} workers, {} pooling, {} auth)", PGSPLIT_VERSION,
               server.localEndpoint().address().to_string(), server.localEndpoint().port(), workers,
               config::toString(cfg->pool.mode), config::toString(cfg->server.authMethod));
  spdlog::info("health checks every {} ms (timeout {} ms); read-your-writes: {}",
               cfg->health.intervalMs, cfg->health.timeoutMs,
               config::toString(cfg->consistency.readYourWrites));
  if (http)
    spdlog::info("HTTP on {}:{}: /healthz /readyz /nodes /metrics",
                 http->localEndpoint().address().to_string(), http->localEndpoint().port());
  if (!cfg->admin.users.empty())
    spdlog::info("admin console: database \"pgsplit\" for {} user{}", cfg->admin.users.size(),
                 cfg->admin.users.size() == 1 ? "" : "s");

  monitor->start();
  catalogFetcher->start();
  server.start();
  if (http) http->start();
  const int code = controller.run();
  // The drain is over: stop the workers (cutting whatever is left), then the rest.
  server.stop();
  monitor.reset();
  catalogFetcher.reset();
  http.reset();
  spdlog::info("pgsplit stopped");
  return code;
}
