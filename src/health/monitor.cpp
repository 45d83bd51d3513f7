#include "pgsplit/health/monitor.hpp"

#include <libpq-fe.h>

#include <spdlog/spdlog.h>

namespace pgsplit::health {

routing::NodeSnapshot initialSnapshot(const config::Config& config) {
  routing::NodeSnapshot snap;
  for (const auto& n : config.nodes) {
    routing::NodeState s;
    s.name = n.name;
    s.weight = n.weight;
    s.up = true;
    s.role = n.role == config::NodeRole::Primary   ? routing::Role::Primary
             : n.role == config::NodeRole::Replica ? routing::Role::Replica
                                                   : routing::Role::Unknown;
    snap.nodes.push_back(std::move(s));
  }
  return snap;
}

Monitor::Monitor(std::shared_ptr<const config::Config> config, routing::NodeStateBoard& board,
                 std::chrono::milliseconds interval)
    : config_(std::move(config)), board_(board), interval_(interval) {
  conns_.assign(config_->nodes.size(), nullptr);
}

Monitor::~Monitor() {
  stop();
  for (auto* c : conns_)
    if (c) PQfinish(c);
}

ProbeResult Monitor::probe(std::size_t idx) {
  const auto& node = config_->nodes[idx];
  ProbeResult result;
  PGconn*& conn = conns_[idx];
  if (conn && PQstatus(conn) != CONNECTION_OK) {
    PQfinish(conn);
    conn = nullptr;
  }
  if (!conn) {
    const auto& user = config_->users.front();
    const std::string port = std::to_string(node.port);
    const char* keys[] = {
        "host", "port", "dbname", "user", "password", "connect_timeout", "application_name",
        nullptr};
    const char* values[] = {
        node.host.c_str(),     port.c_str(), "postgres",       user.name.c_str(),
        user.password.c_str(), "3",          "pgsplit-health", nullptr};
    conn = PQconnectdbParams(keys, values, 0);
    if (PQstatus(conn) != CONNECTION_OK) {
      result.error = PQerrorMessage(conn);
      PQfinish(conn);
      conn = nullptr;
      while (!result.error.empty() && result.error.back() == '\n')
        result.error.pop_back();
      return result;
    }
  }
  // The insert position (not the write position) is past every commit acknowledged so far, even
  // with synchronous_commit = off: what read-your-writes compares replicas against.
  result.sampledAt = routing::Clock::now();
  PGresult* res = PQexec(conn,
                         "SELECT pg_is_in_recovery(), CASE WHEN pg_is_in_recovery() "
                         "THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END");
  if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
    result.up = true;
    result.role = PQgetvalue(res, 0, 0)[0] == 't' ? routing::Role::Replica : routing::Role::Primary;
    result.lsn = routing::parseLsn(PQgetvalue(res, 0, 1));
  } else {
    result.error = PQerrorMessage(conn);
  }
  PQclear(res);
  return result;
}

void Monitor::probeAll() {
  // The primary first: replicas sampled after it in the same round can prove they have replayed
  // what it had written when sampled.
  std::vector<std::size_t> order;
  auto before = board_.current();
  // (A node removed by a reload keeps its slot, down: it is not checked.)
  for (std::size_t i = 0; i < config_->nodes.size(); ++i)
    if (!config_->nodes[i].retired && before->nodes[i].role == routing::Role::Primary)
      order.push_back(i);
  for (std::size_t i = 0; i < config_->nodes.size(); ++i)
    if (!config_->nodes[i].retired && before->nodes[i].role != routing::Role::Primary)
      order.push_back(i);

  std::vector<ProbeResult> results(config_->nodes.size());
  for (std::size_t i : order) {
    ProbeResult& r = results[i];
    r = probe(i);
    const auto& node = config_->nodes[i];
    if (node.role == config::NodeRole::Primary) r.role = routing::Role::Primary;
    if (node.role == config::NodeRole::Replica) r.role = routing::Role::Replica;
    const auto& was = before->nodes[i];
    if (was.up != r.up || (r.up && was.role != r.role)) {
      if (r.up)
        spdlog::info("node {} ({}:{}) is up as {}", node.name, node.host, node.port,
                     routing::toString(r.role));
      else
        spdlog::warn("node {} ({}:{}) is down: {}", node.name, node.host, node.port, r.error);
    }
  }
  board_.update([&](routing::NodeSnapshot& s) {
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (config_->nodes[i].retired) continue;
      const ProbeResult& r = results[i];
      s.nodes[i].up = r.up;
      if (!r.up) continue;
      s.nodes[i].role = r.role;
      s.nodes[i].lsn = r.lsn;
      s.nodes[i].lsnSampledAt = r.sampledAt;
    }
  });
}

void Monitor::start() {
  thread_ = std::thread([this] { loop(); });
}

void Monitor::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Monitor::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    probeAll();
    lock.lock();
  }
}

}  // namespace pgsplit::health
