#pragma once
// Password authentication math: SCRAM-SHA-256 (RFC 5802/7677, as PostgreSQL speaks it) for both
// ends, and PostgreSQL's md5 scheme. Pure computation (OpenSSL), no I/O.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace pgsplit::protocol {

inline constexpr std::string_view kScramSha256 = "SCRAM-SHA-256";

// "md5" + hex(md5(hex(md5(password + user)) + salt)), as a client answers an md5 request.
std::string md5PasswordResponse(std::string_view user, std::string_view password,
                                const std::uint8_t salt[4]);

// What the server stores for a password: computed once (PBKDF2 is slow on purpose), then reused
// for every login. An empty salt marks a verifier that could not be computed (system RNG failure,
// iterations 0 or above INT_MAX); ScramServer refuses to run with it.
struct ScramVerifier {
  std::string salt;  // raw bytes
  std::uint32_t iterations = 4096;
  std::array<std::uint8_t, 32> storedKey{};
  std::array<std::uint8_t, 32> serverKey{};
};
ScramVerifier makeScramVerifier(std::string_view password, std::string_view salt,
                                std::uint32_t iterations = 4096);
// A verifier with a fresh random 16-byte salt.
ScramVerifier makeScramVerifier(std::string_view password);

// Server side of one SCRAM-SHA-256 exchange (pgsplit authenticating a client).
class ScramServer {
 public:
  explicit ScramServer(const ScramVerifier& verifier) : verifier_(verifier) {}
  // Tests only: a fixed server nonce (printable, no ',') instead of a random one, so that RFC
  // test vectors can be reproduced.
  ScramServer(const ScramVerifier& verifier, std::string serverNonce)
      : verifier_(verifier), fixedServerNonce_(std::move(serverNonce)) {}
  // The verifier is held by reference: it must outlive the exchange, a temporary would dangle.
  explicit ScramServer(ScramVerifier&&) = delete;
  ScramServer(ScramVerifier&&, std::string) = delete;
  // client-first-message -> server-first-message; nullopt if malformed or channel binding is
  // demanded ("p=" gs2 flag; pgsplit offers no -PLUS mechanism).
  std::optional<std::string> handleClientFirst(std::string_view message);
  // client-final-message -> server-final-message ("v=..."); nullopt if malformed or the proof is
  // wrong (the caller answers 28P01).
  std::optional<std::string> handleClientFinal(std::string_view message);

 private:
  const ScramVerifier& verifier_;
  std::string clientFirstBare_;
  std::string serverFirst_;
  std::string nonce_;  // client nonce + server nonce
  std::string gs2Header_;
  std::string fixedServerNonce_;
};

// How many client-side SCRAM exchanges reused keys derived earlier (for tests and metrics): the
// PBKDF2 run is done once per (password, salt, iterations) for the life of the process.
std::uint64_t scramKeyCacheHits();

// Client side of one SCRAM-SHA-256 exchange (pgsplit logging in to a PostgreSQL node).
class ScramClient {
 public:
  explicit ScramClient(std::string password) : password_(std::move(password)) {}
  // Tests only: a username for "n=" (PostgreSQL ignores it; pgsplit sends none) and a fixed
  // client nonce (printable, no ',') instead of a random one, so that RFC test vectors can be
  // reproduced.
  ScramClient(std::string password, std::string user, std::string clientNonce)
      : password_(std::move(password)),
        user_(std::move(user)),
        fixedClientNonce_(std::move(clientNonce)) {}
  std::string clientFirst();  // "n,,n=,r=<nonce>"; a failed RNG makes handleServerFirst refuse
  // server-first -> client-final; nullopt if malformed or the server nonce does not extend ours.
  std::optional<std::string> handleServerFirst(std::string_view message);
  // Checks the server signature ("v=..."): false means the server is not who it claims.
  bool verifyServerFinal(std::string_view message) const;

 private:
  std::string password_;
  std::string clientNonce_;
  std::string clientFirstBare_;
  std::array<std::uint8_t, 32> serverSignature_{};
  bool haveServerSignature_ = false;  // set once handleServerFirst has succeeded
  std::string user_;
  std::string fixedClientNonce_;
};

std::string base64Encode(std::string_view raw);
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace pgsplit::protocol
