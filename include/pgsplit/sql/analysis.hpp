#pragma once
// Classification that the primary's catalog completes. analyze() is pure: it decides what the
// text alone decides and lists what only the catalog can (user functions, relations); resolve()
// applies a catalog snapshot to that list. classify() (classifier.hpp) is analyze() without a
// catalog: every function it does not know is a write.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pgsplit/sql/classifier.hpp"

namespace pgsplit::sql {

// ---- Names ----------------------------------------------------------------------------------

// A function or relation name as PostgreSQL resolves it, in one string: schema, '\0', name.
// The schema is empty when the text did not qualify the name (the search_path decides).
// Unquoted identifiers are folded to lower case, quoted ones unescaped, both cut to 63 bytes.
std::string objectKey(std::string_view schema, std::string_view name);
std::string_view keySchema(std::string_view key);
std::string_view keyName(std::string_view key);
// "public.audit_log" or "audit_log", each part quoted only when PostgreSQL would need it.
std::string displayName(std::string_view key);

// Parses "name", "schema.name", "\"Name\"" the way PostgreSQL reads them in SQL; nullopt when
// the text is not one or two identifiers separated by '.'.
std::optional<std::string> parseQualifiedName(std::string_view text);

// ---- Configured overrides -------------------------------------------------------------------

// [routing] write_functions / read_only_functions. An entry without a schema matches the name
// in any schema; "schema.name" matches calls qualified with that schema and unqualified calls
// of the name (pgsplit does not know a session's search_path). write_functions wins. A
// read-only entry never overrides what pins a session (advisory locks, set_config).
class FunctionOverrides {
 public:
  enum class Verdict : std::uint8_t { None, Write, ReadOnly };
  struct Match {
    Verdict verdict = Verdict::None;
    const char* reason = nullptr;  // static or interned: valid for the life of the process
  };

  FunctionOverrides() = default;
  FunctionOverrides(const std::vector<std::string>& writeKeys,
                    const std::vector<std::string>& readOnlyKeys);

  Match match(std::string_view schema, std::string_view name) const;
  bool empty() const { return entries_.empty(); }

 private:
  struct Entry {
    std::string schema;
    std::string name;
    Verdict verdict;
    const char* reason;
  };
  std::vector<Entry> entries_;  // writes first
};

// ---- Analysis -------------------------------------------------------------------------------

// What a DDL statement in the text may change in the catalog facts pgsplit caches.
enum CatalogChange : std::uint8_t {
  kFunctionsChange = 1,  // CREATE/ALTER/DROP FUNCTION, PROCEDURE, AGGREGATE, ROUTINE
  kRelationsChange = 2,  // CREATE/ALTER/DROP TABLE, VIEW, SEQUENCE, POLICY, RULE, ...
};

struct CatalogChanges {
  std::uint8_t kinds = 0;  // CatalogChange bits
  // Kinds changed beyond the names listed (a schema, an extension, a role's search_path, or a
  // name pgsplit could not read): every fact of them is stale.
  std::uint8_t whole = 0;
  // The objects the DDL names, as objectKey()s. Facts about any object of that name, in any
  // schema, are stale; so are those of relations that depend on others (views, partitioned
  // tables, row-level security).
  std::vector<std::string> functions;
  std::vector<std::string> relations;

  bool empty() const { return kinds == 0; }
  void merge(const CatalogChanges& other);
};

struct Analysis {
  // The verdict with every listed function taken as read-only and every listed relation as
  // one a standby can read.
  Classification classification;
  // Only when the text may run on a replica (a read or a read-only transaction): the user
  // functions it calls and the relations it reads, as objectKey()s, without duplicates.
  std::vector<std::string> functions;
  std::vector<std::string> relations;
  CatalogChanges catalogChanges;  // what its DDL changes (temporary objects excepted)
  // For routing rules, whatever the verdict: every relation the text names (read, written by
  // INSERT/UPDATE/DELETE/MERGE/COPY/TRUNCATE/LOCK, or acted on by DDL) and every function it
  // calls (built-in or not, schema as written), as objectKey()s without duplicates.
  std::vector<std::string> tables;
  std::vector<std::string> calls;
  // A verdict read a constant's value (SET x = 'serializable', EXPLAIN (ANALYZE 'off')): a
  // text that differs only in its constants may be classified otherwise.
  bool readsConstants = false;

  bool needsCatalog() const { return !functions.empty() || !relations.empty(); }
};

Analysis analyze(std::string_view text, const FunctionOverrides* overrides = nullptr);

// ---- Catalog facts --------------------------------------------------------------------------

struct FunctionFacts {
  // 'i', 's' or 'v' (pg_proc.provolatile: the worst of the overloads the name can mean; an
  // aggregate's is the worst of its support functions); 0: no such function.
  char volatility = 0;
  const char* reason = nullptr;  // for 'v' and 0: "write: function public.f() is VOLATILE"
};

struct RelationFacts {
  bool replicaSafe = true;  // false: unlogged, temporary, or a view over what a standby refuses
  const char* reason = nullptr;  // when !replicaSafe
  // Reading it reads other objects too (a view, a partitioned or inheritance parent, a table
  // with row-level security): DDL on anything may change its facts.
  bool dependent = false;
};

// Facts looked up in one database as one user (the search_path of that user decides what an
// unqualified name means). Immutable once published.
struct CatalogSnapshot {
  using FunctionMap = std::unordered_map<std::string, FunctionFacts>;
  using RelationMap = std::unordered_map<std::string, RelationFacts>;
  std::shared_ptr<const FunctionMap> functions = std::make_shared<FunctionMap>();
  std::shared_ptr<const RelationMap> relations = std::make_shared<RelationMap>();
  // False once the primary could not be asked: relations not looked up yet are then taken as
  // readable on a standby (reads keep working without the primary); functions stay writes.
  bool reachable = true;
};

// What resolve() could not decide because the snapshot lacks it (to be looked up).
struct Misses {
  std::vector<std::string> functions;
  std::vector<std::string> relations;
  bool empty() const { return functions.empty() && relations.empty(); }
};

// The final classification. snapshot == nullptr means no catalog at all (lookups disabled):
// listed functions are writes, listed relations readable. With a snapshot, a function or
// relation it does not hold yet is a write until looked up, and goes to `misses`.
Classification resolve(const Analysis& analysis, const CatalogSnapshot* snapshot,
                       Misses* misses = nullptr);

// Texts that must outlive any snapshot (reasons naming objects): kept for the life of the
// process. Returns nullptr once a bound is reached; callers then use a static text.
const char* internText(std::string_view text);

}  // namespace pgsplit::sql
