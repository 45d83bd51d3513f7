#include "pgsplit/protocol/messages.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <random>
#include <string>

#include "pgsplit/protocol/frame.hpp"

using namespace std::string_literals;
using namespace std::string_view_literals;
using namespace pgsplit::protocol;

namespace {

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}
std::string be16(std::uint16_t v) {
  return {static_cast<char>(v >> 8), static_cast<char>(v)};
}

// Decoders return views into their input: test bodies built on the fly are kept alive here.
std::string_view keep(std::string body) {
  static std::deque<std::string> bodies;
  return bodies.emplace_back(std::move(body));
}

// True when the view lies inside body (decoders must return views into their input).
bool inside(std::string_view v, std::string_view body) {
  if (v.empty()) return true;
  return v.data() >= body.data() && v.data() + v.size() <= body.data() + body.size();
}

}  // namespace

// ---------------------------------------------------------------- startup

TEST(ProtocolMessages, StartupParameters) {
  const std::string body = be32(kProtocolV3) + "user\0alice\0database\0app\0options\0\0\0"s;
  auto p = decodeStartup(body);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->kind, StartupKind::Startup);
  EXPECT_EQ(p->code, kProtocolV3);
  ASSERT_EQ(p->parameters.size(), 3u);
  EXPECT_EQ(p->parameters[0].first, "user");
  EXPECT_EQ(p->parameters[0].second, "alice");
  EXPECT_EQ(p->parameters[1].first, "database");
  EXPECT_EQ(p->parameters[1].second, "app");
  EXPECT_EQ(p->parameters[2].first, "options");
  EXPECT_EQ(p->parameters[2].second, "");
  for (const auto& [n, v] : p->parameters)
    EXPECT_TRUE(inside(n, body) && inside(v, body));
}

TEST(ProtocolMessages, StartupWithoutUserIsStillWellFormed) {
  // The "user is required" rule belongs to the session, not the codec.
  auto p = decodeStartup(keep(be32(kProtocolV3) + "\0"s));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->kind, StartupKind::Startup);
  EXPECT_TRUE(p->parameters.empty());
}

TEST(ProtocolMessages, StartupMalformed) {
  EXPECT_FALSE(decodeStartup(""));
  EXPECT_FALSE(decodeStartup("\x00\x03\x00"sv));
  EXPECT_FALSE(decodeStartup(be32(kProtocolV3)));                       // no terminator
  EXPECT_FALSE(decodeStartup(be32(kProtocolV3) + "user\0bob\0"s));      // no terminator
  EXPECT_FALSE(decodeStartup(be32(kProtocolV3) + "user\0bob"s));        // value unterminated
  EXPECT_FALSE(decodeStartup(be32(kProtocolV3) + "user\0"s));           // value missing
  EXPECT_FALSE(decodeStartup(be32(kProtocolV3) + "user\0bob\0\0x"s));   // trailing garbage
  EXPECT_FALSE(decodeStartup(be32(kProtocolV3) + "user\0bob\0\0\0"s));  // trailing garbage
}

TEST(ProtocolMessages, StartupRequests) {
  auto ssl = decodeStartup(keep(be32(kSslRequestCode)));
  ASSERT_TRUE(ssl);
  EXPECT_EQ(ssl->kind, StartupKind::SslRequest);
  auto gss = decodeStartup(keep(be32(kGssEncRequestCode)));
  ASSERT_TRUE(gss);
  EXPECT_EQ(gss->kind, StartupKind::GssEncRequest);
  EXPECT_FALSE(decodeStartup(be32(kSslRequestCode) + "x"));
  EXPECT_FALSE(decodeStartup(be32(kGssEncRequestCode) + "\0"s));

  auto cancel = decodeStartup(keep(be32(kCancelRequestCode) + be32(4242) + be32(0xDEADBEEF)));
  ASSERT_TRUE(cancel);
  EXPECT_EQ(cancel->kind, StartupKind::Cancel);
  EXPECT_EQ(cancel->cancelPid, 4242u);
  EXPECT_EQ(cancel->cancelSecret, 0xDEADBEEFu);
  EXPECT_FALSE(decodeStartup(be32(kCancelRequestCode) + be32(1)));
  EXPECT_FALSE(decodeStartup(be32(kCancelRequestCode) + be32(1) + "abc"));
  EXPECT_FALSE(decodeStartup(be32(kCancelRequestCode) + be32(1) + be32(2) + "x"));
}

