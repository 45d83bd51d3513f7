#pragma once
// Statement classification: may this text run on a replica? Pure (no I/O, no config).
// The contract: anything not provably a pure read is a write. Empty, unknown or unlexable text is
// a write.
#include <cstdint>
#include <string_view>

namespace pgsplit::sql {

enum class Hint : std::uint8_t { None, Primary, Replica };

// What starting a transaction looks like, when the text does (BEGIN / START TRANSACTION).
enum class TxnStart : std::uint8_t { None, ReadWrite, ReadOnly };

struct Classification {
  // Every statement in the text is provably a pure read: it may run on a replica.
  bool readOnly = false;
  // The text opens an explicit transaction (BEGIN, START TRANSACTION), and of which kind.
  TxnStart txnStart = TxnStart::None;
  // The text leaves session state pgsplit cannot move between backends (LISTEN, temporary
  // tables, session advisory locks, DECLARE ... WITH HOLD, SQL PREPARE): pin the client.
  bool pins = false;
  // The text changes session settings (SET, RESET, SET SESSION ...), not SET LOCAL.
  bool setsSessionState = false;
  // A leading /* pgsplit:primary */ or /* pgsplit:replica */ comment.
  Hint hint = Hint::None;
  // Number of statements seen (0 for empty text).
  std::uint16_t statements = 0;
  // The primary was chosen only because a catalog lookup is still pending (a user function or
  // relation not looked up yet): classifying the same text later may allow a replica.
  bool provisional = false;
  // A read kept on the primary only for the relations it reads (UNLOGGED, temporary, or not
  // looked up yet): it writes nothing, so read-your-writes need not wait for it.
  bool primaryRead = false;
  // Why: a static string naming the deciding token or rule, e.g. "read: SELECT",
  // "write: INSERT", "write: function nextval", "write: FOR UPDATE", "write: unknown statement".
  const char* reason = "write: empty";
  // The text's shape, constants stripped (sql::statementFingerprint), for statistics. Set by
  // CachingClassifier (kept with its cache entry, so a hit costs nothing more); 0 otherwise.
  std::uint64_t fingerprint = 0;
};

// Classifies simple-protocol text (possibly several statements separated by ';') without a
// catalog: a function that is not a known read-only built-in is a write. Text is read with
// standard_conforming_strings both on and off (a session may turn it off), and the worse
// verdict wins. See analysis.hpp for the catalog-aware form and caching_classifier.hpp for the
// cached one a session uses.
Classification classify(std::string_view text);

}  // namespace pgsplit::sql
