#include "pgsplit/routing/node_snapshot.hpp"

#include <cstdio>

namespace pgsplit::routing {

NodeStateBoard::NodeStateBoard(NodeSnapshot initial)
    : snapshot_(std::make_shared<NodeSnapshot>(std::move(initial))) {
  version_.store(snapshot_->version, std::memory_order_release);
}

std::shared_ptr<const NodeSnapshot> NodeStateBoard::current() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}

void NodeStateBoard::observe(std::size_t node, Role role, bool up) {
  {
    std::lock_guard lock(mutex_);
    if (node >= snapshot_->nodes.size()) return;
    const auto& n = snapshot_->nodes[node];
    if (n.role == role && n.up == up) return;  // the common case: nothing new
  }
  update([&](NodeSnapshot& s) {
    if (node >= s.nodes.size()) return;
    if (role != Role::Unknown) s.nodes[node].role = role;
    s.nodes[node].up = up;
  });
}

std::uint64_t parseLsn(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= text.size()) return 0;
  auto hex = [](std::string_view part, std::uint64_t& out) {
    if (part.size() > 8) return false;
    out = 0;
    for (char c : part) {
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                     : -1;
      if (d < 0) return false;
      out = out * 16 + static_cast<std::uint64_t>(d);
    }
    return true;
  };
  std::uint64_t hi = 0, lo = 0;
  if (!hex(text.substr(0, slash), hi) || !hex(text.substr(slash + 1), lo)) return 0;
  return (hi << 32) | lo;
}

std::string lsnText(std::uint64_t lsn) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(lsn >> 32),
                static_cast<unsigned>(lsn & 0xffffffffu));
  return buf;
}

const char* toString(Role r) {
  switch (r) {
    case Role::Primary:
      return "primary";
    case Role::Replica:
      return "replica";
    case Role::Unknown:
      break;
  }
  return "unknown";
}

}  // namespace pgsplit::routing