TEST(ProtocolMessages, StartupUnsupportedVersion) {
  for (std::uint32_t code : {0x00020000u, 0x00030002u, 0x00040000u, 1234u}) {
    auto p = decodeStartup(keep(be32(code) + "user\0x\0\0"s));
    ASSERT_TRUE(p) << code;
    EXPECT_EQ(p->kind, StartupKind::Unsupported);
    EXPECT_EQ(p->code, code);
  }
}

TEST(ProtocolMessages, StartupThroughFramerSplitAtEveryByte) {
  const std::string body = be32(kProtocolV3) + "user\0bob\0application_name\0psql\0\0"s;
  const std::string pkt = be32(static_cast<std::uint32_t>(body.size() + 4)) + body;
  for (std::size_t cut = 0; cut <= pkt.size(); ++cut) {
    std::string buf = pkt.substr(0, cut);
    FrameResult r = readStartupFrame(buf);
    if (cut < pkt.size()) {
      ASSERT_EQ(r.status, FrameStatus::NeedMore);
      buf += pkt.substr(cut);
      r = readStartupFrame(buf);
    }
    ASSERT_EQ(r.status, FrameStatus::Ok);
    auto p = decodeStartup(r.frame.body);
    ASSERT_TRUE(p);
    ASSERT_EQ(p->parameters.size(), 2u);
    EXPECT_EQ(p->parameters[1].second, "psql");
  }
}

// ---------------------------------------------------------------- authentication

TEST(ProtocolMessages, AuthRequests) {
  auto ok = decodeAuthRequest(keep(be32(0)));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->code, AuthCode::Ok);
  EXPECT_TRUE(ok->data.empty());

  auto clear = decodeAuthRequest(keep(be32(3)));
  ASSERT_TRUE(clear);
  EXPECT_EQ(clear->code, AuthCode::CleartextPassword);

  auto md5 = decodeAuthRequest(keep(be32(5) + "\x01\x02\x03\x04"));
  ASSERT_TRUE(md5);
  EXPECT_EQ(md5->code, AuthCode::Md5Password);
  EXPECT_EQ(md5->data, "\x01\x02\x03\x04");

  const std::string saslBody = be32(10) + "SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0"s;
  auto sasl = decodeAuthRequest(saslBody);
  ASSERT_TRUE(sasl);
  EXPECT_EQ(sasl->code, AuthCode::Sasl);
  EXPECT_TRUE(saslOffers(sasl->data, "SCRAM-SHA-256"));
  EXPECT_TRUE(saslOffers(sasl->data, "SCRAM-SHA-256-PLUS"));
  EXPECT_FALSE(saslOffers(sasl->data, "SCRAM-SHA-1"));
  EXPECT_FALSE(saslOffers(sasl->data, ""));

  auto cont = decodeAuthRequest(keep(be32(11) + "r=abc,s=xyz,i=4096"));
  ASSERT_TRUE(cont);
  EXPECT_EQ(cont->code, AuthCode::SaslContinue);
  EXPECT_EQ(cont->data, "r=abc,s=xyz,i=4096");
  auto fin = decodeAuthRequest(keep(be32(12) + "v=abc"));
  ASSERT_TRUE(fin);
  EXPECT_EQ(fin->code, AuthCode::SaslFinal);
  EXPECT_EQ(fin->data, "v=abc");

  // Methods pgsplit does not implement come back with their code, for a clear error.
  auto gss = decodeAuthRequest(keep(be32(7)));
  ASSERT_TRUE(gss);
  EXPECT_EQ(static_cast<std::uint32_t>(gss->code), 7u);
}

