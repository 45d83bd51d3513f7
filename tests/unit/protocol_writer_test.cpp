#include "pgsplit/protocol/writer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "pgsplit/protocol/frame.hpp"
#include "pgsplit/protocol/messages.hpp"

using namespace std::string_literals;
using namespace pgsplit::protocol;

namespace {

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// Frames exactly one typed message that fills the whole buffer.
Frame onlyFrame(const std::string& buf) {
  FrameResult r = readFrame(buf, 1 << 20);
  EXPECT_EQ(r.status, FrameStatus::Ok);
  EXPECT_EQ(r.frame.size, buf.size());
  return r.frame;
}

}  // namespace

TEST(ProtocolWriter, BeginEndPatchesLength) {
  std::string out;
  MessageWriter w(out);
  w.begin('X').end();
  EXPECT_EQ(out, "X\0\0\0\x04"s);
}

TEST(ProtocolWriter, Scalars) {
  std::string out;
  MessageWriter(out).begin('t').u8(0xAB).i16(-2).i32(-1).u32(0x01020304).end();
  EXPECT_EQ(out, "t"s + be32(4 + 1 + 2 + 4 + 4) + "\xAB\xFF\xFE\xFF\xFF\xFF\xFF\x01\x02\x03\x04"s);
}

TEST(ProtocolWriter, AppendsToExistingContent) {
  std::string out = "prefix";
  MessageWriter w(out);
  w.begin('Q').cstr("select 1").end();
  w.begin('S').end();
  EXPECT_EQ(out,
            "prefix"
            "Q"s +
                be32(13) + "select 1\0"s + "S"s + be32(4));
}

TEST(ProtocolWriter, UntypedPacket) {
  std::string out;
  MessageWriter(out).begin(0).u32(1234).raw("ab").end();
  EXPECT_EQ(out, be32(10) + be32(1234) + "ab");
}

TEST(ProtocolWriter, CstrStopsAtEmbeddedNul) {
  std::string out;
  MessageWriter(out).begin('Q').cstr("select 1\0; drop table t"s).end();
  EXPECT_EQ(out, "Q"s + be32(13) + "select 1\0"s);
}

TEST(ProtocolWriter, ErrorResponseFields) {
  std::string out;
  writeError(out, {"FATAL", "28P01", "password authentication failed", "", ""});
  EXPECT_EQ(out, "E"s + be32(4 + 7 + 7 + 7 + 32 + 1) +
                     "SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed\0\0"s);
  auto e = decodeError(onlyFrame(out).body);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->severity, "FATAL");
  EXPECT_EQ(e->sqlstate, "28P01");
  EXPECT_EQ(e->message, "password authentication failed");
}

TEST(ProtocolWriter, ErrorResponseDetailAndHint) {
  std::string out;
  ErrorSpec spec;
  spec.sqlstate = "53300";
  spec.message = "too many connections";
  spec.detail = "limit 10";
  spec.hint = "raise it";
  writeError(out, spec);
  const std::string body =
      "SERROR\0VERROR\0C53300\0Mtoo many connections\0Dlimit 10\0Hraise it\0\0"s;
  EXPECT_EQ(out, "E"s + be32(static_cast<std::uint32_t>(body.size() + 4)) + body);

  std::string notice;
  spec.severity = "WARNING";
  spec.hint = "";
  writeNotice(notice, spec);
  Frame f = onlyFrame(notice);
  EXPECT_EQ(f.type, 'N');
  EXPECT_EQ(f.body, "SWARNING\0VWARNING\0C53300\0Mtoo many connections\0Dlimit 10\0\0"s);
}

TEST(ProtocolWriter, ServerMessages) {
  std::string out;
  writeReadyForQuery(out, 'T');
  EXPECT_EQ(out, "Z"s + be32(5) + "T");

  out.clear();
  writeParameterStatus(out, "client_encoding", "UTF8");
  auto ps = decodeParameterStatus(onlyFrame(out).body);
  ASSERT_TRUE(ps);
  EXPECT_EQ(ps->name, "client_encoding");
  EXPECT_EQ(ps->value, "UTF8");

  out.clear();
  writeBackendKeyData(out, 0x01020304, 0xA0B0C0D0);
  EXPECT_EQ(out, "K"s + be32(12) + be32(0x01020304) + be32(0xA0B0C0D0));
  auto k = decodeBackendKeyData(onlyFrame(out).body);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->secret, 0xA0B0C0D0u);
}

