// ClientSession: forming a unit of work (batch assembly), the client's named prepared statements
// and settings, and rendering a batch for the backend that runs it.
//
// Named prepared statements live on backends under pgsplit's names ("pgsplit_<n>", one per
// distinct text per worker). A client's Parse of a text a backend already holds is answered here
// (ParseComplete); a Bind or Describe of a statement the backend lacks gets a Parse sent ahead of
// it whose reply the client never sees; a Close only forgets the client's name. The ReplyStream
// keeps those answers and omissions in their place in the reply stream.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "pgsplit/protocol/messages.hpp"
#include "pgsplit/session/client_session.hpp"
#include "pgsplit/sql/lexer.hpp"

namespace pgsplit::session {

using namespace protocol;
using backend::BackendConnection;
using backend::StatementRef;
using sql::EffectKind;

namespace {

// Folds one statement's classification into the unit's: the unit may use a replica only if every
// statement may; anything that pins or starts a transaction carries over.
void merge(sql::Classification& unit, const sql::Classification& c, bool first) {
  if (first) {
    unit = c;
    return;
  }
  if (unit.readOnly && !c.readOnly) unit.reason = c.reason;
  const bool bothRead = (unit.readOnly || unit.primaryRead) && (c.readOnly || c.primaryRead);
  unit.readOnly = unit.readOnly && c.readOnly;
  unit.primaryRead = bothRead && !unit.readOnly;
  unit.provisional = unit.provisional || c.provisional;
  if (c.txnStart == sql::TxnStart::ReadWrite || unit.txnStart == sql::TxnStart::None)
    unit.txnStart = c.txnStart;
  unit.pins = unit.pins || c.pins;
  unit.setsSessionState = unit.setsSessionState || c.setsSessionState;
  if (unit.hint == sql::Hint::None) unit.hint = c.hint;
  unit.statements = static_cast<std::uint16_t>(unit.statements + c.statements);
}

std::string_view bodyOf(std::string_view raw) {
  return raw.substr(5);
}

std::string quotedName(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

void ClientSession::addOp(char type, std::string_view raw, StatementRef statement) {
  BatchOp op;
  op.type = type;
  op.offset = static_cast<std::uint32_t>(batch_.size());
  op.size = static_cast<std::uint32_t>(raw.size());
  if (statement) batchNeedsRender_ = true;
  op.statement = std::move(statement);
  op.clearsStatements = pendingClear_;
  pendingClear_ = false;
  batchOps_.push_back(std::move(op));
  batch_.append(raw);
}

void ClientSession::clearBatch() {
  batch_.clear();
  batchOps_.clear();
  batchNeedsRender_ = false;
  batchClass_ = {};
  batchHasStatement_ = false;
}

void ClientSession::noteStatement(const sql::Classification& c) {
  merge(batchClass_, c, !batchHasStatement_);
  batchHasStatement_ = true;
}

void ClientSession::noteEffectList(const std::vector<sql::SessionEffect>& effects) {
  for (const auto& e : effects) {
    // The client's names go at once (a Parse of the same name may follow in the pipeline);
    // settings change when the server confirms (readyForQuery).
    if (e.kind == EffectKind::DiscardAll || e.kind == EffectKind::DeallocateAll) {
      statements_.clear();
      pendingClear_ = true;  // marks the message that runs it (addOp)
    } else if (e.kind == EffectKind::Deallocate) {
      statements_.erase(e.name);
      if (e.name.starts_with("pgsplit_")) batchPoisons_ = true;  // one of pgsplit's own
    } else if (e.kind == EffectKind::Unsupported) {
      batchClass_.pins = true;
      batchClass_.readOnly = false;
      batchClass_.reason = "pin: SET SESSION CHARACTERISTICS";
    }
    batchEffects_.push_back(e);
  }
}

std::size_t ClientSession::noteEffects(std::string_view text, const sql::Classification& c) {
  if (!c.setsSessionState && !sql::mentionsDiscardOrDeallocate(text)) return 0;
  auto effects = sql::sessionEffects(text);
  noteEffectList(effects);
  return static_cast<std::size_t>(std::count_if(effects.begin(), effects.end(), [](const auto& e) {
    return e.kind == EffectKind::Set || e.kind == EffectKind::Reset ||
           e.kind == EffectKind::ResetAll;
  }));
}

void ClientSession::noteExecution(const sql::Classification& c, std::size_t settingStatements) {
  units_.noteStatement(c.fingerprint);  // operations: statement statistics
  // Read-your-writes cares about data: a unit of SETs, or one that only prepares, writes none;
  // neither does a lone BEGIN or COMMIT (a transaction's writes count when it ends).
  if (c.readOnly || c.primaryRead || settingStatements >= c.statements) return;
  const bool transactionControl =
      c.statements == 1 && std::string_view(c.reason).starts_with("transaction control");
  if (!transactionControl) batchWrites_ = true;
}

bool ClientSession::noteParse(const Frame& frame, std::string_view raw) {
  auto parse = decodeParse(frame.body);
  if (!parse) return false;
  if (skipUntilSync_) return true;
  if (parse->statement.empty()) {
    unnamedStatement_ = worker_.classifier().classify(parse->query, database_, user_);
    unnamedEffects_.clear();
    if (unnamedStatement_.setsSessionState || sql::mentionsDiscardOrDeallocate(parse->query))
      unnamedEffects_ = sql::sessionEffects(parse->query);
    unnamedBody_.assign(frame.body.substr(1));  // (the unnamed statement's name is "")
    unnamedValid_ = true;
    ++unnamedGeneration_;
    noteStatement(unnamedStatement_);
    addOp(client::Parse, raw);
    batchOps_.back().parsesUnnamed = true;
    return true;
  }
  if (statements_.find(parse->statement) != statements_.end()) {
    // PostgreSQL refuses a second Parse of a name in use and skips the rest of the batch.
    addOp(client::Parse, raw);
    batchOps_.back().duplicate = true;
    batchNeedsRender_ = true;
    return true;
  }
  std::string_view body = frame.body.substr(parse->statement.size() + 1);
  StatementRef def = worker_.statements().intern(body, parse->query);
  statements_.emplace(std::string(parse->statement), def);
  noteStatement(worker_.classifier().classify(def->query, database_, user_));
  addOp(client::Parse, raw, std::move(def));
  return true;
}

bool ClientSession::noteBind(const Frame& frame, std::string_view raw) {
  auto bind = decodeBindHead(frame.body);
  if (!bind) return false;
  if (skipUntilSync_) return true;
  if (bind->statement.empty()) {
    noteStatement(unnamedStatement_);
    noteExecution(unnamedStatement_, unnamedStatement_.setsSessionState ? 1 : 0);
    noteEffectList(unnamedEffects_);
    addOp(client::Bind, raw);
    batchOps_.back().usesUnnamed = true;
    return true;
  }
  auto it = statements_.find(bind->statement);
  if (it == statements_.end()) {
    // Not one of ours: an SQL PREPARE on the pinned primary backend, or PostgreSQL's own
    // "does not exist" error. Either way the primary answers.
    sql::Classification unknown;
    unknown.reason = "write: unknown prepared statement";
    unknown.statements = 1;
    noteStatement(unknown);
    noteExecution(unknown, 0);
    addOp(client::Bind, raw);
    return true;
  }
  // Routed by what the catalog says now (a cache hit): a statement prepared before its
  // functions were looked up reaches replicas once they are.
  const sql::Classification cls =
      worker_.classifier().classify(it->second->query, database_, user_);
  noteStatement(cls);
  noteExecution(cls, cls.setsSessionState ? 1 : 0);
  noteEffectList(it->second->effects);
  addOp(client::Bind, raw, it->second);
  return true;
}

bool ClientSession::noteDescribeOrClose(const Frame& frame, std::string_view raw) {
  auto m = decodeCloseOrDescribe(frame.body);
  if (!m) return false;
  if (skipUntilSync_) return true;
  if (m->kind == 'S' && m->name.empty()) {
    addOp(frame.type, raw);
    if (frame.type == client::Describe)
      batchOps_.back().usesUnnamed = true;
    else
      unnamedValid_ = false;  // Close of the unnamed statement
    return true;
  }
  auto it = m->kind == 'S' ? statements_.find(m->name) : statements_.end();
  if (it == statements_.end()) {
    addOp(frame.type, raw);
    // pgsplit's own server-side names are not the client's to close.
    if (frame.type == client::Close && m->kind == 'S' && m->name.starts_with("pgsplit_"))
      batchOps_.back().reservedClose = true;
    return true;
  }
  if (frame.type == client::Describe) {
    addOp(client::Describe, raw, it->second);
    return true;
  }
  // Close: the client forgets the name; the statement stays on backends for the next user of
  // the text (bounded per backend).
  addOp(client::Close, raw, it->second);
  statements_.erase(it);
  return true;
}

bool ClientSession::answerableLocally() const {
  if (active_ || batchOps_.empty() || batchOps_.back().type != client::Sync) return false;
  for (std::size_t i = 0; i + 1 < batchOps_.size(); ++i) {
    const auto& op = batchOps_[i];
    if (op.type != client::Close || !op.statement) return false;
  }
  return true;
}

void ClientSession::abandonBatch() {
  // Nothing was sent: undo what the batch did to the client's names.
  batchWrites_ = false;
  units_.abandon();
  for (const auto& op : batchOps_) {
    if (!op.statement) continue;
    std::string_view body = bodyOf(std::string_view(batch_).substr(op.offset, op.size));
    if (op.type == client::Parse) {
      auto parse = decodeParse(body);
      auto it = parse ? statements_.find(parse->statement) : statements_.end();
      if (it != statements_.end() && it->second == op.statement) statements_.erase(it);
    } else if (op.type == client::Close) {
      if (auto m = decodeCloseOrDescribe(body))
        statements_.emplace(std::string(m->name), op.statement);
    }
  }
  batchEffects_.clear();
  clearBatch();
}

bool ClientSession::pushReply(PendingReply entry) {
  if (replies_.push(std::move(entry))) return true;
  // The backend skips it (an error came before it in this batch): it takes no effect.
  if (entry.statement) statementFailed(entry);
  if (entry.carriesEffects && !unitEffects_.empty()) unitEffects_.pop_back();
  return false;
}

bool ClientSession::needsUnnamed(const BackendConnection& target) const {
  const auto& st = target.state();
  if (!unnamedValid_) return st.unnamedOwner != 0;  // someone's is there: it must go
  return st.unnamedOwner != id_ || st.unnamedGeneration != unnamedGeneration_;
}

void ClientSession::ensureUnnamed(BackendConnection& target) {
  if (!needsUnnamed(target)) return;
  auto& st = target.state();
  PendingReply e;
  e.forClient = false;
  if (unnamedValid_) {
    MessageWriter(wire_).begin(client::Parse).cstr("").raw(unnamedBody_).end();
    e.request = client::Parse;
    st.unnamedOwner = id_;
    st.unnamedGeneration = unnamedGeneration_;
  } else {
    // The client has none: another client's must not run in its place.
    MessageWriter(wire_).begin(client::Close).u8('S').cstr("").end();
    e.request = client::Close;
    st.unnamedOwner = 0;
  }
  pushReply(std::move(e));
}

void ClientSession::ensurePrepared(BackendConnection& target, const StatementRef& s) {
  if (target.state().prepared.use(s.get())) return;
  PendingReply parse;
  parse.request = client::Parse;
  parse.forClient = false;
  parse.statement = s;
  sendParse(target, s, std::move(parse));
}

void ClientSession::sendParse(BackendConnection& target, const StatementRef& s,
                              PendingReply entry) {
  MessageWriter(wire_).begin(client::Parse).cstr(s->serverName).raw(s->body).end();
  StatementRef evicted = target.state().prepared.insert(s);
  pushReply(std::move(entry));
  if (!evicted) return;
  // Over max_prepared_statements: the least recently used one is closed on the server.
  MessageWriter(wire_).begin(client::Close).u8('S').cstr(evicted->serverName).end();
  PendingReply close;
  close.request = client::Close;
  close.forClient = false;
  close.statement = std::move(evicted);
  pushReply(std::move(close));
}

bool ClientSession::renderBatch(BackendConnection& target, bool endsWithSync,
                                const std::string& batch, const std::vector<BatchOp>& ops,
                                std::vector<sql::SessionEffect>* effects) {
  // Without managed statements or settings to send first, the batch goes out as the client
  // wrote it (no copy); only the replies it expects are recorded.
  bool copy = !wire_.empty();
  bool unnamedHere = false;  // a Parse "" earlier in this batch provides it
  for (const auto& op : ops) {
    copy = copy || op.statement || op.duplicate || op.reservedClose;
    if (op.usesUnnamed && !unnamedHere && needsUnnamed(target)) copy = true;
    unnamedHere = unnamedHere || op.parsesUnnamed;
  }
  unnamedHere = false;
  lastEndAccepted_ = true;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const BatchOp& op = ops[i];
    std::string_view raw = std::string_view(batch).substr(op.offset, op.size);
    if (op.type == client::Flush) {
      if (copy) wire_.append(raw);
      continue;  // no reply
    }
    PendingReply e;
    e.request = op.type;
    const bool last = i + 1 == ops.size();
    const bool endsUnit =
        op.type == client::Sync || op.type == client::Query || op.type == client::FunctionCall;
    if (last && endsWithSync && endsUnit && effects && !effects->empty()) {
      e.carriesEffects = true;
      unitEffects_.push_back(std::move(*effects));
      effects->clear();
    }
    if (op.duplicate) {
      // The server must see an error too (the batch, or the transaction, fails as on
      // PostgreSQL): a Parse that cannot succeed, whose error is replaced by 42P05.
      auto parse = decodeParse(bodyOf(raw));
      std::string message =
          "prepared statement \"" + std::string(parse->statement) + "\" already exists";
      MessageWriter(wire_)
          .begin(client::Parse)
          .cstr("pgsplit_duplicate")
          .cstr("pgsplit: duplicate prepared statement")
          .i16(0)
          .end();
      e.replaceError = true;
      writeError(e.payload, {"ERROR", "42P05", message});
      pushReply(std::move(e));
      continue;
    }
    if (op.reservedClose) {
      e.synthetic = '3';  // a Close of pgsplit's own names: nothing of the client's to close
      pushReply(std::move(e));
      continue;
    }
    if (!op.statement) {
      if (op.usesUnnamed && !unnamedHere) ensureUnnamed(target);
      if (copy) wire_.append(raw);
      const bool endsUnitHere = last && endsUnit;
      if (!pushReply(std::move(e)) && endsUnitHere) lastEndAccepted_ = false;
      // DEALLOCATE ALL / DISCARD ALL: what follows it in the stream prepares anew.
      if (op.clearsStatements) target.state().prepared.clear();
      if (op.parsesUnnamed) {
        unnamedHere = true;
        target.state().unnamedOwner = id_;
        target.state().unnamedGeneration = unnamedGeneration_;
      } else if (op.type == client::Query) {
        target.state().unnamedOwner = 0;  // a simple Query drops the unnamed statement
      } else if (op.type == client::Close && !op.usesUnnamed) {
        auto m = decodeCloseOrDescribe(bodyOf(raw));
        if (m && m->kind == 'S' && m->name.empty()) target.state().unnamedOwner = 0;
      }
      continue;
    }
    const StatementRef& s = op.statement;
    if (op.type == client::Parse) {
      e.statement = s;
      e.clientName = std::string(decodeParse(bodyOf(raw))->statement);
      if (target.state().prepared.use(s.get())) {
        e.synthetic = '1';  // the backend has it: answered here
        pushReply(std::move(e));
      } else {
        sendParse(target, s, std::move(e));
      }
      continue;
    }
    if (op.type == client::Bind) {
      ensurePrepared(target, s);
      auto head = decodeBindHead(bodyOf(raw));
      std::string_view rest = bodyOf(raw).substr(head->portal.size() + head->statement.size() + 2);
      MessageWriter(wire_)
          .begin(client::Bind)
          .cstr(head->portal)
          .cstr(s->serverName)
          .raw(rest)
          .end();
      pushReply(std::move(e));
      if (op.clearsStatements) target.state().prepared.clear();
      continue;
    }
    if (op.type == client::Describe) {
      ensurePrepared(target, s);
      MessageWriter(wire_).begin(client::Describe).u8('S').cstr(s->serverName).end();
      pushReply(std::move(e));
      continue;
    }
    // Close of a managed statement: answered here.
    e.synthetic = '3';
    e.statement = s;
    e.clientName = std::string(decodeCloseOrDescribe(bodyOf(raw))->name);
    pushReply(std::move(e));
  }
  return copy;
}

Task<bool> ClientSession::answerDeallocate(std::string_view text) {
  // Only a lone DEALLOCATE naming a statement pgsplit manages (its backend name differs).
  auto effects = sql::sessionEffects(text);
  if (effects.size() != 1 || effects[0].kind != EffectKind::Deallocate) co_return false;
  auto it = statements_.find(effects[0].name);
  const bool reserved = it == statements_.end() && effects[0].name.starts_with("pgsplit_");
  if (it == statements_.end() && !reserved) co_return false;
  co_await waitUntilSettled();
  const char status = active_ ? active_->txnStatus() : 'I';
  if (status == 'E') co_return false;  // the server says "transaction is aborted", as it should
  if (reserved) {
    // pgsplit's own statements are not the client's: as if it did not exist. (Inside a
    // transaction the server must fail it: forwarded, and that backend is not reused.)
    if (status != 'I') co_return false;
    scratch_.clear();
    std::string message = "prepared statement \"" + effects[0].name + "\" does not exist";
    writeError(scratch_, {"ERROR", "26000", message});
    writeReadyForQuery(scratch_, status);
    std::string bytes = std::move(scratch_);
    co_return co_await writeClient(bytes);
  }
  statements_.erase(it);
  scratch_.clear();
  MessageWriter(scratch_).begin(server::CommandComplete).cstr("DEALLOCATE").end();
  writeReadyForQuery(scratch_, status);
  std::string bytes = std::move(scratch_);
  if (!co_await writeClient(bytes)) co_return false;
  co_return true;
}

// --- settings ---

void ClientSession::noteStartupParameter(std::string_view name, std::string_view value) {
  const std::string lower = sql::asciiLowered(name);
  if (lower == "pgsplit.min_lsn") {  // pgsplit's own: never sent to a server
    minLsnFloor_ = routing::parseLsn(value);
    badMinLsn_ = minLsnFloor_ == 0 && value != "0/0";
    if (badMinLsn_) badMinLsnValue_ = std::string(value);
    return;
  }
  if (!sql::plausibleParameterName(lower)) {
    spdlog::info("[c{}] ignoring startup parameter with an unusable name", id_);
    return;
  }
  startupParameters_.emplace_back(name, value);
  startupSettings_[lower] = sql::startupSettingSql(lower, value);
  settings_ = startupSettings_;
  settingsChanged();
}

void ClientSession::settingsChanged() {
  ++settingsVersion_;
  auto it = settings_.find("default_transaction_isolation");
  serializableDefault_ = it != settings_.end() &&
                         sql::asciiLowered(it->second).find("serializable") != std::string::npos;
}

void ClientSession::syncSettings(BackendConnection& target) {
  auto& st = target.state();
  if (st.syncedSession == id_ && st.syncedVersion == settingsVersion_ && !st.settingsUnknown)
    return;
  // One Query message per statement: each runs in its own implicit transaction, so one that fails
  // (reported to the client as a notice) cannot undo the others, above all the RESETs of what
  // another client left behind.
  bool sent = false;
  auto add = [&](std::string_view statement) {
    writeQuery(wire_, statement);
    PendingReply e;
    e.request = client::Query;
    e.forClient = false;
    e.errorAsNotice = true;
    pushReply(std::move(e));
    sent = true;
  };
  if (st.settingsUnknown) {
    // RESET ALL leaves the role alone: SET SESSION AUTHORIZATION DEFAULT resets it too.
    add("SET SESSION AUTHORIZATION DEFAULT");
    add("RESET ALL");
    st.settings.clear();
  }
  for (const auto& [name, had] : st.settings) {
    if (settings_.find(name) != settings_.end()) continue;
    if (name == "session_authorization")
      add("SET SESSION AUTHORIZATION DEFAULT");
    else
      add("RESET " + quotedName(name));
  }
  // SET SESSION AUTHORIZATION resets the role: it goes first.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [name, want] : settings_) {
      if ((name == "session_authorization") != (pass == 0)) continue;
      auto it = st.settings.find(name);
      if (it == st.settings.end() || it->second != want) add(want);
    }
  }
  if (!st.settings.empty() || !settings_.empty()) st.settings = settings_;
  st.settingsUnknown = false;
  st.syncedSession = id_;
  st.syncedVersion = settingsVersion_;
  if (!sent) return;
  st.unnamedOwner = 0;  // (a simple Query drops the unnamed statement)
  spdlog::debug("[c{}] bringing server connection (pid {}) in line with the client's settings", id_,
                target.pid());
}

