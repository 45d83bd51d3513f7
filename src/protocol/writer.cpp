#include "pgsplit/protocol/writer.hpp"

namespace pgsplit::protocol {

namespace {

void appendU32(std::string& out, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 4);
}

}  // namespace

MessageWriter& MessageWriter::begin(char type) {
  if (type != 0) out_.push_back(type);
  start_ = out_.size();
  appendU32(out_, 0);  // patched by end()
  return *this;
}

MessageWriter& MessageWriter::u8(std::uint8_t v) {
  out_.push_back(static_cast<char>(v));
  return *this;
}

MessageWriter& MessageWriter::i16(std::int16_t v) {
  const auto u = static_cast<std::uint16_t>(v);
  out_.push_back(static_cast<char>(u >> 8));
  out_.push_back(static_cast<char>(u));
  return *this;
}

MessageWriter& MessageWriter::i32(std::int32_t v) {
  appendU32(out_, static_cast<std::uint32_t>(v));
  return *this;
}

MessageWriter& MessageWriter::u32(std::uint32_t v) {
  appendU32(out_, v);
  return *this;
}

MessageWriter& MessageWriter::cstr(std::string_view s) {
  // An embedded NUL would end the string early for the reader and shift every field after it;
  // what follows it is dropped so the message keeps its shape.
  out_.append(s.substr(0, s.find('\0')));
  out_.push_back('\0');
  return *this;
}

MessageWriter& MessageWriter::raw(std::string_view s) {
  out_.append(s);
  return *this;
}

void MessageWriter::end() {
  const auto len = static_cast<std::uint32_t>(out_.size() - start_);
  out_[start_] = static_cast<char>(len >> 24);
  out_[start_ + 1] = static_cast<char>(len >> 16);
  out_[start_ + 2] = static_cast<char>(len >> 8);
  out_[start_ + 3] = static_cast<char>(len);
}

namespace {

void writeErrorOrNotice(std::string& out, char type, const ErrorSpec& e) {
  MessageWriter w(out);
  w.begin(type);
  // 'S' may be localised by a server; 'V' never is. pgsplit does not localise, so both agree.
  w.u8('S').cstr(e.severity);
  w.u8('V').cstr(e.severity);
  w.u8('C').cstr(e.sqlstate);
  w.u8('M').cstr(e.message);
  if (!e.detail.empty()) w.u8('D').cstr(e.detail);
  if (!e.hint.empty()) w.u8('H').cstr(e.hint);
  w.u8(0);
  w.end();
}

void writeAuth(std::string& out, AuthCode code, std::string_view data) {
  MessageWriter w(out);
  w.begin(server::Authentication).u32(static_cast<std::uint32_t>(code)).raw(data).end();
}

void writeEmpty(std::string& out, char type) {
  MessageWriter(out).begin(type).end();
}

}  // namespace

void writeError(std::string& out, const ErrorSpec& e) {
  writeErrorOrNotice(out, server::ErrorResponse, e);
}

void writeNotice(std::string& out, const ErrorSpec& e) {
  writeErrorOrNotice(out, server::NoticeResponse, e);
}

void writeReadyForQuery(std::string& out, char status) {
  MessageWriter(out).begin(server::ReadyForQuery).u8(static_cast<std::uint8_t>(status)).end();
}

void writeParameterStatus(std::string& out, std::string_view name, std::string_view value) {
  MessageWriter(out).begin(server::ParameterStatus).cstr(name).cstr(value).end();
}

void writeBackendKeyData(std::string& out, std::uint32_t pid, std::uint32_t secret) {
  MessageWriter(out).begin(server::BackendKeyData).u32(pid).u32(secret).end();
}

void writeAuthOk(std::string& out) {
  writeAuth(out, AuthCode::Ok, {});
}

void writeAuthCleartextRequest(std::string& out) {
  writeAuth(out, AuthCode::CleartextPassword, {});
}

void writeAuthMd5Request(std::string& out, const std::uint8_t salt[4]) {
  writeAuth(out, AuthCode::Md5Password, std::string_view(reinterpret_cast<const char*>(salt), 4));
}

void writeAuthSasl(std::string& out, std::string_view mechanism) {
  MessageWriter w(out);
  w.begin(server::Authentication).u32(static_cast<std::uint32_t>(AuthCode::Sasl));
  w.cstr(mechanism).u8(0).end();  // the list ends with an empty name
}

void writeAuthSaslContinue(std::string& out, std::string_view data) {
  writeAuth(out, AuthCode::SaslContinue, data);
}

void writeAuthSaslFinal(std::string& out, std::string_view data) {
  writeAuth(out, AuthCode::SaslFinal, data);
}

void writeStartup(std::string& out,
                  const std::vector<std::pair<std::string, std::string>>& parameters) {
  MessageWriter w(out);
  w.begin(0).u32(kProtocolV3);
  for (const auto& [name, value] : parameters)
    w.cstr(name).cstr(value);
  w.u8(0).end();
}

void writeCancelRequest(std::string& out, std::uint32_t pid, std::uint32_t secret) {
  MessageWriter(out).begin(0).u32(kCancelRequestCode).u32(pid).u32(secret).end();
}

void writePassword(std::string& out, std::string_view password) {
  MessageWriter(out).begin(client::Password).cstr(password).end();
}

void writeSaslInitialResponse(std::string& out, std::string_view mechanism, std::string_view data) {
  MessageWriter w(out);
  w.begin(client::Password).cstr(mechanism);
  w.i32(static_cast<std::int32_t>(data.size())).raw(data).end();
}

void writeSaslResponse(std::string& out, std::string_view data) {
  MessageWriter(out).begin(client::Password).raw(data).end();
}

void writeQuery(std::string& out, std::string_view sql) {
  MessageWriter(out).begin(client::Query).cstr(sql).end();
}

void writeSync(std::string& out) {
  writeEmpty(out, client::Sync);
}

void writeTerminate(std::string& out) {
  writeEmpty(out, client::Terminate);
}

}  // namespace pgsplit::protocol
