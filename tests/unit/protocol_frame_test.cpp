#include "pgsplit/protocol/frame.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

using namespace std::string_literals;
using namespace std::string_view_literals;
using pgsplit::protocol::FrameResult;
using pgsplit::protocol::FrameStatus;
using pgsplit::protocol::kMaxStartupPacket;
using pgsplit::protocol::readFrame;
using pgsplit::protocol::readStartupFrame;
using pgsplit::protocol::readU16;
using pgsplit::protocol::readU32;

namespace {

constexpr std::size_t kMax = 1 << 20;

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// A typed message built by hand (independent of MessageWriter).
std::string typed(char type, std::string_view body) {
  return std::string(1, type) + be32(static_cast<std::uint32_t>(body.size() + 4)) +
         std::string(body);
}

std::string startup(std::string_view body) {
  return be32(static_cast<std::uint32_t>(body.size() + 4)) + std::string(body);
}

}  // namespace

TEST(ProtocolFrame, BigEndianHelpers) {
  const std::string b = "\x01\x02\x03\x04\xff\xfe"s;
  EXPECT_EQ(readU32(b.data()), 0x01020304u);
  EXPECT_EQ(readU32(b.data() + 2), 0x0304fffeu);
  EXPECT_EQ(readU16(b.data() + 4), 0xfffeu);
  EXPECT_EQ(readU16(b.data()), 0x0102u);
}

TEST(ProtocolFrame, WholeMessage) {
  const std::string msg = typed('Q', "select 1\0"sv);
  FrameResult r = readFrame(msg, kMax);
  ASSERT_EQ(r.status, FrameStatus::Ok);
  EXPECT_EQ(r.frame.type, 'Q');
  EXPECT_EQ(r.frame.body, "select 1\0"sv);
  EXPECT_EQ(r.frame.size, msg.size());
  EXPECT_EQ(r.frame.body.data(), msg.data() + 5);  // a view, not a copy
  EXPECT_EQ(r.error, nullptr);
}

TEST(ProtocolFrame, EmptyBody) {
  const std::string msg = typed('S', "");
  FrameResult r = readFrame(msg, kMax);
  ASSERT_EQ(r.status, FrameStatus::Ok);
  EXPECT_EQ(r.frame.type, 'S');
  EXPECT_TRUE(r.frame.body.empty());
  EXPECT_EQ(r.frame.size, 5u);
}

TEST(ProtocolFrame, EveryPrefixNeedsMore) {
  const std::string msg = typed('D', "\x00\x02\x00\x00\x00\x01x\xff\xff\xff\xff"sv);
  for (std::size_t k = 0; k < msg.size(); ++k) {
    FrameResult r = readFrame(std::string_view(msg).substr(0, k), kMax);
    ASSERT_EQ(r.status, FrameStatus::NeedMore) << "prefix " << k;
    EXPECT_EQ(r.needed, k >= 5 ? msg.size() : 0u) << "prefix " << k;
  }
  EXPECT_EQ(readFrame(msg, kMax).status, FrameStatus::Ok);
}

TEST(ProtocolFrame, TwoMessagesInOneBuffer) {
  const std::string a = typed('C', "SELECT 1\0"sv), b = typed('Z', "I");
  const std::string buf = a + b;
  FrameResult r1 = readFrame(buf, kMax);
  ASSERT_EQ(r1.status, FrameStatus::Ok);
  EXPECT_EQ(r1.frame.type, 'C');
  EXPECT_EQ(r1.frame.size, a.size());
  EXPECT_EQ(r1.frame.body, "SELECT 1\0"sv);
  FrameResult r2 = readFrame(std::string_view(buf).substr(r1.frame.size), kMax);
  ASSERT_EQ(r2.status, FrameStatus::Ok);
  EXPECT_EQ(r2.frame.type, 'Z');
  EXPECT_EQ(r2.frame.body, "I");
  EXPECT_EQ(r1.frame.size + r2.frame.size, buf.size());
}

TEST(ProtocolFrame, SecondMessagePartial) {
  const std::string buf = typed('1', "") + typed('T', "abcdef").substr(0, 7);
  FrameResult r1 = readFrame(buf, kMax);
  ASSERT_EQ(r1.status, FrameStatus::Ok);
  FrameResult r2 = readFrame(std::string_view(buf).substr(r1.frame.size), kMax);
  EXPECT_EQ(r2.status, FrameStatus::NeedMore);
  EXPECT_EQ(r2.needed, 11u);
}

TEST(ProtocolFrame, LengthBelowFourIsMalformed) {
  for (std::uint32_t len = 0; len < 4; ++len) {
    const std::string msg = "Q" + be32(len);  // only the header is needed to tell
    FrameResult r = readFrame(msg, kMax);
    EXPECT_EQ(r.status, FrameStatus::Malformed) << len;
    EXPECT_NE(r.error, nullptr);
  }
}

