#include "pgsplit/protocol/stream_scanner.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "pgsplit/protocol/frame.hpp"

using namespace std::string_literals;
using pgsplit::protocol::FrameStatus;
using pgsplit::protocol::readFrame;
using pgsplit::protocol::StreamScanner;

namespace {

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

// The reply stream of a pipelined extended-protocol query and a failing simple query, as a
// PostgreSQL server sends it.
std::string replyStream() {
  std::string s;
  s += msg('1', "");  // ParseComplete
  s += msg('2', "");  // BindComplete
  std::string rowDesc = be16(2);
  rowDesc += "id\0"s + be32(16384) + be16(1) + be32(23) + be16(4) + be32(0xFFFFFFFF) + be16(0);
  rowDesc +=
      "name\0"s + be32(16384) + be16(2) + be32(25) + be16(0xFFFF) + be32(0xFFFFFFFF) + be16(0);
  s += msg('T', rowDesc);
  for (int i = 0; i < 3; ++i) {
    const std::string id = std::to_string(i + 1);
    s += msg('D', be16(2) + be32(static_cast<std::uint32_t>(id.size())) + id + be32(0xFFFFFFFF));
  }
  const std::string big(300, 'x');  // a row bigger than most chunks
  s += msg('D', be16(2) + be32(1) + "4" + be32(300) + big);
  s += msg('C', "SELECT 4\0"s);
  s += msg('S', "TimeZone\0UTC\0"s);
  s += msg('N', "SNOTICE\0VNOTICE\0C00000\0Mhi\0\0"s);
  s += msg('Z', "I");
  s += msg('E', "SERROR\0VERROR\0C42601\0Msyntax error\0P8\0\0"s);
  s += msg('Z', "E");
  return s;
}

using Event = std::pair<char, std::string>;

// What the scanner must report: every message of an interesting type, in order, with the offset
// of the byte just after it.
std::vector<std::pair<Event, std::size_t>> expected(const std::string& stream,
                                                    std::string_view interesting) {
  std::vector<std::pair<Event, std::size_t>> out;
  std::string_view rest = stream;
  std::size_t offset = 0;
  while (!rest.empty()) {
    auto r = readFrame(rest, 1 << 20);
    EXPECT_EQ(r.status, FrameStatus::Ok);
    if (r.status != FrameStatus::Ok) break;
    offset += r.frame.size;
    if (interesting.find(r.frame.type) != std::string_view::npos) {
      out.push_back({{r.frame.type, std::string(r.frame.body)}, offset});
    }
    rest.remove_prefix(r.frame.size);
  }
  return out;
}

struct Outcome {
  std::vector<Event> events;
  std::vector<std::size_t> stops;  // stream offsets where a scan stopped
  bool malformed = false;
  std::size_t malformedChunk = 0;  // index of the chunk that held the bad header
};

// Feeds the stream cut at the given points. With stopEach, the callback asks to stop after every
// message and the caller resumes with the rest of the chunk, as the relay does.
Outcome feed(StreamScanner& scanner, const std::string& stream,
             const std::vector<std::size_t>& cuts, bool stopEach) {
  Outcome o;
  std::size_t begin = 0;
  std::vector<std::size_t> bounds = cuts;
  bounds.push_back(stream.size());
  for (std::size_t ci = 0; ci < bounds.size(); ++ci) {
    const std::string chunk = stream.substr(begin, bounds[ci] - begin);  // own copy, for ASan
    std::size_t off = 0;
    while (off < chunk.size() || (off == 0 && chunk.empty())) {
      auto r = scanner.scan(std::string_view(chunk).substr(off), [&](char t, std::string_view b) {
        o.events.emplace_back(t, std::string(b));
        return stopEach;
      });
      if (r.status == StreamScanner::Status::Malformed) {
        o.malformed = true;
        o.malformedChunk = ci;
        return o;
      }
      EXPECT_LE(r.consumed, chunk.size() - off);
      if (r.status == StreamScanner::Status::Ok) {
        EXPECT_EQ(r.consumed, chunk.size() - off);
        break;
      }
      off += r.consumed;
      o.stops.push_back(begin + off);
      EXPECT_TRUE(scanner.atBoundary());
    }
    begin = bounds[ci];
  }
  return o;
}

void checkOutcome(const Outcome& o, const std::vector<std::pair<Event, std::size_t>>& want,
                  bool stopEach, const std::string& where) {
  ASSERT_FALSE(o.malformed) << where;
  ASSERT_EQ(o.events.size(), want.size()) << where;
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(o.events[i], want[i].first) << where << " event " << i;
  }
  if (stopEach) {
    ASSERT_EQ(o.stops.size(), want.size()) << where;
    for (std::size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(o.stops[i], want[i].second) << where << " stop " << i;
    }
  } else {
    EXPECT_TRUE(o.stops.empty()) << where;
  }
}

