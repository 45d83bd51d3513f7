#include "pgsplit/protocol/messages.hpp"

#include "pgsplit/protocol/frame.hpp"

namespace pgsplit::protocol {

namespace {

// A bounds-checked cursor over a message body. Every read fails (returns false, cursor
// unchanged) instead of running past the end.
class BodyReader {
 public:
  explicit BodyReader(std::string_view body) : body_(body) {}

  std::size_t remaining() const { return body_.size() - pos_; }
  bool atEnd() const { return pos_ == body_.size(); }
  std::string_view rest() const { return body_.substr(pos_); }

  bool u8(char& out) {
    if (remaining() < 1) return false;
    out = body_[pos_++];
    return true;
  }
  bool u16(std::uint16_t& out) {
    if (remaining() < 2) return false;
    out = readU16(body_.data() + pos_);
    pos_ += 2;
    return true;
  }
  bool u32(std::uint32_t& out) {
    if (remaining() < 4) return false;
    out = readU32(body_.data() + pos_);
    pos_ += 4;
    return true;
  }
  bool bytes(std::size_t n, std::string_view& out) {
    if (remaining() < n) return false;
    out = body_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  // A NUL-terminated string; out excludes the NUL.
  bool cstr(std::string_view& out) {
    const std::size_t nul = body_.find('\0', pos_);
    if (nul == std::string_view::npos) return false;
    out = body_.substr(pos_, nul - pos_);
    pos_ = nul + 1;
    return true;
  }

 private:
  std::string_view body_;
  std::size_t pos_ = 0;
};

bool decodeStartupParameters(BodyReader& r, StartupPacket& out) {
  for (;;) {
    std::string_view name;
    if (!r.cstr(name)) return false;  // the list must end with an empty name
    if (name.empty()) return r.atEnd();
    std::string_view value;
    if (!r.cstr(value)) return false;
    out.parameters.emplace_back(name, value);
  }
}

}  // namespace

std::optional<StartupPacket> decodeStartup(std::string_view body) {
  BodyReader r(body);
  StartupPacket p;
  if (!r.u32(p.code)) return std::nullopt;
  switch (p.code) {
    case kProtocolV3:
      p.kind = StartupKind::Startup;
      if (!decodeStartupParameters(r, p)) return std::nullopt;
      return p;
    case kSslRequestCode:
      p.kind = StartupKind::SslRequest;
      if (!r.atEnd()) return std::nullopt;
      return p;
    case kGssEncRequestCode:
      p.kind = StartupKind::GssEncRequest;
      if (!r.atEnd()) return std::nullopt;
      return p;
    case kCancelRequestCode:
      p.kind = StartupKind::Cancel;
      if (!r.u32(p.cancelPid) || !r.u32(p.cancelSecret) || !r.atEnd()) return std::nullopt;
      return p;
    default:
      // Another protocol version (2.0, 3.x, 4.x...): well-formed enough for the session to answer
      // with a clear error instead of dropping the connection.
      p.kind = StartupKind::Unsupported;
      return p;
  }
}

std::optional<AuthRequest> decodeAuthRequest(std::string_view body) {
  BodyReader r(body);
  std::uint32_t code = 0;
  if (!r.u32(code)) return std::nullopt;
  AuthRequest a;
  a.code = static_cast<AuthCode>(code);
  switch (a.code) {
    case AuthCode::Ok:
    case AuthCode::CleartextPassword:
      if (!r.atEnd()) return std::nullopt;
      return a;
    case AuthCode::Md5Password:
      if (!r.bytes(4, a.data) || !r.atEnd()) return std::nullopt;
      return a;
    case AuthCode::Sasl: {
      a.data = r.rest();
      // Validate the list: names, then an empty one as the very last byte.
      BodyReader list(a.data);
      std::string_view name;
      do {
        if (!list.cstr(name)) return std::nullopt;
      } while (!name.empty());
      if (!list.atEnd()) return std::nullopt;
      return a;
    }
    case AuthCode::SaslContinue:
    case AuthCode::SaslFinal:
      a.data = r.rest();
      return a;
  }
  // A method pgsplit does not implement (GSS, SSPI, ...): reported with its code as sent so the
  // caller can name it.
  a.data = r.rest();
  return a;
}

bool saslOffers(std::string_view mechanismList, std::string_view mechanism) {
  BodyReader r(mechanismList);
  std::string_view name;
  while (r.cstr(name) && !name.empty()) {
    if (name == mechanism) return true;
  }
  return false;
}

std::optional<SaslInitialResponse> decodeSaslInitialResponse(std::string_view body) {
  BodyReader r(body);
  SaslInitialResponse s;
  std::uint32_t len = 0;
  if (!r.cstr(s.mechanism) || !r.u32(len)) return std::nullopt;
  if (len == 0xFFFFFFFFu) {  // -1: no initial data
    if (!r.atEnd()) return std::nullopt;
    return s;
  }
  if (len != r.remaining()) return std::nullopt;
  s.data = r.rest();
  return s;
}

std::optional<ParameterStatus> decodeParameterStatus(std::string_view body) {
  BodyReader r(body);
  ParameterStatus p;
  if (!r.cstr(p.name) || !r.cstr(p.value) || !r.atEnd()) return std::nullopt;
  return p;
}

std::optional<BackendKeyData> decodeBackendKeyData(std::string_view body) {
  BodyReader r(body);
  BackendKeyData k;
  if (!r.u32(k.pid) || !r.u32(k.secret) || !r.atEnd()) return std::nullopt;
  return k;
}

std::optional<ErrorFields> decodeError(std::string_view body) {
  BodyReader r(body);
  ErrorFields e;
  std::string_view localisedSeverity;
  bool haveV = false;
  for (;;) {
    char code = 0;
    if (!r.u8(code)) return std::nullopt;  // the field list must end with a 0 byte
    if (code == '\0') break;
    std::string_view value;
    if (!r.cstr(value)) return std::nullopt;
    switch (code) {
      case 'S':
        localisedSeverity = value;
        break;
      case 'V':
        e.severity = value;
        haveV = true;
        break;
      case 'C':
        e.sqlstate = value;
        break;
      case 'M':
        e.message = value;
        break;
      default:
        break;
    }
  }
  if (!r.atEnd()) return std::nullopt;
  if (!haveV) e.severity = localisedSeverity;
  return e;
}

std::optional<std::string_view> decodeQuery(std::string_view body) {
  BodyReader r(body);
  std::string_view sql;
  if (!r.cstr(sql) || !r.atEnd()) return std::nullopt;
  return sql;
}

std::optional<ParseMessage> decodeParse(std::string_view body) {
  BodyReader r(body);
  ParseMessage p;
  if (!r.cstr(p.statement) || !r.cstr(p.query) || !r.u16(p.paramTypeCount)) return std::nullopt;
  // bytes() checks the count against what remains before anything is taken.
  if (!r.bytes(std::size_t{p.paramTypeCount} * 4, p.paramTypes) || !r.atEnd()) {
    return std::nullopt;
  }
  return p;
}

std::optional<BindHead> decodeBindHead(std::string_view body) {
  BodyReader r(body);
  BindHead b;
  if (!r.cstr(b.portal) || !r.cstr(b.statement)) return std::nullopt;
  return b;
}

std::optional<CloseOrDescribe> decodeCloseOrDescribe(std::string_view body) {
  BodyReader r(body);
  CloseOrDescribe c;
  if (!r.u8(c.kind) || (c.kind != 'S' && c.kind != 'P')) return std::nullopt;
  if (!r.cstr(c.name) || !r.atEnd()) return std::nullopt;
  return c;
}

std::optional<ExecuteMessage> decodeExecute(std::string_view body) {
  BodyReader r(body);
  ExecuteMessage e;
  if (!r.cstr(e.portal) || !r.u32(e.maxRows) || !r.atEnd()) return std::nullopt;
  return e;
}

}  // namespace pgsplit::protocol
