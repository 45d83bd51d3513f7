#pragma once
// Incremental header scanner for a relayed message stream. The relay forwards bytes in bulk; the
// scanner follows message boundaries across arbitrary chunking, and hands complete bodies of the
// few message types the proxy must read (ReadyForQuery, ErrorResponse, ParameterStatus, ...) to a
// callback. Bodies of other messages (DataRow above all) are skipped without copying.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pgsplit/protocol/frame.hpp"

namespace pgsplit::protocol {

class StreamScanner {
 public:
  // interesting: message types whose bodies the callback wants (e.g. "ZESK").
  explicit StreamScanner(std::string_view interesting, std::size_t maxLength = 1u << 30);

  enum class Status : std::uint8_t { Ok, Stopped, Malformed };
  struct Result {
    Status status = Status::Ok;
    // Bytes of chunk scanned; with Stopped, up to the end of that message.
    std::size_t consumed = 0;
  };

  // Scans chunk. For each complete message of an interesting type calls
  // onMessage(char type, std::string_view body) -> bool; returning true stops the scan right after
  // that message (consumed says where). A body split across chunks is gathered in an internal
  // buffer (only for interesting types), so the view passed is valid during the call only.
  template <typename F>
  Result scan(std::string_view chunk, F&& onMessage);

  // True when the scanner sits on a message boundary (no partial header or body pending).
  bool atBoundary() const { return headerHave_ == 0 && bodyRemaining_ == 0; }
  void reset();

 private:
  bool interesting(char t) const { return interesting_[static_cast<unsigned char>(t)]; }

  bool interesting_[256] = {};
  std::size_t maxLength_;
  char header_[5] = {};
  std::size_t headerHave_ = 0;     // bytes of the current header seen so far (0..5)
  std::size_t bodyRemaining_ = 0;  // body bytes of the current message still to come
  char type_ = 0;
  bool gathering_ = false;  // current body is interesting and is being gathered
  std::string gathered_;
};

inline StreamScanner::StreamScanner(std::string_view interesting, std::size_t maxLength)
    : maxLength_(maxLength) {
  for (char t : interesting)
    interesting_[static_cast<unsigned char>(t)] = true;
}

inline void StreamScanner::reset() {
  headerHave_ = 0;
  bodyRemaining_ = 0;
  type_ = 0;
  gathering_ = false;
  gathered_.clear();
}

template <typename F>
StreamScanner::Result StreamScanner::scan(std::string_view chunk, F&& onMessage) {
  std::size_t pos = 0;
  const std::size_t n = chunk.size();
  while (pos < n) {
    if (bodyRemaining_ > 0) {
      std::size_t take = bodyRemaining_ < n - pos ? bodyRemaining_ : n - pos;
      if (gathering_) gathered_.append(chunk.data() + pos, take);
      pos += take;
      bodyRemaining_ -= take;
      if (bodyRemaining_ == 0 && gathering_) {
        gathering_ = false;
        if (onMessage(type_, std::string_view(gathered_))) return {Status::Stopped, pos};
      }
      continue;
    }
    // Fast path: a whole header (and, for interesting types, a whole body) inside this chunk.
    if (headerHave_ == 0 && n - pos >= 5) {
      char t = chunk[pos];
      std::uint32_t len = readU32(chunk.data() + pos + 1);
      if (len < 4 || len > maxLength_) return {Status::Malformed, pos};
      std::size_t body = len - 4;
      if (interesting(t)) {
        if (n - pos - 5 >= body) {
          pos += 5 + body;
          if (onMessage(t, chunk.substr(pos - body, body))) return {Status::Stopped, pos};
        } else {
          type_ = t;
          gathering_ = true;
          gathered_.assign(chunk.data() + pos + 5, n - pos - 5);
          bodyRemaining_ = body - (n - pos - 5);
          pos = n;
        }
      } else {
        std::size_t avail = n - pos - 5;
        if (avail >= body) {
          pos += 5 + body;
        } else {
          type_ = t;
          bodyRemaining_ = body - avail;
          pos = n;
        }
      }
      continue;
    }
    // Slow path: a header split across chunks.
    header_[headerHave_++] = chunk[pos++];
    if (headerHave_ < 5) continue;
    headerHave_ = 0;
    type_ = header_[0];
    std::uint32_t len = readU32(header_ + 1);
    if (len < 4 || len > maxLength_) return {Status::Malformed, pos};
    bodyRemaining_ = len - 4;
    gathering_ = interesting(type_);
    if (gathering_) gathered_.clear();
    if (bodyRemaining_ == 0 && gathering_) {
      gathering_ = false;
      if (onMessage(type_, std::string_view())) return {Status::Stopped, pos};
    }
  }
  return {Status::Ok, pos};
}

}  // namespace pgsplit::protocol