const char* const kInterestingSets[] = {"ZESC", "12TDCSNZE", "Z", ""};

}  // namespace

TEST(ProtocolStreamScanner, WholeStream) {
  const std::string stream = replyStream();
  for (const char* set : kInterestingSets) {
    for (bool stopEach : {false, true}) {
      StreamScanner s(set);
      checkOutcome(feed(s, stream, {}, stopEach), expected(stream, set), stopEach, set);
      EXPECT_TRUE(s.atBoundary());
    }
  }
}

TEST(ProtocolStreamScanner, EveryTwoWaySplit) {
  const std::string stream = replyStream();
  for (const char* set : kInterestingSets) {
    const auto want = expected(stream, set);
    for (bool stopEach : {false, true}) {
      for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        StreamScanner s(set);
        checkOutcome(feed(s, stream, {cut}, stopEach), want, stopEach,
                     std::string(set) + " cut " + std::to_string(cut));
        ASSERT_TRUE(s.atBoundary());
      }
    }
  }
}

TEST(ProtocolStreamScanner, OneByteChunks) {
  const std::string stream = replyStream();
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < stream.size(); ++i)
    cuts.push_back(i);
  for (const char* set : kInterestingSets) {
    for (bool stopEach : {false, true}) {
      StreamScanner s(set);
      checkOutcome(feed(s, stream, cuts, stopEach), expected(stream, set), stopEach, set);
    }
  }
}

TEST(ProtocolStreamScanner, RandomChunkings) {
  const std::string stream = replyStream() + replyStream();
  std::mt19937 rng(31337);
  for (int iter = 0; iter < 500; ++iter) {
    std::vector<std::size_t> cuts;
    for (std::size_t pos = rng() % 40; pos < stream.size(); pos += rng() % 40)
      cuts.push_back(pos);
    const char* set = kInterestingSets[iter % 4];
    const bool stopEach = iter % 3 == 0;
    StreamScanner s(set);
    checkOutcome(feed(s, stream, cuts, stopEach), expected(stream, set), stopEach,
                 "iteration " + std::to_string(iter));
  }
}

TEST(ProtocolStreamScanner, StopsRightAfterTheMessage) {
  // Stop at ReadyForQuery only: the relay hands the backend back there.
  const std::string stream = replyStream();
  const std::size_t firstZ = expected(stream, "Z").front().second;
  StreamScanner s("ZE");
  auto r = s.scan(stream, [](char t, std::string_view) { return t == 'Z'; });
  EXPECT_EQ(r.status, StreamScanner::Status::Stopped);
  EXPECT_EQ(r.consumed, firstZ);
  EXPECT_TRUE(s.atBoundary());
  std::string rest;
  auto r2 = s.scan(std::string_view(stream).substr(firstZ), [&](char t, std::string_view) {
    rest += t;
    return false;
  });
  EXPECT_EQ(r2.status, StreamScanner::Status::Ok);
  EXPECT_EQ(rest, "EZ");
}

