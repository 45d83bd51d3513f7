// ReplyStream at the byte level: a backend's replies matched to the requests sent, fed whole, cut
// at every byte and in random pieces the way the relay carries a partial message over; the
// client's bytes and the listener's calls must not depend on how the bytes arrived.
#include "pgsplit/session/reply_stream.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgsplit/backend/server_state.hpp"
#include "pgsplit/protocol/frame.hpp"

using namespace std::string_literals;

namespace pgsplit::session {
namespace {

// --- server messages ---

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}
std::string be16(std::uint16_t v) {
  return {static_cast<char>(v >> 8), static_cast<char>(v)};
}
std::string msg(char type, const std::string& body) {
  return std::string(1, type) + be32(static_cast<std::uint32_t>(body.size() + 4)) + body;
}

std::string parseComplete() {
  return msg('1', "");
}
std::string bindComplete() {
  return msg('2', "");
}
std::string closeComplete() {
  return msg('3', "");
}
std::string noData() {
  return msg('n', "");
}
std::string emptyQuery() {
  return msg('I', "");
}
std::string portalSuspended() {
  return msg('s', "");
}
std::string parameterDescription() {
  return msg('t', be16(1) + be32(23));
}
std::string rowDescription() {
  return msg('T', be16(1) + "id\0"s + be32(16384) + be16(1) + be32(23) + be16(4) +
                      be32(0xFFFFFFFF) + be16(0));
}
std::string dataRow(const std::string& value) {
  return msg('D', be16(1) + be32(static_cast<std::uint32_t>(value.size())) + value);
}
std::string complete(const std::string& tag) {
  return msg('C', tag + '\0');
}
std::string ready(char status) {
  return msg('Z', std::string(1, status));
}
std::string errorBody(const std::string& sqlstate, const std::string& message) {
  return "SERROR\0VERROR\0C"s + sqlstate + '\0' + 'M' + message + '\0' + '\0';
}
std::string error(const std::string& sqlstate, const std::string& message = "it failed") {
  return msg('E', errorBody(sqlstate, message));
}
std::string notice() {
  return msg('N', "SNOTICE\0VNOTICE\0C00000\0Mhello\0\0"s);
}
std::string notification() {
  return msg('A', be32(4242) + "chan\0payload\0"s);
}
std::string parameterStatus(const std::string& name = "TimeZone",
                            const std::string& value = "UTC") {
  return msg('S', name + '\0' + value + '\0');
}
std::string copyInResponse() {
  return msg('G', "\0"s + be16(1) + be16(0));
}
std::string copyOutResponse() {
  return msg('H', "\0"s + be16(1) + be16(0));
}
std::string copyData(const std::string& data) {
  return msg('d', data);
}
std::string copyDone() {
  return msg('c', "");
}
std::string functionResult() {
  return msg('V', be32(1) + "7");
}
// ErrorResponse and NoticeResponse share a body: the notice pgsplit makes of an error.
std::string asNotice(const std::string& errorMessage) {
  return "N" + errorMessage.substr(1);
}

// --- requests ---

backend::StatementRef statement(const std::string& serverName) {
  auto s = std::make_shared<backend::StatementDef>();
  s->serverName = serverName;
  return s;
}

// A client request; label (the clientName) names it in the recorded events.
PendingReply request(char type, const std::string& label = {}) {
  PendingReply e;
  e.request = type;
  e.clientName = label;
  return e;
}
// pgsplit's own request: its replies are dropped.
PendingReply own(char type, const std::string& label = {}) {
  PendingReply e = request(type, label);
  e.forClient = false;
  return e;
}
PendingReply withStatement(PendingReply e) {
  e.statement = statement("pgsplit_" + (e.clientName.empty() ? "x"s : e.clientName));
  return e;
}
// A request pgsplit answers itself with `reply` ('1', '3' or 'E' with payload).
PendingReply synthetic(char type, char reply, const std::string& label,
                       const std::string& payload = {}) {
  PendingReply e = request(type, label);
  e.synthetic = reply;
  e.payload = payload;
  return e;
}

// --- the listener ---

std::string sqlstateOf(std::string_view body) {
  while (!body.empty() && body[0] != '\0') {
    const char field = body[0];
    const std::size_t end = body.find('\0', 1);
    if (end == std::string_view::npos) return "?";
    if (field == 'C') return std::string(body.substr(1, end - 1));
    body.remove_prefix(end + 1);
  }
  return "-";
}

// "Q", "P/name", "Q*" (own): how an entry shows in the events.
std::string tagOf(const PendingReply& e) {
  std::string t(1, e.request);
  if (!e.clientName.empty()) t += "/" + e.clientName;
  if (!e.forClient) t += "*";
  return t;
}

class Recorder final : public ReplyListener {
 public:
  bool readyForQuery(const PendingReply& entry, char status, bool failed) override {
    events.push_back("Z " + tagOf(entry) + " " + status + (failed ? " failed" : ""));
    return stopAtEveryReady;
  }
  void statementFailed(const PendingReply& entry) override {
    EXPECT_TRUE(entry.statement) << tagOf(entry);
    events.push_back("fail " + tagOf(entry));
  }
  void commandComplete(std::string_view tag, const PendingReply& entry) override {
    if (wellFormed) {
      EXPECT_EQ(tag.find('\0'), std::string_view::npos);
      EXPECT_TRUE(entry.forClient);
    }
    events.push_back("cc " + std::string(tag));
  }
  bool parameterStatus(std::string_view body, const PendingReply& entry,
                       std::string& replacement) override {
    if (rewriteName.empty()) return false;
    const std::string_view name = body.substr(0, body.find('\0'));
    if (name != rewriteName) return false;
    events.push_back("ps " + std::string(name) + " of " + tagOf(entry));
    replacement = pgsplit::session::parameterStatus(rewriteName, rewriteValue);
    return true;
  }
  void copyInStarted(bool syncQueued) override {
    events.push_back(syncQueued ? "copy sync" : "copy");
  }
  void errorResponse(std::string_view body, const PendingReply& entry) override {
    events.push_back("err " + tagOf(entry) + " " + sqlstateOf(body));
  }
  void lsnCaptured(std::string_view lsn, char status, std::string& out) override {
    events.push_back("lsn " + std::string(lsn) + " " + status);
    if (!lsn.empty()) out += msg('S', "pgsplit.write_lsn\0"s + std::string(lsn) + '\0');
  }

