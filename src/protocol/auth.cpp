#include "pgsplit/protocol/auth.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <unordered_map>
#include <climits>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

// Passwords are used as given, without SASLprep normalisation. PostgreSQL applies SASLprep but
// falls back to the raw password when normalisation fails, and SASLprep leaves ASCII untouched, so
// for ASCII passwords (and any password stored by pgsplit itself) both ends agree.

namespace pgsplit::protocol {

namespace {

using Key = std::array<std::uint8_t, 32>;

constexpr std::size_t kNonceRawBytes = 18;  // as PostgreSQL (SCRAM_RAW_NONCE_LEN)
constexpr std::size_t kSaltRawBytes = 16;   // as PostgreSQL (SCRAM_DEFAULT_SALT_LEN)

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string_view view(const Key& k) {
  return std::string_view(reinterpret_cast<const char*>(k.data()), k.size());
}

bool sha256(std::string_view data, Key& out) {
  unsigned int len = 0;
  return EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) == 1 &&
         len == out.size();
}

bool hmacSha256(std::string_view key, std::string_view data, Key& out) {
  unsigned int len = 0;
  return HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes(data), data.size(),
              out.data(), &len) != nullptr &&
         len == out.size();
}

// Everything both ends derive from the password: SaltedPassword = Hi(password, salt, i),
// ClientKey = HMAC(SaltedPassword, "Client Key"), StoredKey = H(ClientKey),
// ServerKey = HMAC(SaltedPassword, "Server Key").
struct ScramKeys {
  Key clientKey{};
  Key storedKey{};
  Key serverKey{};
  ~ScramKeys() { OPENSSL_cleanse(clientKey.data(), clientKey.size()); }
};

bool deriveKeys(std::string_view password, std::string_view salt, std::uint32_t iterations,
                ScramKeys& out) {
  if (iterations == 0 || iterations > INT_MAX || password.size() > INT_MAX ||
      salt.size() > INT_MAX) {
    return false;
  }
  Key salted{};
  bool ok = PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), bytes(salt),
                              static_cast<int>(salt.size()), static_cast<int>(iterations),
                              EVP_sha256(), static_cast<int>(salted.size()), salted.data()) == 1 &&
            hmacSha256(view(salted), "Client Key", out.clientKey) &&
            sha256(view(out.clientKey), out.storedKey) &&
            hmacSha256(view(salted), "Server Key", out.serverKey);
  OPENSSL_cleanse(salted.data(), salted.size());
  return ok;
}

// The keys a password derives for one (salt, iterations), kept for the life of the process:
// pgsplit logs in to the same servers as the same roles again and again (every new server
// connection), and each PBKDF2 run costs milliseconds of CPU. Keyed by SHA-256 of the password
// (the password itself is not copied); bounded, since salts change only when passwords do.
std::atomic<std::uint64_t> keyCacheHits{0};

bool deriveKeysCached(std::string_view password, std::string_view salt, std::uint32_t iterations,
                      ScramKeys& out) {
  static constexpr std::size_t kMaxEntries = 1024;
  static std::mutex mutex;
  static auto* cache = new std::unordered_map<std::string, ScramKeys>();
  Key passwordHash{};
  if (!sha256(password, passwordHash)) return false;
  std::string key(salt);
  key += '\0';
  key += std::to_string(iterations);
  key += '\0';
  key.append(reinterpret_cast<const char*>(passwordHash.data()), passwordHash.size());
  OPENSSL_cleanse(passwordHash.data(), passwordHash.size());
  {
    std::lock_guard lock(mutex);
    if (auto it = cache->find(key); it != cache->end()) {
      out = it->second;
      keyCacheHits.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
  if (!deriveKeys(password, salt, iterations, out)) return false;
  std::lock_guard lock(mutex);
  if (cache->size() >= kMaxEntries) cache->clear();
  cache->emplace(std::move(key), out);
  return true;
}

std::optional<std::string> randomBase64(std::size_t rawBytes) {
  unsigned char raw[32];
  if (rawBytes > sizeof raw || RAND_bytes(raw, static_cast<int>(rawBytes)) != 1) {
    return std::nullopt;
  }
  return base64Encode(std::string_view(reinterpret_cast<const char*>(raw), rawBytes));
}

// RFC 5802: printable = %x21-2B / %x2D-7E (no ',').
bool isPrintableNonce(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x21 && c <= 0x7E && c != ','; });
}

