#pragma once
// What a scan collects for the catalog to decide: user functions called and relations read.
#include <optional>
#include <string>
#include <vector>

#include "pgsplit/sql/analysis.hpp"
#include "token_stream.hpp"

namespace pgsplit::sql::detail {

struct References {
  const FunctionOverrides* overrides = nullptr;
  std::vector<std::string> functions;  // objectKey()s
  std::vector<std::string> relations;

  static void add(std::vector<std::string>& keys, std::string key) {
    for (const std::string& k : keys) {
      if (k == key) return;
    }
    keys.push_back(std::move(key));
  }
};

// The name an identifier token stands for (folded, unescaped, cut to 63 bytes); nullopt for a
// form pgsplit does not decode (U&"...").
std::optional<std::string> identifierName(const Tok& t);

}  // namespace pgsplit::sql::detail