  std::vector<std::string> events;
  bool stopAtEveryReady = false;
  std::string rewriteName;  // ParameterStatus of this parameter: rewriteValue instead
  std::string rewriteValue;
  bool wellFormed = true;  // false: random bytes, tags may hold anything
};

// --- feeding ---

struct Fed {
  std::string client;              // what the client got
  std::vector<std::size_t> stops;  // stream offsets where process() stopped
  bool malformed = false;
  std::size_t malformedAt = 0;  // stream offset of the message it could not take
  std::size_t leftover = 0;     // bytes still carried at the end
};

// Feeds `stream` cut at `cuts`, as the relay does: the unconsumed tail of a chunk is given again
// at the start of the next one. After a stop the rest of the chunk is processed on its own.
Fed feed(ReplyStream& rs, ReplyListener& l, const std::string& stream,
         const std::vector<std::size_t>& cuts) {
  Fed f;
  std::vector<std::size_t> bounds = cuts;
  bounds.push_back(stream.size());
  std::string carry;
  std::size_t prev = 0;
  for (std::size_t bound : bounds) {
    const std::string chunk = carry + stream.substr(prev, bound - prev);  // own copy, for ASan
    const std::size_t chunkStart = prev - carry.size();
    std::size_t off = 0;
    for (;;) {
      const std::string_view view = std::string_view(chunk).substr(off);
      std::string out = "stale bytes from the previous read";
      const ReplyStream::Result r = rs.process(view, out, l);
      EXPECT_LE(r.consumed, view.size());
      f.client += r.rewritten ? out : std::string(view.substr(0, r.consumed));
      off += r.consumed;
      if (r.status == ReplyStream::Status::Malformed) {
        f.malformed = true;
        f.malformedAt = chunkStart + off;
        return f;
      }
      if (r.status == ReplyStream::Status::Stopped) {
        f.stops.push_back(chunkStart + off);
        EXPECT_TRUE(rs.atBoundary());
        continue;
      }
      break;
    }
    carry = chunk.substr(off);
    prev = bound;
  }
  f.leftover = carry.size();
  return f;
}

// The offsets just after each ReadyForQuery of a well-formed stream.
std::vector<std::size_t> readyEnds(const std::string& stream) {
  std::vector<std::size_t> ends;
  std::size_t pos = 0;
  while (pos + 5 <= stream.size()) {
    const std::size_t total = 1 + protocol::readU32(stream.data() + pos + 1);
    if (stream[pos] == 'Z') ends.push_back(pos + total);
    pos += total;
  }
  return ends;
}

struct Scenario {
  std::vector<PendingReply> entries;  // pushed in order before the first byte comes
  std::string backend;                // what the server sends
  std::string client;                 // what the client must get
  std::vector<std::string> events;    // what the listener must hear
  std::string rewriteName;            // (see Recorder)
  std::string rewriteValue;
};

void pushAll(ReplyStream& rs, const std::vector<PendingReply>& entries) {
  for (const auto& e : entries) {
    PendingReply copy = e;
    ASSERT_TRUE(rs.push(std::move(copy))) << tagOf(e);
  }
}

void checkRun(const Scenario& s, const std::vector<std::size_t>& cuts, bool stopEach,
              const std::string& where) {
  ReplyStream rs;
  Recorder rec;
  rec.stopAtEveryReady = stopEach;
  rec.rewriteName = s.rewriteName;
  rec.rewriteValue = s.rewriteValue;
  pushAll(rs, s.entries);
  const Fed f = feed(rs, rec, s.backend, cuts);
  ASSERT_FALSE(f.malformed) << where << " at " << f.malformedAt;
  EXPECT_EQ(f.client, s.client) << where;
  EXPECT_EQ(rec.events, s.events) << where;
  EXPECT_EQ(f.leftover, 0u) << where;
  EXPECT_TRUE(rs.idle()) << where << ": " << rs.pending() << " pending";
  if (stopEach) {
    EXPECT_EQ(f.stops, readyEnds(s.backend)) << where;
  } else {
    EXPECT_TRUE(f.stops.empty()) << where;
  }
}

// Whole, at every 2-way cut, byte by byte and in random pieces, with and without stops.
void checkEverySplit(const Scenario& s) {
  const std::size_t n = s.backend.size();
  std::vector<std::size_t> bytes;
  for (std::size_t i = 1; i < n; ++i)
    bytes.push_back(i);
  std::mt19937 rng(4711);
  for (bool stopEach : {false, true}) {
    const std::string mode = stopEach ? " (stop at every Z)" : "";
    checkRun(s, {}, stopEach, "whole" + mode);
    checkRun(s, bytes, stopEach, "byte by byte" + mode);
    for (std::size_t cut = 0; cut <= n; ++cut)
      checkRun(s, {cut}, stopEach, "cut at " + std::to_string(cut) + mode);
    for (int iter = 0; iter < 50; ++iter) {
      std::vector<std::size_t> cuts;
      for (std::size_t pos = rng() % 12; pos < n; pos += 1 + rng() % 12)
        cuts.push_back(pos);
      checkRun(s, cuts, stopEach, "random " + std::to_string(iter) + mode);
    }
    if (::testing::Test::HasFailure()) return;  // one report per broken scenario is enough
  }
}

std::string cat(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts)
    s += p;
  return s;
}

// --- scenarios ---

Scenario simpleQuery() {
  Scenario s;
  s.entries = {request('Q')};
  s.backend = cat({rowDescription(), dataRow("1"), dataRow("2"), complete("SELECT 2"), ready('I')});
  s.client = s.backend;
  s.events = {"cc SELECT 2", "Z Q I"};
  return s;
}

TEST(SessionReplyStream, SimpleQueryIsForwardedUnchanged) {
  const Scenario s = simpleQuery();
  ReplyStream rs;
  Recorder rec;
  pushAll(rs, s.entries);
  EXPECT_EQ(rs.pending(), 1u);
  std::string out = "untouched";
  const auto r = rs.process(s.backend, out, rec);
  EXPECT_EQ(r.status, ReplyStream::Status::Ok);
  EXPECT_EQ(r.consumed, s.backend.size());
  EXPECT_FALSE(r.rewritten);
  EXPECT_EQ(out, "untouched");
  EXPECT_EQ(rec.events, s.events);
  EXPECT_TRUE(rs.idle());
}

TEST(SessionReplyStream, SimpleQueryAnySplit) {
  checkEverySplit(simpleQuery());
}

TEST(SessionReplyStream, PartialMessagesAtTheEnd) {
  const std::string t = rowDescription();
  const std::string d = dataRow("12345");
  const std::string c = complete("SELECT 1");
  const std::string z = ready('I');
  {
    // A header cut short is not consumed.
    ReplyStream rs;
    Recorder rec;
    pushAll(rs, {request('Q')});
    std::string out;
    for (std::size_t k = 0; k < 5; ++k) {
      const auto r = rs.process(t + d.substr(0, k), out, rec);
      EXPECT_EQ(r.status, ReplyStream::Status::Ok);
      EXPECT_EQ(r.consumed, t.size()) << k;
      EXPECT_FALSE(r.rewritten);
      EXPECT_TRUE(rs.atBoundary());
      rs.reset();
      pushAll(rs, {request('Q')});
    }
  }
  {
    // A DataRow cut short is consumed: the rest follows in the next chunk.
    ReplyStream rs;
    Recorder rec;
    pushAll(rs, {request('Q')});
    std::string out;
    auto r = rs.process(t + d.substr(0, 7), out, rec);
    EXPECT_EQ(r.consumed, t.size() + 7);
    EXPECT_FALSE(rs.atBoundary());
    EXPECT_FALSE(rs.takeSynthetic(out, rec));
    r = rs.process(d.substr(7) + c + z, out, rec);
    EXPECT_EQ(r.consumed, d.size() - 7 + c.size() + z.size());
    EXPECT_FALSE(r.rewritten);
    EXPECT_TRUE(rs.idle());
    EXPECT_EQ(rec.events, (std::vector<std::string>{"cc SELECT 1", "Z Q I"}));
  }
  // CommandComplete, ReadyForQuery and ErrorResponse are only taken whole.
  for (const std::string& m : {c, z, error("42601")}) {
    for (std::size_t k = 5; k < m.size(); ++k) {
      ReplyStream rs;
      Recorder rec;
      pushAll(rs, {request('Q')});
      std::string out;
      const auto r = rs.process(d + m.substr(0, k), out, rec);
      EXPECT_EQ(r.status, ReplyStream::Status::Ok);
      EXPECT_EQ(r.consumed, d.size()) << m[0] << " cut at " << k;
      EXPECT_TRUE(rs.atBoundary());
      EXPECT_TRUE(rec.events.empty());
    }
  }
}

