#include "pgsplit/routing/node_snapshot.hpp"

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