TEST(ProtocolStreamScanner, BoundaryTracking) {
  const std::string m = msg('D', "abcdef");
  StreamScanner s("Z");
  auto noop = [](char, std::string_view) { return false; };
  EXPECT_TRUE(s.atBoundary());
  s.scan(m.substr(0, 3), noop);
  EXPECT_FALSE(s.atBoundary());  // inside the header
  s.scan(m.substr(3, 4), noop);
  EXPECT_FALSE(s.atBoundary());  // inside the body
  s.scan(m.substr(7), noop);
  EXPECT_TRUE(s.atBoundary());
  auto r = s.scan("", noop);
  EXPECT_EQ(r.status, StreamScanner::Status::Ok);
  EXPECT_EQ(r.consumed, 0u);
}

TEST(ProtocolStreamScanner, ResetDropsPartialState) {
  StreamScanner s("Z");
  std::vector<Event> events;
  auto rec = [&](char t, std::string_view b) {
    events.emplace_back(t, std::string(b));
    return false;
  };
  const std::string z = msg('Z', "T");
  s.scan(z.substr(0, 5), rec);  // header only; the body is pending
  EXPECT_FALSE(s.atBoundary());
  s.reset();
  EXPECT_TRUE(s.atBoundary());
  s.scan(msg('Z', "I"), rec);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0], Event('Z', "I"));
}

TEST(ProtocolStreamScanner, MalformedLength) {
  const std::string good = msg('C', "SELECT 1\0"s) + msg('Z', "I");
  for (std::uint32_t badLen : {0u, 3u, 0xFFFFFFFFu, (1u << 30) + 1}) {
    const std::string stream = good + "D" + be32(badLen) + "garbage";
    // Whole, split everywhere, and byte by byte: always Malformed, after the good messages.
    std::vector<std::vector<std::size_t>> cutSets = {{}};
    for (std::size_t c = 1; c < stream.size(); ++c)
      cutSets.push_back({c});
    std::vector<std::size_t> bytes;
    for (std::size_t c = 1; c < stream.size(); ++c)
      bytes.push_back(c);
    cutSets.push_back(bytes);
    for (const auto& cuts : cutSets) {
      StreamScanner s("CZ");
      Outcome o = feed(s, stream, cuts, false);
      EXPECT_TRUE(o.malformed) << badLen;
      ASSERT_EQ(o.events.size(), 2u);
      EXPECT_EQ(o.events[1], Event('Z', "I"));
    }
  }
}

TEST(ProtocolStreamScanner, MaxLengthIsEnforced) {
  StreamScanner s("D", 64);
  auto noop = [](char, std::string_view) { return false; };
  EXPECT_EQ(s.scan(msg('D', std::string(60, 'x')), noop).status, StreamScanner::Status::Ok);
  EXPECT_EQ(s.scan(msg('D', std::string(61, 'x')), noop).status, StreamScanner::Status::Malformed);
  StreamScanner t("", 64);  // uninteresting types are checked too
  EXPECT_EQ(t.scan(msg('D', std::string(61, 'x')), noop).status, StreamScanner::Status::Malformed);
}

TEST(ProtocolStreamScanner, RandomBytesNeverHang) {
  std::mt19937 rng(2718);
  for (int iter = 0; iter < 3000; ++iter) {
    std::string buf(rng() % 80, '\0');
    for (char& c : buf)
      c = static_cast<char>(rng());
    if (iter % 2 == 0) {
      for (std::size_t i = 1; i + 3 < buf.size(); i += 9)
        buf[i] = buf[i + 1] = buf[i + 2] = 0;
    }
    StreamScanner s("ZESCD", 1 + rng() % 100);
    std::size_t pos = 0;
    int scans = 0;
    while (pos < buf.size()) {
      const std::size_t n = 1 + rng() % 16;
      const std::string chunk = buf.substr(pos, n);
      auto r = s.scan(chunk, [&](char, std::string_view b) {
        EXPECT_LE(b.size(), 100u);
        return rng() % 4 == 0;
      });
      if (r.status == StreamScanner::Status::Malformed) break;
      ASSERT_LE(r.consumed, chunk.size());
      if (r.status == StreamScanner::Status::Stopped) {
        ASSERT_GT(r.consumed, 0u);
      }
      pos += r.consumed;
      ASSERT_LT(++scans, 10000);
    }
  }
}