TEST(SessionReplyStream, DataRowLargerThanTheChunk) {
  const std::string big(100000, 'x');
  const std::string stream =
      cat({rowDescription(), dataRow(big), dataRow("small"), complete("SELECT 2"), ready('I')});
  for (bool mine : {true, false}) {
    ReplyStream rs;
    Recorder rec;
    pushAll(rs, {mine ? request('Q') : own('Q')});
    std::string client;
    std::string carry;
    for (std::size_t pos = 0; pos < stream.size(); pos += 4096) {
      const std::string chunk = carry + stream.substr(pos, 4096);
      std::string out;
      const auto r = rs.process(chunk, out, rec);
      ASSERT_EQ(r.status, ReplyStream::Status::Ok);
      // Inside the row every byte is taken at once: nothing waits for the whole row.
      if (pos > 4096 && pos + 8192 < big.size()) {
        EXPECT_EQ(r.consumed, chunk.size()) << pos;
        EXPECT_FALSE(rs.atBoundary());
        EXPECT_EQ(r.rewritten, !mine);
        if (!mine) {
          EXPECT_EQ(out, "");
        }
      }
      client += r.rewritten ? out : chunk.substr(0, r.consumed);
      carry = chunk.substr(r.consumed);
    }
    EXPECT_EQ(carry, "");
    EXPECT_EQ(client, mine ? stream : "");
    EXPECT_TRUE(rs.idle());
    const std::vector<std::string> want = mine ? std::vector<std::string>{"cc SELECT 2", "Z Q I"}
                                               : std::vector<std::string>{"Z Q* I"};
    EXPECT_EQ(rec.events, want);
  }
}

Scenario ownRequestsDropped() {
  // The settings query and a Parse the client never sent, ahead of the client's Bind/Execute.
  Scenario s;
  s.entries = {own('Q', "settings"), withStatement(own('P', "s1")), request('B'), request('E'),
               request('S')};
  const std::string own = cat({rowDescription(), dataRow("UTC"), parameterStatus(),
                               complete("SELECT 1"), ready('I'), parseComplete()});
  const std::string mine = cat({bindComplete(), dataRow("1"), complete("SELECT 1"), ready('I')});
  s.backend = own + mine;
  s.client = mine;
  s.events = {"Z Q/settings* I", "cc SELECT 1", "Z S I"};
  return s;
}

TEST(SessionReplyStream, OwnRequestsRepliesAreDropped) {
  const Scenario s = ownRequestsDropped();
  ReplyStream rs;
  Recorder rec;
  pushAll(rs, s.entries);
  std::string out;
  const auto r = rs.process(s.backend, out, rec);
  EXPECT_EQ(r.status, ReplyStream::Status::Ok);
  EXPECT_EQ(r.consumed, s.backend.size());
  EXPECT_TRUE(r.rewritten);
  EXPECT_EQ(out, s.client);
  EXPECT_EQ(rec.events, s.events);
}

TEST(SessionReplyStream, OwnRequestsDroppedAnySplit) {
  checkEverySplit(ownRequestsDropped());
}

TEST(SessionReplyStream, OnlyOwnRepliesGiveTheClientNothing) {
  const std::string stream = cat({parseComplete(), closeComplete(), ready('I')});
  ReplyStream rs;
  Recorder rec;
  pushAll(rs, {withStatement(own('P')), withStatement(own('C')), own('S')});
  std::string out = "stale";
  const auto r = rs.process(stream, out, rec);
  EXPECT_EQ(r.consumed, stream.size());
  EXPECT_TRUE(r.rewritten);
  EXPECT_EQ(out, "");
  EXPECT_EQ(rec.events, (std::vector<std::string>{"Z S* I"}));
}

Scenario asynchronousDuringOwn() {
  // During pgsplit's own SET: its ParameterStatus is dropped (the client knows its settings);
  // a notice and a notification are the client's.
  Scenario s;
  s.entries = {own('Q'), request('Q')};
  s.backend = cat({parameterStatus(), notice(), notification(), complete("SET"), ready('I'),
                   parameterStatus(), complete("SET"), ready('I')});
  s.client = cat({notice(), notification(), parameterStatus(), complete("SET"), ready('I')});
  s.events = {"Z Q* I", "cc SET", "Z Q I"};
  return s;
}

TEST(SessionReplyStream, ParameterStatusOfOwnDroppedNoticeAndNotifyForwarded) {
  checkEverySplit(asynchronousDuringOwn());
}

Scenario errorAsNotice() {
  Scenario s;
  PendingReply settings = own('Q', "settings");
  settings.errorAsNotice = true;
  s.entries = {settings, request('Q')};
  const std::string err = error("22023", "invalid value for parameter");
  s.backend = cat({err, ready('I'), complete("SELECT 0"), ready('I')});
  s.client = cat({asNotice(err), complete("SELECT 0"), ready('I')});
  s.events = {"err Q/settings* 22023", "Z Q/settings* I failed", "cc SELECT 0", "Z Q I"};
  return s;
}

TEST(SessionReplyStream, ErrorOfOwnRequestBecomesNotice) {
  checkEverySplit(errorAsNotice());
}

Scenario ownParseFails() {
  // A Parse pgsplit sent ahead of the client's Bind fails: the client must see the error, and
  // the server skips its Bind and Execute.
  Scenario s;
  s.entries = {withStatement(own('P', "s1")), request('B'), request('E'), request('S', "sync")};
  s.backend = cat({error("42P01", "relation does not exist"), ready('I')});
  s.client = s.backend;
  s.events = {"err P/s1* 42P01", "fail P/s1*", "Z S/sync I failed"};
  return s;
}

TEST(SessionReplyStream, ErrorOfOwnParseReachesTheClient) {
  checkEverySplit(ownParseFails());
}

Scenario syntheticAtHead() {
  // The backend holds the statement: its ParseComplete comes from pgsplit, before the backend's.
  Scenario s;
  s.entries = {withStatement(synthetic('P', '1', "a")), request('B'), request('E'), request('S')};
  s.backend = cat({bindComplete(), dataRow("1"), complete("SELECT 1"), ready('I')});
  s.client = parseComplete() + s.backend;
  s.events = {"cc SELECT 1", "Z S I"};
  return s;
}

TEST(SessionReplyStream, SyntheticAtTheHeadComesFirst) {
  checkEverySplit(syntheticAtHead());
}

TEST(SessionReplyStream, SyntheticAtTheHeadRewritesTheChunk) {
  const Scenario s = syntheticAtHead();
  ReplyStream rs;
  Recorder rec;
  pushAll(rs, s.entries);
  std::string out;
  const auto r = rs.process(s.backend, out, rec);
  EXPECT_TRUE(r.rewritten);
  EXPECT_EQ(r.consumed, s.backend.size());
  EXPECT_EQ(out, s.client);
}

Scenario syntheticsMidStream() {
  // Answers of pgsplit's own right after a backend reply, in the middle of a chunk.
  Scenario s;
  s.entries = {withStatement(request('P', "a")),
               withStatement(synthetic('P', '1', "b")),
               request('B'),
               request('E'),
               withStatement(synthetic('C', '3', "c")),
               withStatement(synthetic('C', '3', "d")),
               request('S')};
  s.backend =
      cat({parseComplete(), bindComplete(), dataRow("1"), complete("SELECT 1"), ready('I')});
  s.client = cat({parseComplete(), parseComplete(), bindComplete(), dataRow("1"),
                  complete("SELECT 1"), closeComplete(), closeComplete(), ready('I')});
  s.events = {"cc SELECT 1", "Z S I"};
  return s;
}

