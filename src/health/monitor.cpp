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
  PGresult* res = PQexec(conn, "SELECT pg_is_in_recovery()");
  if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
    result.up = true;
    result.role = PQgetvalue(res, 0, 0)[0] == 't' ? routing::Role::Replica : routing::Role::Primary;
  } else {
    result.error = PQerrorMessage(conn);
  }
  PQclear(res);
  return result;
}

void Monitor::probeAll() {
  for (std::size_t i = 0; i < config_->nodes.size(); ++i) {
    ProbeResult r = probe(i);
    const auto& node = config_->nodes[i];
    routing::Role role = r.role;
    if (node.role == config::NodeRole::Primary) role = routing::Role::Primary;
    if (node.role == config::NodeRole::Replica) role = routing::Role::Replica;
    const auto before = board_.current()->nodes[i];
    if (before.up != r.up || (r.up && before.role != role)) {
      if (r.up)
        spdlog::info("node {} ({}:{}) is up as {}", node.name, node.host, node.port,
                     routing::toString(role));
      else
        spdlog::warn("node {} ({}:{}) is down: {}", node.name, node.host, node.port, r.error);
      board_.update([&](routing::NodeSnapshot& s) {
        s.nodes[i].up = r.up;
        if (r.up) s.nodes[i].role = role;
      });
    }
  }
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