bool isAttrName(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Walks "a=value,b=value,..." attribute by attribute. Values run to the next ','; a trailing ','
// with nothing after it is malformed.
class AttrReader {
 public:
  explicit AttrReader(std::string_view s) : s_(s) {}

  bool atEnd() const { return pos_ == s_.size() && !dangling_; }
  std::size_t pos() const { return pos_; }  // start of the next attribute

  bool nextAny(char& attr, std::string_view& value) {
    if (pos_ + 2 > s_.size() || !isAttrName(s_[pos_]) || s_[pos_ + 1] != '=') return false;
    attr = s_[pos_];
    const std::size_t start = pos_ + 2;
    const std::size_t comma = s_.find(',', start);
    if (comma == std::string_view::npos) {
      value = s_.substr(start);
      pos_ = s_.size();
      dangling_ = false;
    } else {
      value = s_.substr(start, comma - start);
      pos_ = comma + 1;
      dangling_ = pos_ == s_.size();
    }
    return true;
  }

  bool next(char expected, std::string_view& value) {
    char attr = 0;
    return nextAny(attr, value) && attr == expected;
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
  bool dangling_ = false;
};

std::optional<std::uint32_t> parseIterations(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v == 0 || v > INT_MAX) return std::nullopt;
  return static_cast<std::uint32_t>(v);
}

// RFC 5802 saslname: ',' and '=' are escaped.
std::string saslName(std::string_view user) {
  std::string out;
  for (char c : user) {
    if (c == ',') {
      out += "=2C";
    } else if (c == '=') {
      out += "=3D";
    } else {
      out += c;
    }
  }
  return out;
}

Key xorKeys(const Key& a, const Key& b) {
  Key out{};
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = a[i] ^ b[i];
  return out;
}

bool decodeKey(std::string_view b64, Key& out) {
  auto raw = base64Decode(b64);
  if (!raw || raw->size() != out.size()) return false;
  std::copy(raw->begin(), raw->end(), out.begin());
  return true;
}

std::string md5Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr) != 1 || len != 16) {
    return {};
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0F];
  }
  return out;
}

bool isBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

}  // namespace

std::string md5PasswordResponse(std::string_view user, std::string_view password,
                                const std::uint8_t salt[4]) {
  std::string inner(password);
  inner += user;
  std::string outer = md5Hex(inner);
  OPENSSL_cleanse(inner.data(), inner.size());
  if (outer.empty()) return {};
  outer.append(reinterpret_cast<const char*>(salt), 4);
  std::string hex = md5Hex(outer);
  OPENSSL_cleanse(outer.data(), outer.size());  // md5(password + user) is password-equivalent
  if (hex.empty()) return {};
  return "md5" + hex;
}

ScramVerifier makeScramVerifier(std::string_view password, std::string_view salt,
                                std::uint32_t iterations) {
  ScramVerifier v;
  v.iterations = iterations;
  ScramKeys keys;
  if (salt.empty() || !deriveKeys(password, salt, iterations, keys)) return v;  // empty salt
  v.salt = std::string(salt);
  v.storedKey = keys.storedKey;
  v.serverKey = keys.serverKey;
  return v;
}

ScramVerifier makeScramVerifier(std::string_view password) {
  unsigned char salt[kSaltRawBytes];
  if (RAND_bytes(salt, sizeof salt) != 1) return ScramVerifier{};
  return makeScramVerifier(password,
                           std::string_view(reinterpret_cast<const char*>(salt), sizeof salt));
}

// --- server side ---