TEST(SessionReplyStream, SyntheticAfterATerminatorMidChunk) {
  checkEverySplit(syntheticsMidStream());
}

TEST(SessionReplyStream, TakeSyntheticWhenNothingElseComes) {
  ReplyStream rs;
  Recorder rec;
  std::string out;
  EXPECT_FALSE(rs.takeSynthetic(out, rec));  // empty queue
  pushAll(rs, {withStatement(synthetic('P', '1', "a")), withStatement(synthetic('C', '3', "b"))});
  EXPECT_FALSE(rs.idle());
  ASSERT_TRUE(rs.takeSynthetic(out, rec));
  EXPECT_EQ(out, parseComplete() + closeComplete());
  EXPECT_TRUE(rs.idle());
  out.clear();
  EXPECT_FALSE(rs.takeSynthetic(out, rec));
  EXPECT_EQ(out, "");

  // Only the synthetic head: a backend request behind it stays queued.
  pushAll(rs, {withStatement(synthetic('P', '1', "c")), request('B'),
               withStatement(synthetic('C', '3', "d"))});
  ASSERT_TRUE(rs.takeSynthetic(out, rec));
  EXPECT_EQ(out, parseComplete());
  EXPECT_EQ(rs.pending(), 2u);
  out.clear();
  EXPECT_FALSE(rs.takeSynthetic(out, rec));  // BindComplete comes first
  const auto r = rs.process(bindComplete(), out, rec);
  EXPECT_EQ(r.consumed, 5u);
  EXPECT_TRUE(r.rewritten);
  EXPECT_EQ(out, bindComplete() + closeComplete());
  EXPECT_TRUE(rs.idle());
  EXPECT_TRUE(rec.events.empty());
}

TEST(SessionReplyStream, TakeSyntheticWaitsForTheEndOfAMessage) {
  // A RowDescription (answering the Describe) is half read: the CloseComplete after it must wait.
  const std::string t = msg('T', be16(1) + "a_rather_long_column_name\0"s + be32(0) + be16(0) +
                                     be32(25) + be16(0xFFFF) + be32(0xFFFFFFFF) + be16(0));
  ReplyStream rs;
  Recorder rec;
  pushAll(rs, {request('D'), withStatement(synthetic('C', '3', "x")), request('S')});
  std::string out;
  auto r = rs.process(t.substr(0, 10), out, rec);
  EXPECT_EQ(r.consumed, 10u);
  EXPECT_FALSE(rs.atBoundary());
  std::string synth;
  EXPECT_FALSE(rs.takeSynthetic(synth, rec));
  EXPECT_EQ(synth, "");
  r = rs.process(t.substr(10) + ready('I'), out, rec);
  EXPECT_TRUE(r.rewritten);
  EXPECT_EQ(out, t.substr(10) + closeComplete() + ready('I'));
  EXPECT_TRUE(rs.idle());
}

Scenario syntheticError() {
  // A Parse of a name the client already uses: pgsplit answers 42P05 and, as the server would,
  // skips the client's requests up to Sync (they were not sent).
  Scenario s;
  const std::string err = error("42P05", "prepared statement \"dup\" already exists");
  s.entries = {withStatement(synthetic('P', 'E', "dup", err)),
               request('B'),
               request('E'),
               withStatement(synthetic('P', '1', "x")),
               withStatement(synthetic('C', '3', "y")),
               request('S', "sync")};
  s.backend = ready('I');
  s.client = err + ready('I');
  s.events = {"fail P/dup", "fail P/x", "fail C/y", "Z S/sync I failed"};
  return s;
}

TEST(SessionReplyStream, SyntheticErrorSkipsToSync) {
  checkEverySplit(syntheticError());
}

TEST(SessionReplyStream, SyntheticErrorBeforeItsSyncIsPushed) {
  const std::string err = error("42P05");
  ReplyStream rs;
  Recorder rec;
  pushAll(rs, {synthetic('P', 'E', "dup", err)});
  std::string out;
  ASSERT_TRUE(rs.takeSynthetic(out, rec));
  EXPECT_EQ(out, err);
  EXPECT_TRUE(rs.idle());
  // The server would skip everything up to the Sync.
  PendingReply bind = withStatement(request('B', "b"));
  EXPECT_FALSE(rs.push(std::move(bind)));
  EXPECT_EQ(bind.clientName, "b");  // not moved from
  EXPECT_TRUE(bind.statement);
  EXPECT_EQ(rs.pending(), 0u);
  EXPECT_TRUE(rs.push(request('S')));
  const auto r = rs.process(ready('I'), out, rec);
  EXPECT_EQ(r.consumed, 6u);
  EXPECT_FALSE(r.rewritten);
  EXPECT_EQ(rec.events, (std::vector<std::string>{"Z S I failed"}));
}

Scenario extendedError() {
  Scenario s;
  s.entries = {withStatement(request('P', "p")), withStatement(request('B', "b")), request('E'),
               request('S', "sync")};
  s.backend = cat({parseComplete(), error("22P02", "invalid input syntax"), ready('I')});
  s.client = s.backend;
  s.events = {"err B/b 22P02", "fail B/b", "Z S/sync I failed"};
  return s;
}

TEST(SessionReplyStream, ExtendedErrorSkipsToSync) {
  checkEverySplit(extendedError());
}

Scenario extendedErrorSkipsStatements() {
  // Everything after the failed Execute up to Sync is skipped: a real Parse, a Close pgsplit
  // would have answered (not answered now), a Bind; each with a statement is reported.
  Scenario s;
  s.entries = {request('B'),
               request('E', "e"),
               withStatement(request('P', "p2")),
               withStatement(synthetic('C', '3', "c")),
               request('B'),
               request('E'),
               request('S', "sync"),
               request('Q', "next")};
  s.backend = cat({bindComplete(), dataRow("1"), error("22012", "division by zero"), ready('E'),
                   complete("ROLLBACK"), ready('I')});
  s.client = s.backend;
  s.events = {"err E/e 22012",     "fail P/p2",   "fail C/c",
              "Z S/sync E failed", "cc ROLLBACK", "Z Q/next I"};
  return s;
}

TEST(SessionReplyStream, ExtendedErrorReportsSkippedStatements) {
  checkEverySplit(extendedErrorSkipsStatements());
}

TEST(SessionReplyStream, LargeErrorResponseSpanningChunks) {
  // Longer than kMaxCarry: relayed in pieces, and the skip to Sync still happens.
  const std::string err = error("XX000", std::string(3 * ReplyStream::kMaxCarry, 'm'));
  const std::string stream = cat({parseComplete(), err, ready('I')});
  for (std::size_t step : {std::size_t{1000}, std::size_t{4096}, stream.size()}) {
    ReplyStream rs;
    Recorder rec;
    pushAll(rs, {withStatement(request('P', "p")), request('B'), request('E'), request('S')});
    std::vector<std::size_t> cuts;
    for (std::size_t pos = step; pos < stream.size(); pos += step)
      cuts.push_back(pos);
    const Fed f = feed(rs, rec, stream, cuts);
    ASSERT_FALSE(f.malformed);
    EXPECT_EQ(f.client, stream) << step;
    EXPECT_TRUE(rs.idle());
    ASSERT_FALSE(rec.events.empty());
    EXPECT_EQ(rec.events.back(), "Z S I failed") << step;
  }
}