TEST(ProtocolWriter, AuthenticationMessages) {
  std::string out;
  writeAuthOk(out);
  EXPECT_EQ(out, "R"s + be32(8) + be32(0));
  out.clear();
  writeAuthCleartextRequest(out);
  EXPECT_EQ(out, "R"s + be32(8) + be32(3));
  out.clear();
  const std::uint8_t salt[4] = {0x00, 0xFF, 0x10, 0x7F};
  writeAuthMd5Request(out, salt);
  EXPECT_EQ(out, "R"s + be32(12) + be32(5) + "\x00\xFF\x10\x7F"s);
  out.clear();
  writeAuthSasl(out, "SCRAM-SHA-256");
  EXPECT_EQ(out, "R"s + be32(23) + be32(10) + "SCRAM-SHA-256\0\0"s);
  auto sasl = decodeAuthRequest(onlyFrame(out).body);
  ASSERT_TRUE(sasl);
  EXPECT_TRUE(saslOffers(sasl->data, "SCRAM-SHA-256"));
  out.clear();
  writeAuthSaslContinue(out, "r=x,s=y,i=1");
  EXPECT_EQ(out, "R"s + be32(19) + be32(11) + "r=x,s=y,i=1");
  out.clear();
  writeAuthSaslFinal(out, "v=abc");
  EXPECT_EQ(out, "R"s + be32(13) + be32(12) + "v=abc");
}

TEST(ProtocolWriter, Startup) {
  std::string out;
  writeStartup(out, {{"user", "bob"}, {"database", "app"}});
  const std::string body = be32(196608) + "user\0bob\0database\0app\0\0"s;
  EXPECT_EQ(out, be32(static_cast<std::uint32_t>(body.size() + 4)) + body);
  FrameResult r = readStartupFrame(out);
  ASSERT_EQ(r.status, FrameStatus::Ok);
  auto p = decodeStartup(r.frame.body);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->parameters.size(), 2u);
  EXPECT_EQ(p->parameters[1].second, "app");

  out.clear();
  writeStartup(out, {});
  EXPECT_EQ(out, be32(9) + be32(196608) + "\0"s);
}

TEST(ProtocolWriter, CancelRequest) {
  std::string out;
  writeCancelRequest(out, 99, 0xCAFEBABE);
  EXPECT_EQ(out, be32(16) + be32(80877102) + be32(99) + be32(0xCAFEBABE));
  FrameResult r = readStartupFrame(out);
  ASSERT_EQ(r.status, FrameStatus::Ok);
  auto p = decodeStartup(r.frame.body);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->kind, StartupKind::Cancel);
  EXPECT_EQ(p->cancelPid, 99u);
  EXPECT_EQ(p->cancelSecret, 0xCAFEBABEu);
}

TEST(ProtocolWriter, ClientMessages) {
  std::string out;
  writePassword(out, "secret");
  EXPECT_EQ(out, "p"s + be32(11) + "secret\0"s);

  out.clear();
  writeSaslInitialResponse(out, "SCRAM-SHA-256", "n,,n=,r=abc");
  EXPECT_EQ(out, "p"s + be32(4 + 14 + 4 + 11) + "SCRAM-SHA-256\0"s + be32(11) + "n,,n=,r=abc");
  auto s = decodeSaslInitialResponse(onlyFrame(out).body);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->mechanism, "SCRAM-SHA-256");
  EXPECT_EQ(s->data, "n,,n=,r=abc");

  out.clear();
  writeSaslResponse(out, "c=biws,r=abc,p=xyz");
  EXPECT_EQ(out, "p"s + be32(22) + "c=biws,r=abc,p=xyz");

  out.clear();
  writeQuery(out, "SET search_path = app");
  auto q = decodeQuery(onlyFrame(out).body);
  ASSERT_TRUE(q);
  EXPECT_EQ(*q, "SET search_path = app");

  out.clear();
  writeSync(out);
  writeTerminate(out);
  EXPECT_EQ(out, "S"s + be32(4) + "X"s + be32(4));
}

TEST(ProtocolWriter, ManyMessagesFrameBack) {
  // A server greeting as the session would send it, framed back message by message.
  std::string out;
  writeAuthOk(out);
  writeParameterStatus(out, "server_version", "16.0");
  writeParameterStatus(out, "TimeZone", "UTC");
  writeBackendKeyData(out, 1, 2);
  writeReadyForQuery(out, 'I');
  std::string types;
  std::string_view rest = out;
  while (!rest.empty()) {
    FrameResult r = readFrame(rest, 1 << 20);
    ASSERT_EQ(r.status, FrameStatus::Ok);
    types += r.frame.type;
    rest.remove_prefix(r.frame.size);
  }
  EXPECT_EQ(types, "RSSKZ");
}
