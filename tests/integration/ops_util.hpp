#pragma once
// Helpers for the operations tests: a small HTTP client, the Prometheus text format, psql.
#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace pgsplit::test {

struct HttpReply {
  int status = 0;  // 0: no answer
  std::string body;
};
// GET http://127.0.0.1:<port><path> (HTTP/1.1, Connection: close).
HttpReply httpGet(int port, const std::string& path,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Prometheus text format: every sample, keyed "name{label="value",...}" exactly as written.
// ADD_FAILURE for a line that is not a comment, blank or a well-formed sample.
std::map<std::string, double> parseMetrics(const std::string& text);
// Sum of the samples of `name` whose labels include every `label="value"` given.
double metricSum(const std::map<std::string, double>& m, const std::string& name,
                 const std::vector<std::string>& labels = {});

// psql -X -A -t -F '|' against 127.0.0.1:port as user/password/db; returns (exit code, output).
std::pair<int, std::string> psql(int port, const std::string& user, const std::string& password,
                                 const std::string& db, const std::string& command);
// Rows of psql's unaligned output split on '|'.
std::vector<std::vector<std::string>> psqlRows(const std::string& output);

}  // namespace pgsplit::test