TEST(SessionReplyStream, PushWhileSkippingToSync) {
  // The client sent P B E with a Flush; the Parse fails before its Sync is pushed.
  ReplyStream rs;
  Recorder rec;
  pushAll(rs, {withStatement(request('P', "p")), withStatement(request('B', "b")), request('E')});
  std::string out;
  auto r = rs.process(error("42601"), out, rec);
  EXPECT_EQ(r.status, ReplyStream::Status::Ok);
  EXPECT_FALSE(r.rewritten);
  EXPECT_EQ(rec.events, (std::vector<std::string>{"err P/p 42601", "fail P/p", "fail B/b"}));
  EXPECT_EQ(rs.pending(), 0u);

  // Until the Sync, the server answers nothing: push refuses and leaves the entry alone.
  for (char type : {'P', 'B', 'D', 'E', 'C', 'Q', 'F'}) {
    PendingReply e = withStatement(request(type, "late"));
    EXPECT_FALSE(rs.push(std::move(e))) << type;
    EXPECT_EQ(e.clientName, "late");
    EXPECT_TRUE(e.statement);
  }
  PendingReply ownParse = withStatement(own('P'));
  EXPECT_FALSE(rs.push(std::move(ownParse)));
  EXPECT_EQ(rs.pending(), 0u);

  EXPECT_TRUE(rs.push(request('S', "sync")));
  EXPECT_TRUE(rs.push(request('Q', "after")));  // no longer skipping
  EXPECT_EQ(rs.pending(), 2u);
  rec.events.clear();
  r = rs.process(cat({ready('I'), complete("SELECT 1"), ready('I')}), out, rec);
  EXPECT_EQ(r.status, ReplyStream::Status::Ok);
  EXPECT_EQ(rec.events,
            (std::vector<std::string>{"Z S/sync I failed", "cc SELECT 1", "Z Q/after I"}));
  EXPECT_TRUE(rs.idle());
}

TEST(SessionReplyStream, NoSkippingWhenTheSyncIsQueued) {
  ReplyStream rs;
  Recorder rec;
  pushAll(rs, {request('P'), request('B'), request('S')});
  std::string out;
  rs.process(error("42601"), out, rec);
  EXPECT_EQ(rs.pending(), 1u);  // the Sync
  EXPECT_TRUE(rs.push(request('P', "next")));
  EXPECT_EQ(rs.pending(), 2u);
}

TEST(SessionReplyStream, ErrorAtSync) {
  // The implicit transaction fails to commit (a deferred constraint): the error belongs to the
  // Sync, whose ReadyForQuery follows; the next unit is not skipped.
  Scenario s;
  s.entries = {request('P'),
               request('B'),
               request('E'),
               request('S', "sync"),
               withStatement(request('P', "next")),
               request('S')};
  s.backend = cat({parseComplete(), bindComplete(), complete("INSERT 0 1"), error("23503"),
                   ready('I'), parseComplete(), ready('I')});
  s.client = s.backend;
  s.events = {"cc INSERT 0 1", "err S/sync 23503", "Z S/sync I failed", "Z S I"};
  checkEverySplit(s);
}

TEST(SessionReplyStream, ErrorInSimpleQueryDoesNotSkip) {
  // A Query's error is followed by its own ReadyForQuery: nothing queued after it is skipped.
  Scenario s;
  s.entries = {request('Q', "bad"), withStatement(request('P', "p")), request('S')};
  s.backend = cat({complete("SELECT 1"), error("42703"), ready('I'), parseComplete(), ready('I')});
  s.client = s.backend;
  s.events = {"cc SELECT 1", "err Q/bad 42703", "Z Q/bad I failed", "Z S I"};
  checkEverySplit(s);
}

Scenario describes() {
  Scenario s;
  s.entries = {withStatement(request('P', "a")),
               request('D', "stmt-rows"),
               withStatement(request('P', "b")),
               request('D', "stmt-nodata"),
               request('B'),
               request('D', "portal-rows"),
               request('E'),
               request('B'),
               request('D', "portal-nodata"),
               request('E'),
               request('S')};
  s.backend =
      cat({parseComplete(), parameterDescription(), rowDescription(), parseComplete(),
           parameterDescription(), noData(), bindComplete(), rowDescription(), dataRow("1"),
           complete("SELECT 1"), bindComplete(), noData(), complete("INSERT 0 1"), ready('T')});
  s.client = s.backend;
  s.events = {"cc SELECT 1", "cc INSERT 0 1", "Z S T"};
  return s;
}

TEST(SessionReplyStream, DescribeStatementAndPortal) {
  checkEverySplit(describes());
}

TEST(SessionReplyStream, DescribeEndsAtRowDescriptionOrNoData) {
  ReplyStream rs;
  Recorder rec;
  pushAll(rs, {request('D'), request('D'), request('S')});
  std::string out;
  rs.process(parameterDescription(), out, rec);
  EXPECT_EQ(rs.pending(), 3u);
  rs.process(rowDescription(), out, rec);
  EXPECT_EQ(rs.pending(), 2u);
  rs.process(noData(), out, rec);
  EXPECT_EQ(rs.pending(), 1u);
}

Scenario executes() {
  Scenario s;
  s.entries = {request('B'),          request('E', "first"), request('E', "rest"),   request('B'),
               request('E', "empty"), request('B'),          request('E', "update"), request('S')};
  s.backend = cat({bindComplete(), dataRow("1"), dataRow("2"), portalSuspended(), dataRow("3"),
                   complete("SELECT 1"), bindComplete(), emptyQuery(), bindComplete(),
                   complete("UPDATE 7"), ready('I')});
  s.client = s.backend;
  s.events = {"cc SELECT 1", "cc UPDATE 7", "Z S I"};
  return s;
}

TEST(SessionReplyStream, ExecuteEndsWithCompleteEmptyOrSuspended) {
  checkEverySplit(executes());
}

TEST(SessionReplyStream, ExecuteEndsOneAtATime) {
  ReplyStream rs;
  Recorder rec;
  pushAll(rs, {request('E'), request('E'), request('E'), request('S')});
  std::string out;
  rs.process(portalSuspended(), out, rec);
  EXPECT_EQ(rs.pending(), 3u);
  rs.process(emptyQuery(), out, rec);
  EXPECT_EQ(rs.pending(), 2u);
  rs.process(complete("SELECT 0"), out, rec);
  EXPECT_EQ(rs.pending(), 1u);
}

Scenario copyInExtended() {
  Scenario s;
  s.entries = {request('P'), request('B'), request('E'), request('S')};
  s.backend =
      cat({parseComplete(), bindComplete(), copyInResponse(), complete("COPY 2"), ready('I')});
  s.client = s.backend;
  s.events = {"copy sync", "cc COPY 2", "Z S I"};
  return s;
}

TEST(SessionReplyStream, CopyInViaExecuteWithItsSyncQueued) {
  checkEverySplit(copyInExtended());
}

Scenario copyInSimple() {
  Scenario s;
  s.entries = {request('Q')};
  s.backend = cat({copyInResponse(), complete("COPY 1"), ready('I')});
  s.client = s.backend;
  s.events = {"copy", "cc COPY 1", "Z Q I"};
  return s;
}

