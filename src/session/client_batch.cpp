// ClientSession: forming a unit of work (batch assembly), the client's named prepared statements
// and settings, and rendering a batch for the backend that runs it.
//
// Named prepared statements live on backends under pgsplit's names ("pgsplit_<n>", one per
// distinct text per worker). A client's Parse of a text a backend already holds is answered here
// (ParseComplete); a Bind or Describe of a statement the backend lacks gets a Parse sent ahead of
// it whose reply the client never sees; a Close only forgets the client's name. The ReplyStream
// keeps those answers and omissions in their place in the reply stream.
//
// A client's name table changes in client order, ahead of the server's answers: a Parse adds the
// name at once, a Close or DEALLOCATE drops it. The server may refuse or skip them; then the
// change is undone (statementFailed, EffectLedger), and until the server has answered, a later
// unit naming such a statement waits for that answer (nameInDoubt), so that what it gets is
// what PostgreSQL would answer.
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

}  // namespace

void ClientSession::addOp(char type, std::string_view raw, StatementRef statement) {
  BatchOp op;
  op.type = type;
  op.offset = static_cast<std::uint32_t>(batch_.size());
  op.size = static_cast<std::uint32_t>(raw.size());
  if (statement) batchNeedsRender_ = true;
  op.statement = std::move(statement);
  batchOps_.push_back(std::move(op));
  batch_.append(raw);
}

void ClientSession::clearBatch() {
  batch_.clear();
  batchOps_.clear();
  batchNeedsRender_ = false;
  batchClass_ = {};
  batchHasStatement_ = false;
  batchRules_ = nullptr;
  batchRuleMask_ = {};
}

void ClientSession::noteStatement(const sql::Classification& c) {
  merge(batchClass_, c, !batchHasStatement_);
  batchHasStatement_ = true;
}

std::pair<std::uint64_t, std::uint64_t> ClientSession::noteEffectList(
    const std::vector<sql::SessionEffect>& effects, bool forwarded) {
  const std::uint64_t begin = ledger_.next();
  for (const auto& e : effects) {
    EffectLedger::Record& r = *ledger_.find(ledger_.add(e, unitSeq_));
    // The client's names go at once (a Parse of the same name may follow in this batch); the
    // record keeps them to give back if the statement does not run.
    if (e.kind == EffectKind::DiscardAll || e.kind == EffectKind::DeallocateAll) {
      r.removedAll.assign(statements_.begin(), statements_.end());
      statements_.clear();
    } else if (e.kind == EffectKind::Deallocate) {
      if (auto it = statements_.find(e.name); it != statements_.end()) {
        r.removed = std::move(it->second);
        statements_.erase(it);
      }
      if (forwarded && e.name.starts_with("pgsplit_")) batchPoisons_ = true;  // one of ours
    }
  }
  return {begin, ledger_.next()};
}

void ClientSession::notePins(const std::vector<sql::SessionEffect>& effects) {
  for (const auto& e : effects) {
    if (e.kind != EffectKind::Unsupported) continue;
    batchClass_.pins = true;
    batchClass_.readOnly = false;
    batchClass_.reason = "pin: SET SESSION CHARACTERISTICS";
  }
}

bool ClientSession::nameInDoubt(std::string_view name) const {
  if (name.empty()) return false;  // the unnamed statement: no later Parse depends on it
  if (auto it = namesInFlight_.find(name);
      it != namesInFlight_.end() && it->second > answeredUnit_ && it->second < unitSeq_)
    return true;
  return ledger_.mayForget(unitSeq_, name);
}

Task<void> ClientSession::settleNames() {
  co_await waitUntilSettled();
  // Every unit sent so far has its answer: what its names became is known.
  answeredUnit_ = unitSeq_ - 1;
  std::erase_if(namesInFlight_, [this](const auto& kv) { return kv.second <= answeredUnit_; });
}

