#pragma once
// The verdict on one statement, and the scanner that walks a query's tokens looking for what
// makes it a write: data-modifying statements at any depth, SELECT INTO, row locks, and calls
// of functions that are not known to be read-only.
#include <cstdint>

#include "pgsplit/sql/analysis.hpp"
#include "pgsplit/sql/classifier.hpp"
#include "token_stream.hpp"

namespace pgsplit::sql::detail {

struct References;

struct Verdict {
  bool read = true;
  const char* reason = "write: unknown statement";  // static or interned
  const char* pinReason = nullptr;                  // first reason to pin, if any
  TxnStart txnStart = TxnStart::None;
  bool setsSessionState = false;
  // Not a read, but a standby runs it inside a read-only transaction (BEGIN, COMMIT,
  // SAVEPOINT, SET, ...): it does not stop text that says BEGIN READ ONLY from using one.
  bool standbyRunsInTransaction = false;
  // BEGIN / START TRANSACTION without modes: SET TRANSACTION READ ONLY may still make it
  // read-only.
  bool plainBegin = false;
  // SET TRANSACTION READ ONLY with nothing a standby refuses.
  bool declaresReadOnly = false;
  // COMMIT, END, ROLLBACK, ABORT (not ROLLBACK TO SAVEPOINT, not the PREPARED forms).
  bool endsTransaction = false;
  std::uint8_t kind = 0;  // a StatementKind bit, set by classifyStatement
  CatalogChanges catalogChanges;

  static Verdict readAs(const char* why) {
    Verdict v;
    v.reason = why;
    return v;
  }
  static Verdict writeAs(const char* why) {
    Verdict v;
    v.write(why);
    return v;
  }
  // The first write decides the reason.
  void write(const char* why) {
    if (read) {
      read = false;
      reason = why;
    }
  }
  void pin(const char* why) {
    if (pinReason == nullptr) pinReason = why;
    write(why);
  }
  const char* finalReason() const { return pinReason != nullptr ? pinReason : reason; }
};

struct ScanOptions {
  // Stop after the ')' that closes a parenthesis opened before the scan (COPY (query) TO).
  bool stopAtCloseParen = false;
  // A CREATE statement: a pg_temp-qualified name makes a temporary object.
  bool createStatement = false;
  // CREATE [OR REPLACE] FUNCTION/PROCEDURE: ';' inside BEGIN ATOMIC ... END does not end it.
  bool routineBody = false;
  // When set, functions only the catalog can judge are listed here instead of making the
  // statement a write, and the relations a query reads are listed too.
  References* refs = nullptr;
};

// Scans from the next token to the end of the statement (the ';' or the end is not taken),
// turning `verdict` into a write (or a pin) for what it finds.
void scanTokens(TokenStream& ts, Verdict& verdict, ScanOptions options = {});

}  // namespace pgsplit::sql::detail