TEST(ProtocolFrame, OversizeIsMalformed) {
  EXPECT_EQ(readFrame("Q" + be32(kMax + 1), kMax).status, FrameStatus::Malformed);
  EXPECT_EQ(readFrame("Q" + be32(0xFFFFFFFFu), kMax).status, FrameStatus::Malformed);
  EXPECT_EQ(readFrame("Q" + be32(0x80000000u), kMax).status, FrameStatus::Malformed);
  FrameResult r = readFrame("Q" + be32(kMax + 1) + "xyz", kMax);
  EXPECT_EQ(r.status, FrameStatus::Malformed);
  EXPECT_NE(r.error, nullptr);
  // Exactly at the cap is fine (still incomplete here).
  FrameResult atCap = readFrame("Q" + be32(kMax), kMax);
  EXPECT_EQ(atCap.status, FrameStatus::NeedMore);
  EXPECT_EQ(atCap.needed, kMax + 1);
  // A small cap applies to the length word, which includes itself.
  EXPECT_EQ(readFrame(typed('Q', "abcd"), 8).status, FrameStatus::Ok);
  EXPECT_EQ(readFrame(typed('Q', "abcde"), 8).status, FrameStatus::Malformed);
}

TEST(ProtocolFrame, StartupWhole) {
  const std::string pkt = startup(be32(196608) + "user\0bob\0\0"s);
  FrameResult r = readStartupFrame(pkt);
  ASSERT_EQ(r.status, FrameStatus::Ok);
  EXPECT_EQ(r.frame.type, 0);
  EXPECT_EQ(r.frame.size, pkt.size());
  EXPECT_EQ(r.frame.body, std::string_view(pkt).substr(4));
}

TEST(ProtocolFrame, StartupEveryPrefixNeedsMore) {
  const std::string pkt = startup(be32(196608) + "user\0bob\0database\0db\0\0"s);
  for (std::size_t k = 0; k < pkt.size(); ++k) {
    FrameResult r = readStartupFrame(std::string_view(pkt).substr(0, k));
    ASSERT_EQ(r.status, FrameStatus::NeedMore) << k;
    EXPECT_EQ(r.needed, k >= 4 ? pkt.size() : 0u) << k;
  }
}

TEST(ProtocolFrame, StartupTwoPackets) {
  // SSLRequest then, after the TLS answer, a StartupMessage: both framed from one buffer.
  const std::string ssl = startup(be32(80877103));
  const std::string buf = ssl + startup(be32(196608) + "user\0u\0\0"s);
  FrameResult r1 = readStartupFrame(buf);
  ASSERT_EQ(r1.status, FrameStatus::Ok);
  EXPECT_EQ(r1.frame.size, 8u);
  EXPECT_EQ(r1.frame.body, be32(80877103));
  FrameResult r2 = readStartupFrame(std::string_view(buf).substr(r1.frame.size));
  ASSERT_EQ(r2.status, FrameStatus::Ok);
  EXPECT_EQ(r1.frame.size + r2.frame.size, buf.size());
}

TEST(ProtocolFrame, StartupBadLengths) {
  for (std::uint32_t len = 0; len < 8; ++len) {
    FrameResult r = readStartupFrame(be32(len) + "xxxxxxxx");
    EXPECT_EQ(r.status, FrameStatus::Malformed) << len;
    EXPECT_NE(r.error, nullptr);
  }
  EXPECT_EQ(readStartupFrame(be32(kMaxStartupPacket + 1)).status, FrameStatus::Malformed);
  EXPECT_EQ(readStartupFrame(be32(0xFFFFFFFFu)).status, FrameStatus::Malformed);
  EXPECT_EQ(readStartupFrame(be32(kMaxStartupPacket)).status, FrameStatus::NeedMore);
  EXPECT_EQ(readStartupFrame(be32(100), 99).status, FrameStatus::Malformed);
}

// Random input: never a crash or an out-of-bounds view, and a loop over frames always progresses.
TEST(ProtocolFrame, RandomBytes) {
  std::mt19937 rng(20240521);
  for (int iter = 0; iter < 5000; ++iter) {
    std::string buf(rng() % 64, '\0');
    for (char& c : buf)
      c = static_cast<char>(rng());
    // Bias some lengths small so that Ok frames occur too.
    if (buf.size() >= 5 && iter % 2 == 0) buf[1] = buf[2] = buf[3] = 0;
    const std::size_t cap = 4 + rng() % 80;
    for (bool isStartup : {false, true}) {
      std::string_view rest = buf;
      int frames = 0;
      for (;;) {
        FrameResult r = isStartup ? readStartupFrame(rest, cap) : readFrame(rest, cap);
        if (r.status == FrameStatus::Malformed) {
          ASSERT_NE(r.error, nullptr);
          break;
        }
        if (r.status == FrameStatus::NeedMore) {
          if (r.needed != 0) {
            ASSERT_GT(r.needed, rest.size());
          }
          break;
        }
        ASSERT_GT(r.frame.size, 0u);
        ASSERT_LE(r.frame.size, rest.size());
        ASSERT_LE(r.frame.size, cap + (isStartup ? 0 : 1));
        ASSERT_GE(r.frame.body.data(), rest.data());
        ASSERT_EQ(r.frame.body.data() + r.frame.body.size(), rest.data() + r.frame.size);
        rest.remove_prefix(r.frame.size);
        ASSERT_LT(++frames, 1000);
      }
    }
  }
}