std::string_view ClientSession::statementNameOf(const Frame& frame) {
  if (frame.type == client::Parse) {
    auto m = decodeParse(frame.body);
    return m ? m->statement : std::string_view();
  }
  if (frame.type == client::Bind) {
    auto m = decodeBindHead(frame.body);
    return m ? m->statement : std::string_view();
  }
  auto m = decodeCloseOrDescribe(frame.body);
  return m && m->kind == 'S' ? m->name : std::string_view();
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
    noteUnnamedRules(parse->query, unnamedStatement_);
    unnamedEffects_.clear();
    if (unnamedStatement_.setsSessionState ||
        (!unnamedStatement_.readOnly && sql::mentionsSessionControl(parse->query)))
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
  namesInFlight_.insert_or_assign(std::string(parse->statement), unitSeq_);
  const sql::Classification cls = worker_.classifier().classify(def->query, database_, user_);
  noteRules(def->query, cls);
  noteStatement(cls);
  addOp(client::Parse, raw, std::move(def));
  return true;
}

bool ClientSession::noteBind(const Frame& frame, std::string_view raw) {
  auto bind = decodeBindHead(frame.body);
  if (!bind) return false;
  if (skipUntilSync_) return true;
  // The effects of what the portal runs count when an Execute runs it.
  auto bindEffects = [&](const std::vector<sql::SessionEffect>& effects) {
    notePins(effects);
    if (!effects.empty())
      portalEffects_.insert_or_assign(std::string(bind->portal), BoundEffects{effects, unitSeq_});
    else if (!portalEffects_.empty())
      portalEffects_.erase(std::string(bind->portal));
  };
  if (bind->statement.empty()) {
    useUnnamedRules();
    noteStatement(unnamedStatement_);
    noteExecution(unnamedStatement_, unnamedStatement_.setsSessionState ? 1 : 0);
    bindEffects(unnamedEffects_);
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
    bindEffects({});
    addOp(client::Bind, raw);
    return true;
  }
  // Routed by what the catalog says now (a cache hit): a statement prepared before its
  // functions were looked up reaches replicas once they are.
  const sql::Classification cls =
      worker_.classifier().classify(it->second->query, database_, user_);
  noteRules(it->second->query, cls);
  noteStatement(cls);
  noteExecution(cls, cls.setsSessionState ? 1 : 0);
  bindEffects(it->second->effects);
  addOp(client::Bind, raw, it->second);
  return true;
}

bool ClientSession::noteExecute(const Frame& frame, std::string_view raw) {
  auto exec = decodeExecute(frame.body);
  if (!exec) return false;
  if (skipUntilSync_) return true;
  auto it = portalEffects_.empty() ? portalEffects_.end() : portalEffects_.find(exec->portal);
  if (it == portalEffects_.end()) {
    addOp(client::Execute, raw);
    return true;
  }
  const std::vector<sql::SessionEffect> effects = it->second.effects;
  // DEALLOCATE of a statement pgsplit manages: the server knows it under another name, so the
  // answer is pgsplit's, as for a simple Query. Only with its Bind in this batch, where an
  // error before it makes the server skip both (an aborted transaction fails the Bind).
  char answer = 0;
  if (effects.size() == 1 && effects[0].kind == EffectKind::Deallocate &&
      !effects[0].name.empty() && it->second.unit == unitSeq_) {
    if (statements_.count(effects[0].name))
      answer = 'C';
    else if (effects[0].name.starts_with("pgsplit_"))
      answer = 'E';  // one of pgsplit's own names: not the client's to drop
  }
  const auto [begin, end] = noteEffectList(effects, answer == 0);
  addOp(client::Execute, raw);
  BatchOp& op = batchOps_.back();
  op.answer = answer;
  op.effectsBegin = begin;
  op.effectsEnd = end;
  if (answer) batchNeedsRender_ = true;
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
  if (frame.type == client::Close && m->kind == 'P' && !portalEffects_.empty())
    portalEffects_.erase(std::string(m->name));
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
  namesInFlight_.insert_or_assign(it->first, unitSeq_);
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
  ledger_.abandon(unitSeq_, *this);  // (after the Parses: a DEALLOCATE ALL's names go back last)
  clearBatch();
}

