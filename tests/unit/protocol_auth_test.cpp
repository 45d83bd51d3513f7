#include "pgsplit/protocol/auth.hpp"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

using namespace pgsplit::protocol;

namespace {

// RFC 7677, section 3.
constexpr std::string_view kRfcClientNonce = "rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view kRfcServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view kRfcSaltB64 = "W22ZaJ0SNY7soEsUEjb6gQ==";
constexpr std::string_view kRfcClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view kRfcServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view kRfcClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view kRfcServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

ScramVerifier rfcVerifier() {
  return makeScramVerifier("pencil", *base64Decode(kRfcSaltB64));
}

std::string hex(const std::array<std::uint8_t, 32>& k) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (auto b : k) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// md5 hex computed straight with OpenSSL, for an independent check of md5PasswordResponse.
std::string md5HexDirect(const std::string& s) {
  unsigned char d[16];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), d, &len, EVP_md5(), nullptr);
  char buf[33];
  for (int i = 0; i < 16; ++i)
    snprintf(buf + 2 * i, 3, "%02x", d[i]);
  return std::string(buf, 32);
}

// A SCRAM-SHA-256 client proof computed straight with OpenSSL (independent of auth.cpp).
std::string proofFor(const std::string& password, const std::string& salt, int iterations,
                     const std::string& authMessage) {
  unsigned char salted[32], clientKey[32], storedKey[32], signature[32], proof[32];
  unsigned int len = 0;
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(), 32, salted);
  HMAC(EVP_sha256(), salted, 32, reinterpret_cast<const unsigned char*>("Client Key"), 10,
       clientKey, &len);
  EVP_Digest(clientKey, 32, storedKey, &len, EVP_sha256(), nullptr);
  HMAC(EVP_sha256(), storedKey, 32, reinterpret_cast<const unsigned char*>(authMessage.data()),
       authMessage.size(), signature, &len);
  for (int i = 0; i < 32; ++i)
    proof[i] = clientKey[i] ^ signature[i];
  return base64Encode(std::string_view(reinterpret_cast<const char*>(proof), 32));
}

// Runs a whole exchange; returns true when the server accepted and the client verified it.
bool exchange(const std::string& clientPassword, const ScramVerifier& v) {
  ScramClient c(clientPassword);
  ScramServer s(v);
  auto serverFirst = s.handleClientFirst(c.clientFirst());
  if (!serverFirst) return false;
  auto clientFinal = c.handleServerFirst(*serverFirst);
  if (!clientFinal) return false;
  auto serverFinal = s.handleClientFinal(*clientFinal);
  return serverFinal && c.verifyServerFinal(*serverFinal);
}

}  // namespace

// ---------------------------------------------------------------- base64

TEST(ProtocolAuth, Base64Rfc4648Vectors) {
  const std::pair<std::string_view, std::string_view> vectors[] = {{"", ""},
                                                                   {"f", "Zg=="},
                                                                   {"fo", "Zm8="},
                                                                   {"foo", "Zm9v"},
                                                                   {"foob", "Zm9vYg=="},
                                                                   {"fooba", "Zm9vYmE="},
                                                                   {"foobar", "Zm9vYmFy"}};
  for (const auto& [raw, text] : vectors) {
    EXPECT_EQ(base64Encode(raw), text);
    auto back = base64Decode(text);
    ASSERT_TRUE(back) << text;
    EXPECT_EQ(*back, raw);
  }
  EXPECT_EQ(base64Encode("n,,"), "biws");
  EXPECT_EQ(base64Encode("y,,"), "eSws");
}

TEST(ProtocolAuth, Base64RejectsInvalid) {
  for (std::string_view bad : {"Zg=", "Zg", "Z", "Z===", "====", "=Zm9", "Zg=a", "Zm9v!A==",
                               "Zm 9v", " Zm9v", "Zm9v\n", "Zg==Zg==", "Zm9-", "Zm9_", "Zm\0v"}) {
    EXPECT_FALSE(base64Decode(bad)) << bad;
  }
}

