// ClientSession: read-your-writes across connections. After a unit that wrote on the primary,
// pgsplit asks the primary for its WAL insert position in the same write and tells the client
// (ParameterStatus pgsplit.write_lsn) before the unit's ReadyForQuery; a client that sets
// pgsplit.min_lsn to such a position — in another connection, another process — reads only from
// nodes that have replayed it. The position also settles the session's own read-your-writes at
// once, instead of at the health checks' next primary sample.
#include <spdlog/spdlog.h>

#include "pgsplit/protocol/messages.hpp"
#include "pgsplit/protocol/result_set.hpp"
#include "pgsplit/session/client_session.hpp"
#include "pgsplit/sql/lexer.hpp"
#include "pgsplit/sql/pgsplit_commands.hpp"

namespace pgsplit::session {

using namespace protocol;

namespace {

constexpr std::string_view kPositionQuery = "SELECT pg_current_wal_insert_lsn()";

// A COPY ... FROM STDIN puts the server in copy mode: a query sent behind it would be read as
// copy data. Any mention of "copy" (case-insensitive) in the unit's bytes is enough to hold back.
bool mentionsCopy(std::string_view bytes) {
  return sql::containsIgnoreAsciiCase(bytes, "copy");
}

}  // namespace

bool ClientSession::wantsWriteLsn(const backend::BackendConnection& target,
                                  bool endsWithSync) const {
  if (!endsWithSync || !runtime_.config->consistency.reportWriteLsn) return false;
  if (!batchWrites_ && !txnWrote_) return false;  // a unit that may end a transaction that wrote
  if (worker_.nodes().nodes[target.nodeIndex()].role != routing::Role::Primary) return false;
  if (mentionsCopy(batch_)) return false;
  for (const BatchOp& op : batchOps_)
    if (op.statement && mentionsCopy(op.statement->query)) return false;
  return true;
}

void ClientSession::appendWriteLsnQuery(bool rewritten) {
  if (!rewritten) wire_.append(batch_);  // (wire_ is empty when the batch was not rewritten)
  if (!replies_.holdLastReady()) return;
  MessageWriter(wire_).begin(client::Query).cstr(kPositionQuery).end();
  PendingReply e;
  e.request = client::Query;
  e.forClient = false;
  e.capturesLsn = true;
  pushReply(std::move(e));
}

void ClientSession::lsnCaptured(std::string_view lsn, char status, std::string& out) {
  // Only a committed write has a position others may wait for.
  const std::uint64_t position = status == 'I' ? routing::parseLsn(lsn) : 0;
  capturedLsn_ = position;
  if (position == 0 || position <= reportedLsn_) return;
  reportedLsn_ = position;
  writeParameterStatus(out, "pgsplit.write_lsn", routing::lsnText(position));
}

Task<bool> ClientSession::answerPgsplitCommand(std::string_view text) {
  const std::optional<sql::PgsplitCommand> cmd = sql::parsePgsplitCommand(text);
  if (!cmd) co_return false;
  co_await waitUntilSettled();
  const char status = active_ ? active_->txnStatus() : 'I';
  scratch_.clear();
  if (status == 'E') {
    writeError(scratch_, {"ERROR", "25P02",
                          "current transaction is aborted, commands ignored until end of "
                          "transaction block"});
  } else if (cmd->kind == sql::PgsplitCommandKind::SetMinLsn) {
    const std::uint64_t lsn = routing::parseLsn(cmd->value);
    if (lsn == 0 && cmd->value != "0/0") {
      writeError(scratch_, {"ERROR", "22023",
                            "invalid value for parameter \"pgsplit.min_lsn\": \"" + cmd->value +
                                "\" (expected a WAL position such as 16/B374D848)"});
    } else {
      minLsnFloor_ = lsn;
      spdlog::debug("[c{}] pgsplit.min_lsn = {}", id_, routing::lsnText(lsn));
      writeCommandComplete(scratch_, "SET");
    }
  } else if (cmd->kind == sql::PgsplitCommandKind::ResetMinLsn) {
    minLsnFloor_ = 0;
    writeCommandComplete(scratch_, "RESET");
  } else {
    const bool min = cmd->kind == sql::PgsplitCommandKind::ShowMinLsn;
    writeRowDescription(scratch_, {{min ? "pgsplit.min_lsn" : "pgsplit.write_lsn"}});
    writeDataRow(scratch_, {routing::lsnText(min ? minLsnFloor_ : reportedLsn_)});
    writeCommandComplete(scratch_, "SHOW");
  }
  writeReadyForQuery(scratch_, status);
  std::string bytes = std::move(scratch_);
  co_return co_await writeClient(bytes);
}

}  // namespace pgsplit::session