TEST(ProtocolMessages, AuthRequestMalformed) {
  EXPECT_FALSE(decodeAuthRequest(""));
  EXPECT_FALSE(decodeAuthRequest("\0\0\0"sv));
  EXPECT_FALSE(decodeAuthRequest(be32(0) + "x"));
  EXPECT_FALSE(decodeAuthRequest(be32(3) + "x"));
  EXPECT_FALSE(decodeAuthRequest(be32(5) + "\x01\x02\x03"));
  EXPECT_FALSE(decodeAuthRequest(be32(5) + "\x01\x02\x03\x04\x05"));
  EXPECT_FALSE(decodeAuthRequest(be32(10)));                          // no list
  EXPECT_FALSE(decodeAuthRequest(be32(10) + "SCRAM-SHA-256"));        // unterminated
  EXPECT_FALSE(decodeAuthRequest(be32(10) + "SCRAM-SHA-256\0"s));     // no empty name
  EXPECT_FALSE(decodeAuthRequest(be32(10) + "SCRAM-SHA-256\0\0x"s));  // trailing garbage
}

TEST(ProtocolMessages, SaslOffersIsBounded) {
  EXPECT_FALSE(saslOffers("", "SCRAM-SHA-256"));
  EXPECT_FALSE(saslOffers("SCRAM-SHA-256", "SCRAM-SHA-256"));        // unterminated: not offered
  EXPECT_FALSE(saslOffers("\0SCRAM-SHA-256\0"sv, "SCRAM-SHA-256"));  // after the end marker
  EXPECT_TRUE(saslOffers("SCRAM-SHA-256\0"sv, "SCRAM-SHA-256"));
}

TEST(ProtocolMessages, SaslInitialResponse) {
  const std::string data = "n,,n=,r=abc";
  const std::string body =
      "SCRAM-SHA-256\0"s + be32(static_cast<std::uint32_t>(data.size())) + data;
  auto s = decodeSaslInitialResponse(body);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->mechanism, "SCRAM-SHA-256");
  EXPECT_EQ(s->data, data);

  auto none = decodeSaslInitialResponse(keep("SCRAM-SHA-256\0"s + be32(0xFFFFFFFFu)));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->data.empty());
  auto empty = decodeSaslInitialResponse(keep("SCRAM-SHA-256\0"s + be32(0)));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->data.empty());

  EXPECT_FALSE(decodeSaslInitialResponse("SCRAM-SHA-256"));
  EXPECT_FALSE(decodeSaslInitialResponse("SCRAM-SHA-256\0\0\0"s));
  EXPECT_FALSE(decodeSaslInitialResponse("M\0"s + be32(5) + "abcd"));  // count > remaining
  EXPECT_FALSE(decodeSaslInitialResponse("M\0"s + be32(3) + "abcd"));  // trailing garbage
  EXPECT_FALSE(decodeSaslInitialResponse("M\0"s + be32(0xFFFFFFFFu) + "x"));
  EXPECT_FALSE(decodeSaslInitialResponse("M\0"s + be32(0x7FFFFFFFu) + "x"));
  EXPECT_FALSE(decodeSaslInitialResponse("M\0"s + be32(0xFFFFFFFEu)));  // -2
}

TEST(ProtocolMessages, ParameterStatusAndKeyData) {
  auto ps =
      decodeParameterStatus(keep("server_version\0"
                                 "16.2\0"s));
  ASSERT_TRUE(ps);
  EXPECT_EQ(ps->name, "server_version");
  EXPECT_EQ(ps->value, "16.2");
  auto emptyValue = decodeParameterStatus(keep("application_name\0\0"s));
  ASSERT_TRUE(emptyValue);
  EXPECT_EQ(emptyValue->value, "");
  EXPECT_FALSE(decodeParameterStatus("a\0b"s));
  EXPECT_FALSE(decodeParameterStatus("a\0b\0c"s));
  EXPECT_FALSE(decodeParameterStatus("a\0b\0\0"s));

  auto k = decodeBackendKeyData(keep(be32(77) + be32(0xFFFFFFFFu)));
  ASSERT_TRUE(k);
  EXPECT_EQ(k->pid, 77u);
  EXPECT_EQ(k->secret, 0xFFFFFFFFu);
  EXPECT_FALSE(decodeBackendKeyData(be32(77)));
  EXPECT_FALSE(decodeBackendKeyData(be32(77) + be32(1) + "x"));
}

