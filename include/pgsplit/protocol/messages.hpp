#pragma once
// Typed views of the messages pgsplit must understand. Decoders take a message body (as cut by
// readFrame/readStartupFrame) and never throw; they return std::nullopt when the body is malformed.
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace pgsplit::protocol {

// Protocol codes carried by startup-phase packets.
inline constexpr std::uint32_t kProtocolV3 = 196608;  // 3.0
inline constexpr std::uint32_t kSslRequestCode = 80877103;
inline constexpr std::uint32_t kGssEncRequestCode = 80877104;
inline constexpr std::uint32_t kCancelRequestCode = 80877102;

// Client -> server message types.
namespace client {
inline constexpr char Query = 'Q', Parse = 'P', Bind = 'B', Describe = 'D', Execute = 'E',
                      Close = 'C', Flush = 'H', Sync = 'S', Terminate = 'X', CopyData = 'd',
                      CopyDone = 'c', CopyFail = 'f', Password = 'p', FunctionCall = 'F';
}
// Server -> client message types.
namespace server {
inline constexpr char Authentication = 'R', BackendKeyData = 'K', ParameterStatus = 'S',
                      ReadyForQuery = 'Z', ErrorResponse = 'E', NoticeResponse = 'N',
                      CommandComplete = 'C', RowDescription = 'T', DataRow = 'D',
                      EmptyQueryResponse = 'I', ParseComplete = '1', BindComplete = '2',
                      CloseComplete = '3', NoData = 'n', ParameterDescription = 't',
                      PortalSuspended = 's', CopyInResponse = 'G', CopyOutResponse = 'H',
                      CopyBothResponse = 'W', CopyData = 'd', CopyDone = 'c',
                      NotificationResponse = 'A', NegotiateProtocolVersion = 'v',
                      FunctionCallResponse = 'V';
}

// Authentication request subcodes (the int32 that starts an 'R' body).
enum class AuthCode : std::uint32_t {
  Ok = 0,
  CleartextPassword = 3,
  Md5Password = 5,
  Sasl = 10,
  SaslContinue = 11,
  SaslFinal = 12,
};

// --- startup phase (untyped packets) ---
enum class StartupKind : std::uint8_t { Startup, SslRequest, GssEncRequest, Cancel, Unsupported };

struct StartupPacket {
  StartupKind kind = StartupKind::Unsupported;
  std::uint32_t code = 0;  // the protocol code as sent
  // Startup: name/value pairs in order (views into the body).
  std::vector<std::pair<std::string_view, std::string_view>> parameters;
  // Cancel: the key the client presents.
  std::uint32_t cancelPid = 0;
  std::uint32_t cancelSecret = 0;
};
// body: the packet body after the length word (protocol code first).
std::optional<StartupPacket> decodeStartup(std::string_view body);

// --- messages pgsplit decodes ---
struct AuthRequest {
  AuthCode code = AuthCode::Ok;
  std::string_view data;  // md5 salt (4 bytes), SASL mechanism list, or SASL data
};
std::optional<AuthRequest> decodeAuthRequest(std::string_view body);
// A SASL mechanism list: NUL-terminated names, ending with an empty one.
bool saslOffers(std::string_view mechanismList, std::string_view mechanism);

struct SaslInitialResponse {
  std::string_view mechanism;
  std::string_view data;  // empty when the client sent length -1
};
std::optional<SaslInitialResponse> decodeSaslInitialResponse(std::string_view body);

struct ParameterStatus {
  std::string_view name;
  std::string_view value;
};
std::optional<ParameterStatus> decodeParameterStatus(std::string_view body);

struct BackendKeyData {
  std::uint32_t pid = 0;
  std::uint32_t secret = 0;
};
std::optional<BackendKeyData> decodeBackendKeyData(std::string_view body);

// ErrorResponse / NoticeResponse: the fields pgsplit looks at.
struct ErrorFields {
  std::string_view severity;  // 'V' (non-localised) if present, else 'S'
  std::string_view sqlstate;  // 'C'
  std::string_view message;   // 'M'
};
std::optional<ErrorFields> decodeError(std::string_view body);

// Query: the statement text (without its terminating NUL).
std::optional<std::string_view> decodeQuery(std::string_view body);

struct ParseMessage {
  std::string_view statement;  // "" = unnamed
  std::string_view query;
  std::uint16_t paramTypeCount = 0;
  std::string_view paramTypes;  // paramTypeCount * 4 bytes, raw
};
std::optional<ParseMessage> decodeParse(std::string_view body);

struct BindHead {
  std::string_view portal;
  std::string_view statement;
};
// Only the names at the head of a Bind; the rest is forwarded as is.
std::optional<BindHead> decodeBindHead(std::string_view body);

struct CloseOrDescribe {
  char kind = 0;  // 'S' statement or 'P' portal
  std::string_view name;
};
std::optional<CloseOrDescribe> decodeCloseOrDescribe(std::string_view body);

struct ExecuteMessage {
  std::string_view portal;
  std::uint32_t maxRows = 0;
};
std::optional<ExecuteMessage> decodeExecute(std::string_view body);

}  // namespace pgsplit::protocol
