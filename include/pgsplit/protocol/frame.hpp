#pragma once
// Cutting a byte stream into PostgreSQL v3 protocol messages. Pure: no I/O, no allocation.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pgsplit::protocol {

// Startup-phase packets are small; PostgreSQL itself caps them at 10000 bytes.
inline constexpr std::size_t kMaxStartupPacket = 10000;

enum class FrameStatus : std::uint8_t { NeedMore, Ok, Malformed };

struct Frame {
  char type = 0;          // message type byte; 0 for an untyped startup-phase packet
  std::string_view body;  // payload after the length word
  std::size_t size = 0;   // bytes the whole message occupies in the buffer (header included)
};

struct FrameResult {
  FrameStatus status = FrameStatus::NeedMore;
  Frame frame;
  const char* error = nullptr;  // static text when Malformed
  // With NeedMore: how many bytes the whole message needs, when the header is known (else 0).
  std::size_t needed = 0;
};

// A typed message: 1 type byte, int32 length (includes itself, >= 4, <= maxLength), body.
FrameResult readFrame(std::string_view buf, std::size_t maxLength);

// An untyped startup-phase packet: int32 length (>= 8, <= maxLength), body (protocol code first).
FrameResult readStartupFrame(std::string_view buf, std::size_t maxLength = kMaxStartupPacket);

// Big-endian helpers over raw bytes (callers have checked the bounds).
inline std::uint32_t readU32(const char* p) {
  auto b = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
         std::uint32_t{b[3]};
}
inline std::uint16_t readU16(const char* p) {
  auto b = reinterpret_cast<const unsigned char*>(p);
  return static_cast<std::uint16_t>((b[0] << 8) | b[1]);
}

}  // namespace pgsplit::protocol