// ---------------------------------------------------------------- errors

TEST(ProtocolMessages, ErrorPrefersNonLocalisedSeverity) {
  const std::string body =
      "SFEHLER\0VERROR\0C42P01\0Mrelation \"t\" does not exist\0P15\0Fparse_relation.c\0\0"s;
  auto e = decodeError(body);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->severity, "ERROR");
  EXPECT_EQ(e->sqlstate, "42P01");
  EXPECT_EQ(e->message, "relation \"t\" does not exist");
  // V before S: still V.
  auto e2 = decodeError(keep("VFATAL\0SFATAL-LOCALISED\0\0"s));
  ASSERT_TRUE(e2);
  EXPECT_EQ(e2->severity, "FATAL");
}

TEST(ProtocolMessages, ErrorWithoutV) {
  auto e = decodeError(keep("SNOTICE\0C00000\0Mhello\0\0"s));  // servers before 9.6 send no V
  ASSERT_TRUE(e);
  EXPECT_EQ(e->severity, "NOTICE");
  auto bare = decodeError(keep("\0"s));
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->severity, "");
  EXPECT_EQ(bare->message, "");
}

TEST(ProtocolMessages, ErrorMalformed) {
  EXPECT_FALSE(decodeError(""));
  EXPECT_FALSE(decodeError("SERROR\0"s));      // no final 0
  EXPECT_FALSE(decodeError("SERROR"s));        // unterminated value
  EXPECT_FALSE(decodeError("S"s));             // code without value
  EXPECT_FALSE(decodeError("SERROR\0\0x"s));   // trailing garbage
  EXPECT_FALSE(decodeError("SERROR\0\0\0"s));  // trailing garbage
}

// ---------------------------------------------------------------- extended protocol

TEST(ProtocolMessages, Query) {
  auto q = decodeQuery(keep("select 1;\0"s));
  ASSERT_TRUE(q);
  EXPECT_EQ(*q, "select 1;");
  auto empty = decodeQuery(keep("\0"s));
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, "");
  EXPECT_FALSE(decodeQuery(""));
  EXPECT_FALSE(decodeQuery("select 1"));
  EXPECT_FALSE(decodeQuery("select 1\0; drop table t\0"s));  // embedded NUL
}

TEST(ProtocolMessages, Parse) {
  const std::string body = "s1\0select $1, $2\0"s + be16(2) + be32(23) + be32(25);
  auto p = decodeParse(body);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->statement, "s1");
  EXPECT_EQ(p->query, "select $1, $2");
  EXPECT_EQ(p->paramTypeCount, 2u);
  EXPECT_EQ(p->paramTypes, be32(23) + be32(25));
  auto unnamed = decodeParse(keep("\0select 1\0"s + be16(0)));
  ASSERT_TRUE(unnamed);
  EXPECT_EQ(unnamed->statement, "");
  EXPECT_TRUE(unnamed->paramTypes.empty());

  EXPECT_FALSE(decodeParse("s1\0select\0"s));                        // no count
  EXPECT_FALSE(decodeParse("s1\0select\0\0"s));                      // half a count
  EXPECT_FALSE(decodeParse("s1\0select\0"s + be16(1) + "\0\0\0"s));  // count > remaining
  EXPECT_FALSE(decodeParse("s1\0select\0"s + be16(0xFFFF)));         // huge count, no data
  EXPECT_FALSE(decodeParse("s1\0select\0"s + be16(0) + "x"));        // trailing garbage
  EXPECT_FALSE(decodeParse("s1\0select"s));
}

TEST(ProtocolMessages, BindHead) {
  const std::string body = "portal\0stmt\0"s + be16(0) + be16(1) + be32(1) + "7" + be16(0);
  auto b = decodeBindHead(body);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->portal, "portal");
  EXPECT_EQ(b->statement, "stmt");
  auto unnamed = decodeBindHead(keep("\0\0"s));
  ASSERT_TRUE(unnamed);
  EXPECT_EQ(unnamed->portal, "");
  EXPECT_EQ(unnamed->statement, "");
  EXPECT_FALSE(decodeBindHead(""));
  EXPECT_FALSE(decodeBindHead("portal\0stmt"s));
}