TEST(SessionReplyStream, CopyInViaQuery) {
  checkEverySplit(copyInSimple());
}

TEST(SessionReplyStream, CopyInViaExecuteBeforeItsSync) {
  // Execute then Flush: the Sync comes after CopyDone.
  ReplyStream rs;
  Recorder rec;
  pushAll(rs, {request('B'), request('E')});
  std::string out;
  rs.process(bindComplete() + copyInResponse(), out, rec);
  EXPECT_TRUE(rs.push(request('S')));
  rs.process(complete("COPY 3") + ready('I'), out, rec);
  EXPECT_EQ(rec.events, (std::vector<std::string>{"copy", "cc COPY 3", "Z S I"}));
  EXPECT_TRUE(rs.idle());
}

Scenario pipeline() {
  Scenario s;
  s.entries = {withStatement(request('P', "a")),
               request('B'),
               request('E'),
               request('S', "1"),
               request('Q', "2"),
               request('B'),
               request('E'),
               request('S', "3"),
               request('F', "4"),
               request('Q', "5")};
  s.backend =
      cat({parseComplete(), bindComplete(), dataRow("1"), complete("SELECT 1"), ready('I'),
           complete("BEGIN"), ready('T'), bindComplete(), complete("INSERT 0 1"), ready('T'),
           functionResult(), ready('T'), copyOutResponse(), copyData("a\n"), copyData("b\n"),
           copyDone(), complete("COPY 2"), complete("COMMIT"), ready('I')});
  s.client = s.backend;
  s.events = {"cc SELECT 1", "Z S/1 I", "cc BEGIN",  "Z Q/2 T",   "cc INSERT 0 1",
              "Z S/3 T",     "Z F/4 T", "cc COPY 2", "cc COMMIT", "Z Q/5 I"};
  return s;
}

TEST(SessionReplyStream, PipelineOfUnits) {
  checkEverySplit(pipeline());
}

TEST(SessionReplyStream, LongPipelineInterleavedWithReplies) {
  // More requests than the ring holds at first, pushed while replies come: it grows and wraps.
  ReplyStream rs;
  Recorder rec;
  std::string expectedClient;
  std::string client;
  std::vector<std::string> expectedEvents;
  int next = 0;
  for (int round = 0; round < 40; ++round) {
    std::string stream;
    for (int k = 0; k < 1 + round % 7; ++k, ++next) {
      const std::string name = std::to_string(next);
      const bool mine = next % 3 != 0;
      ASSERT_TRUE(rs.push(mine ? request('B') : own('B')));
      ASSERT_TRUE(rs.push(mine ? request('E') : own('E')));
      ASSERT_TRUE(rs.push(mine ? request('S', name) : own('S', name)));
      const std::string reply = cat({bindComplete(), complete("SELECT " + name), ready('I')});
      stream += reply;
      if (mine) {
        expectedClient += reply;
        expectedEvents.push_back("cc SELECT " + name);
        expectedEvents.push_back("Z S/" + name + " I");
      } else {
        expectedEvents.push_back("Z S/" + name + "* I");
      }
    }
    // Only the first half arrives now: the queue keeps what is still to come.
    const std::size_t half = stream.size() / 2;
    std::string out;
    auto r = rs.process(stream.substr(0, half), out, rec);
    ASSERT_EQ(r.status, ReplyStream::Status::Ok);
    client += r.rewritten ? out : stream.substr(0, r.consumed);
    const std::string rest = stream.substr(r.consumed);
    r = rs.process(rest, out, rec);
    ASSERT_EQ(r.status, ReplyStream::Status::Ok);
    ASSERT_EQ(r.consumed, rest.size());
    client += r.rewritten ? out : rest;
  }
  EXPECT_EQ(client, expectedClient);
  EXPECT_EQ(rec.events, expectedEvents);
  EXPECT_TRUE(rs.idle());
}

TEST(SessionReplyStream, StopsRightAfterReadyForQuery) {
  const Scenario s = pipeline();
  const std::vector<std::size_t> ends = readyEnds(s.backend);
  ReplyStream rs;
  Recorder rec;
  rec.stopAtEveryReady = true;
  pushAll(rs, s.entries);
  std::string out;
  const auto r = rs.process(s.backend, out, rec);
  EXPECT_EQ(r.status, ReplyStream::Status::Stopped);
  EXPECT_EQ(r.consumed, ends.front());
  EXPECT_FALSE(r.rewritten);
  EXPECT_EQ(rec.events, (std::vector<std::string>{"cc SELECT 1", "Z S/1 I"}));
  EXPECT_EQ(rs.pending(), s.entries.size() - 4);
}

TEST(SessionReplyStream, StopsAfterADroppedReadyForQuery) {
  // pgsplit's own unit ends; the client's reply after it is not touched yet.
  ReplyStream rs;
  Recorder rec;
  rec.stopAtEveryReady = true;
  pushAll(rs, {own('Q'), request('Q')});
  const std::string ownReply = cat({complete("SET"), ready('I')});
  const std::string mine = cat({complete("SELECT 0"), ready('I')});
  std::string out = "stale";
  auto r = rs.process(ownReply + mine, out, rec);
  EXPECT_EQ(r.status, ReplyStream::Status::Stopped);
  EXPECT_EQ(r.consumed, ownReply.size());
  EXPECT_TRUE(r.rewritten);
  EXPECT_EQ(out, "");
  r = rs.process(mine, out, rec);
  EXPECT_EQ(r.status, ReplyStream::Status::Stopped);
  EXPECT_EQ(r.consumed, mine.size());
  EXPECT_FALSE(r.rewritten);
  EXPECT_EQ(rec.events, (std::vector<std::string>{"Z Q* I", "cc SELECT 0", "Z Q I"}));
}

TEST(SessionReplyStream, MalformedLength) {
  const std::string before = cat({rowDescription(), dataRow("1")});
  for (std::uint32_t len : {0u, 1u, 3u, 1001u, 0x7FFFFFFFu, 0xFFFFFFFFu}) {
    ReplyStream rs(1000);
    Recorder rec;
    pushAll(rs, {request('Q')});
    std::string out;
    const std::string bad = "D"s + be32(len) + std::string(16, 'x');
    const auto r = rs.process(before + bad, out, rec);
    EXPECT_EQ(r.status, ReplyStream::Status::Malformed) << len;
    EXPECT_EQ(r.consumed, before.size()) << len;
    EXPECT_FALSE(r.rewritten);
  }
  // The maximum itself is fine: a DataRow of exactly maxMessageLength.
  ReplyStream rs(1000);
  Recorder rec;
  pushAll(rs, {request('Q')});
  std::string out;
  const std::string row = msg('D', std::string(996, 'y'));
  const auto r = rs.process(row + complete("SELECT 1") + ready('I'), out, rec);
  EXPECT_EQ(r.status, ReplyStream::Status::Ok);
  EXPECT_TRUE(rs.idle());
}

// Distrust every length: ReadyForQuery is exactly one status byte. Without it the status would be
// made up ('I': idle, so the backend would be released), with more the rest would be ignored.
TEST(SessionReplyStream, ReadyForQueryOfTheWrongLengthIsMalformed) {
  const std::string before = complete("SELECT 0");
  for (const std::string& body : {""s, "II"s, "T\0\0\0"s}) {
    ReplyStream rs;
    Recorder rec;
    pushAll(rs, {request('Q')});
    std::string out;
    const auto r = rs.process(before + msg('Z', body), out, rec);
    EXPECT_EQ(r.status, ReplyStream::Status::Malformed) << "body of " << body.size();
    EXPECT_EQ(r.consumed, before.size()) << "body of " << body.size();
    EXPECT_EQ(rec.events, (std::vector<std::string>{"cc SELECT 0"})) << "body of " << body.size();
  }
}

