#include "pgsplit/protocol/frame.hpp"

namespace pgsplit::protocol {

namespace {

FrameResult malformed(const char* why) {
  FrameResult r;
  r.status = FrameStatus::Malformed;
  r.error = why;
  return r;
}

FrameResult needMore(std::size_t needed) {
  FrameResult r;
  r.status = FrameStatus::NeedMore;
  r.needed = needed;
  return r;
}

}  // namespace

FrameResult readFrame(std::string_view buf, std::size_t maxLength) {
  constexpr std::size_t kHeader = 5;  // type byte + int32 length
  if (buf.size() < kHeader) return needMore(0);
  // The length is an unsigned 32-bit word here; a "negative" one is simply huge and fails the cap.
  const std::size_t len = readU32(buf.data() + 1);
  if (len < 4) return malformed("message length below 4");
  if (len > maxLength) return malformed("message length exceeds the maximum");
  const std::size_t total = 1 + len;
  if (buf.size() < total) return needMore(total);

  FrameResult r;
  r.status = FrameStatus::Ok;
  r.frame.type = buf[0];
  r.frame.body = buf.substr(kHeader, len - 4);
  r.frame.size = total;
  return r;
}

FrameResult readStartupFrame(std::string_view buf, std::size_t maxLength) {
  constexpr std::size_t kHeader = 4;  // int32 length
  if (buf.size() < kHeader) return needMore(0);
  // At least the length word and a protocol code.
  const std::size_t len = readU32(buf.data());
  if (len < 8) return malformed("startup packet length below 8");
  if (len > maxLength) return malformed("startup packet length exceeds the maximum");
  if (buf.size() < len) return needMore(len);

  FrameResult r;
  r.status = FrameStatus::Ok;
  r.frame.type = 0;
  r.frame.body = buf.substr(kHeader, len - kHeader);
  r.frame.size = len;
  return r;
}

}  // namespace pgsplit::protocol
