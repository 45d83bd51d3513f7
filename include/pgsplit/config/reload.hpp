#pragma once
// What a reload changes. Pure: from the configuration in force and the freshly loaded file, the
// configuration to publish and a description of the difference (no secret in it).
//
// Node slots are stable: a node keeps its index for the life of the process (sessions, pools,
// statistics and the node board are indexed by it). A node is the same node when its name, host
// and port are unchanged; a node that left the file keeps its slot marked `retired`; a new one
// (or one whose address changed) gets a new slot at the end, or its old retired slot back.
// Clusters keep their slots by name the same way (nodes and rules refer to them by slot), and
// rules keep their statistics slot by name.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "pgsplit/config/config.hpp"

namespace pgsplit::config {

// Upper bound on node slots (active + retired): statistics are kept in fixed per-worker arrays.
inline constexpr std::size_t kMaxNodeSlots = 256;
// The same for [[clusters]] slots (a cluster keeps its index by name; one that leaves the file
// stays retired) and for rule statistics slots (a rule keeps its counters by name).
inline constexpr std::size_t kMaxClusterSlots = 64;
inline constexpr std::size_t kMaxRuleSlots = 1024;

struct ReloadPlan {
  std::shared_ptr<const Config> config;  // set unless `error` is
  std::vector<std::string> changes;      // one line per change, for the log
  // Settings that only a restart applies; the running value is kept in `config`.
  std::vector<std::string> needRestart;
  std::string error;  // the reload cannot be applied
};

ReloadPlan planReload(const Config& current, const Config& fresh);

}  // namespace pgsplit::config
