#include "pgsplit/admin/console.hpp"

#include <algorithm>
#include <functional>

#include <spdlog/spdlog.h>

#include "pgsplit/admin/command.hpp"
#include "pgsplit/admin/overview.hpp"
#include "pgsplit/admin/views.hpp"
#include "pgsplit/protocol/frame.hpp"
#include "pgsplit/protocol/messages.hpp"
#include "pgsplit/protocol/result_set.hpp"
#include "pgsplit/protocol/writer.hpp"
#include "pgsplit/session/client_session.hpp"
#include "pgsplit/session/runtime.hpp"

namespace pgsplit::admin {
namespace {

using namespace protocol;

constexpr std::size_t kMaxConsoleMessage = 1 << 20;

class Console final : public session::AdminConnection,
                      public std::enable_shared_from_this<Console> {
 public:
  Console(session::WorkerContext& worker, tcp::socket socket, ConsoleClient client,
          std::string pending)
      : worker_(worker),
        runtime_(worker.runtime()),
        socket_(std::move(socket)),
        client_(std::move(client)),
        in_(std::move(pending)) {}

  static Task<void> run(std::shared_ptr<Console> self) { co_await self->serve(); }

  void closeForShutdown() override {
    if (!socket_.is_open()) return;
    if (!writing_) {
      std::string out;
      writeError(out, {"FATAL", "57P01", "terminating connection: pgsplit is shutting down"});
      error_code ec;
      socket_.non_blocking(true, ec);
      if (!ec) socket_.write_some(asio::buffer(out), ec);
    }
    error_code ec;
    socket_.close(ec);
  }

 private:
  Task<void> serve();
  Task<bool> execute(std::string_view query);
  Task<bool> answer(const Command& cmd, std::string& out);
  Task<session::ReloadOutcome> reload();
  struct PauseOutcome {
    bool ok = false;
    std::string message;
    std::string detail;
  };
  Task<PauseOutcome> pauseAndWait(std::string database);
  Task<bool> write(std::string bytes);
  Task<std::optional<Frame>> readFrameOrEnd();

  session::WorkerContext& worker_;
  session::Runtime& runtime_;
  tcp::socket socket_;
  ConsoleClient client_;
  std::string in_;
  bool writing_ = false;
};

Task<bool> Console::write(std::string bytes) {
  writing_ = true;
  error_code ec;
  co_await asio::async_write(socket_, asio::buffer(bytes),
                             asio::redirect_error(asio::use_awaitable, ec));
  writing_ = false;
  co_return !ec;
}

Task<std::optional<Frame>> Console::readFrameOrEnd() {
  for (;;) {
    FrameResult r = readFrame(in_, kMaxConsoleMessage);
    if (r.status == FrameStatus::Ok) co_return r.frame;
    if (r.status == FrameStatus::Malformed) {
      std::string out;
      writeError(out, {"FATAL", "08P01", std::string("invalid message: ") + r.error});
      co_await write(std::move(out));
      co_return std::nullopt;
    }
    char chunk[4096];
    error_code ec;
    const std::size_t n = co_await socket_.async_read_some(
        asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return std::nullopt;
    in_.append(chunk, n);
  }
}

Task<void> Console::serve() {
  const auto& cfg = *runtime_.config;
  if (!cfg.isAdmin(client_.user)) {
    spdlog::info("[c{}] {} refused: user \"{}\" is not in [admin] users", client_.id, client_.peer,
                 client_.user);
    std::string out;
    writeError(out, {"FATAL", "42501",
                     "user \"" + client_.user + "\" may not use the pgsplit admin console", "",
                     "List the user in [admin] users."});
    co_await write(std::move(out));
    co_return;
  }
  spdlog::info("[c{}] admin console opened by \"{}\" from {}", client_.id, client_.user,
               client_.peer);
  std::string out;
  const std::string version = "15.0 (pgsplit " PGSPLIT_VERSION ")";
  for (const auto& [name, value] :
       std::initializer_list<std::pair<std::string_view, std::string_view>>{
           {"server_version", version},
           {"server_encoding", "UTF8"},
           {"client_encoding", "UTF8"},
           {"DateStyle", "ISO, MDY"},
           {"integer_datetimes", "on"},
           {"standard_conforming_strings", "on"},
           {"is_superuser", "off"},
           {"application_name", client_.application}})
    writeParameterStatus(out, name, value);
  writeBackendKeyData(out, 0, 0);
  writeReadyForQuery(out, 'I');
  if (!co_await write(std::move(out))) co_return;

  bool skipping = false;  // after an extended-protocol message: until Sync
  for (;;) {
    auto frame = co_await readFrameOrEnd();
    if (!frame) break;
    const char type = frame->type;
    const std::string body(frame->body);
    in_.erase(0, frame->size);
    if (type == client::Terminate) break;
    if (type == client::Query) {
      auto text = decodeQuery(body);
      if (!text) break;
      if (!co_await execute(*text)) break;
      continue;
    }
    if (type == client::Sync) {
      skipping = false;
      std::string rfq;
      writeReadyForQuery(rfq, 'I');
      if (!co_await write(std::move(rfq))) break;
      continue;
    }
    if (type == client::Parse || type == client::Bind || type == client::Describe ||
        type == client::Execute || type == client::Close || type == client::Flush) {
      if (skipping) continue;
      skipping = true;
      std::string err;
      writeError(err, {"ERROR", "0A000",
                       "the pgsplit admin console speaks the simple query protocol only"});
      if (!co_await write(std::move(err))) break;
      continue;
    }
    std::string err;
    writeError(err, {"FATAL", "08P01",
                     "unexpected message type " + std::to_string(static_cast<unsigned char>(type)) +
                         " on the admin console"});
    co_await write(std::move(err));
    break;
  }
  error_code ec;
  socket_.close(ec);
  spdlog::info("[c{}] admin console closed", client_.id);
}

Task<bool> Console::execute(std::string_view query) {
  const std::vector<Command> commands = parseCommands(query);
  std::string out;
  for (const Command& cmd : commands) {
    if (!co_await answer(cmd, out)) break;  // an error ends the query, as in PostgreSQL
  }
  writeReadyForQuery(out, 'I');
  co_return co_await write(std::move(out));
}

// Appends the answer to one command; false after an ErrorResponse.
Task<bool> Console::answer(const Command& cmd, std::string& out) {
  const CommandKind kind = cmd.kind;
  if (kind == CommandKind::Empty) {
    writeEmptyQueryResponse(out);
    co_return true;
  }
  if (kind != CommandKind::Unknown)
    spdlog::info("[c{}] admin console: \"{}\" runs {}", client_.id, client_.user, cmd.text);
  if (kind == CommandKind::Unknown) {
    writeError(out, {"ERROR", "42601", "unknown admin console command: " + cmd.text, "",
                     "SHOW HELP lists the commands."});
    co_return false;
  }
  if (kind == CommandKind::ShowHelp) {
    writeTable(out, showHelp());
    co_return true;
  }
  if (kind == CommandKind::Reload) {
    const session::ReloadOutcome r = co_await reload();
    if (!r.ok) {
      std::string detail;
      for (const auto& e : r.errors)
        detail += (detail.empty() ? "" : "\n") + e;
      writeError(out,
                 {"ERROR", "F0000",
                  "configuration file rejected; the configuration in force is unchanged", detail});
      co_return false;
    }
    for (const auto& note : r.needRestart)
      writeNotice(out, {"WARNING", "55000", "takes effect only after a restart: " + note});
    writeCommandComplete(out, "RELOAD");
    co_return true;
  }
  if (kind == CommandKind::ShowQueries) {
    const auto perWorker = co_await session::gatherQueryStats(&runtime_);
    writeTable(out, showQueries(perWorker));
    co_return true;
  }
  if (kind == CommandKind::Pause) {
    const PauseOutcome r = co_await pauseAndWait(cmd.argument);
    if (!r.ok) {
      writeError(out, {"ERROR", "57014", r.message, r.detail});
      co_return false;
    }
    writeCommandComplete(out, "PAUSE");
    co_return true;
  }
  if (kind == CommandKind::Resume) {
    const auto r = runtime_.pause.resume(cmd.argument);
    if (r == session::PauseBoard::ResumeResult::OnlyAllPaused) {
      writeError(out, {"ERROR", "55000",
                       "every database is paused; RESUME without a database lifts that pause"});
      co_return false;
    }
    runtime_.wakePausedSessions();
    if (r == session::PauseBoard::ResumeResult::NotPaused)
      writeNotice(out, {"NOTICE", "00000", "nothing was paused"});
    else
      spdlog::info("[c{}] resumed {}", client_.id,
                   cmd.argument.empty() ? std::string("every database")
                                        : "database \"" + cmd.argument + "\"");
    writeCommandComplete(out, "RESUME");
    co_return true;
  }
  if (kind == CommandKind::Shutdown) {
    if (runtime_.control) runtime_.control->requestShutdown(false);
    writeCommandComplete(out, "SHUTDOWN");
    co_return true;
  }
  const Overview o = co_await collectOverview(&runtime_);
  if (kind == CommandKind::ShowNodes) writeTable(out, showNodes(o));
  if (kind == CommandKind::ShowPools) writeTable(out, showPools(o));
  if (kind == CommandKind::ShowClients) writeTable(out, showClients(o));
  if (kind == CommandKind::ShowServers) writeTable(out, showServers(o));
  if (kind == CommandKind::ShowStats) writeTable(out, showStats(o));
  if (kind == CommandKind::ShowConfig) writeTable(out, showConfig(o));
  if (kind == CommandKind::ShowVersion) writeTable(out, showVersion(o));
  if (kind == CommandKind::ShowRules) writeTable(out, showRules(o));
  if (kind == CommandKind::ShowClusters) writeTable(out, showClusters(o));
  co_return true;
}

Task<Console::PauseOutcome> Console::pauseAndWait(std::string database) {
  runtime_.pause.pause(database);
  const std::string what =
      database.empty() ? std::string("every database") : "database \"" + database + "\"";
  const auto timeout = std::chrono::milliseconds(runtime_.config->admin.pauseTimeoutMs);
  const auto started = std::chrono::steady_clock::now();
  // (Named, not temporaries in the co_await expressions: g++ 12 mishandles those.)
  const std::function<std::size_t(session::WorkerContext&)> countBusy =
      [database](session::WorkerContext& w) { return w.busyForPause(database); };
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  PauseOutcome outcome;
  for (;;) {
    // What is still in flight: units sent, transactions open (held units are not).
    const std::size_t busy = co_await session::sumOverWorkers(&runtime_, countBusy);
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    const session::PauseBoard::State state = runtime_.pause.state();
    const bool stillPaused =
        state.all || (!database.empty() && std::find(state.databases.begin(), state.databases.end(),
                                                     database) != state.databases.end());
    if (!stillPaused) {
      outcome.message = "PAUSE of " + what + " was lifted by RESUME before it took hold";
      break;
    }
    if (busy == 0) {
      spdlog::info("[c{}] paused {} (after {} ms); new units of work wait for RESUME", client_.id,
                   what, waited.count());
      outcome.ok = true;
      break;
    }
    if (waited >= timeout) {
      runtime_.pause.resume(database);
      runtime_.wakePausedSessions();
      spdlog::warn("[c{}] PAUSE of {} gave up after {} ms: {} client{} still busy; resumed",
                   client_.id, what, waited.count(), busy, busy == 1 ? "" : "s");
      outcome.message = "could not pause " + what + " within " + std::to_string(timeout.count()) +
                        " ms: " + std::to_string(busy) + " client" + (busy == 1 ? "" : "s") +
                        " still running a statement or in a transaction";
      outcome.detail = "The pause was lifted. [admin] pause_timeout_ms sets how long PAUSE waits.";
      break;
    }
    timer.expires_after(std::chrono::milliseconds(10));
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return outcome;
}

struct PendingReload {
  std::optional<session::ReloadOutcome> result;
  asio::steady_timer* signal = nullptr;  // valid while !abandoned
  bool abandoned = false;
};

Task<session::ReloadOutcome> Console::reload() {
  session::ReloadOutcome failed;
  failed.errors.push_back("reload is not available");
  if (!runtime_.control) co_return failed;
  auto ex = co_await asio::this_coro::executor;
  auto pending = std::make_shared<PendingReload>();
  asio::steady_timer timer(ex);
  timer.expires_after(std::chrono::seconds(60));
  pending->signal = &timer;
  // The reload runs on the control thread; its outcome comes back to this one.
  runtime_.control->requestReload([pending, ex](session::ReloadOutcome r) {
    asio::post(ex, [pending, r = std::move(r)]() mutable {
      if (pending->abandoned) return;
      pending->result = std::move(r);
      pending->signal->cancel();
    });
  });
  error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  pending->abandoned = true;
  if (!pending->result) {
    failed.errors = {"the reload did not finish within 60 s"};
    co_return failed;
  }
  co_return std::move(*pending->result);
}

}  // namespace

void startConsole(session::WorkerContext& worker, tcp::socket socket, ConsoleClient client,
                  std::string pending) {
  const auto id = client.id;
  auto console =
      std::make_shared<Console>(worker, std::move(socket), std::move(client), std::move(pending));
  worker.trackAdmin(console);
  asio::co_spawn(worker.io(), Console::run(std::move(console)), [id](std::exception_ptr e) {
    if (e) session::logSessionBug(id, "admin console", e);
  });
}

}  // namespace pgsplit::admin