std::optional<std::string> ScramServer::handleClientFirst(std::string_view message) {
  if (!nonce_.empty()) return std::nullopt;  // one exchange per object
  if (verifier_.salt.empty() || verifier_.iterations == 0 || verifier_.iterations > INT_MAX) {
    return std::nullopt;
  }
  if (message.find('\0') != std::string_view::npos) return std::nullopt;

  // gs2-header: "n,," (client does not support channel binding) or "y,," (it does, but thinks
  // the server does not). "p=..." demands channel binding, which needs SCRAM-SHA-256-PLUS. An
  // authzid ("n,a=...,") is refused, as PostgreSQL does.
  if (message.size() < 3 || (message[0] != 'n' && message[0] != 'y') || message[1] != ',' ||
      message[2] != ',') {
    return std::nullopt;
  }
  const std::string_view bare = message.substr(3);

  // client-first-message-bare: [reserved-mext ","] username "," nonce ["," extensions]. A
  // leading "m=" (mandatory extension) fails the 'n' check. PostgreSQL takes the user from the
  // startup packet and ignores this one, so any value is accepted.
  AttrReader r(bare);
  std::string_view user, clientNonce;
  if (!r.next('n', user) || !r.next('r', clientNonce) || !isPrintableNonce(clientNonce)) {
    return std::nullopt;
  }
  while (!r.atEnd()) {  // optional extensions, none understood
    char attr = 0;
    std::string_view value;
    if (!r.nextAny(attr, value)) return std::nullopt;
  }

  std::string serverNonce;
  if (!fixedServerNonce_.empty()) {
    serverNonce = fixedServerNonce_;
  } else {
    auto random = randomBase64(kNonceRawBytes);
    if (!random) return std::nullopt;
    serverNonce = std::move(*random);
  }

  gs2Header_ = std::string(message.substr(0, 3));
  clientFirstBare_ = std::string(bare);
  nonce_ = std::string(clientNonce) + serverNonce;
  serverFirst_ = "r=" + nonce_ + ",s=" + base64Encode(verifier_.salt) +
                 ",i=" + std::to_string(verifier_.iterations);
  return serverFirst_;
}

std::optional<std::string> ScramServer::handleClientFinal(std::string_view message) {
  if (serverFirst_.empty()) return std::nullopt;  // no client-first yet, or already finished
  // Whatever the outcome, this exchange is over: a second proof is never accepted.
  const std::string serverFirst = std::move(serverFirst_);
  serverFirst_.clear();
  if (message.find('\0') != std::string_view::npos) return std::nullopt;

  // client-final-message: channel-binding "," nonce ["," extensions] "," proof
  AttrReader r(message);
  std::string_view binding, nonce;
  if (!r.next('c', binding) || !r.next('r', nonce)) return std::nullopt;
  // Without channel binding, c= carries the gs2 header the client sent first ("biws" for "n,,",
  // "eSws" for "y,,").
  if (binding != base64Encode(gs2Header_) || nonce != nonce_) return std::nullopt;
  std::size_t proofAt = 0;
  std::string_view proofB64;
  for (;;) {
    proofAt = r.pos();
    char attr = 0;
    if (!r.nextAny(attr, proofB64)) return std::nullopt;
    if (attr == 'p') break;
  }
  if (!r.atEnd()) return std::nullopt;  // the proof comes last
  Key proof{};
  if (!decodeKey(proofB64, proof)) return std::nullopt;

  const std::string_view withoutProof = message.substr(0, proofAt - 1);  // drop ",p=..."
  std::string authMessage = clientFirstBare_;
  authMessage += ',';
  authMessage += serverFirst;
  authMessage += ',';
  authMessage += withoutProof;

  // ClientKey = proof XOR HMAC(StoredKey, AuthMessage); it is right iff H(ClientKey) == StoredKey.
  Key clientSignature{}, storedKeyFromProof{};
  if (!hmacSha256(view(verifier_.storedKey), authMessage, clientSignature)) return std::nullopt;
  Key clientKey = xorKeys(proof, clientSignature);
  const bool hashed = sha256(view(clientKey), storedKeyFromProof);
  OPENSSL_cleanse(clientKey.data(), clientKey.size());
  if (!hashed || CRYPTO_memcmp(storedKeyFromProof.data(), verifier_.storedKey.data(),
                               storedKeyFromProof.size()) != 0) {
    return std::nullopt;
  }

  Key serverSignature{};
  if (!hmacSha256(view(verifier_.serverKey), authMessage, serverSignature)) return std::nullopt;
  return "v=" + base64Encode(view(serverSignature));
}

// --- client side ---

std::string ScramClient::clientFirst() {
  haveServerSignature_ = false;
  if (!fixedClientNonce_.empty()) {
    clientNonce_ = fixedClientNonce_;
  } else {
    clientNonce_ = randomBase64(kNonceRawBytes).value_or(std::string());
  }
  clientFirstBare_ = "n=" + saslName(user_) + ",r=" + clientNonce_;
  return "n,," + clientFirstBare_;
}