TEST(ProtocolAuth, Base64BinaryRoundTrip) {
  std::mt19937 rng(99);
  for (std::size_t n : {0u, 1u, 2u, 3u, 31u, 32u, 33u, 3071u, 3072u, 3073u, 4096u, 10000u}) {
    std::string raw(n, '\0');
    for (char& c : raw)
      c = static_cast<char>(rng());
    const std::string text = base64Encode(raw);
    EXPECT_EQ(text.size(), (n + 2) / 3 * 4);
    auto back = base64Decode(text);
    ASSERT_TRUE(back) << n;
    EXPECT_EQ(*back, raw) << n;
  }
}

// ---------------------------------------------------------------- md5

TEST(ProtocolAuth, Md5KnownValue) {
  const std::uint8_t salt[4] = {0x01, 0x02, 0x03, 0x04};
  // python3 -c 'import hashlib; i=hashlib.md5(b"postgrespostgres").hexdigest();
  //             print("md5"+hashlib.md5(i.encode()+bytes([1,2,3,4])).hexdigest())'
  EXPECT_EQ(md5PasswordResponse("postgres", "postgres", salt),
            "md568be9ed08db75f318087ab337aaea044");
}

TEST(ProtocolAuth, Md5FromFirstPrinciples) {
  const std::uint8_t salt[4] = {0xDE, 0xAD, 0x00, 0xEF};
  const std::string user = "app_user", password = "s3cr3t pass";
  const std::string inner = md5HexDirect(password + user);
  const std::string expected =
      "md5" + md5HexDirect(inner + std::string(reinterpret_cast<const char*>(salt), 4));
  const std::string got = md5PasswordResponse(user, password, salt);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(got.size(), 35u);
  const std::uint8_t other[4] = {0xDE, 0xAD, 0x00, 0xEE};
  EXPECT_NE(md5PasswordResponse(user, password, other), got);
}

// ---------------------------------------------------------------- SCRAM: RFC 7677 vector

TEST(ProtocolAuth, ScramVerifierMatchesRfcKeys) {
  // StoredKey/ServerKey of the RFC example, computed with python3 hashlib.pbkdf2_hmac + hmac.
  ScramVerifier v = rfcVerifier();
  EXPECT_EQ(v.iterations, 4096u);
  EXPECT_EQ(base64Encode(v.salt), kRfcSaltB64);
  EXPECT_EQ(hex(v.storedKey), "586e5df283e6dceb5c3e791d8b8528ec191e664045ce971792e2e6b5bb13e2a6");
  EXPECT_EQ(hex(v.serverKey), "c1f3cbc1c13a9d35a14c0990eed97629ea225863e566a4314ab99f3f00e5d9d5");
}