bool ClientSession::pushReply(PendingReply entry) {
  if (replies_.push(std::move(entry))) return true;
  // The backend skips it (an error came before it in this batch): it takes no effect. (Its
  // session effects are given back when its unit ends, or at once if nothing ends it.)
  if (entry.statement) statementFailed(entry);
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

void ClientSession::sendFailure(PendingReply e, const ErrorSpec& error) {
  MessageWriter(wire_)
      .begin(client::Parse)
      .cstr("pgsplit_refused")
      .cstr("pgsplit: refused")  // a syntax error, whatever the server's state
      .i16(0)
      .end();
  e.replaceError = true;
  writeError(e.payload, error);
  pushReply(std::move(e));
}

bool ClientSession::renderBatch(BackendConnection& target, bool endsWithSync,
                                const std::string& batch, const std::vector<BatchOp>& ops,
                                std::uint64_t unit) {
  // Without managed statements or settings to send first, the batch goes out as the client
  // wrote it (no copy); only the replies it expects are recorded.
  bool copy = !wire_.empty();
  bool unnamedHere = false;  // a Parse "" earlier in this batch provides it
  for (const auto& op : ops) {
    copy =
        copy || op.statement || op.duplicate || op.reservedClose || op.answer || op.restoresStartup;
    // (startup values may be restored after it: rare, a copy is cheap then)
    copy = copy || (op.effectsBegin != op.effectsEnd && !startupValues_.empty());
    if (op.usesUnnamed && !unnamedHere && needsUnnamed(target)) copy = true;
    unnamedHere = unnamedHere || op.parsesUnnamed;
  }
  unnamedHere = false;
  std::string_view unnamedParse;  // the batch's latest Parse "", as the client sent it
  bool unnamedTaken = false;      // ... replaced on the server since by pgsplit's own
  lastEndAccepted_ = true;
  auto& st = target.state();
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const BatchOp& op = ops[i];
    std::string_view raw = std::string_view(batch).substr(op.offset, op.size);
    if (op.type == client::Flush) {
      if (copy) wire_.append(raw);
      continue;  // no reply
    }
    PendingReply e;
    e.request = op.type;
    e.unit = unit;
    e.effectsBegin = op.effectsBegin;
    e.effectsEnd = op.effectsEnd;
    const bool endsUnitHere =
        i + 1 == ops.size() && endsWithSync &&
        (op.type == client::Sync || op.type == client::Query || op.type == client::FunctionCall);
    // DEALLOCATE ALL / DISCARD ALL: what follows it prepares anew; what the backend held comes
    // back if it does not run.
    for (std::uint64_t seq = op.effectsBegin; seq < op.effectsEnd; ++seq) {
      EffectLedger::Record* r = ledger_.find(seq);
      if (!r || r->backendPrepared ||
          (r->effect.kind != EffectKind::DeallocateAll && r->effect.kind != EffectKind::DiscardAll))
        continue;
      r->backendPrepared.emplace(std::move(st.prepared));
      st.prepared.clear();
    }
    if (op.duplicate) {
      // The server must see an error too (the batch, or the transaction, fails as on
      // PostgreSQL): a Parse that cannot succeed, whose error is replaced by 42P05.
      auto parse = decodeParse(bodyOf(raw));
      sendFailure(std::move(e),
                  {"ERROR", "42P05",
                   "prepared statement \"" + std::string(parse->statement) + "\" already exists"});
      continue;
    }
    if (op.reservedClose) {
      e.synthetic = '3';  // a Close of pgsplit's own names: nothing of the client's to close
      pushReply(std::move(e));
      continue;
    }
    if (op.answer == 'C') {
      e.synthetic = 'C';
      MessageWriter(e.payload).begin(server::CommandComplete).cstr("DEALLOCATE").end();
      pushReply(std::move(e));
      continue;
    }
    if (op.answer == 'E') {
      const EffectLedger::Record* r = ledger_.find(op.effectsBegin);
      const std::string name = r ? r->effect.name : std::string();
      sendFailure(std::move(e),
                  {"ERROR", "26000", "prepared statement \"" + name + "\" does not exist"});
      continue;
    }
    if (op.restoresStartup) {
      // A lone statement resetting startup parameters, sent as Parse/Bind/Execute so that
      // pgsplit's restore of their startup values runs right after it, before its
      // ReadyForQuery (and only if it ran: after an error the server skips to the Sync).
      auto text = decodeQuery(bodyOf(raw));
      MessageWriter(wire_).begin(client::Parse).cstr("").cstr(*text).i16(0).end();
      MessageWriter(wire_).begin(client::Bind).cstr("").cstr("").i16(0).i16(0).i16(0).end();
      MessageWriter(wire_).begin(client::Execute).cstr("").i32(0).end();
      for (char own : {client::Parse, client::Bind}) {
        PendingReply o;
        o.request = own;
        o.forClient = false;  // (an error still reaches the client)
        pushReply(std::move(o));
      }
      PendingReply execute = e;
      execute.request = client::Execute;
      pushReply(std::move(execute));
      restoreStartup(target, startupResets(op.effectsBegin, op.effectsEnd), op.effectsBegin,
                     op.effectsEnd);
      writeSync(wire_);
      e.request = client::Sync;  // its ReadyForQuery is the Query's
      e.effectsBegin = e.effectsEnd = 0;
      if (!pushReply(std::move(e)) && endsUnitHere) lastEndAccepted_ = false;
      st.unnamedOwner = 0;
      continue;
    }
    if (!op.statement) {
      if (op.usesUnnamed) {
        if (!unnamedHere) {
          ensureUnnamed(target);
        } else if (unnamedTaken) {
          // pgsplit's restore used the unnamed statement: the client's comes back.
          wire_.append(unnamedParse);
          PendingReply o;
          o.request = client::Parse;
          o.forClient = false;
          pushReply(std::move(o));
          st.unnamedOwner = id_;
          st.unnamedGeneration = unnamedGeneration_;
          unnamedTaken = false;
        }
      }
      if (copy) wire_.append(raw);
      if (!pushReply(std::move(e)) && endsUnitHere) lastEndAccepted_ = false;
      if (op.parsesUnnamed) {
        unnamedHere = true;
        unnamedParse = raw;
        unnamedTaken = false;
        st.unnamedOwner = id_;
        st.unnamedGeneration = unnamedGeneration_;
      } else if (op.type == client::Query) {
        st.unnamedOwner = 0;  // a simple Query drops the unnamed statement
      } else if (op.type == client::Close && !op.usesUnnamed) {
        auto m = decodeCloseOrDescribe(bodyOf(raw));
        if (m && m->kind == 'S' && m->name.empty()) st.unnamedOwner = 0;
      } else if (op.type == client::Execute && op.effectsBegin != op.effectsEnd) {
        auto names = startupResets(op.effectsBegin, op.effectsEnd);
        if (!names.empty()) {
          restoreStartup(target, names, op.effectsBegin, op.effectsEnd);
          unnamedTaken = true;
        }
      }
      continue;
    }
    const StatementRef& s = op.statement;
    if (op.type == client::Parse) {
      e.statement = s;
      e.clientName = std::string(decodeParse(bodyOf(raw))->statement);
      if (st.prepared.use(s.get())) {
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
  // Only a lone DEALLOCATE naming a statement pgsplit manages (its backend name differs). The
  // text must hold nothing else: statements without a session effect list no effect, and
  // answering "SELECT 1; DEALLOCATE s" here would drop the SELECT's rows.
  auto effects = sql::sessionEffects(text);
  if (effects.size() != 1 || effects[0].kind != EffectKind::Deallocate) co_return false;
  if (sql::classify(text).statements != 1) co_return false;
  const std::string name = effects[0].name;
  const bool reservedName = name.starts_with("pgsplit_");
  if (!statements_.count(name) && !reservedName && !nameInDoubt(name)) co_return false;
  co_await settleNames();  // what the name is depends on the answers to units in flight
  auto it = statements_.find(name);
  const bool reserved = it == statements_.end() && reservedName;
  if (it == statements_.end() && !reserved) co_return false;
  const char status = active_ ? active_->txnStatus() : 'I';
  if (status == 'E') co_return false;  // the server says "transaction is aborted", as it should
  if (reserved) {
    // pgsplit's own statements are not the client's: as if it did not exist. (Inside a
    // transaction the server must fail it: forwarded, and that backend is not reused.)
    if (status != 'I') co_return false;
    scratch_.clear();
    writeError(scratch_, {"ERROR", "26000", "prepared statement \"" + name + "\" does not exist"});
    writeReadyForQuery(scratch_, status);
    std::string bytes = std::move(scratch_);
    closeUnit();
    co_return co_await writeClient(bytes);
  }
  statements_.erase(it);
  scratch_.clear();
  MessageWriter(scratch_).begin(server::CommandComplete).cstr("DEALLOCATE").end();
  writeReadyForQuery(scratch_, status);
  std::string bytes = std::move(scratch_);
  closeUnit();
  co_return co_await writeClient(bytes);
}

}  // namespace pgsplit::session
