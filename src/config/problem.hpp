#pragma once
// A problem found while loading the file, at a position of it (config module internal).
#include <cstdint>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "pgsplit/config/config.hpp"

namespace pgsplit::config::detail {

struct Problem {
  std::uint32_t line;
  std::uint32_t column;
  std::string message;
};

// [[clusters]], the `cluster` of each [[nodes]] entry, and [[rules]] (rules_config.cpp). Runs
// after the rest of the file was read into `out` (nodes, users, [consistency]).
void readClustersAndRules(const toml::table& root, Config& out, std::vector<Problem>& problems);

}  // namespace pgsplit::config::detail