TEST(SessionReplyStream, EmptyQueryInASimpleQuery) {
  Scenario s;
  s.entries = {request('Q', "empty"), request('Q')};
  s.backend = cat({emptyQuery(), ready('I'), emptyQuery(), ready('I')});
  s.client = s.backend;
  s.events = {"Z Q/empty I", "Z Q I"};
  checkEverySplit(s);
}

TEST(SessionReplyStream, MalformedLengthWhileDropping) {
  ReplyStream rs;
  Recorder rec;
  pushAll(rs, {own('Q'), request('Q')});
  const std::string ownReply = cat({complete("SET"), ready('I')});
  std::string out;
  const auto r = rs.process(ownReply + "C"s + be32(2), out, rec);
  EXPECT_EQ(r.status, ReplyStream::Status::Malformed);
  EXPECT_EQ(r.consumed, ownReply.size());
  EXPECT_TRUE(r.rewritten);
  EXPECT_EQ(out, "");
}

TEST(SessionReplyStream, MalformedUnexpectedReply) {
  struct Case {
    std::vector<PendingReply> queue;
    std::string stream;
    std::size_t consumed;  // up to the unexpected message
    const char* what;
  };
  const std::vector<Case> cases = {
      {{}, parseComplete(), 0, "ParseComplete, nothing expected"},
      {{}, bindComplete(), 0, "BindComplete, nothing expected"},
      {{}, closeComplete(), 0, "CloseComplete, nothing expected"},
      {{}, ready('I'), 0, "ReadyForQuery, nothing expected"},
      {{request('B'), request('S')}, parseComplete(), 0, "ParseComplete for a Bind"},
      {{request('P'), request('S')}, bindComplete(), 0, "BindComplete for a Parse"},
      {{request('P'), request('S')}, closeComplete(), 0, "CloseComplete for a Parse"},
      {{request('E'), request('S')}, ready('I'), 0, "ReadyForQuery for an Execute"},
      {{request('Q')}, parseComplete(), 0, "ParseComplete for a Query"},
      {{request('P'), request('S')}, parseComplete() + parseComplete(), 5, "one too many"},
      {{request('Q')}, ready('I') + ready('I'), 6, "ReadyForQuery, queue empty again"},
  };
  for (const Case& c : cases) {
    ReplyStream rs;
    Recorder rec;
    pushAll(rs, c.queue);
    std::string out;
    const auto r = rs.process(c.stream, out, rec);
    EXPECT_EQ(r.status, ReplyStream::Status::Malformed) << c.what;
    EXPECT_EQ(r.consumed, c.consumed) << c.what;
  }
}

TEST(SessionReplyStream, UnsolicitedMessagesWithNothingExpected) {
  // Notifications, notices, parameter changes and a FATAL before the server closes.
  const std::string stream =
      cat({notification(), notice(), parameterStatus(), error("57P01", "terminating connection")});
  ReplyStream rs;
  Recorder rec;
  std::string out;
  const auto r = rs.process(stream, out, rec);
  EXPECT_EQ(r.status, ReplyStream::Status::Ok);
  EXPECT_EQ(r.consumed, stream.size());
  EXPECT_FALSE(r.rewritten);
  EXPECT_TRUE(rec.events.empty());
  EXPECT_TRUE(rs.idle());
}

Scenario syntheticCommandComplete() {
  // An Execute pgsplit answers itself (DEALLOCATE of a statement it manages): its
  // CommandComplete takes the Execute's place, and the listener hears it like the server's.
  Scenario s;
  PendingReply deallocate = synthetic('E', 'C', "dealloc", complete("DEALLOCATE"));
  s.entries = {request('P'), request('B'), request('D'), deallocate, request('E'), request('S')};
  s.backend = cat({parseComplete(), bindComplete(), noData(), rowDescription(), dataRow("7"),
                   complete("SELECT 1"), ready('I')});
  s.client = cat({parseComplete(), bindComplete(), noData(), complete("DEALLOCATE"),
                  rowDescription(), dataRow("7"), complete("SELECT 1"), ready('I')});
  s.events = {"cc DEALLOCATE", "cc SELECT 1", "Z S I"};
  return s;
}

TEST(SessionReplyStream, SyntheticCommandCompleteAtItsPlace) {
  checkEverySplit(syntheticCommandComplete());
}

Scenario syntheticCommandCompleteSkipped() {
  // An error before it: the server skips to Sync, so pgsplit's answer is skipped too (the
  // statement did not run).
  Scenario s;
  s.entries = {request('B'), request('E'), synthetic('E', 'C', "dealloc", complete("DEALLOCATE")),
               request('S')};
  const std::string err = error("22012", "division by zero");
  s.backend = cat({bindComplete(), err, ready('I')});
  s.client = s.backend;
  s.events = {"err E 22012", "Z S I failed"};
  return s;
}

TEST(SessionReplyStream, SyntheticCommandCompleteSkippedAfterAnError) {
  checkEverySplit(syntheticCommandCompleteSkipped());
}

Scenario parameterStatusRewritten() {
  // A client's RESET of a startup parameter: the server reports its own default, the client
  // gets its startup value. Other parameters, and pgsplit's own requests, are left alone.
  Scenario s;
  s.rewriteName = "TimeZone";
  s.rewriteValue = "Asia/Tokyo";
  s.entries = {own('Q'), request('Q')};
  s.backend = cat({parameterStatus("TimeZone", "Etc/UTC"), complete("SET"), ready('I'),
                   complete("RESET"), parameterStatus("DateStyle", "ISO, MDY"),
                   parameterStatus("TimeZone", "Etc/UTC"), ready('I')});
  s.client = cat({complete("RESET"), parameterStatus("DateStyle", "ISO, MDY"),
                  parameterStatus("TimeZone", "Asia/Tokyo"), ready('I')});
  s.events = {"Z Q* I", "cc RESET", "ps TimeZone of Q", "Z Q I"};
  return s;
}

TEST(SessionReplyStream, ParameterStatusRewrittenForTheClient) {
  checkEverySplit(parameterStatusRewritten());
}

TEST(SessionReplyStream, CommandCompleteTagsOnlyForTheClient) {
  ReplyStream rs;
  Recorder rec;
  pushAll(rs, {own('Q'), request('Q'), own('B'), own('E'), own('S'), request('B'), request('E'),
               request('S')});
  const std::string stream =
      cat({complete("SET"), ready('I'), complete("INSERT 0 1"), complete("DISCARD ALL"), ready('I'),
           bindComplete(), complete("SELECT 9"), ready('I'), bindComplete(),
           complete("DEALLOCATE ALL"), ready('I')});
  std::string out;
  const auto r = rs.process(stream, out, rec);
  EXPECT_EQ(r.status, ReplyStream::Status::Ok);
  EXPECT_EQ(rec.events,
            (std::vector<std::string>{"Z Q* I", "cc INSERT 0 1", "cc DISCARD ALL", "Z Q I",
                                      "Z S* I", "cc DEALLOCATE ALL", "Z S I"}));
}

