#pragma once
// The admin console's row sets and the /nodes JSON, as pure functions of an Overview.
#include <optional>
#include <string>
#include <vector>

#include "pgsplit/admin/overview.hpp"
#include "pgsplit/protocol/result_set.hpp"

namespace pgsplit::admin {

struct Table {
  std::vector<protocol::ColumnSpec> columns;  // names are static strings
  std::vector<std::vector<std::optional<std::string>>> rows;
};

Table showNodes(const Overview& o);
Table showPools(const Overview& o);
Table showClients(const Overview& o);
Table showServers(const Overview& o);
Table showStats(const Overview& o);
// The statements of every worker, merged by fingerprint, most total time first.
Table showQueries(const std::vector<std::vector<session::QueryStatsRow>>& perWorker);
// key/value rows; passwords appear as where they came from, never as values.
Table showConfig(const Overview& o);
Table showVersion(const Overview& o);
Table showHelp();

// /nodes: a JSON array with one object per node (the columns of SHOW NODES).
std::string nodesJson(const Overview& o);

// Bytes of the row set: RowDescription, DataRows, CommandComplete "SHOW" (or `tag`).
void writeTable(std::string& out, const Table& t, std::string_view tag = "SHOW");

// "2026-11-21T14:25:43Z"
std::string isoTime(std::chrono::system_clock::time_point t);
// A JSON string literal (quotes included) for any bytes: control characters and non-UTF-8 are
// escaped so the result always parses.
std::string jsonString(std::string_view s);

}  // namespace pgsplit::admin
