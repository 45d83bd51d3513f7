#include "pgsplit/session/read_buffer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pgsplit::session {
namespace {

TEST(SessionReadBuffer, PrepareCommitConsumeKeepTheBytesInOrder) {
  ReadBuffer b;
  EXPECT_EQ(b.size(), 0u);
  b.append("hello ", 6);
  char* room = b.prepare(5);
  std::memcpy(room, "world", 5);
  b.commit(5);
  EXPECT_EQ(b.view(), "hello world");
  EXPECT_EQ(b.view(6), "world");
  b.consume(6);
  EXPECT_EQ(b.view(), "world");
  b.consume(100);
  EXPECT_EQ(b.size(), 0u);
}

TEST(SessionReadBuffer, GrowingKeepsTheDataAndShrinkGivesMemoryBack) {
  ReadBuffer b;
  std::string big(100000, 'x');
  big[0] = 'a';
  big.back() = 'z';
  b.append(big.data(), big.size());
  EXPECT_GE(b.capacity(), big.size());
  EXPECT_EQ(b.view(), big);
  b.shrink(16384);  // still holds more than that: kept
  EXPECT_EQ(b.view(), big);
  b.clear();
  b.shrink(16384);
  EXPECT_EQ(b.capacity(), 16384u);
  b.append("ab", 2);
  EXPECT_EQ(b.view(), "ab");
  b.clear();
  b.shrink(0);
  EXPECT_EQ(b.capacity(), 0u);
  b.append("c", 1);
  EXPECT_EQ(b.view(), "c");
}

}  // namespace
}  // namespace pgsplit::session
