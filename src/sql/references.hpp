#pragma once
// What a scan collects: for the catalog to decide, user functions called and relations read;
// for routing rules, every relation the text names (read, written or altered) and every
// function it calls.
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
  std::vector<std::string> tables;  // objectKey()s of every relation named
  std::vector<std::string> calls;   // objectKey()s of every function called (schema as written)
  bool readsConstants = false;      // a verdict read a constant's value (Analysis::readsConstants)

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