TEST(SessionReplyStream, ResetForgetsEverything) {
  ReplyStream rs;
  Recorder rec;
  pushAll(rs, {request('P'), request('B'), request('E')});
  std::string out;
  rs.process(error("42601"), out, rec);
  EXPECT_FALSE(rs.push(request('B')));  // skipping
  rs.reset();
  EXPECT_TRUE(rs.idle());
  EXPECT_TRUE(rs.push(request('Q')));
  rs.process(rowDescription() + dataRow("abc").substr(0, 8), out, rec);
  EXPECT_FALSE(rs.atBoundary());
  rs.reset();
  EXPECT_TRUE(rs.atBoundary());
  EXPECT_TRUE(rs.idle());
  // A fresh unit right after: nothing of the old one is left (not failed, not dropping).
  rec.events.clear();
  EXPECT_TRUE(rs.push(request('Q')));
  const std::string reply = cat({complete("SELECT 0"), ready('I')});
  const auto r = rs.process(reply, out, rec);
  EXPECT_EQ(r.consumed, reply.size());
  EXPECT_FALSE(r.rewritten);
  EXPECT_EQ(rec.events, (std::vector<std::string>{"cc SELECT 0", "Z Q I"}));
}

TEST(SessionReplyStream, EverythingAtOnceAnySplit) {
  // The scenarios above back to back on one stream.
  Scenario all;
  for (const Scenario& s :
       {ownRequestsDropped(), syntheticsMidStream(), extendedError(), errorAsNotice(), describes(),
        syntheticAtHead(), executes(), copyInExtended(), asynchronousDuringOwn(), pipeline()}) {
    all.entries.insert(all.entries.end(), s.entries.begin(), s.entries.end());
    all.backend += s.backend;
    all.client += s.client;
    all.events.insert(all.events.end(), s.events.begin(), s.events.end());
  }
  checkEverySplit(all);
}

TEST(SessionReplyStream, RandomBytesNeverCrash) {
  std::mt19937 rng(99);
  const char types[] = "123ZECDTnIsGHdcASNtVK";
  for (int iter = 0; iter < 2000; ++iter) {
    ReplyStream rs(1 << 16);
    Recorder rec;
    rec.stopAtEveryReady = iter % 2 == 0;
    rec.wellFormed = false;
    for (int k = 0; k < 6; ++k) {
      const char req = "PBDECSQF"[rng() % 8];
      PendingReply e = rng() % 2 ? request(req) : own(req);
      if (rng() % 3 == 0) e.statement = statement("s");
      if (rng() % 5 == 0 && (req == 'P' || req == 'C')) e.synthetic = req == 'P' ? '1' : '3';
      e.errorAsNotice = rng() % 2;
      rs.push(std::move(e));
    }
    std::string stream;
    for (int k = 0; k < 8; ++k) {
      if (rng() % 10 == 0) {
        for (int b = 0; b < 7; ++b)
          stream.push_back(static_cast<char>(rng()));
      } else {
        const char type = types[rng() % (sizeof types - 1)];
        std::string body(rng() % 12, '\0');
        for (char& ch : body)
          ch = static_cast<char>(rng() % 4 == 0 ? 0 : 'a' + rng() % 26);
        stream += msg(type, body);
      }
    }
    std::vector<std::size_t> cuts;
    for (std::size_t pos = rng() % 9; pos < stream.size(); pos += 1 + rng() % 9)
      cuts.push_back(pos);
    const Fed f = feed(rs, rec, stream, cuts);  // must not crash, hang or read out of bounds
    if (!f.malformed) {
      EXPECT_LE(f.leftover, stream.size());
    }
  }
}

}  // namespace
}  // namespace pgsplit::session

namespace pgsplit::session {
namespace {

// --- the write position after a write (pgsplit.write_lsn) ---

PendingReply holding(PendingReply e) {
  e.holdsReady = true;
  return e;
}
PendingReply capture() {
  PendingReply e = own('Q', "lsn");
  e.capturesLsn = true;
  return e;
}

// Checks every split without stops (a stop comes only at the released ReadyForQuery).
void checkSplitsNoStops(const Scenario& s) {
  const std::size_t n = s.backend.size();
  std::vector<std::size_t> bytes;
  for (std::size_t i = 1; i < n; ++i)
    bytes.push_back(i);
  checkRun(s, {}, false, "whole");
  checkRun(s, bytes, false, "byte by byte");
  for (std::size_t cut = 0; cut <= n; ++cut)
    checkRun(s, {cut}, false, "cut at " + std::to_string(cut));
}

TEST(SessionReplyStream, WritePositionQueryIsHiddenAndItsValueReportedBeforeTheClientsReady) {
  Scenario s;
  s.entries = {holding(request('Q')), capture()};
  s.backend = cat({complete("INSERT 0 1"), ready('I'), rowDescription(), dataRow("0/3000060"),
                   complete("SELECT 1"), ready('I')});
  s.client =
      cat({complete("INSERT 0 1"), msg('S', "pgsplit.write_lsn\0"s + "0/3000060\0"s), ready('I')});
  s.events = {"cc INSERT 0 1", "lsn 0/3000060 I", "Z Q I"};
  checkSplitsNoStops(s);
}

TEST(SessionReplyStream, WritePositionQueryAfterAnExtendedBatchWithANoticeBetween) {
  Scenario s;
  s.entries = {request('P'), request('B'), request('E'), holding(request('S')), capture()};
  s.backend = cat({parseComplete(), bindComplete(), complete("UPDATE 2"), ready('I'), notice(),
                   rowDescription(), dataRow("16/B374D848"), complete("SELECT 1"), ready('I')});
  s.client = cat({parseComplete(), bindComplete(), complete("UPDATE 2"), notice(),
                  msg('S', "pgsplit.write_lsn\0"s + "16/B374D848\0"s), ready('I')});
  s.events = {"cc UPDATE 2", "lsn 16/B374D848 I", "Z S I"};
  checkSplitsNoStops(s);
}

TEST(SessionReplyStream, AFailedPositionQueryReportsNothingAndKeepsTheClientsStatus) {
  // The client's unit left a failed transaction: the position query is refused too.
  Scenario s;
  s.entries = {holding(request('Q')), capture()};
  s.backend = cat({error("22012"), ready('E'), error("25P02"), ready('E')});
  s.client = cat({error("22012"), ready('E')});
  s.events = {"err Q 22012", "lsn  E", "Z Q E failed"};
  checkSplitsNoStops(s);
}

TEST(SessionReplyStream, TheHeldReadyIsWhereTheScanStops) {
  Scenario s;
  s.entries = {holding(request('Q')), capture(), request('Q', "next")};
  s.backend = cat({complete("INSERT 0 1"), ready('I'), rowDescription(), dataRow("0/10"),
                   complete("SELECT 1"), ready('I'), complete("SELECT 0"), ready('I')});
  ReplyStream rs;
  Recorder rec;
  rec.stopAtEveryReady = true;
  pushAll(rs, s.entries);
  const Fed f = feed(rs, rec, s.backend, {});
  const std::size_t firstEnd = cat({complete("INSERT 0 1"), ready('I'), rowDescription(),
                                    dataRow("0/10"), complete("SELECT 1"), ready('I')})
                                   .size();
  EXPECT_EQ(f.stops, (std::vector<std::size_t>{firstEnd, s.backend.size()}));
  EXPECT_EQ(rec.events, (std::vector<std::string>{"cc INSERT 0 1", "lsn 0/10 I", "Z Q I",
                                                  "cc SELECT 0", "Z Q/next I"}));
}

}  // namespace
}  // namespace pgsplit::session
