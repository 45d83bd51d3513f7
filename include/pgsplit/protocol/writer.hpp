#pragma once
// Building protocol messages into a caller-owned buffer (appends; reuses its capacity).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgsplit/protocol/messages.hpp"

namespace pgsplit::protocol {

class MessageWriter {
 public:
  explicit MessageWriter(std::string& out) : out_(out) {}

  // Starts a typed message (type != 0) or an untyped startup packet (type == 0).
  MessageWriter& begin(char type);
  MessageWriter& u8(std::uint8_t v);
  MessageWriter& i16(std::int16_t v);
  MessageWriter& i32(std::int32_t v);
  MessageWriter& u32(std::uint32_t v);
  MessageWriter& cstr(std::string_view s);  // bytes + NUL
  MessageWriter& raw(std::string_view s);   // bytes as they are
  // Patches the length word of the message begun last.
  void end();

 private:
  std::string& out_;
  std::size_t start_ = 0;  // offset of the length word
};

// Field set of an ErrorResponse or NoticeResponse built by pgsplit itself.
struct ErrorSpec {
  ErrorSpec() = default;
  ErrorSpec(std::string_view severity_, std::string_view sqlstate_, std::string_view message_,
            std::string_view detail_ = {}, std::string_view hint_ = {})
      : severity(severity_), sqlstate(sqlstate_), message(message_), detail(detail_), hint(hint_) {}

  std::string_view severity = "ERROR";  // ERROR, FATAL, PANIC, WARNING, NOTICE...
  std::string_view sqlstate;
  std::string_view message;
  std::string_view detail;  // optional
  std::string_view hint;    // optional
};

void writeError(std::string& out, const ErrorSpec& e);   // 'E'
void writeNotice(std::string& out, const ErrorSpec& e);  // 'N'
void writeReadyForQuery(std::string& out, char status);
void writeParameterStatus(std::string& out, std::string_view name, std::string_view value);
void writeBackendKeyData(std::string& out, std::uint32_t pid, std::uint32_t secret);
void writeAuthOk(std::string& out);
void writeAuthCleartextRequest(std::string& out);
void writeAuthMd5Request(std::string& out, const std::uint8_t salt[4]);
void writeAuthSasl(std::string& out, std::string_view mechanism);  // one mechanism offered
void writeAuthSaslContinue(std::string& out, std::string_view data);
void writeAuthSaslFinal(std::string& out, std::string_view data);

void writeStartup(std::string& out,
                  const std::vector<std::pair<std::string, std::string>>& parameters);
void writeCancelRequest(std::string& out, std::uint32_t pid, std::uint32_t secret);
void writePassword(std::string& out, std::string_view password);  // 'p' + cstr
void writeSaslInitialResponse(std::string& out, std::string_view mechanism, std::string_view data);
void writeSaslResponse(std::string& out, std::string_view data);
void writeQuery(std::string& out, std::string_view sql);
void writeSync(std::string& out);
void writeTerminate(std::string& out);

}  // namespace pgsplit::protocol