TEST(ProtocolMessages, CloseDescribeExecute) {
  auto c = decodeCloseOrDescribe(keep("Sstmt\0"s));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, 'S');
  EXPECT_EQ(c->name, "stmt");
  auto d = decodeCloseOrDescribe(keep("P\0"s));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, 'P');
  EXPECT_EQ(d->name, "");
  EXPECT_FALSE(decodeCloseOrDescribe(""));
  EXPECT_FALSE(decodeCloseOrDescribe("X\0"s));
  EXPECT_FALSE(decodeCloseOrDescribe("S"));
  EXPECT_FALSE(decodeCloseOrDescribe("Sa\0b"s));

  auto e = decodeExecute(keep("\0"s + be32(0)));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->portal, "");
  EXPECT_EQ(e->maxRows, 0u);
  auto e2 = decodeExecute(keep("p1\0"s + be32(100)));
  ASSERT_TRUE(e2);
  EXPECT_EQ(e2->portal, "p1");
  EXPECT_EQ(e2->maxRows, 100u);
  EXPECT_FALSE(decodeExecute("p1\0"s + be16(1)));
  EXPECT_FALSE(decodeExecute("p1\0"s + be32(1) + "x"));
}

// ---------------------------------------------------------------- table-driven byte tests

namespace {

struct DecoderCase {
  const char* name;
  std::string body;                               // a valid body
  std::function<bool(std::string_view)> decodes;  // true when the decoder accepts
  bool prefixesValid = false;                     // true when a cut body is still well-formed
};

std::vector<DecoderCase> decoderCases() {
  auto ok = [](auto f) { return [f](std::string_view b) { return f(b).has_value(); }; };
  return {
      {"Startup", be32(kProtocolV3) + "user\0u\0database\0d\0\0"s, ok(decodeStartup)},
      {"Cancel", be32(kCancelRequestCode) + be32(1) + be32(2), ok(decodeStartup)},
      {"AuthMd5", be32(5) + "salt", ok(decodeAuthRequest)},
      {"AuthSasl", be32(10) + "SCRAM-SHA-256\0\0"s, ok(decodeAuthRequest)},
      {"SaslInitial", "SCRAM-SHA-256\0"s + be32(3) + "abc", ok(decodeSaslInitialResponse)},
      {"ParameterStatus", "TimeZone\0UTC\0"s, ok(decodeParameterStatus)},
      {"BackendKeyData", be32(1) + be32(2), ok(decodeBackendKeyData)},
      {"Error", "SERROR\0VERROR\0C08P01\0Mbad\0\0"s, ok(decodeError)},
      {"Query", "select 1\0"s, ok(decodeQuery)},
      {"Parse", "s\0select $1\0"s + be16(1) + be32(23), ok(decodeParse)},
      {"CloseOrDescribe", "Sname\0"s, ok(decodeCloseOrDescribe)},
      {"Execute", "p\0"s + be32(5), ok(decodeExecute)},
  };
}

class DecoderBytes : public ::testing::TestWithParam<DecoderCase> {};

}  // namespace

TEST_P(DecoderBytes, WholeBodyDecodes) {
  EXPECT_TRUE(GetParam().decodes(GetParam().body));
}

TEST_P(DecoderBytes, EveryProperPrefixIsMalformed) {
  const auto& c = GetParam();
  for (std::size_t k = 0; k < c.body.size(); ++k) {
    // A fresh copy so that ASan sees any read past the cut.
    const std::string cut = c.body.substr(0, k);
    EXPECT_FALSE(c.decodes(cut)) << c.name << " cut at " << k;
  }
}

TEST_P(DecoderBytes, TrailingByteIsMalformed) {
  const auto& c = GetParam();
  EXPECT_FALSE(c.decodes(c.body + "x")) << c.name;
  EXPECT_FALSE(c.decodes(c.body + "\0"s)) << c.name;
}