TEST(ProtocolAuth, ScramClientReproducesRfc7677) {
  ScramClient c("pencil", "user", std::string(kRfcClientNonce));
  EXPECT_EQ(c.clientFirst(), kRfcClientFirst);
  auto clientFinal = c.handleServerFirst(kRfcServerFirst);
  ASSERT_TRUE(clientFinal);
  EXPECT_EQ(*clientFinal, kRfcClientFinal);
  EXPECT_TRUE(c.verifyServerFinal(kRfcServerFinal));
  EXPECT_FALSE(c.verifyServerFinal("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
  EXPECT_FALSE(c.verifyServerFinal("e=invalid-proof"));
}

TEST(ProtocolAuth, ScramClientDerivesKeysOncePerPasswordAndSalt) {
  // The same server salt again: the keys come from the cache, and the proof is still RFC 7677's.
  {
    ScramClient first("pencil", "user", std::string(kRfcClientNonce));
    first.clientFirst();
    ASSERT_TRUE(first.handleServerFirst(kRfcServerFirst));
  }
  const std::uint64_t hits = scramKeyCacheHits();
  ScramClient again("pencil", "user", std::string(kRfcClientNonce));
  EXPECT_EQ(again.clientFirst(), kRfcClientFirst);
  auto clientFinal = again.handleServerFirst(kRfcServerFirst);
  ASSERT_TRUE(clientFinal);
  EXPECT_EQ(*clientFinal, kRfcClientFinal);
  EXPECT_TRUE(again.verifyServerFinal(kRfcServerFinal));
  EXPECT_EQ(scramKeyCacheHits(), hits + 1);
  // Another password with the same salt is not served from the cache: its proof differs.
  ScramClient wrong("pen", "user", std::string(kRfcClientNonce));
  wrong.clientFirst();
  auto wrongFinal = wrong.handleServerFirst(kRfcServerFirst);
  ASSERT_TRUE(wrongFinal);
  EXPECT_NE(*wrongFinal, kRfcClientFinal);
  EXPECT_FALSE(wrong.verifyServerFinal(kRfcServerFinal));
}

TEST(ProtocolAuth, ScramServerReproducesRfc7677) {
  const ScramVerifier v = rfcVerifier();
  ScramServer s(v, std::string(kRfcServerNonce));
  auto serverFirst = s.handleClientFirst(kRfcClientFirst);
  ASSERT_TRUE(serverFirst);
  EXPECT_EQ(*serverFirst, kRfcServerFirst);
  auto serverFinal = s.handleClientFinal(kRfcClientFinal);
  ASSERT_TRUE(serverFinal);
  EXPECT_EQ(*serverFinal, kRfcServerFinal);
}

// ---------------------------------------------------------------- SCRAM: round trips

TEST(ProtocolAuth, ScramRoundTripRandomNonces) {
  const ScramVerifier v = makeScramVerifier("correct horse");
  EXPECT_EQ(v.salt.size(), 16u);
  EXPECT_TRUE(exchange("correct horse", v));
  EXPECT_TRUE(exchange("correct horse", v));  // the verifier is reused across logins
}

TEST(ProtocolAuth, ScramClientProofMatchesIndependentComputation) {
  ScramClient c("s3cret");
  const std::string first = c.clientFirst();
  const std::string serverFirst =
      first.substr(first.find("r=")) + "SERVERPART,s=" + base64Encode("0123456789abcdef") + ",i=64";
  auto final = c.handleServerFirst(serverFirst);
  ASSERT_TRUE(final);
  const std::size_t p = final->find(",p=");
  ASSERT_NE(p, std::string::npos);
  const std::string withoutProof = final->substr(0, p);
  EXPECT_EQ(withoutProof, "c=biws," + serverFirst.substr(0, serverFirst.find(',')));
  EXPECT_EQ(final->substr(p + 3),
            proofFor("s3cret", "0123456789abcdef", 64,
                     first.substr(3) + "," + serverFirst + "," + withoutProof));
}

TEST(ProtocolAuth, ScramClientFirstShape) {
  ScramClient a("pw"), b("pw");
  const std::string fa = a.clientFirst(), fb = b.clientFirst();
  ASSERT_EQ(fa.rfind("n,,n=,r=", 0), 0u) << fa;
  EXPECT_EQ(fa.size(), 8u + 24u);  // 18 random bytes, base64
  EXPECT_NE(fa, fb);
}

TEST(ProtocolAuth, ScramServerNonceIsRandomAndExtendsClientNonce) {
  const ScramVerifier v = makeScramVerifier("pw", "saltsalt", 4096);
  ScramServer s1(v), s2(v);
  auto f1 = s1.handleClientFirst("n,,n=,r=clientnonce");
  auto f2 = s2.handleClientFirst("n,,n=,r=clientnonce");
  ASSERT_TRUE(f1 && f2);
  EXPECT_EQ(f1->rfind("r=clientnonce", 0), 0u);
  EXPECT_NE(*f1, *f2);
  EXPECT_EQ(f1->size(), std::string("r=clientnonce,s=c2FsdHNhbHQ=,i=4096").size() + 24);
}

TEST(ProtocolAuth, ScramWrongPasswordRejected) {
  const ScramVerifier v = makeScramVerifier("right", "0123456789abcdef", 1024);
  EXPECT_TRUE(exchange("right", v));
  EXPECT_FALSE(exchange("wrong", v));
  EXPECT_FALSE(exchange("", v));
  EXPECT_FALSE(exchange("right ", v));
}

TEST(ProtocolAuth, ScramEmptyPassword) {
  const ScramVerifier v = makeScramVerifier("", "0123456789abcdef", 16);
  ASSERT_FALSE(v.salt.empty());
  EXPECT_TRUE(exchange("", v));
  EXPECT_FALSE(exchange("x", v));
}

TEST(ProtocolAuth, ScramTamperedNonceRejected) {
  const ScramVerifier v = rfcVerifier();
  ScramServer s(v, std::string(kRfcServerNonce));
  ASSERT_TRUE(s.handleClientFirst(kRfcClientFirst));
  std::string tampered(kRfcClientFinal);
  tampered.replace(tampered.find("k0,"), 2, "k1");
  EXPECT_FALSE(s.handleClientFinal(tampered));
  // The exchange is over after a failed attempt: even the right proof is refused now.
  EXPECT_FALSE(s.handleClientFinal(kRfcClientFinal));
}

TEST(ProtocolAuth, ScramClientRejectsServerNonceNotExtendingOurs) {
  ScramClient c("pencil", "user", std::string(kRfcClientNonce));
  c.clientFirst();
  EXPECT_FALSE(c.handleServerFirst("r=XOprNGfwEbeRWgbNEkqO%hvY,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"));
  EXPECT_FALSE(c.handleServerFirst("r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"));
  EXPECT_FALSE(c.handleServerFirst("r=rOprNGfwEbeRWgb,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"));
  // A failed server-first leaves nothing to verify.
  EXPECT_FALSE(c.verifyServerFinal(kRfcServerFinal));
}

TEST(ProtocolAuth, ScramClientRejectsMalformedServerFirst) {
  const std::string n = "rOprNGfwEbeRWgbNEkqOsrv";
  for (const std::string& bad : std::vector<std::string>{
           "",
           "r=" + n,
           "r=" + n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==",
           "r=" + n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",
           "r=" + n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-1",
           "r=" + n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096x",
           "r=" + n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999",
           "r=" + n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=",
           "r=" + n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,",
           "r=" + n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,x=1",
           "r=" + n + ",s=,i=4096",
           "r=" + n + ",s=W22ZaJ0SNY7soEsUEjb6gQ=,i=4096",
           "m=ext,r=" + n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
           "s=W22ZaJ0SNY7soEsUEjb6gQ==,r=" + n + ",i=4096",
           "r=" + n + "\x01,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
           "r=" + n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096" + std::string(1, '\0'),
       }) {
    ScramClient c("pencil", "", "rOprNGfwEbeRWgbNEkqO");
    c.clientFirst();
    EXPECT_FALSE(c.handleServerFirst(bad)) << bad;
  }
}

TEST(ProtocolAuth, ScramClientNeedsClientFirstFirst) {
  ScramClient c("pencil", "user", std::string(kRfcClientNonce));
  EXPECT_FALSE(c.handleServerFirst(kRfcServerFirst));
  EXPECT_FALSE(c.verifyServerFinal(kRfcServerFinal));
}

TEST(ProtocolAuth, ScramClientEscapesUserName) {
  ScramClient c("pw", "a,b=c", "nonce");
  EXPECT_EQ(c.clientFirst(), "n,,n=a=2Cb=3Dc,r=nonce");
}

// ---------------------------------------------------------------- SCRAM: server input rules

TEST(ProtocolAuth, ScramServerAcceptsAnyUserName) {
  const ScramVerifier v = makeScramVerifier("pw", "saltsalt", 16);
  for (std::string_view first :
       {"n,,n=,r=abc", "n,,n=*,r=abc", "n,,n=someone,r=abc", "n,,n=x,r=abc,x=ext", "y,,n=,r=abc"}) {
    ScramServer s(v);
    EXPECT_TRUE(s.handleClientFirst(first)) << first;
  }
}

TEST(ProtocolAuth, ScramServerRejectsMalformedClientFirst) {
  const ScramVerifier v = makeScramVerifier("pw", "saltsalt", 16);
  for (std::string_view bad : {
           "",
           "n",
           "n,",
           "n,,",
           "p=tls-server-end-point,,n=,r=abc",
           "x,,n=,r=abc",
           "n,a=admin,n=,r=abc",  // authzid: not supported, as in PostgreSQL
           "n,,m=ext,n=,r=abc",   // mandatory extension
           "n,,n=,r=",            // empty nonce
           "n,,n=,r=ab\x01"
           "c",                // non-printable nonce
           "n,,r=abc",         // no user attribute
           "n,,n=,r=abc,",     // dangling comma
           "n,,n=,r=abc,1=x",  // not an attribute name
           "n,,n=",
       }) {
    ScramServer s(v);
    EXPECT_FALSE(s.handleClientFirst(bad)) << bad;
  }
  ScramServer s(v);
  EXPECT_FALSE(s.handleClientFirst(std::string_view("n,,n=\0,r=abc", 12)));
}

TEST(ProtocolAuth, ScramServerChannelBindingMustMatchHeader) {
  // c= must echo the gs2 header of client-first: "biws" for "n,,", "eSws" for "y,,". Each final
  // carries a correct proof over its own text, so only the channel-binding check decides.
  const std::string salt = "saltsalt";
  const ScramVerifier v = makeScramVerifier("pw", salt, 16);
  for (char flag : {'n', 'y'}) {
    for (std::string_view echo : {"biws", "eSws", "eSwsAA==", ""}) {
      ScramServer s(v);
      const std::string bare = "n=,r=abc";
      const std::string first = std::string(1, flag) + ",," + bare;
      auto serverFirst = s.handleClientFirst(first);
      ASSERT_TRUE(serverFirst);
      const std::string nonce = serverFirst->substr(2, serverFirst->find(',') - 2);
      const std::string withoutProof = "c=" + std::string(echo) + ",r=" + nonce;
      const std::string proof =
          proofFor("pw", salt, 16, bare + "," + *serverFirst + "," + withoutProof);
      auto final = s.handleClientFinal(withoutProof + ",p=" + proof);
      const bool matches = echo == (flag == 'n' ? "biws" : "eSws");
      EXPECT_EQ(final.has_value(), matches) << flag << " " << echo;
    }
  }
}

TEST(ProtocolAuth, ScramServerRejectsForeignNonceEvenWithValidProof) {
  // A proof is computed over the final message's own text, so a client (or a replayed exchange)
  // can present a self-consistent proof for a nonce that is not this exchange's: refused.
  const std::string salt = "saltsalt";
  const ScramVerifier v = makeScramVerifier("pw", salt, 16);
  const std::string bare = "n=,r=abc";
  for (int variant = 0; variant < 3; ++variant) {
    ScramServer s(v);
    auto serverFirst = s.handleClientFirst("n,," + bare);
    ASSERT_TRUE(serverFirst);
    std::string nonce = serverFirst->substr(2, serverFirst->find(',') - 2);
    if (variant == 0) nonce += "X";       // extended
    if (variant == 1) nonce = "abc";      // server part dropped
    if (variant == 2) nonce.back() ^= 1;  // altered
    const std::string withoutProof = "c=biws,r=" + nonce;
    const std::string proof =
        proofFor("pw", salt, 16, bare + "," + *serverFirst + "," + withoutProof);
    EXPECT_FALSE(s.handleClientFinal(withoutProof + ",p=" + proof)) << variant;
  }
}

TEST(ProtocolAuth, ScramServerRejectsMalformedClientFinal) {
  const ScramVerifier v = rfcVerifier();
  const std::string n = std::string(kRfcClientNonce) + std::string(kRfcServerNonce);
  const std::string proof = "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  for (const std::string& bad : {
           std::string(),
           "c=biws,r=" + n,                                                     // no proof
           "c=biws,r=" + n + ",p=",                                             // empty proof
           "c=biws,r=" + n + ",p=dHzbZapWIk4jUhN+Ute9",                         // short proof
           "c=biws,r=" + n + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ",  // bad base64
           "c=biws,r=" + n + "," + proof + ",x=1",                              // proof not last
           "c=biws,r=" + n + "," + proof + ",",                                 // dangling comma
           "c=eSws,r=" + n + "," + proof,                                       // header was "n,,"
           "c=cD10bHMtc2VydmVyLWVuZC1wb2ludCws,r=" + n + "," + proof,
           "r=" + n + ",c=biws," + proof,                             // order
           "c=biws,r=" + n + "x," + proof,                            // nonce extended
           "c=biws,r=" + std::string(kRfcClientNonce) + "," + proof,  // server part dropped
           "c=biws,r=" + n + "," + proof + std::string(1, '\0'),
       }) {
    ScramServer s(v, std::string(kRfcServerNonce));
    ASSERT_TRUE(s.handleClientFirst(kRfcClientFirst));
    EXPECT_FALSE(s.handleClientFinal(bad)) << bad;
  }
  // Extensions before the proof are allowed by the grammar, but they are covered by the proof,
  // so the RFC proof no longer matches.
  ScramServer s(v, std::string(kRfcServerNonce));
  ASSERT_TRUE(s.handleClientFirst(kRfcClientFirst));
  EXPECT_FALSE(s.handleClientFinal("c=biws,r=" + n + ",x=ext," + proof));
}

