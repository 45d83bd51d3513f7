// EffectLedger fed the way the session feeds it: requests recorded in a ReplyStream with their
// effects' sequence numbers, a backend's reply bytes (whole and byte by byte), and the
// CommandCompletes and ReadyForQuerys that reach the listener. What must come out is what
// PostgreSQL keeps: which settings commit, with SAVEPOINT / RELEASE / ROLLBACK TO followed
// statement by statement, and which DEALLOCATEs never ran.
#include "pgsplit/session/effect_ledger.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pgsplit/session/reply_stream.hpp"
#include "pgsplit/sql/session_effects.hpp"

using namespace std::string_literals;

namespace pgsplit::session {
namespace {

std::string msg(char type, const std::string& body) {
  const auto n = static_cast<std::uint32_t>(body.size() + 4);
  return std::string(1, type) +
         std::string{static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                     static_cast<char>(n >> 8), static_cast<char>(n)} +
         body;
}
std::string complete(const std::string& tag) {
  return msg('C', tag + '\0');
}
std::string ready(char status) {
  return msg('Z', std::string(1, status));
}
std::string error(const std::string& sqlstate) {
  return msg('E', "SERROR\0C"s + sqlstate + "\0Mfailed\0\0"s);
}
std::string parseComplete() {
  return msg('1', "");
}
std::string bindComplete() {
  return msg('2', "");
}

std::string describe(const sql::SessionEffect& e) {
  switch (e.kind) {
    case sql::EffectKind::Set:
      return "set " + e.name + " " + e.text;
    case sql::EffectKind::Reset:
      return "reset " + e.name;
    case sql::EffectKind::ResetAll:
      return "reset all";
    case sql::EffectKind::DiscardAll:
      return "discard all";
    case sql::EffectKind::DeallocateAll:
      return "deallocate all";
    case sql::EffectKind::Deallocate:
      return "deallocate " + e.name;
    default:
      return std::string("other ") + e.tag;
  }
}

// The session's part: forwards the replies' meaning to the ledger, records what it decides.
class Session final : public ReplyListener, public EffectLedger::Listener {
 public:
  // A simple Query of `text` in a unit of its own.
  void query(const std::string& text) {
    PendingReply e;
    e.request = 'Q';
    e.unit = ++unit_;
    note(text, e);
    ASSERT_TRUE(stream.push(std::move(e)));
  }
  // Parse/Bind/Execute of `text` (no Sync).
  void extended(const std::string& text) {
    for (char type : {'P', 'B', 'E'}) {
      PendingReply e;
      e.request = type;
      e.unit = unit_ + 1;
      if (type == 'E') note(text, e);
      stream.push(std::move(e));
    }
  }
  void sync() {
    PendingReply e;
    e.request = 'S';
    e.unit = ++unit_;
    ASSERT_TRUE(stream.push(std::move(e)));
  }
  // The backend's bytes, whole or one byte at a time.
  void reply(const std::string& bytes, bool byteByByte) {
    std::string carry;
    auto run = [&](const std::string& in) {
      std::string chunk = carry + in;
      std::string out;
      for (;;) {
        auto r = stream.process(chunk, out, *this);
        ASSERT_NE(r.status, ReplyStream::Status::Malformed);
        chunk.erase(0, r.consumed);
        if (r.status != ReplyStream::Status::Stopped) break;
      }
      carry = chunk;
    };
    if (byteByByte) {
      for (char c : bytes)
        run(std::string(1, c));
    } else {
      run(bytes);
    }
    EXPECT_TRUE(carry.empty());
  }

  // ReplyListener
  bool readyForQuery(const PendingReply& entry, char status, bool failed) override {
    ledger.unitEnded(entry.unit, status, failed, *this);
    return false;
  }
  void statementFailed(const PendingReply&) override {}
  void commandComplete(std::string_view tag, const PendingReply& entry) override {
    ledger.commandComplete(tag, entry.effectsBegin, entry.effectsEnd, *this);
  }
  void copyInStarted(bool) override {}
  void errorResponse(std::string_view, const PendingReply&) override {}
  bool parameterStatus(std::string_view, const PendingReply&, std::string&) override {
    return false;
  }
  // EffectLedger::Listener
  void notRun(EffectLedger::Record& r) override {
    events.push_back("not run: " + describe(r.effect));
  }
  void committed(std::vector<sql::SessionEffect>& effects) override {
    std::string line = "commit:";
    for (const auto& e : effects)
      line += " [" + describe(e) + "]";
    events.push_back(line);
  }

  EffectLedger ledger;
  ReplyStream stream;
  std::vector<std::string> events;

