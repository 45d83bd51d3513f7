#include "pgsplit/session/worker_stats.hpp"

namespace pgsplit::session {
namespace {

int digit36(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return -1;
}

char char36(std::size_t d) {
  return static_cast<char>(d < 10 ? '0' + d : 'A' + (d - 10));
}

// The 'C' field of an ErrorResponse body, without decoding the rest.
std::string_view sqlstateField(std::string_view body) {
  std::size_t i = 0;
  while (i < body.size() && body[i] != '\0') {
    const char type = body[i++];
    const std::size_t end = body.find('\0', i);
    if (end == std::string_view::npos) return {};
    if (type == 'C') return body.substr(i, end - i);
    i = end + 1;
  }
  return {};
}

}  // namespace

int sqlstateClassIndex(std::string_view sqlstate) {
  if (sqlstate.size() < 2) return -1;
  const int a = digit36(sqlstate[0]);
  const int b = digit36(sqlstate[1]);
  if (a < 0 || b < 0) return -1;
  return a * 36 + b;
}

std::array<char, 2> sqlstateClassName(std::size_t index) {
  return {char36(index / 36 % 36), char36(index % 36)};
}

WorkerStats::~WorkerStats() {
  for (auto& l : latency_)
    delete l.load(std::memory_order_relaxed);
}

NodeLatency* WorkerStats::allocateLatency(std::size_t node) {
  auto* l = new NodeLatency();
  latency_[node].store(l, std::memory_order_release);  // scrapes see it whole
  return l;
}

void WorkerStats::countServerError(std::size_t node, bool replica, std::string_view errorBody) {
  if (node < nodes.size())
    (replica ? nodes[node].errorsAsReplica : nodes[node].errorsAsPrimary).add();
  const int cls = sqlstateClassIndex(sqlstateField(errorBody));
  if (cls >= 0) serverErrorsByClass[static_cast<std::size_t>(cls)].add();
}

void WorkerStats::countProxyError(std::string_view sqlstate) {
  const int cls = sqlstateClassIndex(sqlstate);
  if (cls >= 0) proxyErrorsByClass[static_cast<std::size_t>(cls)].add();
}

}  // namespace pgsplit::session
