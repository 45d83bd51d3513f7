#include "pgsplit/backend/backend_connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "pgsplit/net/deadline.hpp"
#include "pgsplit/protocol/auth.hpp"
#include "pgsplit/protocol/frame.hpp"
#include "pgsplit/protocol/messages.hpp"
#include "pgsplit/protocol/writer.hpp"

namespace pgsplit::backend {
namespace {

using namespace protocol;
constexpr std::size_t kMaxLoginMessage = 1u << 20;

// Reads the next whole message during login (or a reset) into buf (from offset 0), returning it, or
// nullopt on I/O failure or a malformed frame. Consumed bytes are erased before the next read.
Task<std::optional<Frame>> readLoginMessage(tcp::socket& socket, std::string& buf,
                                            std::size_t& consumed) {
  buf.erase(0, consumed);
  consumed = 0;
  for (;;) {
    FrameResult r = readFrame(buf, kMaxLoginMessage);
    if (r.status == FrameStatus::Ok) {
      consumed = r.frame.size;
      co_return r.frame;
    }
    if (r.status == FrameStatus::Malformed) co_return std::nullopt;
    char chunk[4096];
    error_code ec;
    std::size_t n = co_await socket.async_read_some(asio::buffer(chunk),
                                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return std::nullopt;
    buf.append(chunk, n);
  }
}

void failWith(LoginFailure& failure, std::string sqlstate, std::string text) {
  failure.sqlstate = std::move(sqlstate);
  failure.text = std::move(text);
}

}  // namespace

Task<BackendConnection::Ptr> BackendConnection::connect(LoginParams params, LoginFailure& failure) {
  auto ex = co_await asio::this_coro::executor;
  auto conn = std::make_shared<BackendConnection>(ex, params.nodeIndex);
  conn->state_.prepared.setCapacity(params.maxPreparedStatements);
  bool ok = co_await conn->login(params, failure);
  if (!ok) {
    error_code ignored;
    conn->socket_.close(ignored);
    co_return nullptr;
  }
  co_return conn;
}

Task<bool> BackendConnection::login(const LoginParams& p, LoginFailure& failure) {
  const std::string where = p.host + ":" + std::to_string(p.port);
  net::Deadline deadline(socket_, p.timeout);
  error_code ec;

  tcp::resolver resolver(socket_.get_executor());
  auto endpoints = co_await resolver.async_resolve(p.host, std::to_string(p.port),
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    failWith(failure, "08001", "could not resolve " + where + ": " + ec.message());
    co_return false;
  }
  co_await asio::async_connect(socket_, endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    failWith(failure, "08006",
             "could not connect to " + where + ": " +
                 (deadline.expired() ? std::string("timed out") : ec.message()));
    co_return false;
  }
  socket_.set_option(tcp::no_delay(true), ec);

  std::string out;
  writeStartup(out, {{"user", p.user}, {"database", p.database}});
  co_await asio::async_write(socket_, asio::buffer(out),
                             asio::redirect_error(asio::use_awaitable, ec));

  std::string buf;
  std::size_t consumed = 0;
  std::optional<ScramClient> scram;
  for (;;) {
    if (ec) break;
    auto msg = co_await readLoginMessage(socket_, buf, consumed);
    if (!msg) {
      failWith(failure, "08006",
               "login to " + where + " failed: " +
                   (deadline.expired() ? "timed out" : "connection lost or protocol violation"));
      co_return false;
    }
    // (No co_await inside a switch: g++ 12 miscompiles it. The decisions live in plain functions.)
    const char type = msg->type;
    if (type == server::Authentication) {
      out.clear();
      if (!answerAuthRequest(msg->body, p, where, scram, out, failure)) co_return false;
      if (!out.empty())
        co_await asio::async_write(socket_, asio::buffer(out),
                                   asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (type == server::ErrorResponse) {
      failure.errorMessage.assign(buf.data(), msg->size);
      auto fields = decodeError(msg->body);
      failWith(failure, fields ? std::string(fields->sqlstate) : "08006",
               "login to " + where + " refused: " +
                   (fields ? std::string(fields->message) : std::string("malformed error")));
      co_return false;
    }
    if (type == server::ReadyForQuery) {
      txnStatus_ = msg->body.empty() ? 'I' : msg->body[0];
      co_return !deadline.expired();
    }
    if (!noteLoginMessage(type, msg->body)) {
      failWith(failure, "08P01",
               "login to " + where + ": unexpected message '" + std::string(1, type) + "'");
      co_return false;
    }
  }
  failWith(failure, "08006", "login to " + where + " failed: " + ec.message());
  co_return false;
}

bool BackendConnection::noteLoginMessage(char type, std::string_view body) {
  if (type == server::ParameterStatus) {
    if (auto ps = decodeParameterStatus(body)) {
      if (ps->name == "in_hot_standby") inHotStandby_ = ps->value == "on" ? 1 : 0;
      parameters_.emplace_back(ps->name, ps->value);
    }
    return true;
  }
  if (type == server::BackendKeyData) {
    if (auto k = decodeBackendKeyData(body)) {
      pid_ = k->pid;
      secret_ = k->secret;
    }
    return true;
  }
  return type == server::NoticeResponse || type == server::NegotiateProtocolVersion;
}

bool BackendConnection::answerAuthRequest(std::string_view body, const LoginParams& p,
                                          const std::string& where,
                                          std::optional<protocol::ScramClient>& scram,
                                          std::string& out, LoginFailure& failure) {
  auto req = decodeAuthRequest(body);
  if (!req) {
    failWith(failure, "08P01", where + " sent a malformed authentication request");
    return false;
  }
  switch (req->code) {
    case AuthCode::Ok:
      return true;
    case AuthCode::CleartextPassword:
      writePassword(out, p.password);
      return true;
    case AuthCode::Md5Password:
      if (req->data.size() != 4) {
        failWith(failure, "08P01", where + " sent a malformed md5 request");
        return false;
      }
      writePassword(out,
                    md5PasswordResponse(p.user, p.password,
                                        reinterpret_cast<const std::uint8_t*>(req->data.data())));
      return true;
    case AuthCode::Sasl:
      if (!saslOffers(req->data, kScramSha256)) {
        failWith(failure, "28000", where + " offers no SASL mechanism pgsplit supports");
        return false;
      }
      scram.emplace(p.password);
      writeSaslInitialResponse(out, kScramSha256, scram->clientFirst());
      return true;
    case AuthCode::SaslContinue: {
      auto reply = scram ? scram->handleServerFirst(req->data) : std::nullopt;
      if (!reply) {
        failWith(failure, "08P01", where + " sent an invalid SCRAM challenge");
        return false;
      }
      writeSaslResponse(out, *reply);
      return true;
    }
    case AuthCode::SaslFinal:
      if (!scram || !scram->verifyServerFinal(req->data)) {
        failWith(failure, "28000", where + " failed SCRAM server verification");
        return false;
      }
      return true;
  }
  failWith(failure, "28000",
           where + " asks for an authentication method pgsplit does not support (code " +
               std::to_string(static_cast<std::uint32_t>(req->code)) + ")");
  return false;
}

bool BackendConnection::idleSocketLooksDead() {
  if (!socket_.is_open()) return true;
  char byte;
  ssize_t n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;                                              // orderly close
  if (n > 0) return true;                                               // unsolicited bytes (FATAL)
  return !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);  // reset, etc.
}

Task<bool> BackendConnection::reset(bool discardAll, std::chrono::milliseconds timeout) {
  std::string out;
  int expected = 0;
  if (txnStatus_ != 'I') {
    writeQuery(out, "ROLLBACK");
    ++expected;
  }
  if (discardAll) {
    writeQuery(out, "DISCARD ALL");
    ++expected;
  }
  if (expected == 0) co_return !broken_;
  net::Deadline deadline(socket_, timeout);
  error_code ec;
  co_await asio::async_write(socket_, asio::buffer(out),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return false;
  // Each Query ends with its ReadyForQuery; anything but a clean run of them is a failure.
  std::string buf;
  std::size_t consumed = 0;
  bool failed = false;
  while (expected > 0) {
    auto msg = co_await readLoginMessage(socket_, buf, consumed);
    if (!msg) co_return false;
    if (msg->type == server::ErrorResponse) failed = true;
    if (msg->type == server::ReadyForQuery) {
      --expected;
      txnStatus_ = msg->body.empty() ? '?' : msg->body[0];
    }
  }
  // Nothing may follow the last ReadyForQuery, and the connection must be out of any transaction.
  if (failed || consumed != buf.size() || txnStatus_ != 'I' || deadline.expired()) co_return false;
  if (discardAll) {
    state_.prepared.clear();
    state_.settings.clear();
    state_.settingsUnknown = false;
    state_.unnamedOwner = 0;
    state_.unnamedGeneration = 0;
    state_.syncedSession = 0;
    state_.syncedVersion = 0;
  }
  co_return true;
}

Task<void> BackendConnection::terminateAndWait(std::chrono::milliseconds wait) {
  if (!socket_.is_open()) co_return;
  {
    net::Deadline deadline(socket_, wait);
    static constexpr char kTerminate[] = {'X', 0, 0, 0, 4};
    error_code ec;
    co_await asio::async_write(socket_, asio::buffer(kTerminate, sizeof kTerminate),
                               asio::redirect_error(asio::use_awaitable, ec));
    char sink[256];
    while (!ec) {
      co_await socket_.async_read_some(asio::buffer(sink),
                                       asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  error_code ignored;
  socket_.close(ignored);
}

int BackendConnection::detachSocket() {
  if (!socket_.is_open()) return -1;
  error_code ec;
  const tcp::endpoint local = socket_.local_endpoint(ec);
  if (!ec) protocol_ = local.protocol();
  const int fd = socket_.release(ec);
  return ec ? -1 : fd;
}

void BackendConnection::attachSocket(const asio::any_io_executor& ex, int fd) {
  if (fd < 0) {
    markBroken();
    return;
  }
  error_code ec;
  tcp::socket moved(ex);
  moved.assign(protocol_, fd, ec);
  if (ec) {
    ::close(fd);
    markBroken();
    return;
  }
  socket_ = std::move(moved);
}

void BackendConnection::terminate() {
  if (!socket_.is_open()) return;
  static constexpr char kTerminate[] = {'X', 0, 0, 0, 4};
  error_code ec;
  ::send(socket_.native_handle(), kTerminate, sizeof kTerminate, MSG_DONTWAIT | MSG_NOSIGNAL);
  socket_.close(ec);
}

}  // namespace pgsplit::backend