TEST_P(DecoderBytes, ThroughFramerSplitAtEveryByteAndTwoInOneBuffer) {
  const auto& c = GetParam();
  const std::string one = "x"s + be32(static_cast<std::uint32_t>(c.body.size() + 4)) + c.body;
  const std::string two = one + one;
  for (std::size_t cut = 0; cut <= two.size(); ++cut) {
    // What a reader holds after the first read, then after the rest arrives.
    std::string buf = two.substr(0, cut);
    std::size_t decoded = 0;
    for (int round = 0; round < 2; ++round) {
      std::string_view rest = buf;
      rest.remove_prefix(decoded * one.size());
      for (;;) {
        FrameResult r = readFrame(rest, 1 << 20);
        if (r.status != FrameStatus::Ok) {
          ASSERT_EQ(r.status, FrameStatus::NeedMore) << c.name << " cut " << cut;
          break;
        }
        ASSERT_EQ(r.frame.size, one.size());
        EXPECT_TRUE(c.decodes(r.frame.body)) << c.name << " cut " << cut;
        rest.remove_prefix(r.frame.size);
        ++decoded;
      }
      buf = two;
    }
    EXPECT_EQ(decoded, 2u) << c.name << " cut " << cut;
  }
}

TEST_P(DecoderBytes, MutationsNeverCrash) {
  const auto& c = GetParam();
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string b = c.body;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !b.empty(); ++e) {
      b[rng() % b.size()] = static_cast<char>(rng() % 4 == 0 ? 0 : rng());
    }
    (void)c.decodes(b);
  }
}

INSTANTIATE_TEST_SUITE_P(Protocol, DecoderBytes, ::testing::ValuesIn(decoderCases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ProtocolMessages, DecodersInsideFrames) {
  // Two messages in one buffer, framed and decoded; the views point into the buffer.
  const std::string a = "server_version\0"
                        "16.2\0"s,
                    b = "SERROR\0C57P01\0Mbye\0\0"s;
  const std::string buf = "S"s + be32(static_cast<std::uint32_t>(a.size() + 4)) + a + "E" +
                          be32(static_cast<std::uint32_t>(b.size() + 4)) + b;
  FrameResult r1 = readFrame(buf, 1 << 20);
  ASSERT_EQ(r1.status, FrameStatus::Ok);
  auto ps = decodeParameterStatus(r1.frame.body);
  ASSERT_TRUE(ps);
  EXPECT_TRUE(inside(ps->value, buf));
  FrameResult r2 = readFrame(std::string_view(buf).substr(r1.frame.size), 1 << 20);
  ASSERT_EQ(r2.status, FrameStatus::Ok);
  auto e = decodeError(r2.frame.body);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->sqlstate, "57P01");
}

TEST(ProtocolMessages, RandomBytesNeverCrash) {
  std::mt19937 rng(12345);
  const std::string alphabet = "\0\0\0\x01\x04SVCMPpaX\xff"s;
  for (int i = 0; i < 4000; ++i) {
    std::string b(rng() % 48, '\0');
    for (char& c : b) {
      c = i % 2 ? static_cast<char>(rng()) : alphabet[rng() % alphabet.size()];
    }
    if (auto p = decodeStartup(b)) {
      for (const auto& [n, v] : p->parameters)
        ASSERT_TRUE(inside(n, b) && inside(v, b));
    }
    if (auto a = decodeAuthRequest(b)) {
      ASSERT_TRUE(inside(a->data, b));
      (void)saslOffers(a->data, "SCRAM-SHA-256");
    }
    (void)saslOffers(b, "S");
    if (auto s = decodeSaslInitialResponse(b)) {
      ASSERT_TRUE(inside(s->data, b));
    }
    (void)decodeParameterStatus(b);
    (void)decodeBackendKeyData(b);
    if (auto e = decodeError(b)) {
      ASSERT_TRUE(inside(e->message, b));
    }
    (void)decodeQuery(b);
    if (auto p = decodeParse(b)) {
      ASSERT_EQ(p->paramTypes.size(), p->paramTypeCount * 4u);
    }
    (void)decodeBindHead(b);
    (void)decodeCloseOrDescribe(b);
    (void)decodeExecute(b);
  }
}
