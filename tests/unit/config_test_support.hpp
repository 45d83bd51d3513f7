#pragma once
// Shared by the configuration tests: loading TOML text that must be valid, and printing errors.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "pgsplit/config/config.hpp"

namespace pgsplit::config::test_support {

inline const std::string kUser = "[[users]]\nname = \"app\"\npassword = \"app\"\n";

// The errors of a load, one per line (for assertion messages).
inline std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines)
    out += l + "\n";
  return out;
}

// Loads text that must load without errors (a failed expectation otherwise).
inline std::shared_ptr<const Config> load(const std::string& text) {
  LoadResult r = loadString(text, "t.toml");
  EXPECT_TRUE(r.errors.empty()) << joined(r.errors);
  return r.config;
}

}  // namespace pgsplit::config::test_support
