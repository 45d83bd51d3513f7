// ClientSession: from accept to the first ReadyForQuery.
#include <openssl/rand.h>

#include <spdlog/spdlog.h>

#include "pgsplit/admin/console.hpp"
#include "pgsplit/net/deadline.hpp"
#include "pgsplit/protocol/auth.hpp"
#include "pgsplit/protocol/messages.hpp"
#include "pgsplit/session/client_session.hpp"
#include "pgsplit/sql/lexer.hpp"

namespace pgsplit::session {

using namespace protocol;

namespace {
constexpr std::size_t kMaxAuthMessage = 8192;

// The `options` startup parameter's settings: "-c name=value" or "--name=value", separated by
// spaces, a backslash escaping the next character (PostgreSQL's pg_split_opts).
std::vector<std::pair<std::string, std::string>> settingsFromOptions(std::string_view options) {
  std::vector<std::string> words;
  std::string word;
  bool inWord = false;
  for (std::size_t i = 0; i < options.size(); ++i) {
    char c = options[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      if (inWord) words.push_back(std::move(word));
      word.clear();
      inWord = false;
      continue;
    }
    if (c == '\\' && i + 1 < options.size()) c = options[++i];
    word.push_back(c);
    inWord = true;
  }
  if (inWord) words.push_back(std::move(word));

  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&out](std::string_view setting) {
    auto eq = setting.find('=');
    if (eq == std::string_view::npos || eq == 0) return;
    std::string name(setting.substr(0, eq));
    for (char& c : name)
      if (c == '-') c = '_';
    out.emplace_back(std::move(name), std::string(setting.substr(eq + 1)));
  };
  for (std::size_t i = 0; i < words.size(); ++i) {
    std::string_view w = words[i];
    if (w == "-c" && i + 1 < words.size())
      add(words[++i]);
    else if (w.starts_with("-c"))
      add(w.substr(2));
    else if (w.starts_with("--"))
      add(w.substr(2));
  }
  return out;
}

Task<void> sendCancel(std::string host, std::uint16_t port, std::uint32_t pid,
                      std::uint32_t secret) {
  auto ex = co_await asio::this_coro::executor;
  tcp::socket s(ex);
  net::Deadline deadline(s, std::chrono::seconds(5));
  error_code ec;
  tcp::resolver resolver(ex);
  auto endpoints = co_await resolver.async_resolve(host, std::to_string(port),
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  co_await asio::async_connect(s, endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  std::string out;
  writeCancelRequest(out, pid, secret);
  co_await asio::async_write(s, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
  // The server closes the connection when done; wait for that so the cancel is not cut short.
  char byte;
  co_await s.async_read_some(asio::buffer(&byte, 1), asio::redirect_error(asio::use_awaitable, ec));
}
}  // namespace

// Appends what the client sent next to in_ (startup phase: small reads). False on EOF or error.
Task<bool> ClientSession::readMoreStartup() {
  char chunk[1024];
  error_code ec;
  std::size_t n = co_await socket_.async_read_some(asio::buffer(chunk),
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return false;
  in_.append(chunk, n);
  co_return true;
}

Task<std::optional<Frame>> ClientSession::readStartupPacket() {
  for (;;) {
    FrameResult r = readStartupFrame(in_.view(inStart_));
    if (r.status == FrameStatus::Ok) co_return r.frame;
    if (r.status == FrameStatus::Malformed) {
      spdlog::info("[c{}] {} sent an invalid startup packet: {}", id_, peer_, r.error);
      co_await writeClientError({"FATAL", "08P01", "invalid startup packet length"}, true);
      co_return std::nullopt;
    }
    if (!co_await readMoreStartup()) co_return std::nullopt;
  }
}

Task<std::optional<Frame>> ClientSession::readAuthMessage() {
  for (;;) {
    FrameResult r = readFrame(in_.view(inStart_), kMaxAuthMessage);
    if (r.status == FrameStatus::Ok) {
      if (r.frame.type != client::Password) {
        co_await writeClientError({"FATAL", "08P01", "expected a password message"}, true);
        co_return std::nullopt;
      }
      co_return r.frame;
    }
    if (r.status == FrameStatus::Malformed) {
      co_await writeClientError({"FATAL", "08P01", "invalid message during authentication"}, true);
      co_return std::nullopt;
    }
    if (!co_await readMoreStartup()) co_return std::nullopt;
  }
}

void ClientSession::forwardCancel(std::uint32_t pid, std::uint32_t secret) {
  auto entry = runtime_.cancels.find(pid, secret);
  if (!entry) {
    spdlog::debug("[c{}] cancel request with an unknown key ignored", id_);
    return;
  }
  // The session may live on another worker: ask it there.
  asio::post(entry->worker->io(), [weak = entry->session] {
    if (auto s = weak.lock()) s->cancelActiveQuery();
  });
}

void ClientSession::cancelActiveQuery() {
  if (!active_ || !busy()) return;  // nothing running: a late cancel must not hit the next query
  const auto& node = runtime_.config->nodes[active_->nodeIndex()];
  spdlog::info("[c{}] forwarding cancel to node {} backend pid {}", id_, node.name, active_->pid());
  asio::co_spawn(worker_.io(), sendCancel(node.host, node.port, active_->pid(), active_->secret()),
                 [id = id_](std::exception_ptr e) {
                   if (e) logSessionBug(id, "cancel", e);
                 });
}

Task<bool> ClientSession::startup() {
  const auto& cfg = *runtime_.config;
  net::Deadline deadline(socket_, std::chrono::milliseconds(cfg.server.startupTimeoutMs));
  for (;;) {
    auto frame = co_await readStartupPacket();
    if (!frame) co_return false;
    inStart_ += frame->size;
    auto packet = decodeStartup(frame->body);
    if (!packet) {
      co_await writeClientError({"FATAL", "08P01", "invalid startup packet"}, true);
      co_return false;
    }
    const StartupKind kind = packet->kind;
    if (kind == StartupKind::SslRequest || kind == StartupKind::GssEncRequest) {
      // No TLS or GSS encryption yet: 'N' tells the client to go on in plain text.
      if (inStart_ != in_.size()) {
        // Bytes after an SSLRequest before our answer: a man-in-the-middle trick (CVE-2021-23222).
        co_await writeClientError({"FATAL", "08P01", "unexpected data after SSL request"}, true);
        co_return false;
      }
      if (!co_await writeClient("N")) co_return false;
      continue;
    }
    if (kind == StartupKind::Cancel) {
      forwardCancel(packet->cancelPid, packet->cancelSecret);
      co_return false;
    }
    if (kind == StartupKind::Unsupported) {
      co_await writeClientError(
          {"FATAL", "0A000",
           "unsupported frontend protocol " + std::to_string(packet->code >> 16) + "." +
               std::to_string(packet->code & 0xffff) + ": pgsplit supports 3.0"},
          true);
      co_return false;
    }
    for (const auto& [name, value] : packet->parameters) {
      if (name == "user") {
        user_ = value;
      } else if (name == "database") {
        database_ = value;
      } else if (name == "options") {
        for (const auto& [n, v] : settingsFromOptions(value))
          noteStartupParameter(n, v);
      } else if (name == "replication" || name.starts_with("_pq_.")) {
        // Replication connections and protocol extensions are not settings to replay.
      } else {
        if (name == "application_name") applicationName_ = value;
        noteStartupParameter(name, value);
      }
    }
    if (user_.empty()) {
      co_await writeClientError(
          {"FATAL", "28000", "no PostgreSQL user name specified in startup packet"}, true);
      co_return false;
    }
    if (badMinLsn_) {
      co_await writeClientError(
          {"FATAL", "22023",
           "invalid value for parameter \"pgsplit.min_lsn\": \"" + badMinLsnValue_ +
               "\" (expected a WAL position such as 16/B374D848)"},
          true);
      co_return false;
    }
    if (database_.empty()) database_ = user_;
    break;
  }

  if (runtime_.clients.fetch_add(1) >= cfg.server.maxClientConnections) {
    runtime_.clients.fetch_sub(1);
    spdlog::warn("[c{}] refusing {}: max_client_connections ({}) reached", id_, peer_,
                 cfg.server.maxClientConnections);
    co_await writeClientError({"FATAL", "53300", "sorry, too many clients already"}, true);
    co_return false;
  }
  counted_ = true;

  state_ = State::Authenticating;
  if (!co_await authenticate()) co_return false;
  if (admin::isConsoleDatabase(database_)) {
    // Operations hook: the admin console (src/admin) takes the connection over; this session ends.
    admin::startConsole(worker_, std::move(socket_), {id_, peer_, user_, applicationName_},
                        std::string(in_.view(inStart_)));
    co_return false;
  }
  if (!co_await welcome()) co_return false;
  co_return !deadline.expired();
}

// (No co_await inside a switch anywhere: g++ 12 miscompiles it into a resume at a bad state.)
Task<bool> ClientSession::authenticate() {
  const auto method = runtime_.config->server.authMethod;
  bool ok = false;
  if (method == config::AuthMethod::Trust)
    ok = runtime_.config->findUser(user_) != nullptr;
  else if (method == config::AuthMethod::Md5)
    ok = co_await authenticateMd5();
  else
    ok = co_await authenticateScram();
  if (ok) {
    if (method == config::AuthMethod::Trust) {
      scratch_.clear();
      writeAuthOk(scratch_);
      co_return co_await writeClient(scratch_);
    }
    co_return true;
  }
  if (socket_.is_open()) {
    spdlog::info("[c{}] authentication failed for user \"{}\" from {}", id_, user_, peer_);
    co_await writeClientError(
        {"FATAL", "28P01", "password authentication failed for user \"" + user_ + "\""}, true);
  }
  co_return false;
}

Task<bool> ClientSession::authenticateScram() {
  scratch_.clear();
  writeAuthSasl(scratch_, kScramSha256);
  if (!co_await writeClient(scratch_)) co_return false;

  const auto& verifiers = runtime_.config.verifiers();  // this generation's (kept alive)
  auto it = verifiers.find(user_);
  const ScramVerifier& verifier = it != verifiers.end() ? it->second : runtime_.mockVerifier;
  ScramServer scram(verifier);

  auto first = co_await readAuthMessage();
  if (!first) co_return false;
  inStart_ += first->size;
  auto initial = decodeSaslInitialResponse(first->body);
  if (!initial || initial->mechanism != kScramSha256) co_return false;
  auto serverFirst = scram.handleClientFirst(initial->data);
  if (!serverFirst) co_return false;
  scratch_.clear();
  writeAuthSaslContinue(scratch_, *serverFirst);
  if (!co_await writeClient(scratch_)) co_return false;

  auto final = co_await readAuthMessage();
  if (!final) co_return false;
  inStart_ += final->size;
  auto serverFinal = scram.handleClientFinal(final->body);
  if (!serverFinal || it == verifiers.end()) co_return false;
  scratch_.clear();
  writeAuthSaslFinal(scratch_, *serverFinal);
  writeAuthOk(scratch_);
  co_return co_await writeClient(scratch_);
}

Task<bool> ClientSession::authenticateMd5() {
  std::uint8_t salt[4];
  RAND_bytes(salt, sizeof salt);
  scratch_.clear();
  writeAuthMd5Request(scratch_, salt);
  if (!co_await writeClient(scratch_)) co_return false;
  auto msg = co_await readAuthMessage();
  if (!msg) co_return false;
  inStart_ += msg->size;
  const auto* user = runtime_.config->findUser(user_);
  if (!user) co_return false;
  std::string expected = md5PasswordResponse(user_, user->password, salt);
  std::string_view got = msg->body;
  if (!got.empty() && got.back() == '\0') got.remove_suffix(1);
  if (got != expected) co_return false;
  scratch_.clear();
  writeAuthOk(scratch_);
  co_return co_await writeClient(scratch_);
}

Task<bool> ClientSession::welcome() {
  // The database maps to a [[clusters]] entry (routing rules may send statements elsewhere).
  if (!co_await joinCluster()) co_return false;
  const auto& cfg = *runtime_.config;
  // The user's own pool settings ([[users]] overrides of [pool]).
  sessionMode_ = cfg.poolModeFor(user_) == config::PoolMode::Session;
  idleInTxnTimeout_ = std::chrono::milliseconds(cfg.idleInTransactionTimeoutMsFor(user_));
  pools_.resize(cfg.nodes.size(), nullptr);
  held_.resize(cfg.nodes.size());
  for (std::size_t i = 0; i < cfg.nodes.size(); ++i)
    pools_[i] = &worker_.poolFor(i, database_, user_);

  // The server's parameters come from a real login to the primary (or, without one, any node)
  // of the client's cluster, which also tells the client at once if its database does not
  // exist.
  const auto& snap = worker_.nodes();
  const std::size_t cluster = rulesView_.cluster;
  std::vector<int> order;
  int primary = routing::Router::primaryOf(snap, cluster);
  if (primary >= 0) order.push_back(primary);
  for (std::size_t i = 0; i < snap.nodes.size(); ++i)
    if (static_cast<int>(i) != primary && snap.nodes[i].up && snap.nodes[i].cluster == cluster)
      order.push_back(static_cast<int>(i));
  for (std::size_t i = 0; i < snap.nodes.size(); ++i)
    if (!snap.nodes[i].up && snap.nodes[i].cluster == cluster &&
        !(i < cfg.nodes.size() && cfg.nodes[i].retired))
      order.push_back(static_cast<int>(i));

  // (Cached per node, database and user for the whole process: only the first login of a
  // database and user needs a server connection.)
  std::shared_ptr<const backend::BackendConnection::Parameters> params;
  for (int node : order)
    if (!params) params = pools_[static_cast<std::size_t>(node)]->serverParameters();
  pool::CheckoutFailure failure;
  for (std::size_t i = 0; i < order.size() && !params; ++i) {
    auto& pool = *pools_[static_cast<std::size_t>(order[i])];
    failure = {};
    auto conn = co_await pool.checkout(failure);
    if (conn) {
      params = pool.serverParameters();
      if (!params)
        params = std::make_shared<const backend::BackendConnection::Parameters>(conn->parameters());
      pool.release(std::move(conn));
      break;
    }
    // The node answered and refused (unknown database, role...): that is the answer.
    if (!failure.login.errorMessage.empty()) break;
  }
  if (!params) {
    if (!failure.login.errorMessage.empty()) {
      spdlog::info("[c{}] login of \"{}\" to database \"{}\" refused by the node: {}", id_, user_,
                   database_, failure.login.text);
      co_await writeClient(failure.login.errorMessage);
    } else {
      spdlog::warn("[c{}] no node reachable for \"{}\"/\"{}\": {}", id_, user_, database_,
                   failure.login.text);
      co_await writeClientError(
          {"FATAL", "08006", "pgsplit: no PostgreSQL node is reachable: " + failure.login.text},
          true);
    }
    co_return false;
  }

  for (auto* pool : pools_)
    pool->markLoggedIn();
  scratch_.clear();
  for (const auto& [name, value] : *params) {
    std::string_view v = value;
    // The client talks to "one server" that accepts writes.
    if (name == "in_hot_standby" || name == "default_transaction_read_only") v = "off";
    if (name == "application_name") v = applicationName_;
    // What the client asked for at startup is what its backends will have (syncSettings);
    // report it as given, as PgBouncer does.
    for (const auto& [asked, askedValue] : startupParameters_)
      if (sql::equalsIgnoreAsciiCase(asked, name)) v = askedValue;
    writeParameterStatus(scratch_, name, v);
  }
  auto [pid, secret] = runtime_.cancels.add(&worker_, weak_from_this());
  cancelPid_ = pid;
  registered_ = true;
  writeBackendKeyData(scratch_, pid, secret);
  writeReadyForQuery(scratch_, 'I');
  if (!co_await writeClient(scratch_)) co_return false;
  state_ = State::Ready;
  spdlog::info("[c{}] client {} connected: user \"{}\" database \"{}\" application \"{}\"", id_,
               peer_, user_, database_, applicationName_);
  co_return true;
}

}  // namespace pgsplit::session