void ClientSession::setSetting(const std::string& name, const std::string* sql) {
  if (sql) {
    settings_[name] = *sql;
    return;
  }
  auto startup = startupSettings_.find(name);
  if (startup != startupSettings_.end())
    settings_[name] = startup->second;  // RESET goes back to what the client connected with
  else
    settings_.erase(name);
}

void ClientSession::resetAllSettings() {
  // RESET ALL leaves the role and the session authorization as they are (PostgreSQL's
  // GUC_NO_RESET_ALL), so they survive here too.
  auto keep = [this](const char* name, std::map<std::string, std::string, std::less<>>& into) {
    if (auto it = settings_.find(name); it != settings_.end()) into[name] = it->second;
  };
  std::map<std::string, std::string, std::less<>> next = startupSettings_;
  keep("role", next);
  keep("session_authorization", next);
  settings_ = std::move(next);
}

void ClientSession::applyEffects(std::vector<sql::SessionEffect>& effects,
                                 BackendConnection* conn) {
  backend::ServerState* st = conn ? &conn->state() : nullptr;
  for (auto& e : effects) {
    switch (e.kind) {
      case EffectKind::Set:
        setSetting(e.name, &e.text);
        if (st) st->settings[e.name] = e.text;
        break;
      case EffectKind::Reset:
        setSetting(e.name, nullptr);
        if (st) st->settings.erase(e.name);
        break;
      case EffectKind::DiscardAll:
        // Temporary tables, LISTEN, session locks, SQL PREPAREs, the role: all gone with it.
        if (pinned_) spdlog::info("[c{}] DISCARD ALL: session no longer pinned", id_);
        pinned_ = false;
        pinReason_ = nullptr;
        settings_ = startupSettings_;
        if (st) st->settings.clear();
        break;
      case EffectKind::ResetAll:
        resetAllSettings();
        if (st) {
          std::map<std::string, std::string, std::less<>> kept;
          for (const char* name : {"role", "session_authorization"})
            if (auto it = st->settings.find(name); it != st->settings.end())
              kept[name] = it->second;
          st->settings = std::move(kept);
        }
        break;
      case EffectKind::DeallocateAll:
      case EffectKind::Deallocate:
      case EffectKind::Unsupported:
        break;
    }
  }
  settingsChanged();
}

}  // namespace pgsplit::session