TEST(ProtocolAuth, ScramServerOrderOfCalls) {
  const ScramVerifier v = rfcVerifier();
  ScramServer s(v, std::string(kRfcServerNonce));
  EXPECT_FALSE(s.handleClientFinal(kRfcClientFinal));  // before client-first
  ASSERT_TRUE(s.handleClientFirst(kRfcClientFirst));
  EXPECT_FALSE(s.handleClientFirst(kRfcClientFirst));  // a second client-first
  EXPECT_TRUE(s.handleClientFinal(kRfcClientFinal));
  EXPECT_FALSE(s.handleClientFinal(kRfcClientFinal));  // replay
}

TEST(ProtocolAuth, UnusableVerifiers) {
  EXPECT_TRUE(makeScramVerifier("pw", "salt", 0).salt.empty());
  EXPECT_TRUE(makeScramVerifier("pw", "salt", 0x80000000u).salt.empty());
  EXPECT_TRUE(makeScramVerifier("pw", "", 4096).salt.empty());
  const ScramVerifier broken = makeScramVerifier("pw", "salt", 0);
  ScramServer s(broken);
  EXPECT_FALSE(s.handleClientFirst("n,,n=,r=abc"));
}

TEST(ProtocolAuth, RandomInputNeverCrashes) {
  const ScramVerifier v = makeScramVerifier("pw", "saltsalt", 2);
  std::mt19937 rng(4242);
  const std::string alphabet = "nyprscvie=,abcXYZ0129+/=\x01";
  for (int i = 0; i < 3000; ++i) {
    std::string msg(rng() % 40, '\0');
    for (char& c : msg)
      c = i % 3 ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng());
    ScramServer s(v);
    (void)s.handleClientFirst(msg);
    (void)s.handleClientFinal(msg);
    ScramServer s2(v);
    if (s2.handleClientFirst("n,,n=,r=abc")) (void)s2.handleClientFinal(msg);
    ScramClient c("pw", "", "abc");
    c.clientFirst();
    (void)c.handleServerFirst("r=abc" + msg);
    (void)c.handleServerFirst(msg);
    (void)c.verifyServerFinal(msg);
    (void)base64Decode(msg);
  }
}