std::optional<std::string> ScramClient::handleServerFirst(std::string_view message) {
  haveServerSignature_ = false;
  // Also refuses when clientFirst() was never called or the RNG failed in it.
  if (clientNonce_.empty() || clientFirstBare_.empty()) return std::nullopt;
  if (message.find('\0') != std::string_view::npos) return std::nullopt;

  // server-first-message: nonce "," salt "," iteration-count (a leading "m=" fails the 'r'
  // check; like libpq, nothing may follow the iteration count).
  AttrReader r(message);
  std::string_view nonce, saltB64, iterText;
  if (!r.next('r', nonce) || !r.next('s', saltB64) || !r.next('i', iterText) || !r.atEnd()) {
    return std::nullopt;
  }
  // The server's nonce must extend ours with something of its own.
  if (nonce.size() <= clientNonce_.size() || nonce.substr(0, clientNonce_.size()) != clientNonce_ ||
      !isPrintableNonce(nonce)) {
    return std::nullopt;
  }
  auto salt = base64Decode(saltB64);
  auto iterations = parseIterations(iterText);
  if (!salt || salt->empty() || !iterations) return std::nullopt;

  ScramKeys keys;
  if (!deriveKeysCached(password_, *salt, *iterations, keys)) return std::nullopt;

  // No channel binding: c= is base64("n,,").
  std::string clientFinal = "c=biws,r=";
  clientFinal += nonce;
  std::string authMessage = clientFirstBare_;
  authMessage += ',';
  authMessage += message;
  authMessage += ',';
  authMessage += clientFinal;

  Key clientSignature{};
  if (!hmacSha256(view(keys.storedKey), authMessage, clientSignature) ||
      !hmacSha256(view(keys.serverKey), authMessage, serverSignature_)) {
    return std::nullopt;
  }
  const Key proof = xorKeys(keys.clientKey, clientSignature);
  clientFinal += ",p=";
  clientFinal += base64Encode(view(proof));
  haveServerSignature_ = true;
  clientFirstBare_.clear();  // one server-first per exchange
  return clientFinal;
}

bool ScramClient::verifyServerFinal(std::string_view message) const {
  if (!haveServerSignature_) return false;
  // server-final-message: "v=" signature, or "e=" error (a failure either way here).
  AttrReader r(message);
  std::string_view signatureB64;
  Key signature{};
  if (!r.next('v', signatureB64) || !r.atEnd() || !decodeKey(signatureB64, signature)) {
    return false;
  }
  return CRYPTO_memcmp(signature.data(), serverSignature_.data(), signature.size()) == 0;
}

// --- base64 (RFC 4648, with padding) ---

std::string base64Encode(std::string_view raw) {
  // EVP_EncodeBlock takes an int length: encode in chunks (a multiple of 3, so no inner padding).
  constexpr std::size_t kChunk = 3 * 1024;
  unsigned char buf[kChunk / 3 * 4 + 1];
  std::string out;
  out.reserve((raw.size() + 2) / 3 * 4);
  for (std::size_t pos = 0; pos < raw.size(); pos += kChunk) {
    const std::size_t n = std::min(kChunk, raw.size() - pos);
    const int len = EVP_EncodeBlock(buf, bytes(raw) + pos, static_cast<int>(n));
    out.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(len));
  }
  return out;
}

std::optional<std::string> base64Decode(std::string_view text) {
  // EVP_DecodeBlock tolerates surrounding whitespace and does not report padding, so the shape is
  // checked here: whole quanta, alphabet only, '=' only as the last one or two characters.
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t pad = 0;
  if (!text.empty() && text.back() == '=') pad = text[text.size() - 2] == '=' ? 2 : 1;
  if (!std::all_of(text.begin(), text.end() - static_cast<std::ptrdiff_t>(pad), isBase64Char)) {
    return std::nullopt;
  }
  constexpr std::size_t kChunk = 4 * 1024;  // a multiple of 4: padding only in the last chunk
  unsigned char buf[kChunk / 4 * 3];
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t pos = 0; pos < text.size(); pos += kChunk) {
    const std::size_t n = std::min(kChunk, text.size() - pos);
    const int len = EVP_DecodeBlock(buf, bytes(text) + pos, static_cast<int>(n));
    if (len < 0) return std::nullopt;
    out.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(len));
  }
  out.resize(out.size() - pad);  // EVP_DecodeBlock counts padding as zero bytes
  return out;
}

std::uint64_t scramKeyCacheHits() {
  return keyCacheHits.load(std::memory_order_relaxed);
}

}  // namespace pgsplit::protocol