 private:
  void note(const std::string& text, PendingReply& e) {
    e.effectsBegin = ledger.next();
    for (auto& effect : sql::sessionEffects(text))
      ledger.add(std::move(effect), e.unit);
    e.effectsEnd = ledger.next();
  }
  std::uint64_t unit_ = 0;
};

using Script = void (*)(Session&, bool byteByByte);

// Runs a script whole and byte by byte: the same events either way.
void expectEvents(Script script, const std::vector<std::string>& want) {
  for (bool byteByByte : {false, true}) {
    Session s;
    script(s, byteByByte);
    EXPECT_EQ(s.events, want) << (byteByByte ? "byte by byte" : "whole");
    EXPECT_TRUE(s.stream.idle());
    EXPECT_FALSE(s.ledger.inFlight());
  }
}

TEST(SessionEffectLedger, AutocommitSetCommitsAtItsReadyForQuery) {
  expectEvents(
      [](Session& s, bool b) {
        s.query("SET a = 1");
        s.reply(complete("SET") + ready('I'), b);
      },
      {"commit: [set a SET a = 1]"});
}

TEST(SessionEffectLedger, RollbackToSavepointUndoesOnlyWhatCameAfterIt) {
  expectEvents(
      [](Session& s, bool b) {
        s.query("BEGIN");
        s.query("SET a = 1");
        s.query("SAVEPOINT s");
        s.query("SET a = 2; SET b = 3");
        s.query("ROLLBACK TO SAVEPOINT s");
        s.query("SET c = 4");
        s.query("COMMIT");
        s.reply(complete("BEGIN") + ready('T') + complete("SET") + ready('T') +
                    complete("SAVEPOINT") + ready('T') + complete("SET") + complete("SET") +
                    ready('T') + complete("ROLLBACK") + ready('T') + complete("SET") + ready('T') +
                    complete("COMMIT") + ready('I'),
                b);
      },
      {"commit: [set a SET a = 1] [set c SET c = 4]"});
}

TEST(SessionEffectLedger, ErrorRolledBackToASavepointThenCommit) {
  expectEvents(
      [](Session& s, bool b) {
        s.query("BEGIN; SET a = 1; SAVEPOINT s; SET b = 2; SELECT 1/0");
        s.query("ROLLBACK TO s; SET c = 3; COMMIT");
        s.reply(complete("BEGIN") + complete("SET") + complete("SAVEPOINT") + complete("SET") +
                    error("22012") + ready('E') + complete("ROLLBACK") + complete("SET") +
                    complete("COMMIT") + ready('I'),
                b);
      },
      {"commit: [set a SET a = 1] [set c SET c = 3]"});
}

TEST(SessionEffectLedger, ReleaseMergesNestedSavepointsAndTheInnermostNameWins) {
  expectEvents(
      [](Session& s, bool b) {
        s.query(
            "BEGIN; SET a = 1; SAVEPOINT x; SET b = 2; SAVEPOINT y; SET c = 3; SAVEPOINT x; "
            "SET d = 4; ROLLBACK TO x; RELEASE y; SET e = 5; ROLLBACK TO x; SET f = 6; "
            "RELEASE SAVEPOINT x; COMMIT");
        std::string replies = complete("BEGIN");
        for (const char* tag :
             {"SET", "SAVEPOINT", "SET", "SAVEPOINT", "SET", "SAVEPOINT", "SET", "ROLLBACK",
              "RELEASE", "SET", "ROLLBACK", "SET", "RELEASE", "COMMIT"})
          replies += complete(tag);
        s.reply(replies + ready('I'), b);
      },
      // ROLLBACK TO the inner x drops d; RELEASE y merges c into x (the outer one); the second
      // ROLLBACK TO x drops b, c and e.
      {"commit: [set a SET a = 1] [set f SET f = 6]"});
}

TEST(SessionEffectLedger, SavepointSetBeforeAnythingTrackedIsBelowEverything) {
  // "SAVEPOINT s" sent while nothing needed tracking (no record): rolling back to it drops
  // every setting tracked after it; releasing it keeps them.
  expectEvents(
      [](Session& s, bool b) {
        s.query("SET a = 1; ROLLBACK TO s; SET b = 2; RELEASE s");
        s.reply(complete("SET") + complete("ROLLBACK") + complete("SET") + complete("RELEASE") +
                    ready('T'),
                b);
        s.query("COMMIT");
        s.reply(complete("COMMIT") + ready('I'), b);
      },
      {"commit: [set b SET b = 2]"});
}

TEST(SessionEffectLedger, FailedImplicitTransactionDropsItsSettings) {
  expectEvents(
      [](Session& s, bool b) {
        s.query("SET a = 1; SELECT 1/0");
        s.reply(complete("SET") + error("22012") + ready('I'), b);
        s.extended("SET b = 2");
        s.extended("SELECT 1/0");
        s.extended("SET c = 3");  // skipped
        s.sync();
        s.reply(parseComplete() + bindComplete() + complete("SET") + parseComplete() +
                    bindComplete() + error("22012") + ready('I'),
                b);
      },
      {"not run: set c SET c = 3"});  // and nothing commits
}

TEST(SessionEffectLedger, CommitOfAFailedTransactionIsARollback) {
  expectEvents(
      [](Session& s, bool b) {
        s.query("BEGIN; SET a = 1; SELECT 1/0");
        s.query("COMMIT");
        s.reply(complete("BEGIN") + complete("SET") + error("22012") + ready('E') +
                    complete("ROLLBACK") + ready('I'),
                b);
      },
      {});
}

TEST(SessionEffectLedger, CommitWithoutARecordStillCommits) {
  // END, or a COMMIT in text not scanned for session effects: its tag says enough.
  expectEvents(
      [](Session& s, bool b) {
        s.query("BEGIN; SET a = 1");
        s.query("UPDATE t SET x = 1");  // (no record)
        s.reply(
            complete("BEGIN") + complete("SET") + ready('T') + complete("UPDATE 1") + ready('T'),
            b);
        PendingReply e;
        e.request = 'Q';
        e.unit = 3;
        s.stream.push(std::move(e));
        s.reply(complete("COMMIT") + msg('E', "SERROR\0C22012\0Mx\0\0"s) + ready('I'), b);
      },
      {"commit: [set a SET a = 1]"});
}

TEST(SessionEffectLedger, DeallocateRunsOnlyIfItsCommandCompleteComes) {
  expectEvents(
      [](Session& s, bool b) {
        s.query("SELECT 1/0; DEALLOCATE ALL");  // never runs
        s.reply(error("22012") + ready('I'), b);
        s.query("DEALLOCATE s1; SELECT 1/0");  // runs: not transactional
        s.reply(complete("DEALLOCATE") + error("22012") + ready('I'), b);
        s.query("BEGIN; SELECT 1/0");
        s.query("DEALLOCATE s2");  // 25P02
        s.query("ROLLBACK");
        s.reply(complete("BEGIN") + error("22012") + ready('E') + error("25P02") + ready('E') +
                    complete("ROLLBACK") + ready('I'),
                b);
      },
      {"not run: deallocate all", "not run: deallocate s2"});
}

TEST(SessionEffectLedger, MisreadStatementsCountAsNotRun) {
  // A text split where the server does not split it (a stray END): the SET after it still
  // matches its CommandComplete.
  expectEvents(
      [](Session& s, bool b) {
        s.query("CREATE FUNCTION f() BEGIN ATOMIC SELECT 1; END; SET a = 1");
        s.reply(complete("CREATE FUNCTION") + complete("SET") + ready('I'), b);
      },
      {"not run: other COMMIT", "commit: [set a SET a = 1]"});
}

TEST(SessionEffectLedger, UnitsEndInOrderAcrossAPipeline) {
  expectEvents(
      [](Session& s, bool b) {
        s.query("SET a = 1");
        s.query("SELECT 1");
        s.query("SET b = 2; SELECT 1/0");
        s.query("RESET a");
        s.reply(complete("SET") + ready('I') + complete("SELECT 1") + ready('I') + complete("SET") +
                    error("22012") + ready('I') + complete("RESET") + ready('I'),
                b);
      },
      {"commit: [set a SET a = 1]", "commit: [reset a]"});
}

TEST(SessionEffectLedger, AbandonedUnitGivesBackLatestFirst) {
  Session s;
  s.query("DEALLOCATE a; DEALLOCATE b");
  s.ledger.abandon(1, s);
  EXPECT_EQ(s.events, (std::vector<std::string>{"not run: deallocate b", "not run: deallocate a"}));
  EXPECT_FALSE(s.ledger.inFlight());
}

TEST(SessionEffectLedger, MayForgetOnlyForUnitsBeforeAndUntilAnswered) {
  Session s;
  s.query("DEALLOCATE a");  // unit 1
  EXPECT_TRUE(s.ledger.mayForget(2, "a"));
  EXPECT_FALSE(s.ledger.mayForget(2, "b"));
  EXPECT_FALSE(s.ledger.mayForget(1, "a"));  // its own unit: in client order
  s.query("DEALLOCATE ALL");                 // unit 2
  EXPECT_TRUE(s.ledger.mayForget(3, "b"));
  s.reply(complete("DEALLOCATE") + ready('I') + complete("DEALLOCATE ALL") + ready('I'), false);
  EXPECT_FALSE(s.ledger.mayForget(3, "a"));
  EXPECT_FALSE(s.ledger.mayForget(3, "b"));
}

TEST(SessionEffectLedger, LastResetsFollowsTheStatementsThatRan) {
  Session s;
  s.query("RESET timezone; SET timezone = 'UTC'; RESET ALL; SET work_mem = '1MB'");
  s.reply(complete("RESET") + complete("SET"), false);
  EXPECT_FALSE(s.ledger.lastResets(1, "timezone"));  // the SET ran after the RESET
  s.reply(complete("RESET"), false);
  EXPECT_TRUE(s.ledger.lastResets(1, "timezone"));  // RESET ALL
  s.reply(complete("SET"), false);
  EXPECT_FALSE(s.ledger.lastResets(1, "work_mem"));
  EXPECT_TRUE(s.ledger.lastResets(1, "timezone"));
  EXPECT_FALSE(s.ledger.lastResets(2, "timezone"));
  s.reply(ready('I'), false);
}

}  // namespace
}  // namespace pgsplit::session
